package xds_test

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate"
	"tollgate.dev/tollgate/internal/xds"
	"tollgate.dev/tollgate/internal/xdsclient"
)

// waitFor bounds every wait on a condition; it is a deadline, not a
// timing assertion.
const waitFor = xdsclient.DefaultWait

// dialADS connects a simulated Envoy of gateway to addr.
func dialADS(t *testing.T, addr, nodeID, gateway string, delta bool) *xdsclient.TestClient {
	t.Helper()
	return xdsclient.DialTest(t, addr, nodeID, gateway, xdsclient.Options{Delta: delta})
}

var allTypes = []string{
	resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType,
	resourcev3.RouteType, resourcev3.SecretType,
}

// waitNodes waits until the server's node status satisfies cond.
func waitNodes(t *testing.T, s *xds.Server, what string, cond func(map[string]xds.NodeStatus) bool) map[string]xds.NodeStatus {
	t.Helper()
	var last map[string]xds.NodeStatus
	ok := assert.Eventually(t, func() bool {
		last = map[string]xds.NodeStatus{}
		for _, n := range s.Nodes() {
			last[n.NodeID] = n
		}
		return cond(last)
	}, waitFor, 5*time.Millisecond, what)
	if !ok {
		t.Fatalf("node status never reached %q: %+v", what, last)
	}
	return last
}

// allAcked is true when node has ACKed the last response of every type.
func allAcked(n xds.NodeStatus, types ...string) bool {
	for _, t := range types {
		ts, ok := n.Types[t]
		if !ok || ts.SentVersion == "" || ts.AckedVersion != ts.SentVersion {
			return false
		}
	}
	return true
}

// withGateway returns a copy of g with its resources of typeURL replaced.
func withResources(g *translate.GatewayConfig, typeURL string, rs ...translate.Resource) *translate.GatewayConfig {
	cp := *g
	cp.Resources = map[string][]translate.Resource{}
	for k, v := range g.Resources {
		cp.Resources[k] = v
	}
	cp.Resources[typeURL] = rs
	return &cp
}

func TestADS(t *testing.T) {
	for _, delta := range []bool{false, true} {
		name := "sotw"
		if delta {
			name = "delta"
		}
		t.Run(name, func(t *testing.T) { testADS(t, delta) })
	}
}

func testADS(t *testing.T, delta bool) {
	s := xds.NewServer(xds.Options{})
	addr, _ := startServer(t, s)
	a := dialADS(t, addr, "a1", "gw-a", delta)
	u := dialADS(t, addr, "u1", "no-such-gateway", delta)
	b := dialADS(t, addr, "b1", "gw-b", delta)
	for _, c := range []*xdsclient.TestClient{a, u, b} {
		c.Start()
	}

	// Before the first Update every watch is held open.
	waitNodes(t, s, "three waiting nodes", func(ns map[string]xds.NodeStatus) bool {
		for _, id := range []string{"a1", "u1", "b1"} {
			n := ns[id]
			if n.State != xds.NodeWaiting || len(n.Types) < 2 {
				return false
			}
		}
		return true
	})

	gwA1 := envoyGateway(t, "gw-a", weight{"c1", 50}, weight{"c2", 50})
	gwB := envoyGateway(t, "gw-b", weight{"b1", 100})
	require.NoError(t, s.Update(outputOf(gwA1, gwB)))

	// The first response is the full CDS: nothing, in particular no empty
	// state, went out before the first Update.
	first := a.Next()
	require.Equal(t, resourcev3.ClusterType, first.TypeURL)
	require.Equal(t, []string{"c1", "c2"}, first.Names)
	a.WaitFor("gw-a's config", func() bool {
		return len(a.Has(resourcev3.RouteType)) == 1 && len(a.Has(resourcev3.EndpointType)) == 2 &&
			len(a.Has(resourcev3.SecretType)) == 1 && len(a.Has(resourcev3.ListenerType)) == 1
	})
	require.Equal(t, []string{"c1", "c2"}, a.Has(resourcev3.ClusterType))
	b.WaitFor("gw-b's config", func() bool {
		return len(b.Has(resourcev3.RouteType)) == 1 && len(b.Has(resourcev3.SecretType)) == 1
	})
	require.Equal(t, []string{"b1"}, b.Has(resourcev3.ClusterType), "gateways are isolated")

	ns := waitNodes(t, s, "a1 and b1 ACK everything", func(ns map[string]xds.NodeStatus) bool {
		return allAcked(ns["a1"], allTypes...) && allAcked(ns["b1"], allTypes...)
	})
	assert.Equal(t, xds.NodeUnknownGateway, ns["u1"].State)
	assert.Equal(t, "no-such-gateway", ns["u1"].Gateway)
	for typ, ts := range ns["u1"].Types {
		assert.Empty(t, ts.SentVersion, "unknown gateway was sent %s", typ)
	}
	if !delta {
		gs := s.GatewayStatus("gw-a")
		assert.Equal(t, gs.Versions[resourcev3.ClusterType], ns["a1"].Types[resourcev3.ClusterType].SentVersion,
			"a wildcard SotW proxy is sent the gateway's type version")
	}
	cdsV1 := ns["a1"].Types[resourcev3.ClusterType].SentVersion
	bMark := b.Received()

	testEditAndDelete(t, s, a, gwA1, gwB, delta, cdsV1)

	// Only affected gateways are pushed: gw-b saw none of gw-a's edits. Its
	// own change is the next thing it receives on its ordered stream.
	require.NoError(t, s.Update(outputOf(withResources(gwB, resourcev3.SecretType, secret("s1", "cert-b")))))
	b.WaitFor("gw-b's new secret", func() bool { return b.ReceivedSince(bMark, resourcev3.SecretType) })
	assert.Len(t, b.LogSince(bMark), 1, "gw-b was pushed for gw-a's edits: %+v", b.LogSince(bMark))

	// The unknown gateway appears: its proxy gets its config, and the first
	// response on its ordered stream is that config (it was sent nothing
	// before, in particular nothing of gw-a or gw-b).
	require.NoError(t, s.Update(outputOf(gwB, envoyGateway(t, "no-such-gateway", weight{"u1", 100}))))
	u.WaitFor("its new gateway's config", func() bool { return len(u.Has(resourcev3.RouteType)) == 1 })
	assert.Equal(t, xdsclient.Response{TypeURL: resourcev3.ClusterType, Version: u.Log()[0].Version, Names: []string{"u1"}}, u.Log()[0])
	waitNodes(t, s, "u1 served", func(ns map[string]xds.NodeStatus) bool { return ns["u1"].State == xds.NodeServing })
}

