package xds_test

import (
	"slices"
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/xds"
)

func TestRestart(t *testing.T) {
	for _, delta := range []bool{false, true} {
		name := "sotw"
		if delta {
			name = "delta"
		}
		t.Run(name, func(t *testing.T) { testRestart(t, delta) })
	}
}

// testRestart restarts the control plane twice under a connected proxy:
// with the same definitions (the proxy is sent nothing), then with a
// cluster deleted meanwhile (the proxy loses it).
func testRestart(t *testing.T, delta bool) {
	gw1 := envoyGateway(t, "gw-a", weight{"c1", 50}, weight{"c2", 50})
	s1 := xds.NewServer(xds.Options{})
	addr1, stop1 := startServer(t, s1)
	require.NoError(t, s1.Update(outputOf(gw1)))
	a := dialADS(t, addr1, "a1", "gw-a", delta)
	a.Start()
	a.WaitFor("full config", func() bool {
		return len(a.Has(resourcev3.RouteType)) == 1 && len(a.Has(resourcev3.SecretType)) == 1 &&
			len(a.Has(resourcev3.EndpointType)) == 2
	})
	stop1()

	// Same definitions; the proxy reconnects before the store is loaded.
	s2 := xds.NewServer(xds.Options{})
	addr2, stop2 := startServer(t, s2)
	a2 := a.Reconnect(addr2)
	waitNodes(t, s2, "a1 resumed every type", func(ns map[string]xds.NodeStatus) bool {
		return len(ns["a1"].Types) == len(allTypes) && ns["a1"].State == xds.NodeWaiting
	})
	require.NoError(t, s2.Update(outputOf(gw1)))
	// A later, distinguishable change: on one ordered stream, anything
	// spuriously sent for the restart would arrive before it.
	require.NoError(t, s2.Update(outputOf(withResources(gw1, resourcev3.SecretType, secret("s1", "cert-2")))))
	a2.WaitFor("the new secret", func() bool { return a2.ReceivedSince(0, resourcev3.SecretType) })
	require.Len(t, a2.Log(), 1, "only the change was sent after the restart: %+v", a2.Log())
	assert.Equal(t, resourcev3.SecretType, a2.Log()[0].TypeURL)
	ns := waitNodes(t, s2, "a1 ACKed the secret", func(ns map[string]xds.NodeStatus) bool {
		return allAcked(ns["a1"], resourcev3.SecretType)
	})
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.EndpointType} {
		assert.Empty(t, ns["a1"].Types[typ].SentVersion, "%s re-sent after restart", typ)
	}
	stop2()

	// c2 deleted while the control plane was down; loaded before the proxy
	// reconnects this time.
	gw3 := envoyGateway(t, "gw-a", weight{"c1", 100})
	gw3 = withResources(gw3, resourcev3.SecretType, secret("s1", "cert-2"))
	s3 := xds.NewServer(xds.Options{})
	addr3, _ := startServer(t, s3)
	require.NoError(t, s3.Update(outputOf(gw3)))
	// A SotW proxy whose version the server cannot resolve is sent the
	// current set at once; the make-before-break step needs bytes it never
	// had (documented on deliver). Delta keeps the guarantee.
	a2.SetCheckConsistency(delta)
	a3 := a2.Reconnect(addr3)
	a3.SetCheckConsistency(delta)
	a3.WaitFor("c2 gone", func() bool {
		return len(a3.Has(resourcev3.ClusterType)) == 1 && a3.RouteWeights()["c2"] == 0
	})
	assert.Equal(t, []string{"c1"}, a3.Has(resourcev3.ClusterType))
	if delta {
		assert.True(t, a3.Removed(0, resourcev3.ClusterType, "c2"), "%+v", a3.Log())
	}
	for _, r := range a3.Log() {
		assert.NotEqual(t, resourcev3.ListenerType, r.TypeURL, "unchanged listener re-sent: %+v", a3.Log())
		assert.NotEqual(t, resourcev3.SecretType, r.TypeURL, "unchanged secret re-sent: %+v", a3.Log())
	}
}

// TestRestartByNameSotWKeepsRoutesFirst: a SotW proxy that subscribes to
// clusters by name (as grpc-go does) reconnects to a restarted control
// plane in which one of its clusters was deleted. Its routes must stop
// naming the cluster before the answer that drops it, so it never holds a
// route to a missing cluster, even for one response.
func TestRestartByNameSotWKeepsRoutesFirst(t *testing.T) {
	gw1 := envoyGateway(t, "gw-a", weight{"c1", 50}, weight{"c2", 50})
	s1 := xds.NewServer(xds.Options{})
	addr1, stop1 := startServer(t, s1)
	require.NoError(t, s1.Update(outputOf(gw1)))
	a := dialADS(t, addr1, "a1", "gw-a", false)
	a.Start()
	require.NoError(t, a.Subscribe(resourcev3.ClusterType, []string{"c1", "c2"}))
	a.WaitFor("full config by name", func() bool {
		return len(a.Has(resourcev3.ClusterType)) == 2 && len(a.Has(resourcev3.EndpointType)) == 2 &&
			len(a.Has(resourcev3.RouteType)) == 1
	})
	stop1()

	gw2 := envoyGateway(t, "gw-a", weight{"c1", 100})
	s2 := xds.NewServer(xds.Options{})
	addr2, _ := startServer(t, s2)
	require.NoError(t, s2.Update(outputOf(gw2)))
	a2 := a.Reconnect(addr2) // consistency is checked at every response
	a2.WaitFor("c2 gone", func() bool {
		return slices.Equal(a2.Has(resourcev3.ClusterType), []string{"c1"}) && a2.RouteWeights()["c2"] == 0
	})
	routes, clusters := a2.LastIndex(0, resourcev3.RouteType), a2.LastIndex(0, resourcev3.ClusterType)
	require.GreaterOrEqual(t, routes, 0, "%+v", a2.Log())
	require.Less(t, routes, clusters, "the routes change before the cluster goes: %+v", a2.Log())
}
