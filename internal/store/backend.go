package store

import (
	"fmt"

	"tollgate.dev/tollgate/internal/model"
)

// Backend is the durable layer under the in-memory database. It stores opaque
// records and a revision, nothing more: validation, indexing and referential
// integrity all live above it, in the Store. It is deliberately this small so
// that a distributed backend (etcd, with the revision as a key guarded by a
// transaction compare) can be added behind the same three methods.
type Backend interface {
	// Load returns the stored revision and every record, sorted by kind (in
	// model.Kinds order) then name. It is called once, by Open.
	Load() (revision uint64, records []Record, err error)
	// Commit applies one bundle atomically and durably: when it returns nil,
	// every put, every delete and the revision are on stable storage (the
	// file is fsynced); when it returns an error, none of them are.
	Commit(c Commit) error
	// Close releases the backend. Commit must not be called afterwards.
	Close() error
}

// Record is one stored object in the form the backend keeps it.
type Record struct {
	// Kind and Name are the object's key.
	Kind model.Kind
	Name string
	// Value is the deterministic proto binary encoding of the whole object,
	// metadata.resourceVersion included, so a reload restores it exactly.
	Value []byte
}

// Commit is one atomic write to the backend: the records to put (create or
// overwrite), the keys to delete and the revision the store reaches with it.
type Commit struct {
	Revision uint64
	Put      []Record
	Delete   []model.Key
}

// Located is implemented by backends that can say where their data lives (a
// file path, an endpoint), so the errors about damaged data name it.
type Located interface {
	Location() string
}

// CorruptError reports stored data that cannot be trusted: a file that is not
// a data file, is truncated, has damaged pages, a checksum mismatch or a
// record that does not decode. The control plane refuses to start on it
// rather than serve partial configuration, which would delete routes from
// every proxy.
type CorruptError struct {
	// File is where the data lives (a path for the bolt backend).
	File string
	// Cause is what was found wrong.
	Cause error
}

// Error tells the operator what is wrong and what to do about it.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("open data file %q: file is corrupt (%v); the control plane will not start on damaged data: "+
		"restore the file from a backup or move it aside to start empty", e.File, e.Cause)
}

// Unwrap returns the cause.
func (e *CorruptError) Unwrap() error { return e.Cause }

func locationOf(b Backend) string {
	if l, ok := b.(Located); ok {
		return l.Location()
	}
	return fmt.Sprintf("%T", b)
}
