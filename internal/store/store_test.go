package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hashicorp/go-memdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

func TestFixturesAreValid(t *testing.T) {
	objs := append(baseObjects(), httpsGateway("secure", "edge-cert", "client-ca"), tlsService("billing", "upstream-ca"),
		tcpGateway("tcp", "orders"), policy("timeout", model.KindAPI, "shop", "r1"),
		policy("gw", model.KindGateway, "edge", ""), policy("breaker", model.KindService, "orders", ""),
		caSecret("ca"), tlsSecret("cert"))
	for _, o := range objs {
		require.Empty(t, model.Validate(o), "fixture %s", model.KeyOf(o))
	}
}

func TestSchema(t *testing.T) {
	require.NoError(t, schema().Validate())

	db, err := memdb.NewMemDB(schema())
	require.NoError(t, err)
	txn := db.Txn(true)
	for _, o := range []model.Object{
		gateway("edge"), httpsGateway("secure", "edge-cert", "client-ca"), tcpGateway("tcp", "orders"),
		service("orders"), service("orders-v2"), tlsService("billing", "upstream-ca"),
		api("shop", []string{"edge", "secure"}, "orders", "orders"), api("admin", []string{"secure"}, "orders-v2"),
		policy("p-api", model.KindAPI, "shop", "r1"), policy("p-gw", model.KindGateway, "edge", ""),
		policy("p-svc", model.KindService, "orders", ""),
		caSecret("client-ca"), tlsSecret("edge-cert"), caSecret("upstream-ca"),
	} {
		require.NoError(t, insert(txn, o))
	}
	txn.Commit()

	tests := []struct {
		name         string
		table, index string
		arg          string
		want         []string
	}{
		{"gateways by id", tableGateways, indexID, "edge", []string{"Gateway/edge"}},
		{"gateways by certificate secret", tableGateways, indexSecret, "edge-cert", []string{"Gateway/secure"}},
		{"gateways by CA secret", tableGateways, indexSecret, "client-ca", []string{"Gateway/secure"}},
		{"gateways by TCP backend", tableGateways, indexService, "orders", []string{"Gateway/tcp"}},
		{"services by id, no prefix match", tableServices, indexID, "orders", []string{"Service/orders"}},
		{"services by secret", tableServices, indexSecret, "upstream-ca", []string{"Service/billing"}},
		{"APIs by gateway", tableAPIs, indexGateway, "secure", []string{"API/admin", "API/shop"}},
		{"APIs by service, once per API", tableAPIs, indexService, "orders", []string{"API/shop"}},
		{"APIs by service, no prefix match", tableAPIs, indexService, "orders-v2", []string{"API/admin"}},
		{"policies by API target", tablePolicies, indexTarget, "API/shop", []string{"Policy/p-api"}},
		{"policies by gateway target", tablePolicies, indexTarget, "Gateway/edge", []string{"Policy/p-gw"}},
		{"policies by service target", tablePolicies, indexTarget, "Service/orders", []string{"Policy/p-svc"}},
		{"secrets by id", tableSecrets, indexID, "edge-cert", []string{"Secret/edge-cert"}},
		{"nothing references an unknown name", tableAPIs, indexGateway, "nope", nil},
	}
	r := &Reader{txn: db.Txn(false)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.query(nil, tt.table, tt.index, tt.arg)
			require.NoError(t, err)
			require.Equal(t, tt.want, nilIfEmpty(keysOf(got)))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestApplyIsAtomic(t *testing.T) {
	bad := service("broken")
	bad.Metadata.Name = "Bad_Name"
	wrongVersion := gateway("other")
	wrongVersion.ApiVersion = "tollgate.dev/v0"
	dangling := api("dangling", []string{"edge"}, "missing")
	tests := []struct {
		name     string
		bundle   []model.Object
		wantPath string
		wantDoc  int
		wantMsg  string
	}{
		{"invalid name", []model.Object{service("a"), service("b"), service("c"), bad}, "metadata.name", 4, "DNS-1123"},
		{"wrong apiVersion", []model.Object{service("a"), wrongVersion, service("b"), service("c")}, "apiVersion", 2, "tollgate.dev/v1"},
		{
			"dangling reference",
			[]model.Object{service("a"), service("b"), dangling, service("c")},
			"spec.routes[0].backends[0].service", 3, `Service "missing" not found; create it first or in the same bundle`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := newStore(t)
			mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
			rev, before := st.Revision(), dump(t, st)

			_, err := st.Apply(context.Background(), puts(tt.bundle...), ApplyOptions{})
			var vs model.Violations
			require.ErrorAs(t, err, &vs)
			require.Len(t, vs, 1, "%v", vs)
			require.Equal(t, tt.wantPath, vs[0].Path)
			require.Equal(t, tt.wantDoc, vs[0].Document)
			require.Contains(t, vs[0].Message, tt.wantMsg)

			require.Equal(t, rev, st.Revision())
			requireSameState(t, before, dump(t, st))
		})
	}
}

func TestApplyIsIdempotent(t *testing.T) {
	st, _ := newStore(t)
	first := mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
	require.True(t, first.Changed)
	require.Equal(t, uint64(1), first.Revision)
	for _, o := range first.Objects {
		require.Equal(t, ActionCreated, o.Action)
		require.Equal(t, "1", o.ResourceVersion)
	}

	second := mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
	require.False(t, second.Changed)
	require.Equal(t, first.Revision, second.Revision)
	require.Equal(t, first.Revision, st.Revision())
	for _, o := range second.Objects {
		require.Equal(t, ActionUnchanged, o.Action, "%s/%s", o.Kind, o.Name)
		require.Equal(t, "1", o.ResourceVersion)
	}

	// What a read returns, resourceVersion included, is unchanged too.
	stored, err := st.Read().API(nil, "shop")
	require.NoError(t, err)
	third := mustApply(t, st, puts(stored), ApplyOptions{})
	require.False(t, third.Changed)
}

func TestApplyPreconditions(t *testing.T) {
	withVersion := func(o model.Object, rv string) model.Object {
		c := proto.Clone(o).(model.Object)
		c.GetMetadata().ResourceVersion = rv
		return c
	}
	// The store holds Service/orders at version "2"; "1" is stale.
	changed := tweak(service("orders"))
	changed.Spec.Endpoints[0].Address = "10.0.0.2"
	tests := []struct {
		name    string
		change  Change
		wantErr any // nil, *ConflictError or *NotFoundError
	}{
		{"stale If-Match", Change{Op: OpPut, Object: changed, IfMatch: "1"}, &ConflictError{}},
		{"stale metadata.resourceVersion", Change{Op: OpPut, Object: withVersion(changed, "1")}, &ConflictError{}},
		{"stale delete", Change{Op: OpDelete, Key: model.Key{Kind: model.KindService, Name: "orders"}, IfMatch: "1"}, &ConflictError{}},
		{"current If-Match", Change{Op: OpPut, Object: changed, IfMatch: "2"}, nil},
		{"current metadata.resourceVersion", Change{Op: OpPut, Object: withVersion(changed, "2")}, nil},
		{"If-Match wins over metadata", Change{Op: OpPut, Object: withVersion(changed, "1"), IfMatch: "2"}, nil},
		{"If-Match on a missing object", Change{Op: OpPut, Object: service("ghost"), IfMatch: "2"}, &NotFoundError{}},
		{"delete of a missing object", del(model.KindService, "ghost"), &NotFoundError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := newStore(t)
			mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
			mustApply(t, st, puts(tweak(service("orders"))), ApplyOptions{})
			rev, before := st.Revision(), dump(t, st)

			_, err := st.Apply(context.Background(), []Change{tt.change}, ApplyOptions{})
			switch tt.wantErr.(type) {
			case nil:
				require.NoError(t, err)
				require.Equal(t, rev+1, st.Revision())
				return
			case *ConflictError:
				var ce *ConflictError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, ReasonStale, ce.Reason)
				require.Equal(t, model.Key{Kind: model.KindService, Name: "orders"}, ce.Key)
				require.Contains(t, ce.Message, `Service/orders has resourceVersion "2" but the request expected "1"`)
			case *NotFoundError:
				var nf *NotFoundError
				require.ErrorAs(t, err, &nf)
				require.Equal(t, model.Key{Kind: model.KindService, Name: "ghost"}, nf.Key)
			}
			require.Equal(t, rev, st.Revision())
			requireSameState(t, before, dump(t, st))
		})
	}
}

