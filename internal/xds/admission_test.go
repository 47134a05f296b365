package xds_test

import (
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/xds"
	"tollgate.dev/tollgate/internal/xdsclient"
)

// fullConfig is true once c holds one of every type envoyGateway serves
// (having handled, and so answered, each of their responses).
func fullConfig(c *xdsclient.TestClient) bool {
	for _, typ := range allTypes {
		if len(c.Has(typ)) == 0 {
			return false
		}
	}
	return true
}

// holdAll makes c keep every answer, as a proxy stuck in its first sync.
func holdAll(c interface{ HoldACKs(string, bool) }) {
	for _, t := range allTypes {
		c.HoldACKs(t, true)
	}
}

// TestAdmissionQueuesFirstSyncs: with one sync slot, a second proxy is not
// sent anything while the first has not answered its first configuration,
// and is served as soon as it does; a proxy already synced is never held
// back by admission (its edits flow while another waits).
func TestAdmissionQueuesFirstSyncs(t *testing.T) {
	defer xds.SetSyncSlotTimeout(time.Hour)() // only answers free the slot here
	s := xds.NewServer(xds.Options{MaxConcurrentSyncs: 1})
	addr, _ := startServer(t, s)
	require.NoError(t, s.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 100}))))

	synced := dialADS(t, addr, "synced", "gw-a", true)
	synced.Start()
	synced.WaitFor("full config", func() bool { return fullConfig(synced) })

	first := dialADS(t, addr, "first", "gw-a", false)
	holdAll(first.Client)
	first.Start()
	first.WaitFor("its clusters and listeners", func() bool {
		return len(first.Has(resourcev3.ClusterType)) == 1 && len(first.Has(resourcev3.ListenerType)) == 1
	})

	second := dialADS(t, addr, "second", "gw-a", true)
	second.Start()
	waitNodes(t, s, "second connected, waiting", func(m map[string]xds.NodeStatus) bool {
		n, ok := m["second"]
		return ok && len(n.Types) == 2
	})

	// An edit reaches the synced proxy while "second" waits for a slot.
	mark := synced.Received()
	require.NoError(t, s.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 50}, weight{"c2", 50}))))
	synced.WaitFor("the edit", func() bool { return synced.RouteWeights()["c2"] == 50 })
	require.Greater(t, synced.Received(), mark)
	for _, n := range s.Nodes() {
		if n.NodeID == "second" {
			for typ, ts := range n.Types {
				require.Empty(t, ts.SentVersion, "second was sent %s while the only slot is held", typ)
			}
		}
	}

	// The first proxy answers: the slot passes on.
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		first.Release(typ)
	}
	for _, typ := range allTypes {
		first.HoldACKs(typ, false)
	}
	first.WaitFor("the rest, answered", func() bool { return fullConfig(first) })
	second.WaitFor("full config once admitted", func() bool { return fullConfig(second) })
}

// TestAdmissionSlotExpires: a proxy that never answers its first
// configuration gives up its slot after the timeout, so the next proxy is
// served regardless.
func TestAdmissionSlotExpires(t *testing.T) {
	defer xds.SetSyncSlotTimeout(50 * time.Millisecond)()
	s := xds.NewServer(xds.Options{MaxConcurrentSyncs: 1})
	addr, _ := startServer(t, s)
	require.NoError(t, s.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 100}))))

	stuck := dialADS(t, addr, "stuck", "gw-a", true)
	holdAll(stuck.Client)
	stuck.Start()
	stuck.WaitFor("its first responses", func() bool { return len(stuck.Has(resourcev3.ClusterType)) == 1 })

	next := dialADS(t, addr, "next", "gw-a", false)
	next.Start()
	next.WaitFor("full config after the stuck proxy's slot expired", func() bool { return fullConfig(next) })
	require.Equal(t, uint64(1), s.AdmissionExpirations(), "the expiry is counted")
}
