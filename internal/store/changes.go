package store

import (
	"fmt"

	"github.com/hashicorp/go-memdb"

	"tollgate.dev/tollgate/internal/model"
)

// changeLogSize is how many recent commits the change log keeps. A consumer
// further behind than this (or one that started before the store was
// opened) is told to read the whole snapshot instead. 1,024 commits is
// seconds to minutes of heavy admin traffic, far more than one debounced
// translation ever lags.
const changeLogSize = 1024

// changeRow records which definitions one commit created, updated or
// deleted. It is written in the commit's own transaction, so a reader sees
// a revision's row exactly when it sees the revision.
type changeRow struct {
	// Revision is the revision the commit produced.
	Revision uint64
	// Keys are the definitions it changed, in the order Apply planned them.
	Keys []model.Key
}

func changesTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: tableChanges, Indexes: indexes(
		// id: ChangesSince looks up each revision after the caller's.
		&memdb.IndexSchema{Name: indexID, Unique: true, Indexer: &memdb.UintFieldIndex{Field: "Revision"}},
	)}
}

// recordChanges adds the row of revision rev and drops the one that falls
// out of the window, so the log never holds more than changeLogSize rows.
func recordChanges(txn *memdb.Txn, rev uint64, keys []model.Key) error {
	if err := txn.Insert(tableChanges, &changeRow{Revision: rev, Keys: keys}); err != nil {
		return fmt.Errorf("record changes of revision %d: %w", rev, err)
	}
	if rev > changeLogSize {
		if _, err := txn.DeleteAll(tableChanges, indexID, rev-changeLogSize); err != nil {
			return fmt.Errorf("prune change log: %w", err)
		}
	}
	return nil
}

// ChangesSince returns the keys of every definition created, updated or
// deleted after revision rev up to this snapshot's revision, each once, in
// commit order, so an incremental consumer (the translator) need not scan
// the store to find what changed. ok is false when the log no longer
// covers rev (too old, from before the store was opened, or newer than this
// snapshot): the caller must then read the whole snapshot.
func (r *Reader) ChangesSince(rev uint64) (keys []model.Key, ok bool) {
	cur := r.Revision()
	if rev > cur || cur-rev > changeLogSize {
		return nil, false
	}
	seen := map[model.Key]bool{}
	for v := rev + 1; v <= cur; v++ {
		raw, err := r.txn.First(tableChanges, indexID, v)
		if err != nil || raw == nil {
			return nil, false
		}
		for _, k := range raw.(*changeRow).Keys {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	return keys, true
}