// tweak changes a service's spec (the endpoint port).
func tweak(s *tollgatev1.Service) *tollgatev1.Service {
	s.Spec.Endpoints[0].Port++
	return s
}

func TestApplyResultRecordsVersions(t *testing.T) {
	st, _ := newStore(t)
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
	res := mustApply(t, st, append(puts(tweak(service("orders")), service("extra")), del(model.KindAPI, "shop")), ApplyOptions{})
	require.Equal(t, Result{Revision: 2, Changed: true, Objects: []ObjectResult{
		{Kind: model.KindService, Name: "orders", Action: ActionUpdated, ResourceVersion: "2"},
		{Kind: model.KindService, Name: "extra", Action: ActionCreated, ResourceVersion: "2"},
		{Kind: model.KindAPI, Name: "shop", Action: ActionDeleted},
	}}, res)
	gw, err := st.Read().Gateway(nil, "edge")
	require.NoError(t, err)
	require.Equal(t, "1", gw.GetMetadata().GetResourceVersion(), "untouched objects keep their version")
}

func TestApplyNeverMutatesInput(t *testing.T) {
	st, _ := newStore(t)
	objs := baseObjects()
	orig := make([]model.Object, len(objs))
	for i, o := range objs {
		orig[i] = proto.Clone(o).(model.Object)
	}
	mustApply(t, st, puts(objs...), ApplyOptions{})
	requireSameState(t, orig, objs)
}

