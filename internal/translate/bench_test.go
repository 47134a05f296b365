package translate

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

// benchBundle is n APIs of 5 routes each (prefix, exact with a method,
// regex, header match, weighted split with retries) over n/10 Services, on
// one HTTPS-free ingress gateway with two listeners: a realistic shape for
// the full-translation benchmark. Policies are not translated yet, so none
// are generated.
func benchBundle(n int) []byte {
	var b strings.Builder
	b.WriteString(`apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: edge}
spec:
  mode: ingress
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
  - {name: internal, port: 9090, protocol: HTTP}
`)
	services := max(n/10, 2)
	for i := range services {
		fmt.Fprintf(&b, "---\napiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: svc-%d}\nspec:\n  protocol: HTTP2\n  endpoints:\n  - {address: 10.%d.%d.1, port: 8080}\n  - {address: 10.%d.%d.2, port: 8080}\n",
			i, i/250, i%250, i/250, i%250)
	}
	for i := range n {
		s1, s2 := i%services, (i+1)%services
		fmt.Fprintf(&b, `---
apiVersion: tollgate.dev/v1
kind: API
metadata: {name: api-%d}
spec:
  gateways: [edge]
  hostnames: [api-%d.example.com]
  basePath: /v1
  routes:
  - {name: list, match: {pathPrefix: /items}, backends: [{service: svc-%d}]}
  - {name: create, match: {pathExact: /items, methods: [POST]}, backends: [{service: svc-%d}], timeout: 5s}
  - {name: get, match: {pathRegex: "^/v1/items/[0-9]+$"}, backends: [{service: svc-%d}]}
  - {name: beta, match: {pathPrefix: /, headers: [{name: x-beta, exact: "yes"}]}, backends: [{service: svc-%d}]}
  - name: split
    match: {pathPrefix: /orders}
    backends: [{service: svc-%d, weight: 90}, {service: svc-%d, weight: 10}]
    retries: {attempts: 2, conditions: [connect-failure, refused-stream], perTryTimeout: 1s}
`, i, i, s1, s1, s1, s2, s1, s2)
	}
	return []byte(b.String())
}

// BenchmarkTranslateFull measures translating the whole store (snapshot →
// IR → Envoy protos → ValidateAll) at N APIs, what every change costs until
// incremental translation lands. PERFORMANCE.md's goal: ≤ 250 ms at 10k.
func BenchmarkTranslateFull(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("apis=%d", n), func(b *testing.B) {
			st, err := storeFromBundle(benchBundle(n))
			require.NoError(b, err)
			b.ReportAllocs()
			var out *Output
			for b.Loop() {
				out = Translate(st.Read())
			}
			require.Len(b, out.Gateways["edge"].Resources, 5, "listeners, routes, scopes, clusters, endpoints")
			for k, s := range out.Status {
				require.True(b, s.Accepted, "%s: %v", k, s.Problems)
			}
		})
	}
}

// BenchmarkTranslateIncremental measures Incremental.Update after editing
// one API at N APIs: "change" rewrites the routes of an existing API (no
// status changes), "add-delete" alternately creates an API and deletes it
// (statuses change: the status map is copied). PERFORMANCE.md's goal:
// ≤ 1 ms, independent of N. Applying the edit to the store is not measured.
func BenchmarkTranslateIncremental(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		for _, edit := range []string{"change", "add-delete"} {
			b.Run(fmt.Sprintf("apis=%d/edit=%s", n, edit), func(b *testing.B) {
				st, err := storeFromBundle(benchBundle(n))
				require.NoError(b, err)
				x := NewIncremental()
				x.Update(st.Read())
				b.ReportAllocs()
				var out *Output
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					editBenchAPI(b, st, n, i, edit == "add-delete")
					r := st.Read()
					b.StartTimer()
					out = x.Update(r)
				}
				require.Zero(b, x.Fallbacks())
				require.Len(b, out.Gateways["edge"].Resources, 5, "listeners, routes, scopes, clusters, endpoints")
			})
		}
	}
}

// BenchmarkIncrementalFromScratch measures the first Update of an
// Incremental (start-up, or after a fallback), which also fills its
// caches: the price of incremental updates, next to BenchmarkTranslateFull.
func BenchmarkIncrementalFromScratch(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("apis=%d", n), func(b *testing.B) {
			st, err := storeFromBundle(benchBundle(n))
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				NewIncremental().Update(st.Read())
			}
		})
	}
}

// editBenchAPI changes the routes of one API of benchBundle(n), or with
// addDelete creates API n (even i) and deletes it (odd i).
func editBenchAPI(b *testing.B, st *store.Store, n, i int, addDelete bool) {
	b.Helper()
	api := (i * 7919) % n
	if addDelete {
		api = n
		if i%2 == 1 {
			del := store.Change{Op: store.OpDelete, Key: model.Key{Kind: model.KindAPI, Name: fmt.Sprintf("api-%d", n)}}
			_, err := st.Apply(context.Background(), []store.Change{del}, store.ApplyOptions{})
			require.NoError(b, err)
			return
		}
	}
	services := max(n/10, 2)
	docs, vs := model.ValidateBundle(fmt.Appendf(nil, `apiVersion: tollgate.dev/v1
kind: API
metadata: {name: api-%d}
spec:
  gateways: [edge]
  hostnames: [api-%d.example.com]
  basePath: /v1
  routes:
  - {name: list, match: {pathPrefix: /items-%d}, backends: [{service: svc-%d}]}
  - {name: create, match: {pathExact: /items, methods: [POST]}, backends: [{service: svc-%d}], timeout: 5s}
`, api, api, i, api%services, api%services))
	require.Empty(b, vs)
	_, err := st.Apply(context.Background(), []store.Change{{Op: store.OpPut, Object: docs[0].Object}}, store.ApplyOptions{})
	require.NoError(b, err)
}

// BenchmarkOutputMemoryPerAPI reports the heap one translation output
// retains per API (the IR is transient; the Envoy protos are kept).
func BenchmarkOutputMemoryPerAPI(b *testing.B) {
	const n = 10_000
	st, err := storeFromBundle(benchBundle(n))
	require.NoError(b, err)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		out := Translate(st.Read())
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heapB/api")
		runtime.KeepAlive(out)
	}
}
