package translate

import (
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"tollgate.dev/tollgate/internal/model"
)

// requireSameOutput fails unless got is exactly what Translate returns.
func requireSameOutput(t testing.TB, want, got *Output, msgAndArgs ...any) {
	t.Helper()
	if sameOutput(want, got) {
		return
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		require.FailNow(t, "incremental output differs from Translate (-want +got):\n"+diff, msgAndArgs...)
	}
}

// sameOutput is a fast exact comparison; cmp.Diff explains a difference.
func sameOutput(want, got *Output) bool {
	if want.Revision != got.Revision || len(want.Gateways) != len(got.Gateways) || !reflect.DeepEqual(want.Status, got.Status) {
		return false
	}
	for name, w := range want.Gateways {
		g := got.Gateways[name]
		if g == nil || w.Name != g.Name || w.Mode != g.Mode || len(w.Resources) != len(g.Resources) {
			return false
		}
		for typ, wrs := range w.Resources {
			grs, ok := g.Resources[typ]
			if !ok || len(wrs) != len(grs) {
				return false
			}
			for i := range wrs {
				if wrs[i].Name != grs[i].Name || !slices.Equal(wrs[i].Sources, grs[i].Sources) || !proto.Equal(wrs[i].Message, grs[i].Message) {
					return false
				}
			}
		}
	}
	return true
}

// TestIncrementalFromScratch: the first Update of every golden case is
// Translate's output.
func TestIncrementalFromScratch(t *testing.T) {
	for _, path := range goldenInputs(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		st := loadStore(t, data)
		x := NewIncremental()
		requireSameOutput(t, Translate(st.Read()), x.Update(st.Read()), path)
	}
}

var incSeed = flag.Uint64("incremental.seed", 0, "seed of TestIncrementalMatchesTranslate (0: from the clock)")

// TestIncrementalMatchesTranslate applies a long random sequence of edits
// to each golden case and to a generated bundle, and after every commit
// requires the incremental output to be exactly Translate's, with no
// fallback to a full translation, and every resource an edit of one API,
// Service, Secret or Policy does not touch to keep its Message pointer.
func TestIncrementalMatchesTranslate(t *testing.T) {
	seed := *incSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -incremental.seed=%d)", seed, seed)
	steps := 300
	if testing.Short() {
		steps = 60
	}
	inputs := map[string][]byte{"generated": benchBundle(40)}
	for _, path := range goldenInputs(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		inputs[filepath.Base(path)] = data
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			st := loadStore(t, data)
			e := &editor{rnd: rand.New(rand.NewPCG(seed, uint64(len(name)))), st: st}
			x := NewIncremental()
			prev := x.Update(st.Read())
			for i := range steps {
				desc, keys, applied := e.edit()
				if !applied {
					continue
				}
				r := st.Read()
				got := x.Update(r)
				requireSameOutput(t, Translate(r), got, "seed %d, %s, edit %d: %s", seed, name, i, desc)
				require.Zero(t, x.Fallbacks(), "seed %d, %s, edit %d: %s", seed, name, i, desc)
				if len(keys) == 1 && keys[0].Kind != model.KindGateway {
					requireUntouchedKept(t, prev, got, keys[0], wholeGateways(x), "seed %d, %s, edit %d: %s", seed, name, i, desc)
				}
				prev = got
			}
		})
	}
}

// wholeGateways are the gateways x translates as a whole.
func wholeGateways(x *Incremental) map[string]bool {
	out := map[string]bool{}
	for name, st := range x.s.gws {
		if _, ok := st.(*wholeGateway); ok {
			out[name] = true
		}
	}
	return out
}

// requireUntouchedKept requires every resource of a gateway translated in
// pieces that neither before nor after the edit of one definition (api)
// came from it to be the very same message. Exempt: gateways translated
// as a whole (proxyless ones, and those using an identity Secret, whose
// routes also depend on which Services and Secrets the gateway can use,
// which sources do not list), and a gateway that switched between routing
// by host and not.
func requireUntouchedKept(t *testing.T, before, after *Output, api model.Key, whole map[string]bool, msgAndArgs ...any) {
	t.Helper()
	for name, cfg := range after.Gateways {
		old := before.Gateways[name]
		if old == nil || whole[name] ||
			(len(old.Resources[resourcev3.ScopedRouteType]) == 0) != (len(cfg.Resources[resourcev3.ScopedRouteType]) == 0) {
			continue
		}
		for typ, rs := range cfg.Resources {
			was := map[string]Resource{}
			for _, r := range old.Resources[typ] {
				was[r.Name] = r
			}
			for _, r := range rs {
				o, ok := was[r.Name]
				if !ok || slices.Contains(r.Sources, api) || slices.Contains(o.Sources, api) {
					continue
				}
				require.Same(t, o.Message, r.Message, append([]any{"%s %s %s rebuilt although %s is not among its sources"}, name, typ, r.Name, api)...)
			}
		}
	}
}

// panicking is a gateway whose incremental update has a bug.
type panicking struct{ gatewayState }

func (panicking) update(*incState, *changeSet) error { panic("translator bug") }

// TestIncrementalRecovers: a panic in an incremental update, and a store
// that moved further than its change log reaches, both end in a full
// translation that is still exact, after which updates are incremental
// again.
func TestIncrementalRecovers(t *testing.T) {
	st := loadStore(t, benchBundle(20))
	x := NewIncremental()
	x.Update(st.Read())
	e := &editor{rnd: rand.New(rand.NewPCG(1, 2)), st: st}
	editOnce := func() {
		t.Helper()
		for {
			if _, _, applied := e.edit(); applied {
				return
			}
		}
	}

	x.s.gws["edge"] = panicking{x.s.gws["edge"]}
	editOnce()
	requireSameOutput(t, Translate(st.Read()), x.Update(st.Read()))
	require.Equal(t, uint64(1), x.Fallbacks())
	editOnce()
	requireSameOutput(t, Translate(st.Read()), x.Update(st.Read()))
	require.Equal(t, uint64(1), x.Fallbacks(), "the caches were rebuilt")

	for range 1100 {
		editOnce()
	}
	requireSameOutput(t, Translate(st.Read()), x.Update(st.Read()))
	require.Equal(t, uint64(2), x.Fallbacks(), "the change log no longer reaches the last revision")
}