func TestApplyAfterCloseFails(t *testing.T) {
	st, _ := newStore(t)
	require.NoError(t, st.Close())
	_, err := st.Apply(context.Background(), puts(service("a")), ApplyOptions{})
	require.ErrorIs(t, err, ErrClosed)
}

func TestApplyDuplicateInBundle(t *testing.T) {
	st, _ := newStore(t)
	_, err := st.Apply(context.Background(), puts(service("a"), service("a")), ApplyOptions{})
	var vs model.Violations
	require.ErrorAs(t, err, &vs)
	require.Contains(t, vs[0].Message, "appears twice in this bundle (documents 1 and 2)")
	require.Zero(t, st.Revision())
}

// failingBackend is a Backend whose commits fail on demand.
type failingBackend struct {
	Backend
	fail bool
}

func (f *failingBackend) Commit(c Commit) error {
	if f.fail {
		return errors.New("disk on fire")
	}
	return f.Backend.Commit(c)
}

func TestApplyFailedCommitIsInvisible(t *testing.T) {
	path := t.TempDir() + "/store.db"
	b, err := OpenBolt(path)
	require.NoError(t, err)
	fb := &failingBackend{Backend: b}
	st, err := Open(fb)
	require.NoError(t, err)
	defer st.Close()
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
	before := dump(t, st)

	ws := memdb.NewWatchSet()
	_, err = st.Read().APIs(ws)
	require.NoError(t, err)
	fb.fail = true
	_, err = st.Apply(context.Background(), puts(api("more", []string{"edge"}, "orders")), ApplyOptions{})
	require.ErrorContains(t, err, "disk on fire")
	require.Equal(t, uint64(1), st.Revision())
	requireSameState(t, before, dump(t, st))
	require.False(t, fired(ws), "no reader may be woken by a write that was not persisted")

	fb.fail = false
	res := mustApply(t, st, puts(api("more", []string{"edge"}, "orders")), ApplyOptions{})
	require.Equal(t, uint64(2), res.Revision)
}

// fired reports whether any channel of ws is closed, without waiting:
// memdb closes watch channels before Commit returns.
func fired(ws memdb.WatchSet) bool {
	for ch := range ws {
		select {
		case <-ch:
			return true
		default:
		}
	}
	return false
}

func TestApplyCancelledContext(t *testing.T) {
	st, _ := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := st.Apply(ctx, puts(service("a")), ApplyOptions{})
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, st.Revision())
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	st, _ := newStore(t)
	const writers, each = 4, 10
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := st.Apply(context.Background(), puts(service(fmt.Sprintf("w%d-%d", w, i))), ApplyOptions{})
				assert.NoError(t, err)
			}
		})
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for ctx.Err() == nil {
				r := st.Read()
				svcs, err := r.Services(nil)
				assert.NoError(t, err)
				assert.Equal(t, int(r.Revision()), len(svcs), "a snapshot is consistent: one service per revision")
			}
		})
	}
	wg.Wait()
	stop()
	readers.Wait()
	require.Equal(t, uint64(writers*each), st.Revision())
}
