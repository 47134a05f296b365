package app_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/translate"
	"tollgate.dev/tollgate/internal/xdsclient"
)

// churnTypes are the types a plain HTTP ingress gateway routing by host
// is served.
var churnTypes = []string{resourcev3.ListenerType, resourcev3.ScopedRouteType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType}

// TestChurn is PERFORMANCE.md's "correctness under churn": 1,000 random
// edits (add, change, delete APIs, Services and endpoints) through the admin
// API while 50 simulated proxies (half SotW, half delta) follow. At every
// response no proxy may hold a route naming a cluster it does not have,
// and at quiescence every proxy holds exactly the translator's output.
func TestChurn(t *testing.T) {
	edits, proxies := 1000, 50
	if testing.Short() {
		edits, proxies = 150, 10
		t.Logf("short mode: %d edits and %d proxies instead of 1,000 and 50", edits, proxies)
	}
	a := startApp(t, filepath.Join(t.TempDir(), "data"))
	w := newChurnWorld(t, a, rand.New(rand.NewPCG(42, uint64(time.Now().UnixNano()))))
	w.seed()

	clients := make([]*xdsclient.TestClient, proxies)
	for i := range clients {
		clients[i] = xdsclient.DialTest(t, a.XDSAddress(), fmt.Sprintf("proxy-%d", i), "edge", xdsclient.Options{Delta: i%2 == 1})
		clients[i].Start()
	}
	var inconsistent atomic.Int64
	var firstBad atomic.Value
	pumpCtx, stopPumps := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { pump(pumpCtx, c.Client, &inconsistent, &firstBad) })
	}
	for range edits {
		w.randomEdit()
	}
	stopPumps()
	wg.Wait()
	require.Zero(t, inconsistent.Load(), "responses that left a route naming a missing cluster; first: %v", firstBad.Load())

	// Quiescence: the loop has translated the last revision and every proxy
	// converges on exactly that output.
	require.Eventually(t, func() bool {
		out := a.Translation()
		return out != nil && out.Revision == a.Revision()
	}, 30*time.Second, time.Millisecond, "the last revision is translated")
	want := a.Translation().Gateways["edge"]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, c := range clients {
		err := c.Client.WaitFor(ctx, func() bool { return holdsExactly(c.Client, want) })
		require.NoError(t, err, "%s converges on the translator's output:\n%s", c.NodeID(), difference(c.Client, want))
	}
	t.Logf("%d edits, %d proxies, final revision %d", edits, proxies, a.Revision())
}

// pump handles one proxy's responses until ctx ends, counting the ones
// that leave it inconsistent.
func pump(ctx context.Context, c *xdsclient.Client, bad *atomic.Int64, first *atomic.Value) {
	for {
		_, err := c.Next(ctx)
		var ie *xdsclient.InconsistencyError
		switch {
		case err == nil:
		case errors.As(err, &ie):
			bad.Add(1)
			log := c.Log()
			var b strings.Builder
			for _, r := range log[max(0, len(log)-12):] {
				fmt.Fprintf(&b, "\n  %s v=%s names=%v removed=%v", r.TypeURL[strings.LastIndex(r.TypeURL, ".")+1:], r.Version, r.Names, r.Removed)
			}
			first.CompareAndSwap(nil, err.Error()+b.String())
		default:
			return // ctx done or stream ended
		}
	}
}

// holdsExactly reports whether c holds exactly want's resources of every
// type, with equal content.
func holdsExactly(c *xdsclient.Client, want *translate.GatewayConfig) bool {
	for _, typ := range churnTypes {
		rs := want.Resources[typ]
		names := make([]string, len(rs))
		for i, r := range rs {
			names[i] = r.Name
		}
		if !slices.Equal(c.Has(typ), names) {
			return false
		}
		for _, r := range rs {
			got, err := c.Resource(typ, r.Name).UnmarshalNew()
			if err != nil || !proto.Equal(got, r.Message) {
				return false
			}
		}
	}
	return true
}

// difference describes how c's resources differ from want, for a failure
// message.
func difference(c *xdsclient.Client, want *translate.GatewayConfig) string {
	var b strings.Builder
	for _, typ := range churnTypes {
		wantNames := map[string]proto.Message{}
		for _, r := range want.Resources[typ] {
			wantNames[r.Name] = r.Message
		}
		for _, n := range c.Has(typ) {
			if wantNames[n] == nil {
				fmt.Fprintf(&b, "%s: holds %q, which is not served (still subscribed: %v; delta: %v)\n", typ, n, slices.Contains(c.Subscribed(typ), n), c.Delta())
				continue
			}
			if got, err := c.Resource(typ, n).UnmarshalNew(); err != nil || !proto.Equal(got, wantNames[n]) {
				fmt.Fprintf(&b, "%s: holds a different %q\n", typ, n)
			}
			delete(wantNames, n)
		}
		for n := range wantNames {
			fmt.Fprintf(&b, "%s: lacks %q (subscribed: %v)\n", typ, n, slices.Contains(c.Subscribed(typ), n))
		}
	}
	return b.String()
}

