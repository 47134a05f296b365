package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// bucketSystem holds the control plane's own state, kept beside the
// definitions but outside them: the built-in CA (its key sealed by the
// caller), spent and pending join tokens. It is not part of the revision
// or the digest (a CA rotation is not a definition change), but every
// value carries the same checksum envelope as a record.
const bucketSystem = "system"

// SystemBackend is implemented by backends that can keep system values.
// UpdateSystem is a read-modify-write in one transaction, so two callers
// racing on one key (two join requests spending one token) cannot both
// succeed.
type SystemBackend interface {
	// GetSystem returns the value of key, nil when there is none.
	GetSystem(key string) ([]byte, error)
	// UpdateSystem calls fn with the current value (nil when none) and
	// stores what it returns, durably, before returning. fn returning a nil
	// value deletes the key; an error aborts and changes nothing.
	UpdateSystem(key string, fn func(old []byte) ([]byte, error)) error
}

// ErrNoSystemValues is returned by the Store's system accessors when its
// backend cannot keep system values.
var ErrNoSystemValues = errors.New("this store backend cannot keep system values")

// GetSystem returns the system value of key (nil when unset).
func (s *Store) GetSystem(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	sb, ok := s.backend.(SystemBackend)
	if !ok {
		return nil, ErrNoSystemValues
	}
	return sb.GetSystem(key)
}

// UpdateSystem atomically replaces the system value of key with what fn
// makes of the current one (see SystemBackend).
func (s *Store) UpdateSystem(key string, fn func(old []byte) ([]byte, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	sb, ok := s.backend.(SystemBackend)
	if !ok {
		return ErrNoSystemValues
	}
	return sb.UpdateSystem(key, fn)
}

// GetSystem implements SystemBackend.
func (b *boltBackend) GetSystem(key string) ([]byte, error) {
	var out []byte
	err := protect(func() error {
		return b.db.View(func(tx *bolt.Tx) error {
			bk := tx.Bucket([]byte(bucketSystem))
			if bk == nil {
				return nil
			}
			v := bk.Get([]byte(key))
			if v == nil {
				return nil
			}
			p, err := unseal(v)
			if err != nil {
				return b.corrupt(fmt.Errorf("system value %q: %w", key, err))
			}
			out = bytes.Clone(p)
			return nil
		})
	})
	return out, err
}

// UpdateSystem implements SystemBackend: one fsynced bbolt transaction.
func (b *boltBackend) UpdateSystem(key string, fn func(old []byte) ([]byte, error)) error {
	return protect(func() error {
		return b.db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte(bucketSystem))
			if err != nil {
				return err
			}
			var old []byte
			if v := bk.Get([]byte(key)); v != nil {
				if old, err = unseal(v); err != nil {
					return b.corrupt(fmt.Errorf("system value %q: %w", key, err))
				}
				old = bytes.Clone(old)
			}
			nv, err := fn(old)
			if err != nil {
				return err
			}
			if nv == nil {
				return bk.Delete([]byte(key))
			}
			return bk.Put([]byte(key), seal(nv))
		})
	})
}

// systemValues is the memory backend's system state.
type systemValues struct {
	mu     sync.Mutex
	values map[string][]byte
}

// GetSystem implements SystemBackend.
func (m *memoryBackend) GetSystem(key string) ([]byte, error) {
	m.system.mu.Lock()
	defer m.system.mu.Unlock()
	return bytes.Clone(m.system.values[key]), nil
}

// UpdateSystem implements SystemBackend.
func (m *memoryBackend) UpdateSystem(key string, fn func(old []byte) ([]byte, error)) error {
	m.system.mu.Lock()
	defer m.system.mu.Unlock()
	nv, err := fn(bytes.Clone(m.system.values[key]))
	if err != nil {
		return err
	}
	if nv == nil {
		delete(m.system.values, key)
		return nil
	}
	if m.system.values == nil {
		m.system.values = map[string][]byte{}
	}
	m.system.values[key] = bytes.Clone(nv)
	return nil
}
