// An external test package: it may import the simulated proxy
// (internal/xdsclient), which the layering table keeps out of internal/app
// itself.
package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/xdsclient"
)

// ingressDefinitions: a proxied ingress gateway with one HTTP listener, two
// Services and an API routing to each.
const ingressDefinitions = `apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: edge}
spec:
  mode: ingress
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
---
apiVersion: tollgate.dev/v1
kind: Service
metadata: {name: orders}
spec:
  endpoints: [{address: 127.0.0.1, port: 9001}]
---
apiVersion: tollgate.dev/v1
kind: Service
metadata: {name: users}
spec:
  endpoints: [{address: 127.0.0.1, port: 9002}]
---
` + ordersAPI + `---
apiVersion: tollgate.dev/v1
kind: API
metadata: {name: users}
spec:
  gateways: [edge]
  routes:
  - name: list
    match: {pathPrefix: /users}
    backends: [{service: users}]
`

const ordersAPI = `apiVersion: tollgate.dev/v1
kind: API
metadata: {name: orders}
spec:
  gateways: [edge]
  routes:
  - name: list
    match: {pathPrefix: /orders}
    backends: [{service: orders}]
`

// ordersAPIv2 adds a route to the same Service: only the route
// configuration changes.
const ordersAPIv2 = ordersAPI + `  - name: create
    match: {pathExact: /orders, methods: [POST]}
    backends: [{service: orders}]
`

// TestSimulatedEnvoyThroughTheWholeStack drives a simulated Envoy
// (internal/xdsclient, subscribing in Envoy's order and checking after
// every response that no route names a cluster it lacks) against the whole
// control plane, changed only through the admin API.
func TestSimulatedEnvoyThroughTheWholeStack(t *testing.T) {
	for _, delta := range []bool{true, false} {
		t.Run(map[bool]string{true: "delta", false: "sotw"}[delta], func(t *testing.T) {
			testSimulatedEnvoy(t, delta)
		})
	}
}

func testSimulatedEnvoy(t *testing.T, delta bool) {
	a := startApp(t, filepath.Join(t.TempDir(), "data"))
	send(t, http.MethodPost, a.AdminURL()+"/v1/apply", ingressDefinitions)

	c := xdsclient.DialTest(t, a.XDSAddress(), "envoy-1", "edge", xdsclient.Options{Delta: delta})
	c.Start()
	c.WaitFor("the listener, routes, clusters and endpoints", func() bool {
		return slices.Equal(c.Has(resourcev3.ListenerType), []string{"http"}) &&
			slices.Equal(c.Has(resourcev3.RouteType), []string{"http"}) &&
			slices.Equal(c.Has(resourcev3.ClusterType), []string{"svc/orders", "svc/users"}) &&
			slices.Equal(c.Has(resourcev3.EndpointType), []string{"svc/orders", "svc/users"})
	})
	require.Equal(t, []string{"orders/list", "users/list"}, routeNames(t, c))
	require.Equal(t, []string{"svc/orders", "svc/users"}, c.RouteClusters())
	require.Equal(t, []string{"http"}, c.Subscribed(resourcev3.RouteType), "RDS by the listener's route config name")
	require.Equal(t, []string{"svc/orders", "svc/users"}, c.Subscribed(resourcev3.EndpointType), "EDS by the cluster names")

	// An edit of one API changes the route configuration only.
	mark := c.Received()
	send(t, http.MethodPut, a.AdminURL()+"/v1/apis/orders", ordersAPIv2)
	c.WaitFor("the new route", func() bool { return slices.Contains(routeNames(t, c), "orders/create") })
	for _, r := range c.LogSince(mark) {
		assert.Equal(t, resourcev3.RouteType, r.TypeURL, "only the routes changed: %+v", c.LogSince(mark))
	}

	// Deleting an API and its now unreferenced Service removes the routes,
	// then the cluster and its endpoints.
	mark = c.Received()
	send(t, http.MethodDelete, a.AdminURL()+"/v1/apis/users", "")
	send(t, http.MethodDelete, a.AdminURL()+"/v1/services/users", "")
	c.WaitFor("users gone", func() bool {
		return slices.Equal(c.Has(resourcev3.ClusterType), []string{"svc/orders"}) &&
			slices.Equal(c.Has(resourcev3.EndpointType), []string{"svc/orders"})
	})
	require.Equal(t, []string{"orders/create", "orders/list"}, routeNames(t, c))
	require.Equal(t, []string{"svc/orders"}, c.RouteClusters())
	if delta {
		assert.True(t, c.Removed(mark, resourcev3.ClusterType, "svc/users"), "cluster in removed_resources: %+v", c.LogSince(mark))
		// The endpoints go either way Envoy allows: a removed_resources
		// entry, or the client's own unsubscribe once the cluster is gone
		// (WaitFor above saw the client stop holding them).
	}
	require.Less(t, c.LastIndex(mark, resourcev3.RouteType), c.LastIndex(mark, resourcev3.ClusterType),
		"the routes stop naming svc/users before it is removed: %+v", c.LogSince(mark))
	for _, r := range c.LogSince(mark) {
		assert.NotEqual(t, resourcev3.ListenerType, r.TypeURL, "unchanged listener re-sent: %+v", c.LogSince(mark))
	}

	whilePumping(t, c, func() { requireProgrammed(t, a, "orders") })
}

// whilePumping runs f while a goroutine keeps handling c's responses, so
// c ACKs whatever the server still sends while f polls the admin API. c
// must not be used by anything else meanwhile.
func whilePumping(t *testing.T, c *xdsclient.TestClient, f func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, err := c.Client.Next(ctx)
			var ie *xdsclient.InconsistencyError
			switch {
			case err == nil:
			case errors.As(err, &ie):
				t.Errorf("%v", err) // keep going: the response was handled in full
			default:
				return // ctx done or stream ended
			}
		}
	}()
	defer func() { cancel(); <-done }()
	f()
}

// routeNames returns the names of the routes the client holds, sorted.
func routeNames(t *testing.T, c *xdsclient.TestClient) []string {
	t.Helper()
	var out []string
	for _, name := range c.Has(resourcev3.RouteType) {
		rc := &routev3.RouteConfiguration{}
		require.NoError(t, c.Resource(resourcev3.RouteType, name).UnmarshalTo(rc))
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				out = append(out, r.GetName())
			}
		}
	}
	slices.Sort(out)
	return out
}

// requireProgrammed waits until the API's status says the one connected
// proxy runs its latest configuration.
func requireProgrammed(t *testing.T, a *app.App, api string) {
	t.Helper()
	var st struct {
		Accepted   bool `json:"accepted"`
		Programmed struct {
			Proxies  int      `json:"proxies"`
			InSync   int      `json:"inSync"`
			Gateways []string `json:"gateways"`
		} `json:"programmed"`
	}
	defer func() {
		if t.Failed() {
			t.Logf("nodes: %s", send(t, http.MethodGet, a.AdminURL()+"/v1/nodes", ""))
		}
	}()
	require.Eventually(t, func() bool {
		require.NoError(t, json.Unmarshal(send(t, http.MethodGet, a.AdminURL()+"/v1/apis/"+api+"/status", ""), &st))
		return st.Programmed.Proxies == 1 && st.Programmed.InSync == 1
	}, xdsclient.DefaultWait, 10*time.Millisecond, "API %q programmed 1 of 1", api)
	require.True(t, st.Accepted)
	require.Equal(t, []string{"edge"}, st.Programmed.Gateways)
}
