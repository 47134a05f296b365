package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"

	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/loadgen"
	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/reconcile"
	"tollgate.dev/tollgate/internal/store"
	"tollgate.dev/tollgate/internal/translate"
	"tollgate.dev/tollgate/internal/xds"
	"tollgate.dev/tollgate/internal/xdsclient"
)

// servingSeed makes the generated bundles and edits of this file
// reproducible.
const servingSeed = 7

// allTypes are the types whose answers a stuck proxy withholds.
var allTypes = []string{
	resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.EndpointType,
	resourcev3.RouteType, resourcev3.SecretType,
}

// TestSlowProxyDoesNotDelayOthers is issue 4's "a slow proxy holds up only
// itself": one proxy receives every response but stops answering (it holds
// its ACKs, as an overloaded Envoy would) while normal SotW and delta
// proxies of the same gateway follow a series of edits. Each edit is posted
// only after the previous one reached, and was ACKed by, every normal
// proxy, so if delivery waited for the stuck proxy the test would hang (and
// fail at the hang guard) instead of passing. When the stuck proxy answers
// again it converges on the latest configuration without being sent every
// intermediate one.
func TestSlowProxyDoesNotDelayOthers(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run("stuck "+map[bool]string{true: "delta", false: "sotw"}[delta], func(t *testing.T) {
			testSlowProxy(t, delta)
		})
	}
}

func testSlowProxy(t *testing.T, stuckDelta bool) {
	const apis, edits = 10, 6
	a := startApp(t, filepath.Join(t.TempDir(), "data"))
	send(t, http.MethodPost, a.AdminURL()+"/v1/apply", string(loadgen.Generate(servingSeed, apis)))

	stuck := xdsclient.DialTest(t, a.XDSAddress(), "stuck", loadgen.GatewayName, xdsclient.Options{Delta: stuckDelta})
	var normal []*xdsclient.TestClient
	for i := range 4 {
		normal = append(normal, xdsclient.DialTest(t, a.XDSAddress(), fmt.Sprintf("normal-%d", i),
			loadgen.GatewayName, xdsclient.Options{Delta: i%2 == 1}))
	}
	initial := requireTranslated(t, a)
	for _, c := range append([]*xdsclient.TestClient{stuck}, normal...) {
		c.Start()
		c.WaitFor("the first full configuration", func() bool { return holdsExactly(c.Client, initial) })
	}
	nodes := requireNodes(t, a, 1+len(normal), func(ns map[string]xds.NodeStatus) bool { return ns["stuck"].InSync })
	ackedBefore := nodes["stuck"].Types[resourcev3.RouteType].AckedVersion
	require.NotEmpty(t, ackedBefore)

	// From now on the stuck proxy applies what it receives but answers
	// nothing; a goroutine keeps receiving for it throughout the edits.
	for _, typ := range allTypes {
		stuck.HoldACKs(typ, true)
	}
	mark := stuck.Received()
	whilePumping(t, stuck, func() {
		for i := range edits {
			send(t, http.MethodPost, a.AdminURL()+"/v1/apply", string(loadgen.Edit(servingSeed, apis, i)))
			want := requireTranslated(t, a)
			for _, c := range normal {
				c.WaitFor(loadgen.Marker(i), func() bool { return holdsEdit(c.Client, i) && holdsExactly(c.Client, want) })
			}
			// The server recorded every normal proxy's ACK of edit i (it
			// is the current configuration, so in sync means ACKed),
			// while the stuck proxy has ACKed nothing since the edits
			// began.
			requireNodes(t, a, 1+len(normal), func(ns map[string]xds.NodeStatus) bool {
				for _, c := range normal {
					if !ns[c.NodeID()].InSync {
						return false
					}
				}
				return true
			})
			nodes := requireNodes(t, a, 1+len(normal), nil)
			require.False(t, nodes["stuck"].InSync, "edit %d: the stuck proxy is not in sync", i)
			require.Equal(t, ackedBefore, nodes["stuck"].Types[resourcev3.RouteType].AckedVersion,
				"edit %d: the stuck proxy has ACKed no routes since the edits began", i)
		}
	})

	// The stuck proxy was sent the first edit (it received and applied it,
	// holding the ACK) and, its watch closed, nothing newer.
	stuck.WaitFor("the first edit", func() bool { return holdsEdit(stuck.Client, 0) })
	require.False(t, holdsEdit(stuck.Client, edits-1), "the stuck proxy was not sent the last edit while it did not answer")
	whileStuck := stuck.LogSince(mark)
	t.Logf("responses to the stuck proxy while it did not answer: %+v", whileStuck)

	// It answers again: it converges on the latest configuration.
	final := requireTranslated(t, a)
	for _, typ := range allTypes {
		stuck.HoldACKs(typ, false)
		stuck.Release(typ)
	}
	stuck.WaitFor("the latest configuration", func() bool { return holdsExactly(stuck.Client, final) })
	require.True(t, holdsEdit(stuck.Client, edits-1))
	requireNodes(t, a, 1+len(normal), func(ns map[string]xds.NodeStatus) bool {
		for _, n := range ns {
			if !n.InSync {
				return false
			}
		}
		return true
	})

	// Latest wins: it was not sent the intermediate versions.
	all := stuck.LogSince(mark)
	routes := 0
	for _, r := range all {
		if r.TypeURL == resourcev3.RouteType {
			routes++
		}
	}
	t.Logf("stuck proxy: %d responses (%d of routes) for %d edits: %+v", len(all), routes, edits, all)
	require.Less(t, routes, edits, "the stuck proxy is sent the latest routes, not every edit")
	require.Less(t, len(all), edits, "the stuck proxy is sent the latest configuration, not every edit")
}