// churnWorld tracks the definitions so every edit is one the store
// accepts: Services in use are never deleted.
type churnWorld struct {
	t        *testing.T
	a        *app.App
	rng      *rand.Rand
	next     int
	services map[string]bool
	apis     map[string][]string // API → the Services it routes to
}

func newChurnWorld(t *testing.T, a *app.App, rng *rand.Rand) *churnWorld {
	return &churnWorld{t: t, a: a, rng: rng, services: map[string]bool{}, apis: map[string][]string{}}
}

func (w *churnWorld) seed() {
	send(w.t, http.MethodPost, w.a.AdminURL()+"/v1/apply", `apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: edge}
spec: {mode: ingress, listeners: [{name: http, port: 8080, protocol: HTTP}]}
`)
	for range 8 {
		w.putService(w.name("svc"))
	}
	for range 10 {
		w.putAPI(w.name("api"))
	}
}

func (w *churnWorld) name(prefix string) string {
	w.next++
	return fmt.Sprintf("%s-%d", prefix, w.next)
}

// randomEdit makes one change: add, change or delete an API or a Service,
// or move a Service's endpoints.
func (w *churnWorld) randomEdit() {
	switch w.rng.IntN(6) {
	case 0:
		w.putAPI(w.name("api"))
	case 1, 2:
		if n := w.pick(keys(w.apis)); n != "" {
			w.putAPI(n)
		}
	case 3:
		if n := w.pick(keys(w.apis)); n != "" {
			send(w.t, http.MethodDelete, w.a.AdminURL()+"/v1/apis/"+n, "")
			delete(w.apis, n)
		}
	case 4:
		if w.rng.IntN(2) == 0 {
			w.putService(w.name("svc"))
		} else if n := w.pick(keys(w.services)); n != "" {
			w.putService(n) // new endpoints
		}
	case 5:
		if n := w.pick(w.unusedServices()); n != "" && len(w.services) > 2 {
			send(w.t, http.MethodDelete, w.a.AdminURL()+"/v1/services/"+n, "")
			delete(w.services, n)
		}
	}
}

func (w *churnWorld) putService(name string) {
	var eps []string
	for range 1 + w.rng.IntN(3) {
		eps = append(eps, fmt.Sprintf("{address: 10.%d.%d.%d, port: %d}", w.rng.IntN(250), w.rng.IntN(250), 1+w.rng.IntN(250), 8000+w.rng.IntN(100)))
	}
	send(w.t, http.MethodPut, w.a.AdminURL()+"/v1/services/"+name, fmt.Sprintf(
		"apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: %s}\nspec: {endpoints: [%s]}\n", name, strings.Join(eps, ", ")))
	w.services[name] = true
}

// putAPI creates or rewrites an API with 1-3 routes to random Services.
func (w *churnWorld) putAPI(name string) {
	var routes, used []string
	for r := range 1 + w.rng.IntN(3) {
		var backends []string
		for range 1 + w.rng.IntN(2) {
			s := w.pick(keys(w.services))
			if !slices.Contains(used, s) {
				used = append(used, s)
			}
			if !strings.Contains(strings.Join(backends, ","), "service: "+s+",") {
				backends = append(backends, fmt.Sprintf("{service: %s, weight: %d}", s, 1+w.rng.IntN(100)))
			}
		}
		routes = append(routes, fmt.Sprintf("  - {name: r%d, match: {pathPrefix: /p%d}, backends: [%s]}", r, w.rng.IntN(50), strings.Join(backends, ", ")))
	}
	send(w.t, http.MethodPut, w.a.AdminURL()+"/v1/apis/"+name, fmt.Sprintf(
		"apiVersion: tollgate.dev/v1\nkind: API\nmetadata: {name: %s}\nspec:\n  gateways: [edge]\n  hostnames: [%s.example.com]\n  routes:\n%s\n",
		name, name, strings.Join(routes, "\n")))
	w.apis[name] = used
}

func (w *churnWorld) unusedServices() []string {
	var out []string
	for s := range w.services {
		inUse := false
		for _, used := range w.apis {
			inUse = inUse || slices.Contains(used, s)
		}
		if !inUse {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func (w *churnWorld) pick(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[w.rng.IntN(len(names))]
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
