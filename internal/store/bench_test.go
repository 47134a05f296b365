package store

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
)

// fillAPIs adds n APIs on gateway edge routing to service orders, in
// bundles of 500.
func fillAPIs(b *testing.B, st *Store, n int) {
	b.Helper()
	mustApply(b, st, puts(gateway("edge"), service("orders")), ApplyOptions{})
	for start := 0; start < n; start += 500 {
		var objs []model.Object
		for i := start; i < min(start+500, n); i++ {
			objs = append(objs, api(fmt.Sprintf("api-%d", i), []string{"edge"}, "orders"))
		}
		mustApply(b, st, puts(objs...), ApplyOptions{})
	}
}

// BenchmarkApplyOneAPI measures one admin edit end to end through the
// store: validation, integrity checks, the memdb write and the fsynced
// commit, with 1,000 APIs stored.
func BenchmarkApplyOneAPI(b *testing.B) {
	st, _ := newStore(b)
	fillAPIs(b, st, 1000)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		a := api(fmt.Sprintf("api-%d", i%1000), []string{"edge"}, "orders")
		a.Metadata.Annotations = map[string]string{"edit": strconv.Itoa(i)}
		res, err := st.Apply(ctx, puts(a), ApplyOptions{})
		if err != nil || !res.Changed {
			b.Fatalf("apply: %v (changed %v)", err, res.Changed)
		}
		i++
	}
}

// BenchmarkOpen10k measures a restart: verifying, loading and indexing a
// data file of 10,000 APIs (plus their gateway and service).
func BenchmarkOpen10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "store.db")
	st := openStore(b, path)
	fillAPIs(b, st, 10_000)
	require.NoError(b, st.Close())
	for b.Loop() {
		bk, err := OpenBolt(path)
		if err != nil {
			b.Fatal(err)
		}
		s, err := Open(bk)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := len(dump(b, s)); got != 10_002 {
			b.Fatalf("loaded %d objects", got)
		}
		_ = s.Close()
		b.StartTimer()
	}
}

// BenchmarkMemoryPerAPI reports the heap the store retains per stored API
// (memdb rows, indexes and the decoded objects), the store's share of
// PERFORMANCE.md's 16 KB-per-API budget.
func BenchmarkMemoryPerAPI(b *testing.B) {
	const n = 10_000
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "store.db")
		st := openStore(b, path)
		fillAPIs(b, st, n)
		require.NoError(b, st.Close())
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		bk, err := OpenBolt(path)
		require.NoError(b, err)
		s, err := Open(bk)
		require.NoError(b, err)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heapB/api")
		runtime.KeepAlive(s)
		_ = s.Close()
		b.StartTimer()
	}
}