// requireTranslated waits until the store's current revision is translated
// and returns the edge gateway's configuration.
func requireTranslated(t *testing.T, a *app.App) *translate.GatewayConfig {
	t.Helper()
	require.Eventually(t, func() bool {
		out := a.Translation()
		return out != nil && out.Revision == a.Revision()
	}, 30*time.Second, time.Millisecond, "the last revision is translated")
	g := a.Translation().Gateways[loadgen.GatewayName]
	require.NotNil(t, g)
	return g
}

// requireNodes reads /v1/nodes until n proxies are connected and ok (if
// set) holds, and returns them by node ID.
func requireNodes(t *testing.T, a *app.App, n int, ok func(map[string]xds.NodeStatus) bool) map[string]xds.NodeStatus {
	t.Helper()
	var byID map[string]xds.NodeStatus
	require.Eventually(t, func() bool {
		var body struct{ Nodes []xds.NodeStatus }
		require.NoError(t, json.Unmarshal(send(t, http.MethodGet, a.AdminURL()+"/v1/nodes", ""), &body))
		byID = map[string]xds.NodeStatus{}
		for _, ns := range body.Nodes {
			byID[ns.NodeID] = ns
		}
		return len(byID) == n && (ok == nil || ok(byID))
	}, 30*time.Second, 5*time.Millisecond, "nodes: %+v", byID)
	return byID
}

// holdsEdit reports whether c holds route configuration carrying edit i of
// loadgen.Edit: its marker as a protobuf string field (length, then text),
// so that edit-1 is not found inside edit-12.
func holdsEdit(c *xdsclient.Client, i int) bool {
	m := loadgen.Marker(i)
	field := append(protowire.AppendVarint(nil, uint64(len(m))), m...)
	for _, n := range c.Has(resourcev3.RouteType) {
		if bytes.Contains(c.Resource(resourcev3.RouteType, n).GetValue(), field) {
			return true
		}
	}
	return false
}