// testEditAndDelete: an edit reaches the proxy with only what changed, a
// deletion is removed after the routes stop naming it, and a NACK is
// recorded, blamed, not re-sent, and followed by the next good version.
func testEditAndDelete(t *testing.T, s *xds.Server, a *xdsclient.TestClient, gwA1, gwB *translate.GatewayConfig, delta bool, cdsV1 string) {
	// Edit: a new cluster c3 in the split and new endpoints for c1.
	gwA2 := envoyGateway(t, "gw-a", weight{"c1", 50}, weight{"c2", 25}, weight{"c3", 25})
	gwA2 = withResources(gwA2, resourcev3.EndpointType,
		loadAssignment("c1", "127.0.0.1:9001"), loadAssignment("c2", "127.0.0.1:9000"), loadAssignment("c3", "127.0.0.1:9000"))
	mark := a.Received()
	require.NoError(t, s.Update(outputOf(gwA2, gwB)))
	a.WaitFor("c3 everywhere", func() bool {
		return len(a.Has(resourcev3.EndpointType)) == 3 && a.RouteWeights()["c3"] == 25
	})
	cds := a.Log()[mark]
	require.Equal(t, resourcev3.ClusterType, cds.TypeURL, "clusters go first: %+v", a.LogSince(mark))
	require.NotEqual(t, cdsV1, cds.Version)
	if delta {
		assert.Equal(t, []string{"c3"}, cds.Names, "delta sends only the new cluster")
	} else {
		assert.Equal(t, []string{"c1", "c2", "c3"}, cds.Names)
	}

	// Delete c2, and change the secret as a marker for "nothing else came".
	gwA3 := envoyGateway(t, "gw-a", weight{"c1", 50}, weight{"c3", 50})
	gwA3 = withResources(gwA3, resourcev3.EndpointType, loadAssignment("c1", "127.0.0.1:9001"), loadAssignment("c3", "127.0.0.1:9000"))
	gwA3 = withResources(gwA3, resourcev3.SecretType, secret("s1", "cert-2"))
	mark2 := a.Received()
	require.NoError(t, s.Update(outputOf(gwA3, gwB)))
	a.WaitFor("c2 gone and new secret", func() bool {
		return len(a.Has(resourcev3.ClusterType)) == 2 && a.ReceivedSince(mark2, resourcev3.SecretType) &&
			len(a.Has(resourcev3.EndpointType)) == 2
	})
	assert.Equal(t, []string{"c1", "c3"}, a.Has(resourcev3.ClusterType))
	for _, r := range a.LogSince(mark) {
		assert.NotEqual(t, resourcev3.ListenerType, r.TypeURL, "unchanged listener re-sent: %+v", a.LogSince(mark))
	}
	assert.Equal(t, resourcev3.SecretType, a.Log()[mark2].TypeURL, "secrets go first: %+v", a.LogSince(mark2))
	if delta {
		assert.True(t, a.Removed(mark2, resourcev3.ClusterType, "c2"), "c2 in removed_resources: %+v", a.LogSince(mark2))
	}
	a.WaitFor("routes before cluster removal", func() bool { return a.LastIndex(mark2, resourcev3.ClusterType) >= 0 })
	require.Less(t, a.LastIndex(mark2, resourcev3.RouteType), a.LastIndex(mark2, resourcev3.ClusterType),
		"the route stops naming c2 before c2 is removed: %+v", a.LogSince(mark2))

	testNACK(t, s, a, gwA3, gwB)
}

