package store

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-memdb"
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
)

// Store is the desired state: an in-memory database for reads, kept in step
// with a durable Backend by Apply. It is safe for concurrent use; writes are
// serialised, reads never block.
type Store struct {
	db *memdb.MemDB

	// mu serialises writers, so the revision read at the start of Apply is
	// still the latest when it commits, and guards closed and backend.
	mu      sync.Mutex
	closed  bool
	backend Backend
}

// Open loads every record of b and rebuilds the in-memory database from
// them. The store owns b from then on: Close closes it, and so does a
// failed Open. A record that does not decode is reported as a *CorruptError
// naming where the data lives: a store that silently dropped it would have
// proxies delete what it configured. Stored objects are not re-validated,
// so a stricter future release still starts on data an older one accepted.
func Open(b Backend) (*Store, error) {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		err = fmt.Errorf("memdb schema: %w", err)
	} else {
		err = load(db, b)
	}
	if err != nil {
		_ = b.Close() // the load error is the one worth reporting
		return nil, err
	}
	return &Store{db: db, backend: b}, nil
}

// load fills db from b in one transaction. A panic anywhere in decoding is
// converted to a CorruptError: start-up on bad data must fail cleanly.
func load(db *memdb.MemDB, b Backend) (err error) {
	loc := locationOf(b)
	defer func() {
		if r := recover(); r != nil {
			err = &CorruptError{File: loc, Cause: fmt.Errorf("panic while loading: %v", r)}
		}
	}()
	rev, records, err := b.Load()
	if err != nil {
		return err
	}
	txn := db.Txn(true)
	defer txn.Abort()
	for _, rec := range records {
		o, err := decodeRecord(rec)
		if err != nil {
			return &CorruptError{File: loc, Cause: err}
		}
		if err := insert(txn, o); err != nil {
			return err
		}
	}
	if err := txn.Insert(tableMeta, &metaRow{ID: metaRevision, Revision: rev}); err != nil {
		return fmt.Errorf("store revision in memory: %w", err)
	}
	txn.Commit()
	return nil
}

// decodeRecord turns a record back into an object and checks that it is the
// object its key says.
func decodeRecord(rec Record) (model.Object, error) {
	o := rec.Kind.New()
	if o == nil {
		return nil, fmt.Errorf("record %q has unknown kind %q", rec.Name, rec.Kind)
	}
	if err := proto.Unmarshal(rec.Value, o); err != nil {
		return nil, fmt.Errorf("record %s/%s does not decode: %w", rec.Kind, rec.Name, err)
	}
	if got := o.GetMetadata().GetName(); got != rec.Name {
		return nil, fmt.Errorf("record %s/%s holds an object named %q", rec.Kind, rec.Name, got)
	}
	return o, nil
}

func insert(txn *memdb.Txn, o model.Object) error {
	table, err := tableOf(model.KindOf(o))
	if err != nil {
		return err
	}
	if err := txn.Insert(table, o); err != nil {
		return fmt.Errorf("store %s in memory: %w", model.KeyOf(o), err)
	}
	return nil
}

// Close closes the backend. Apply fails with ErrClosed afterwards; readers
// keep seeing the last state, which is still what the backend holds.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.backend.Close()
}

// Revision is the current revision: the number of changing bundles applied
// since the store was created. It grows by one per changing Apply and never
// moves backwards, across restarts included.
func (s *Store) Revision() uint64 { return s.Read().Revision() }

// Read returns a Reader over a consistent snapshot of the current state.
// Later writes never show through it; take a new Reader to see them.
func (s *Store) Read() *Reader { return &Reader{txn: s.db.Txn(false)} }

// revisionOf reads the revision row of a transaction.
func revisionOf(txn *memdb.Txn) (uint64, error) {
	raw, err := txn.First(tableMeta, indexID, metaRevision)
	if err != nil {
		return 0, fmt.Errorf("read revision: %w", err)
	}
	row, ok := raw.(*metaRow)
	if !ok {
		return 0, errors.New("read revision: the revision row is missing")
	}
	return row.Revision, nil
}