// TestMemoryStableAcrossEdits is issue 4's "memory does not grow at steady
// state": 10,000 edits with SotW and delta proxies following. Heap and
// goroutines are measured after a warm-up and at the end, both times with
// every proxy in sync (it has ACKed the latest configuration).
//
// Two choices keep the numbers meaningful and the run well under a minute
// under -race on two cores (20-30 s measured):
//
//   - Edits are written to the store directly (store.Apply of pre-decoded
//     objects) on the serving stack app.Start assembles (bolt store,
//     reconcile loop, translator, xDS server on gRPC), built here because
//     App does not expose its store. An edit through the admin API cost
//     8-11 ms under -race here (HTTP, YAML decoding, validation, fsync),
//     over 80 s for 10,000; the admin path is exercised by TestChurn and
//     TestSlowProxyDoesNotDelayOthers. Edits arriving faster than the
//     reconcile loop translates are coalesced, as in production: the
//     log says how many translations were published.
//   - The simulated proxies run in a child process (this test binary
//     re-executed), so the heap measured is the control plane's: an
//     xdsclient.Client keeps a log of every response it received, which
//     would otherwise grow with the edits and mask or fake a leak. The
//     proxies' streams stay open throughout, so per-stream state that
//     grows with edits would show.
func TestMemoryStableAcrossEdits(t *testing.T) {
	if addr := os.Getenv(proxiesEnv); addr != "" {
		runProxies(t, addr)
		return
	}
	if testing.Short() {
		t.Skip("short mode: skipping the 10,000-edit memory stability test (20-30 s under -race); " +
			"run it with: go test -run TestMemoryStableAcrossEdits -v ./internal/app")
	}
	const apis, warmup, edits = 30, 500, 10_000
	start := time.Now()
	s := startServing(t)
	applyBundle(t, s.st, loadgen.Generate(servingSeed, apis))
	variants := editVariants(t, apis)
	startProxies(t, s.addr)

	edit := func(from, to int) {
		for i := from; i < to; i++ {
			// API i%apis, alternating between its two variants: every
			// edit changes the store.
			v := variants[i%apis][(i/apis)%2]
			res, err := s.st.Apply(context.Background(), []store.Change{{Op: store.OpPut, Object: v}}, store.ApplyOptions{})
			require.NoError(t, err, "edit %d", i)
			require.True(t, res.Changed, "edit %d changes the store", i)
		}
	}
	// settle waits until the last revision is translated, published and
	// ACKed by every proxy.
	settle := func() {
		t.Helper()
		require.Eventually(t, func() bool {
			out := s.loop.Last()
			if out == nil || out.Revision != s.st.Revision() {
				return false
			}
			nodes := s.xds.Nodes()
			for _, n := range nodes {
				if !n.InSync {
					return false
				}
			}
			return len(nodes) == proxyCount
		}, 60*time.Second, 5*time.Millisecond, "every proxy ACKs the last revision")
	}

	settle()
	edit(0, warmup)
	settle()
	before := measure()
	t.Logf("after %d warm-up edits (%v, %d publishes): heap alloc %s, heap in use %s, %d goroutines",
		warmup, time.Since(start).Round(time.Millisecond), s.publishes.Load(),
		mib(before.HeapAlloc), mib(before.HeapInuse), before.goroutines)

	edit(warmup, edits)
	settle()
	// A polling loop rather than require.Eventually, whose own goroutines
	// would be counted: goroutines that are ending may take a moment.
	after := measure()
	for deadline := time.Now().Add(10 * time.Second); after.goroutines > before.goroutines && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		after = measure()
	}
	t.Logf("after %d edits (%v, %d publishes): heap alloc %s (%+.1f%%), heap in use %s (%+.1f%%), %d goroutines",
		edits, time.Since(start).Round(time.Millisecond), s.publishes.Load(),
		mib(after.HeapAlloc), growth(before.HeapAlloc, after.HeapAlloc),
		mib(after.HeapInuse), growth(before.HeapInuse, after.HeapInuse), after.goroutines)
	require.LessOrEqual(t, after.goroutines, before.goroutines, "goroutines after the warm-up and at the end")

	// The bound: a leak of even 1 KiB per edit is ~9 MiB over the measured
	// 9,500 edits, while the steady-state heap here is about 5 MiB; GC
	// timing and allocator fragmentation moved HeapInuse by up to half a
	// MiB (either way) between measurements in runs without a leak. So
	// growth fails only when it is both over 20% (relative) and over 4 MiB
	// (absolute: the relative bound alone is noise on a small heap).
	for _, m := range []struct {
		name          string
		before, after uint64
	}{{"heap alloc", before.HeapAlloc, after.HeapAlloc}, {"heap in use", before.HeapInuse, after.HeapInuse}} {
		grew := int64(m.after) - int64(m.before)
		require.False(t, grew > 4<<20 && growth(m.before, m.after) > 20,
			"%s grew from %s to %s over %d edits", m.name, mib(m.before), mib(m.after), edits-warmup)
	}
}

