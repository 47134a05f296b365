package store

import (
	"cmp"
	"slices"
	"sync"

	"tollgate.dev/tollgate/internal/model"
)

// memoryBackend keeps records in memory only.
type memoryBackend struct {
	mu       sync.Mutex
	revision uint64
	records  map[model.Key]Record
	system   systemValues
}

// NewMemoryBackend returns a Backend that keeps everything in memory: Load
// returns what was committed, Commit keeps it. It is for offline
// translation (controlplane translate) and tests; nothing survives the
// process, so it must never back a serving control plane.
func NewMemoryBackend() Backend {
	return &memoryBackend{records: map[model.Key]Record{}}
}

// Load returns the committed revision and records, sorted as Backend
// requires.
func (m *memoryBackend) Load() (uint64, []Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Record, 0, len(m.records))
	for _, r := range m.records {
		r.Value = slices.Clone(r.Value)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Record) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Name, b.Name))
	})
	return m.revision, out, nil
}

// Commit applies c; it cannot fail.
func (m *memoryBackend) Commit(c Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range c.Put {
		r.Value = slices.Clone(r.Value)
		m.records[model.Key{Kind: r.Kind, Name: r.Name}] = r
	}
	for _, k := range c.Delete {
		delete(m.records, k)
	}
	m.revision = c.Revision
	return nil
}

// Close does nothing: there is nothing to release.
func (m *memoryBackend) Close() error { return nil }
