package translate

import (
	"context"
	"os"
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

// TestIdentityCAPending: while the CA bundle is not issued, a listener
// verifying clients against it is left out with a warning on the Gateway,
// a cluster trusting it is left out of the gateway with a warning on the
// Service, and nothing else of the gateway is; once the bundle is written,
// the next translation (full or incremental) serves them again.
func TestIdentityCAPending(t *testing.T) {
	data, err := os.ReadFile("testdata/in/identity-tls.yaml")
	require.NoError(t, err)
	st := loadStore(t, data)
	x := NewIncremental()
	x.Update(st.Read())
	ca, err := st.Read().Get(nil, model.Key{Kind: model.KindSecret, Name: model.IdentityCASecretName})
	require.NoError(t, err)
	apply(t, st, store.Change{Op: store.OpDelete, Key: model.KeyOf(ca)})

	out := Translate(st.Read())
	requireSameOutput(t, out, x.Update(st.Read()))
	edge := out.Gateways["edge"]
	require.Empty(t, edge.Resources[resourcev3.ListenerType], "the only listener verifies clients against the CA")
	require.NotEmpty(t, edge.Resources[resourcev3.RouteType], "routes are still served")
	require.Contains(t, out.Status[model.Key{Kind: model.KindGateway, Name: "edge"}].Warnings, model.Violation{
		Object: "Gateway/edge", Path: "spec.listeners[0].tls.clientValidation.identityCa",
		Message: identityCAPending + "; the listener is left out",
	})
	svc := out.Status[model.Key{Kind: model.KindService, Name: "orders"}]
	require.False(t, svc.Accepted, "no gateway can use it")
	require.Len(t, svc.Warnings, 2, "one per gateway: %v", svc.Warnings)
	for _, c := range edge.Resources[resourcev3.ClusterType] {
		require.NotEqual(t, "svc/orders", c.Name)
	}

	ca.GetMetadata().ResourceVersion = ""
	apply(t, st, store.Change{Op: store.OpPut, Object: ca})
	out = Translate(st.Read())
	requireSameOutput(t, out, x.Update(st.Read()))
	require.Len(t, out.Gateways["edge"].Resources[resourcev3.ListenerType], 1)
	require.Empty(t, out.Status[model.Key{Kind: model.KindGateway, Name: "edge"}].Warnings)
	require.Zero(t, x.Fallbacks())
}

func apply(t *testing.T, st *store.Store, c store.Change) {
	t.Helper()
	_, err := st.Apply(context.Background(), []store.Change{c}, store.ApplyOptions{})
	require.NoError(t, err)
}