// serving is the control plane's serving path as app.Start assembles it,
// without the admin API.
type serving struct {
	st        *store.Store
	loop      *reconcile.Loop
	xds       *xds.Server
	addr      string
	publishes atomic.Int64
}

func startServing(t *testing.T) *serving {
	t.Helper()
	b, err := store.OpenBolt(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	st, err := store.Open(b)
	require.NoError(t, err)
	s := &serving{st: st, xds: xds.NewServer(xds.Options{Logger: slog.New(slog.DiscardHandler)})}
	s.loop = reconcile.New(st, reconcile.Options{Translate: translate.Translate, Publish: func(out *translate.Output) {
		s.publishes.Add(1)
		if err := s.xds.Update(out); err != nil {
			t.Errorf("xDS update: %v", err)
		}
	}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.addr = lis.Addr().String()
	g := grpc.NewServer()
	s.xds.Register(g)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.loop.Run(ctx) })
	wg.Go(func() { _ = g.Serve(lis) })
	t.Cleanup(func() {
		s.xds.Close()
		g.Stop()
		cancel()
		wg.Wait()
		require.NoError(t, st.Close())
	})
	return s
}

// applyBundle writes a YAML bundle to the store.
func applyBundle(t *testing.T, st *store.Store, bundle []byte) {
	t.Helper()
	objs, vs := model.DecodeAndValidate(bundle)
	require.Empty(t, vs)
	var cs []store.Change
	for _, o := range objs {
		cs = append(cs, store.Change{Op: store.OpPut, Object: o})
	}
	_, err := st.Apply(context.Background(), cs, store.ApplyOptions{})
	require.NoError(t, err)
}

// editVariants returns two different loadgen edits of each of the n APIs,
// decoded once.
func editVariants(t *testing.T, n int) [][2]model.Object {
	t.Helper()
	out := make([][2]model.Object, n)
	found := 0
	for i := 0; found < 2*n; i++ {
		require.Less(t, i, 100*n, "loadgen.Edit reaches every API twice")
		objs, vs := model.DecodeAndValidate(loadgen.Edit(servingSeed, n, i))
		require.Empty(t, vs)
		require.Len(t, objs, 1)
		var api int
		_, err := fmt.Sscanf(objs[0].GetMetadata().GetName(), "api-%d", &api)
		require.NoError(t, err)
		for k := range out[api] {
			if out[api][k] == nil {
				out[api][k] = objs[0]
				found++
				break
			}
		}
	}
	return out
}

// proxiesEnv, set to an xDS address, makes TestMemoryStableAcrossEdits run
// as the child process holding the proxies.
const proxiesEnv = "TOLLGATE_TEST_PROXIES_FOR"

// proxyCount proxies follow the edits: 3 delta and 2 SotW.
const proxyCount = 5

// startProxies runs the proxies in a child process until the test ends.
func startProxies(t *testing.T, addr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryStableAcrossEdits$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), proxiesEnv+"="+addr)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close() // the child stops when its stdin closes
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("proxy process: %v\n%s", err, out.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("proxy process did not stop\n%s", out.String())
		}
	})
}

// runProxies is the child process: proxies that ACK everything until stdin
// closes. Their consistency is TestChurn's subject; the check is off here
// to keep the run cheap.
func runProxies(t *testing.T, addr string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range proxyCount {
		c, err := xdsclient.Dial(ctx, addr, fmt.Sprintf("proxy-%d", i), loadgen.GatewayName, xdsclient.Options{Delta: i < 3})
		require.NoError(t, err)
		c.SetCheckConsistency(false)
		require.NoError(t, c.Start())
		wg.Go(func() {
			defer c.Close()
			for {
				if _, err := c.Next(ctx); err != nil {
					if ctx.Err() == nil {
						t.Errorf("%s: %v", c.NodeID(), err)
					}
					return
				}
			}
		})
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	cancel()
	wg.Wait()
}

type memSample struct {
	runtime.MemStats
	goroutines int
}

// measure collects garbage twice (the second run frees what finalizers of
// the first released) and reads the heap and goroutine count.
func measure() memSample {
	var s memSample
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&s.MemStats)
	s.goroutines = runtime.NumGoroutine()
	return s
}

func mib(b uint64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }

// growth is the change from before to after, in percent.
func growth(before, after uint64) float64 {
	return (float64(after) - float64(before)) / float64(before) * 100
}
