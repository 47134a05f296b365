package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"tollgate.dev/tollgate/internal/model"
)

// openTimeout bounds the wait for the file lock: long enough to ride out a
// predecessor that is exiting, short enough that a second process fails fast
// with a clear message.
const openTimeout = time.Second

// ErrLocked reports a data file held by another process.
var ErrLocked = errors.New("locked by another process")

// boltBackend keeps the store in one bbolt file. bbolt commits with fsync
// (NoSync is false), so a Commit that returned is on stable storage, and its
// copy-on-write pages make every Commit atomic across crashes.
type boltBackend struct {
	path string
	db   *bolt.DB
}

// OpenBolt opens (creating when absent) the data file at path, with its
// directory created 0700 and the file 0600: it holds private keys. An
// existing file is verified before use — page structure, then bbolt's own
// consistency check — and a damaged one is refused with a *CorruptError. A
// file locked by another process fails after one second with ErrLocked.
func OpenBolt(path string) (Backend, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create directory of data file %q: %w", path, err)
	}
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		if err := create(path); err != nil {
			return nil, fmt.Errorf("create data file %q: %w", path, err)
		}
	}
	if err := verifyExisting(path); err != nil {
		return nil, err
	}
	db, err := openDB(path, false)
	if err != nil {
		return nil, err
	}
	b := &boltBackend{path: path, db: db}
	if err := b.check(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return b, nil
}

// create makes an initialised data file at path atomically: it is built and
// synced under a temporary name, then linked into place. A crash while
// creating never leaves an empty or half-built file at path, so an empty
// file there is damage (a truncation), never a first start, and is refused.
// Linking rather than renaming fails if another process created path first,
// and then that file is used.
func create(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }()
	if err := f.Close(); err != nil {
		return err
	}
	db, err := openDB(tmp, false) // bbolt lays out an empty file and syncs it
	if err != nil {
		return err
	}
	err = initialise(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}

// openDB opens the file with bbolt, turning a held lock into ErrLocked and a
// damaged file (or a panic or memory fault while bbolt reads it) into a
// *CorruptError.
func openDB(path string, readOnly bool) (*bolt.DB, error) {
	opts := &bolt.Options{Timeout: openTimeout, ReadOnly: readOnly, NoSync: false, NoFreelistSync: false}
	var db *bolt.DB
	err := protect(func() (err error) {
		db, err = bolt.Open(path, 0o600, opts)
		return err
	})
	var pe *panicError
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("data file %q is %w; stop the other control plane or give this one another data directory", path, ErrLocked)
	case errors.As(err, &pe), errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, &CorruptError{File: path, Cause: err}
	default:
		return nil, fmt.Errorf("open data file %q: %w", path, err)
	}
}

// verifyExisting checks the data file under a shared lock before it is
// opened for writing: opening for writing already loads the freelist, and a
// damaged one must be caught before bbolt trusts it.
func verifyExisting(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open data file %q: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("open data file %q: not a regular file", path)
	}
	if err := checkSize(path, info.Size()); err != nil {
		return &CorruptError{File: path, Cause: err}
	}
	db, err := openDB(path, true)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if err := protect(func() error { return verify(db, path) }); err != nil {
		return &CorruptError{File: path, Cause: err}
	}
	return nil
}

// check makes sure the file is a Tollgate data file of this format.
func (b *boltBackend) check() error {
	err := protect(func() error {
		return b.db.View(func(tx *bolt.Tx) error {
			if tx.Bucket([]byte(bucketMeta)) == nil {
				return b.corrupt(fmt.Errorf("no %q bucket: not a Tollgate data file", bucketMeta))
			}
			return b.checkFormat(tx)
		})
	})
	return b.loadError(err)
}

func (b *boltBackend) checkFormat(tx *bolt.Tx) error {
	v, err := readMeta(tx, keyFormat, 4)
	if err != nil {
		return b.corrupt(err)
	}
	if f := binary.BigEndian.Uint32(v); f != formatVersion {
		return fmt.Errorf("data file %q has format version %d; this release reads version %d", b.path, f, formatVersion)
	}
	return nil
}

// Load implements Backend. Every value's checksum is verified, and the
// records found must match the file's digest.
func (b *boltBackend) Load() (rev uint64, recs []Record, err error) {
	err = protect(func() error {
		return b.db.View(func(tx *bolt.Tx) error {
			v, err := readMeta(tx, keyRevision, 8)
			if err != nil {
				return b.corrupt(err)
			}
			rev = binary.BigEndian.Uint64(v)
			want, err := readDigest(tx)
			if err != nil {
				return b.corrupt(err)
			}
			if err := b.checkBuckets(tx); err != nil {
				return err
			}
			var got digest
			for _, k := range model.Kinds {
				if recs, err = b.loadKind(tx, k, recs, &got); err != nil {
					return err
				}
			}
			if got.count != want.count {
				return b.corrupt(fmt.Errorf("the file holds %d records but its digest expects %d: records were lost or added", got.count, want.count))
			}
			if got.sum != want.sum {
				return b.corrupt(errors.New("the records do not match the file's digest: records were altered"))
			}
			return nil
		})
	})
	if err != nil {
		return 0, nil, b.loadError(err)
	}
	return rev, recs, nil
}

