package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
	"tollgate.dev/tollgate/internal/translate"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	b, err := store.OpenBolt(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	st, err := store.Open(b)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func service(name string) model.Object {
	return &tollgatev1.Service{
		ApiVersion: model.APIVersion, Kind: "Service",
		Metadata: &tollgatev1.ObjectMeta{Name: name},
		Spec:     &tollgatev1.ServiceSpec{Endpoints: []*tollgatev1.Endpoint{{Address: "10.0.0.1", Port: 80}}},
	}
}

func put(t *testing.T, st *store.Store, objs ...model.Object) uint64 {
	t.Helper()
	var cs []store.Change
	for _, o := range objs {
		cs = append(cs, store.Change{Op: store.OpPut, Object: o})
	}
	res, err := st.Apply(context.Background(), cs, store.ApplyOptions{})
	require.NoError(t, err)
	return res.Revision
}

// recorder is a publisher that remembers what it got.
type recorder struct {
	mu   sync.Mutex
	revs []uint64
}

func (r *recorder) publish(o *translate.Output) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revs = append(r.revs, o.Revision)
}

func (r *recorder) last() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.revs) == 0 {
		return 0
	}
	return r.revs[len(r.revs)-1]
}

// revisionOnly is a stand-in translator: the loop's job is when to
// translate, not how.
func revisionOnly(r *store.Reader) *translate.Output {
	return &translate.Output{Revision: r.Revision()}
}

func run(t *testing.T, l *Loop) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond, what)
}

func TestPublishesAtStartAndAfterEveryChange(t *testing.T) {
	st := newStore(t)
	rec := &recorder{}
	l := New(st, Options{Translate: revisionOnly, Publish: rec.publish})
	run(t, l)
	<-l.Ready()
	require.Equal(t, uint64(0), rec.last(), "the empty store is published once loaded")
	for i := 0; i < 5; i++ {
		rev := put(t, st, service(fmt.Sprintf("s%d", i)))
		eventually(t, "revision published", func() bool { return rec.last() == rev })
	}
	require.Equal(t, uint64(5), l.Last().Revision)
}

func TestBurstIsCoalesced(t *testing.T) {
	st := newStore(t)
	rec := &recorder{}
	l := New(st, Options{Translate: revisionOnly, Publish: rec.publish, Debounce: 50 * time.Millisecond})
	run(t, l)
	<-l.Ready()
	var rev uint64
	for i := 0; i < 20; i++ {
		rev = put(t, st, service(fmt.Sprintf("s%d", i)))
	}
	eventually(t, "last revision published", func() bool { return rec.last() == rev })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Less(t, len(rec.revs), 21, "twenty commits in a burst need fewer than twenty translations")
	for i := 1; i < len(rec.revs); i++ {
		require.Greater(t, rec.revs[i], rec.revs[i-1], "outputs are published in revision order")
	}
}

func TestFailedTranslationKeepsLastGood(t *testing.T) {
	st := newStore(t)
	rec := &recorder{}
	var mu sync.Mutex
	broken := false
	tr := func(r *store.Reader) *translate.Output {
		mu.Lock()
		defer mu.Unlock()
		if broken {
			panic("translator bug")
		}
		return revisionOnly(r)
	}
	l := New(st, Options{Translate: tr, Publish: rec.publish})
	run(t, l)
	<-l.Ready()
	good := put(t, st, service("a"))
	eventually(t, "good revision published", func() bool { return rec.last() == good })

	mu.Lock()
	broken = true
	mu.Unlock()
	put(t, st, service("b"))
	eventually(t, "failure counted", func() bool { return l.Failures() == 1 })
	require.Equal(t, good, l.Last().Revision, "the last good output stays")
	require.Equal(t, good, rec.last(), "nothing was published for the failed revision")

	mu.Lock()
	broken = false
	mu.Unlock()
	fixed := put(t, st, service("c"))
	eventually(t, "recovered", func() bool { return rec.last() == fixed })
}

func TestRunNeedsTranslateAndPublish(t *testing.T) {
	require.Error(t, New(newStore(t), Options{}).Run(context.Background()))
}

// TestIncrementalTranslatorMatchesFull runs the loop with the production
// translator: every published output is what a full translation of its
// revision gives, however commits were coalesced.
func TestIncrementalTranslatorMatchesFull(t *testing.T) {
	st := newStore(t)
	var (
		mu   sync.Mutex
		outs []*translate.Output
	)
	l := New(st, Options{Translate: translate.NewIncremental().Update, Publish: func(o *translate.Output) {
		mu.Lock()
		defer mu.Unlock()
		outs = append(outs, o)
	}})
	run(t, l)
	<-l.Ready()
	put(t, st, &tollgatev1.Gateway{
		ApiVersion: model.APIVersion, Kind: "Gateway", Metadata: &tollgatev1.ObjectMeta{Name: "edge"},
		Spec: &tollgatev1.GatewaySpec{Mode: "ingress", Listeners: []*tollgatev1.Listener{{Name: "http", Port: 8080, Protocol: "HTTP"}}},
	})
	var rev uint64
	for i := range 20 {
		rev = put(t, st, service(fmt.Sprintf("s%d", i%4)), &tollgatev1.API{
			ApiVersion: model.APIVersion, Kind: "API", Metadata: &tollgatev1.ObjectMeta{Name: fmt.Sprintf("a%d", i%5)},
			Spec: &tollgatev1.APISpec{
				Gateways: []string{"edge"}, Hostnames: []string{fmt.Sprintf("h%d.example.com", i%3)},
				Routes: []*tollgatev1.Route{{
					Name:     "r",
					Match:    &tollgatev1.RouteMatch{PathPrefix: fmt.Sprintf("/p%d", i)},
					Backends: []*tollgatev1.BackendRef{{Service: fmt.Sprintf("s%d", i%4)}},
				}},
			},
		})
	}
	eventually(t, "last revision published", func() bool { return l.Last().Revision == rev })
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, rev, outs[len(outs)-1].Revision)
	// Nothing was committed after rev: the last output must be the full
	// translation of the store as it is now.
	want := translate.Translate(st.Read())
	require.Equal(t, len(want.Gateways["edge"].Resources), len(outs[len(outs)-1].Gateways["edge"].Resources))
	for typ, rs := range want.Gateways["edge"].Resources {
		got := outs[len(outs)-1].Gateways["edge"].Resources[typ]
		require.Len(t, got, len(rs), typ)
		for i := range rs {
			require.Equal(t, rs[i].Name, got[i].Name)
			require.True(t, proto.Equal(rs[i].Message, got[i].Message), "%s %s", typ, rs[i].Name)
		}
	}
	require.Equal(t, want.Status, outs[len(outs)-1].Status)
	require.Zero(t, l.Failures())
}
