package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/go-memdb"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
)

// readerFixture is a store where every index has something to find.
func readerFixture(t *testing.T) *Store {
	t.Helper()
	st, _ := newStore(t)
	mustApply(t, st, puts(
		tlsSecret("edge-cert"), caSecret("client-ca"), caSecret("upstream-ca"),
		service("orders"), tlsService("billing", "upstream-ca"),
		gateway("edge"), httpsGateway("secure", "edge-cert", "client-ca"), tcpGateway("tcp", "orders"),
		api("shop", []string{"edge", "secure"}, "orders", "billing"), api("admin", []string{"secure"}, "billing"),
		policy("p-route", model.KindAPI, "shop", "r2"), policy("p-api", model.KindAPI, "shop", ""),
		policy("p-svc", model.KindService, "billing", ""),
	), ApplyOptions{})
	return st
}

func names[T model.Object](objs []T) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.GetMetadata().GetName()
	}
	return out
}

func TestReaderQueries(t *testing.T) {
	r := readerFixture(t).Read()
	require.Equal(t, uint64(1), r.Revision())
	tests := []struct {
		name  string
		query func() (any, error)
		want  any
	}{
		{"Gateway", func() (any, error) { g, err := r.Gateway(nil, "edge"); return names(one(g)), err }, []string{"edge"}},
		{"a missing Gateway", func() (any, error) { g, err := r.Gateway(nil, "nope"); return g == nil, err }, true},
		{"a missing Policy by key", func() (any, error) {
			o, err := r.Get(nil, model.Key{Kind: model.KindPolicy, Name: "nope"})
			return o == nil, err
		}, true},
		{"Service", func() (any, error) {
			s, err := r.Service(nil, "billing")
			return s.GetSpec().GetTls().GetCaSecret(), err
		}, "upstream-ca"},
		{"API", func() (any, error) { a, err := r.API(nil, "shop"); return len(a.GetSpec().GetRoutes()), err }, 2},
		{"Policy", func() (any, error) {
			p, err := r.Policy(nil, "p-route")
			return p.GetSpec().GetTargetRef().GetRoute(), err
		}, "r2"},
		{"Secret", func() (any, error) { s, err := r.Secret(nil, "edge-cert"); return s.GetSpec().GetType(), err }, model.SecretTypeTLS},
		{"Gateways", func() (any, error) { l, err := r.Gateways(nil); return names(l), err }, []string{"edge", "secure", "tcp"}},
		{"Services", func() (any, error) { l, err := r.Services(nil); return names(l), err }, []string{"billing", "orders"}},
		{"APIs", func() (any, error) { l, err := r.APIs(nil); return names(l), err }, []string{"admin", "shop"}},
		{"Policies", func() (any, error) { l, err := r.Policies(nil); return names(l), err }, []string{"p-api", "p-route", "p-svc"}},
		{"Secrets", func() (any, error) { l, err := r.Secrets(nil); return names(l), err }, []string{"client-ca", "edge-cert", "upstream-ca"}},
		{"APIsByGateway", func() (any, error) { l, err := r.APIsByGateway(nil, "secure"); return names(l), err }, []string{"admin", "shop"}},
		{"APIsByService", func() (any, error) { l, err := r.APIsByService(nil, "orders"); return names(l), err }, []string{"shop"}},
		{"PoliciesByTarget, route policies included", func() (any, error) {
			l, err := r.PoliciesByTarget(nil, model.KindAPI, "shop")
			return names(l), err
		}, []string{"p-api", "p-route"}},
		{
			"SecretReferrers of a service CA", func() (any, error) { return r.SecretReferrers(nil, "upstream-ca") },
			[]Referrer{{Kind: model.KindService, Name: "billing", Path: "spec.tls.caSecret"}},
		},
		{
			"SecretReferrers of a client CA", func() (any, error) { return r.SecretReferrers(nil, "client-ca") },
			[]Referrer{{Kind: model.KindGateway, Name: "secure", Path: "spec.listeners[1].tls.clientValidation.caSecret"}},
		},
		{"Referrers of a service, in kind then name order", func() (any, error) {
			return r.Referrers(nil, model.Key{Kind: model.KindService, Name: "billing"})
		}, []Referrer{
			{Kind: model.KindAPI, Name: "admin", Path: "spec.routes[0].backends[0].service"},
			{Kind: model.KindAPI, Name: "shop", Path: "spec.routes[1].backends[0].service"},
			{Kind: model.KindPolicy, Name: "p-svc", Path: "spec.targetRef.name"},
		}},
		{"Referrers of a service used by a TCP listener", func() (any, error) {
			return r.Referrers(nil, model.Key{Kind: model.KindService, Name: "orders"})
		}, []Referrer{
			{Kind: model.KindGateway, Name: "tcp", Path: "spec.listeners[1].backend.service"},
			{Kind: model.KindAPI, Name: "shop", Path: "spec.routes[0].backends[0].service"},
		}},
		{"Referrers of a policy", func() (any, error) {
			return r.Referrers(nil, model.Key{Kind: model.KindPolicy, Name: "p-api"})
		}, []Referrer(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.query()
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func one[T any](v T) []T { return []T{v} }

func TestReaderIsASnapshot(t *testing.T) {
	st := readerFixture(t)
	r := st.Read()
	mustApply(t, st, []Change{del(model.KindPolicy, "p-svc")}, ApplyOptions{})
	p, err := r.Policy(nil, "p-svc")
	require.NoError(t, err)
	require.NotNil(t, p, "an older snapshot still sees the deleted policy")
	require.Equal(t, uint64(1), r.Revision())
	require.Equal(t, uint64(2), st.Read().Revision())
}

func TestWatchSetFires(t *testing.T) {
	tests := []struct {
		name      string
		watch     func(r *Reader, ws memdb.WatchSet) error
		unrelated []Change // must not fire the watch
		related   []Change // must fire it
	}{
		{
			name:      "one API",
			watch:     func(r *Reader, ws memdb.WatchSet) error { _, err := r.API(ws, "shop"); return err },
			unrelated: puts(tweak(service("orders"))),
			related:   puts(api("shop", []string{"edge"}, "orders", "orders")),
		},
		{
			name:      "all APIs",
			watch:     func(r *Reader, ws memdb.WatchSet) error { _, err := r.APIs(ws); return err },
			unrelated: puts(gateway("other")),
			related:   puts(api("extra", []string{"edge"}, "orders")),
		},
		{
			name:      "APIs of a gateway",
			watch:     func(r *Reader, ws memdb.WatchSet) error { _, err := r.APIsByGateway(ws, "edge"); return err },
			unrelated: puts(policy("p", model.KindAPI, "shop", "")),
			related:   puts(api("extra", []string{"edge"}, "orders")),
		},
		{
			name: "policies of an API",
			watch: func(r *Reader, ws memdb.WatchSet) error {
				_, err := r.PoliciesByTarget(ws, model.KindAPI, "shop")
				return err
			},
			unrelated: puts(service("extra")),
			related:   puts(policy("p", model.KindAPI, "shop", "r1")),
		},
		{
			name:      "a missing object, until it is created",
			watch:     func(r *Reader, ws memdb.WatchSet) error { _, err := r.Service(ws, "later"); return err },
			unrelated: puts(gateway("other")),
			related:   puts(service("later")),
		},
		{
			name:    "a deleted object",
			watch:   func(r *Reader, ws memdb.WatchSet) error { _, err := r.API(ws, "shop"); return err },
			related: []Change{del(model.KindAPI, "shop")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := newStore(t)
			mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
			ws := memdb.NewWatchSet()
			require.NoError(t, tt.watch(st.Read(), ws))
			if tt.unrelated != nil {
				mustApply(t, st, tt.unrelated, ApplyOptions{})
				require.False(t, fired(ws), "an unrelated change fired the watch")
			}
			mustApply(t, st, tt.related, ApplyOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, ws.WatchCtx(ctx), "the watch did not fire")
		})
	}
}

func TestWatchRevisionFiresOnEveryCommit(t *testing.T) {
	st, _ := newStore(t)
	for i := 0; i < 3; i++ {
		ws := memdb.NewWatchSet()
		before := st.Read().WatchRevision(ws)
		mustApply(t, st, puts(service(fmt.Sprintf("svc-%d", i))), ApplyOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, ws.WatchCtx(ctx), "the watch fires after a commit")
		cancel()
		require.Equal(t, before+1, st.Read().WatchRevision(nil))
	}
	// A no-op apply commits nothing and fires nothing.
	ws := memdb.NewWatchSet()
	st.Read().WatchRevision(ws)
	mustApply(t, st, puts(service("svc-0")), ApplyOptions{})
	// Watch returns true when the bounded wait for "nothing happened" ends
	// first (the only way to observe the absence of an event).
	require.True(t, ws.Watch(time.After(50*time.Millisecond)), "an unchanged apply must not wake watchers")
}