// checkBuckets refuses buckets this release does not know: they would be
// data it silently ignores.
func (b *boltBackend) checkBuckets(tx *bolt.Tx) error {
	return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if string(name) != bucketMeta && string(name) != bucketSystem && !slices.Contains(model.Kinds, model.Kind(name)) {
			return b.corrupt(fmt.Errorf("unknown bucket %q", name))
		}
		return nil
	})
}

func (b *boltBackend) loadKind(tx *bolt.Tx, k model.Kind, recs []Record, d *digest) ([]Record, error) {
	bk := tx.Bucket([]byte(k))
	if bk == nil {
		return nil, b.corrupt(fmt.Errorf("no %q bucket", k))
	}
	err := bk.ForEach(func(name, v []byte) error {
		payload, err := unseal(v)
		if err != nil {
			return b.corrupt(fmt.Errorf("record %s/%s: %w", k, name, err))
		}
		d.add(k, name, v)
		recs = append(recs, Record{Kind: k, Name: string(name), Value: bytes.Clone(payload)})
		return nil
	})
	return recs, err
}

// Commit implements Backend: one bbolt read-write transaction, fsynced on
// commit, holding every put, every delete, the digest and the new revision.
func (b *boltBackend) Commit(c Commit) error {
	err := protect(func() error {
		return b.db.Update(func(tx *bolt.Tx) error {
			d, err := readDigest(tx)
			if err != nil {
				return err
			}
			for _, r := range c.Put {
				if err := b.put(tx, &d, r); err != nil {
					return fmt.Errorf("put %s/%s: %w", r.Kind, r.Name, err)
				}
			}
			for _, k := range c.Delete {
				if err := b.delete(tx, &d, k); err != nil {
					return fmt.Errorf("delete %s: %w", k, err)
				}
			}
			meta, err := bucket(tx, bucketMeta)
			if err != nil {
				return err
			}
			if err := meta.Put([]byte(keyDigest), seal(d.encode())); err != nil {
				return err
			}
			return meta.Put([]byte(keyRevision), seal(binary.BigEndian.AppendUint64(nil, c.Revision)))
		})
	})
	if err != nil {
		return fmt.Errorf("commit to data file %q: %w", b.path, err)
	}
	return nil
}

func (*boltBackend) put(tx *bolt.Tx, d *digest, r Record) error {
	bk, err := bucket(tx, string(r.Kind))
	if err != nil {
		return err
	}
	name, v := []byte(r.Name), seal(r.Value)
	if old := bk.Get(name); old != nil {
		d.remove(r.Kind, name, old)
	}
	d.add(r.Kind, name, v)
	return bk.Put(name, v)
}

func (*boltBackend) delete(tx *bolt.Tx, d *digest, k model.Key) error {
	bk, err := bucket(tx, string(k.Kind))
	if err != nil {
		return err
	}
	name := []byte(k.Name)
	if old := bk.Get(name); old != nil {
		d.remove(k.Kind, name, old)
	}
	return bk.Delete(name)
}

// bucket returns a bucket init created.
func bucket(tx *bolt.Tx, name string) (*bolt.Bucket, error) {
	bk := tx.Bucket([]byte(name))
	if bk == nil {
		return nil, fmt.Errorf("bucket %q is missing", name)
	}
	return bk, nil
}

// Close implements Backend.
func (b *boltBackend) Close() error { return b.db.Close() }

// Location implements Located.
func (b *boltBackend) Location() string { return b.path }

func (b *boltBackend) corrupt(err error) error { return &CorruptError{File: b.path, Cause: err} }

// loadError passes corruption and format errors through and reports a panic
// or fault while reading as corruption.
func (b *boltBackend) loadError(err error) error {
	var pe *panicError
	if errors.As(err, &pe) {
		return b.corrupt(err)
	}
	return err
}

// panicError is a panic or memory fault recovered while bbolt read the file.
type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprintf("panic while reading: %v", e.value) }

// protect runs fn, converting a panic, or a fault on the memory-mapped file
// (SIGBUS on a truncated file), into an error: bbolt panics on some damaged
// pages and the control plane must report, not crash.
func protect(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r}
		}
	}()
	return fn()
}