func badCluster(timeout time.Duration) translate.Resource {
	r := edsCluster("bad")
	r.Message.(*clusterv3.Cluster).ConnectTimeout = durationpb.New(timeout)
	return r
}

func testNACK(t *testing.T, s *xds.Server, a *xdsclient.TestClient, gwA3, gwB *translate.GatewayConfig) {
	bad := model.Key{Kind: model.KindService, Name: "bad"}
	clusters := gwA3.Resources[resourcev3.ClusterType]
	gwA4 := withResources(gwA3, resourcev3.ClusterType, append([]translate.Resource{badCluster(time.Second)}, clusters...)...)
	a.SetNACK(func(typeURL string, res map[string]*anypb.Any) string {
		if typeURL == resourcev3.ClusterType && res["bad"] != nil {
			var cl clusterv3.Cluster
			if res["bad"].UnmarshalTo(&cl) == nil && cl.GetConnectTimeout().AsDuration() == time.Second {
				return "Error adding/updating cluster(s) bad: connect timeout rejected"
			}
		}
		return ""
	})
	mark := a.Received()
	require.NoError(t, s.Update(outputOf(gwA4, gwB)))
	a.WaitFor("the bad CDS", func() bool { return a.ReceivedSince(mark, resourcev3.ClusterType) })
	ns := waitNodes(t, s, "a1 NACKed CDS", func(ns map[string]xds.NodeStatus) bool {
		return ns["a1"].Types[resourcev3.ClusterType].NACKed
	})
	nack := ns["a1"].Types[resourcev3.ClusterType].LastNACK
	require.NotNil(t, nack)
	assert.Contains(t, nack.Message, "connect timeout rejected")
	assert.Equal(t, []string{"bad"}, nack.Resources)
	assert.Equal(t, []model.Key{bad}, nack.Sources)
	probs := s.DefinitionStatus(bad)
	require.Len(t, probs, 1)
	assert.Equal(t, "a1", probs[0].NodeID)
	assert.Equal(t, resourcev3.ClusterType, probs[0].TypeURL)
	assert.Empty(t, s.DefinitionStatus(model.Key{Kind: model.KindService, Name: "c1"}))

	// The fix is the next CDS response: the rejected one is never re-sent.
	gwA5 := withResources(gwA3, resourcev3.ClusterType, append([]translate.Resource{badCluster(2 * time.Second)}, clusters...)...)
	mark2 := a.Received()
	require.NoError(t, s.Update(outputOf(gwA5, gwB)))
	// pumpUntil stops at the first CDS response after the NACK; a re-send
	// of the rejected content would be that response (one ordered stream)
	// and would be NACKed again instead of held.
	a.WaitFor("the fixed CDS", func() bool { return a.ReceivedSince(mark2, resourcev3.ClusterType) })
	var cl clusterv3.Cluster
	require.NoError(t, a.Resource(resourcev3.ClusterType, "bad").UnmarshalTo(&cl))
	assert.True(t, proto.Equal(durationpb.New(2*time.Second), cl.GetConnectTimeout()))
	waitNodes(t, s, "a1 ACKed the fix", func(ns map[string]xds.NodeStatus) bool {
		ts := ns["a1"].Types[resourcev3.ClusterType]
		return !ts.NACKed && ts.AckedVersion == ts.SentVersion
	})
	assert.Empty(t, s.DefinitionStatus(bad))
}
