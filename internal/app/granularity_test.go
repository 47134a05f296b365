package app_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/xdsclient"
)

// granularityAPIs is how many APIs, each on its own host, the gateway of
// TestOneAPIEditChangesOneResource serves.
const granularityAPIs = 30

// granularAPI is API i on host api-i.example.com, routing prefix to svc.
func granularAPI(i int, prefix string) string {
	return fmt.Sprintf(`apiVersion: tollgate.dev/v1
kind: API
metadata: {name: api-%d}
spec:
  gateways: [edge]
  hostnames: [api-%d.example.com]
  routes:
  - {name: r, match: {pathPrefix: %s}, backends: [{service: svc}]}
`, i, i, prefix)
}

// TestOneAPIEditChangesOneResource is issue 3's fine-grained resources
// point, end to end over real gRPC: with every API on its own host, the
// gateway routes by host, and a one-API edit reaches a proxy as exactly one
// RouteConfiguration, delta or state of the world; adding an API adds one
// scope and one route configuration; deleting it removes them and nothing
// else is re-sent.
func TestOneAPIEditChangesOneResource(t *testing.T) {
	for _, delta := range []bool{true, false} {
		t.Run(map[bool]string{true: "delta", false: "sotw"}[delta], func(t *testing.T) {
			testOneAPIEdit(t, delta)
		})
	}
}

func testOneAPIEdit(t *testing.T, delta bool) {
	a := startApp(t, filepath.Join(t.TempDir(), "data"))
	docs := []string{`apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: edge}
spec: {mode: ingress, listeners: [{name: http, port: 8080, protocol: HTTP}]}
`, `apiVersion: tollgate.dev/v1
kind: Service
metadata: {name: svc}
spec: {endpoints: [{address: 10.0.0.1, port: 8080}]}
`}
	for i := range granularityAPIs {
		docs = append(docs, granularAPI(i, "/v1"))
	}
	send(t, http.MethodPost, a.AdminURL()+"/v1/apply", strings.Join(docs, "---\n"))

	c := xdsclient.DialTest(t, a.XDSAddress(), "envoy-1", "edge", xdsclient.Options{Delta: delta})
	c.Start()
	c.WaitFor("every host's routes", func() bool { return len(c.Has(resourcev3.RouteType)) == granularityAPIs })
	require.Len(t, c.Has(resourcev3.ScopedRouteType), granularityAPIs)
	require.Contains(t, c.Has(resourcev3.RouteType), "host/api-7.example.com")
	require.Len(t, c.Subscribed(resourcev3.RouteType), granularityAPIs, "RDS by the scopes' route configuration names")

	// Edit one API: one route configuration, nothing else.
	mark := c.Received()
	send(t, http.MethodPut, a.AdminURL()+"/v1/apis/api-7", granularAPI(7, "/v2"))
	c.WaitFor("the edit", func() bool {
		return strings.Contains(string(c.Resource(resourcev3.RouteType, "host/api-7.example.com").GetValue()), "/v2")
	})
	carried := carriedSince(c, mark)
	assert.Equal(t, []string{resourcev3.RouteType + " host/api-7.example.com"}, carried, "one-API edit: %+v", c.LogSince(mark))

	// Add one API: its scope and its route configuration (state of the
	// world re-sends the scope set, which Envoy takes as complete).
	mark = c.Received()
	send(t, http.MethodPut, a.AdminURL()+"/v1/apis/api-new", strings.Replace(granularAPI(0, "/new"), "api-0", "api-new", 2))
	c.WaitFor("the new host", func() bool { return slices.Contains(c.Has(resourcev3.RouteType), "host/api-new.example.com") })
	carried = carriedSince(c, mark)
	routes := slices.DeleteFunc(slices.Clone(carried), func(s string) bool { return !strings.HasPrefix(s, resourcev3.RouteType) })
	assert.Equal(t, []string{resourcev3.RouteType + " host/api-new.example.com"}, routes, "added API: %+v", c.LogSince(mark))
	for _, s := range carried {
		assert.True(t, strings.HasPrefix(s, resourcev3.RouteType) || strings.HasPrefix(s, resourcev3.ScopedRouteType), "added API re-sent %s", s)
	}
	if delta {
		assert.Contains(t, carried, resourcev3.ScopedRouteType+" api-new.example.com")
		assert.Len(t, carried, 2, "delta: the new scope and route configuration only: %+v", c.LogSince(mark))
	}

	// Delete it: its scope goes, then its route configuration; the other
	// hosts' routes are not re-sent.
	mark = c.Received()
	send(t, http.MethodDelete, a.AdminURL()+"/v1/apis/api-new", "")
	c.WaitFor("the host gone", func() bool {
		return !slices.Contains(c.Has(resourcev3.RouteType), "host/api-new.example.com") &&
			!slices.Contains(c.Has(resourcev3.ScopedRouteType), "api-new.example.com")
	})
	for _, s := range carriedSince(c, mark) {
		assert.True(t, strings.HasPrefix(s, resourcev3.ScopedRouteType), "deleted API re-sent %s", s)
	}
	if delta {
		assert.True(t, c.Removed(mark, resourcev3.ScopedRouteType, "api-new.example.com"), "%+v", c.LogSince(mark))
	}
	require.Len(t, c.Has(resourcev3.RouteType), granularityAPIs)
	whilePumping(t, c, func() { requireProgrammed(t, a, "api-7") })
}

// carriedSince lists "<type> <name>" for every resource the responses
// since mark carried, in order.
func carriedSince(c *xdsclient.TestClient, mark int) []string {
	var out []string
	for _, r := range c.LogSince(mark) {
		for _, n := range r.Names {
			out = append(out, r.TypeURL+" "+n)
		}
	}
	return out
}
