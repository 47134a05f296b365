package translate

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
			require.Len(b, out.Gateways["edge"].Resources, 4, "listeners, routes, clusters, endpoints")
			for k, s := range out.Status {
				require.True(b, s.Accepted, "%s: %v", k, s.Problems)
			}
		})
	}
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
