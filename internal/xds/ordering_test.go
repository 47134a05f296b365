package xds_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/xds"
)

// TestOrderingWaitsForSlowType: while a proxy has not answered a CDS
// response, a newer route naming a newer cluster is held back; the client's
// route → cluster check fails the test otherwise.
func TestOrderingWaitsForSlowType(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run(map[bool]string{false: "sotw", true: "delta"}[delta], func(t *testing.T) {
			s := xds.NewServer(xds.Options{})
			addr, _ := startServer(t, s)
			require.NoError(t, s.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 100}))))
			a := dialADS(t, addr, "a1", "gw-a", delta)
			a.Start()
			a.WaitFor("config", func() bool {
				return len(a.Has(resourcev3.RouteType)) == 1 && len(a.Has(resourcev3.EndpointType)) == 1 &&
					len(a.Has(resourcev3.SecretType)) == 1
			})
			waitNodes(t, s, "all ACKed", func(ns map[string]xds.NodeStatus) bool { return allAcked(ns["a1"], allTypes...) })

			a.HoldACKs(resourcev3.ClusterType, true)
			require.NoError(t, s.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 50}, weight{"c2", 50}))))
			a.WaitFor("c2 in the route", func() bool { return a.RouteWeights()["c2"] == 50 })
			require.Contains(t, a.Has(resourcev3.ClusterType), "c2")
			// CDS is now unanswered: the next cluster and the route naming it
			// must wait for the answer.
			require.NoError(t, s.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 50}, weight{"c2", 25}, weight{"c3", 25}))))
			a.HoldACKs(resourcev3.ClusterType, false)
			a.Release(resourcev3.ClusterType)
			a.WaitFor("c3 in the route", func() bool { return a.RouteWeights()["c3"] == 25 })
			assert.Contains(t, a.Has(resourcev3.ClusterType), "c3")
		})
	}
}

// TestUpdateKeepsLastGood: a nil Output or a nil gateway keeps the last good
// configuration; an absent gateway is no longer served.
func TestUpdateKeepsLastGood(t *testing.T) {
	s := xds.NewServer(xds.Options{})
	gwA := envoyGateway(t, "gw-a", weight{"c1", 100})
	gwB := envoyGateway(t, "gw-b", weight{"b1", 100})
	require.NoError(t, s.Update(outputOf(gwA, gwB)))
	before := s.GatewayStatus("gw-a")
	require.True(t, before.Known)

	require.NoError(t, s.Update(nil))
	assert.Equal(t, before.Versions, s.GatewayStatus("gw-a").Versions)

	failed := outputOf(gwB)
	failed.Gateways["gw-a"] = nil // its translation failed
	require.NoError(t, s.Update(failed))
	assert.Equal(t, before.Versions, s.GatewayStatus("gw-a").Versions)

	require.NoError(t, s.Update(outputOf(gwB)))
	assert.False(t, s.GatewayStatus("gw-a").Known, "an absent gateway is removed")
	assert.True(t, s.GatewayStatus("gw-b").Known)
}

// TestVersionsAreContentDerived: two servers given equal content (built
// separately) compute equal versions; a change moves only its type.
func TestVersionsAreContentDerived(t *testing.T) {
	s1, s2 := xds.NewServer(xds.Options{}), xds.NewServer(xds.Options{})
	require.NoError(t, s1.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 100}))))
	require.NoError(t, s2.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 100}))))
	v1 := s1.GatewayStatus("gw-a").Versions
	assert.Equal(t, v1, s2.GatewayStatus("gw-a").Versions)
	require.Len(t, v1, len(allTypes))

	require.NoError(t, s2.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 99}))))
	v2 := s2.GatewayStatus("gw-a").Versions
	for _, typ := range allTypes {
		if typ == resourcev3.RouteType {
			assert.NotEqual(t, v1[typ], v2[typ])
		} else {
			assert.Equal(t, v1[typ], v2[typ], typ)
		}
	}
}

// TestStatusIsThreadSafe reads every status view while streams come and go
// and updates land; run with -race.
func TestStatusIsThreadSafe(t *testing.T) {
	s := xds.NewServer(xds.Options{})
	addr, _ := startServer(t, s)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = s.Nodes()
				_ = s.GatewayStatus("gw-a")
				_ = s.DefinitionStatus(model.Key{Kind: model.KindService, Name: "c1"})
			}
		}
	}()
	for i := range 5 {
		require.NoError(t, s.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", uint32(i + 1)}))))
		a := dialADS(t, addr, "n", "gw-a", i%2 == 0)
		a.Start()
		a.WaitFor("routes", func() bool { return len(a.Has(resourcev3.RouteType)) == 1 })
	}
	close(stop)
	wg.Wait()
}

// TestCloseStopsGoroutines: stopping the server and its clients leaves no
// goroutine behind.
func TestCloseStopsGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		s := xds.NewServer(xds.Options{})
		addr, stop := startServer(t, s)
		require.NoError(t, s.Update(outputOf(envoyGateway(t, "gw-a", weight{"c1", 100}))))
		for _, delta := range []bool{false, true} {
			a := dialADS(t, addr, "n", "gw-a", delta)
			a.Start()
			a.WaitFor("routes", func() bool { return len(a.Has(resourcev3.RouteType)) == 1 })
			require.NoError(t, a.Close())
		}
		stop()
	}()
	// A plain loop: testify's Eventually runs its condition on goroutines
	// of its own.
	deadline := time.Now().Add(waitFor)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if runtime.NumGoroutine() > base {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d before, %d after:\n%s", base, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}
