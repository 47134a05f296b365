package translate

import (
	"context"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

// TestConflictOlderAPIWins: the API written first keeps a contested route
// even when its name sorts later; the newer one is told why its route is
// missing, and its other routes still flow.
func TestConflictOlderAPIWins(t *testing.T) {
	s := loadStore(t, []byte(`
apiVersion: tollgate.dev/v1
kind: Service
metadata: {name: s}
spec: {endpoints: [{address: 10.0.0.1, port: 80}]}
---
apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: g}
spec: {mode: ingress, listeners: [{name: http, port: 80, protocol: HTTP}]}
---
apiVersion: tollgate.dev/v1
kind: API
metadata: {name: zeta}
spec: {gateways: [g], routes: [{name: x, match: {pathPrefix: /x}, backends: [{service: s}]}]}
`))
	docs, vs := model.ValidateBundle([]byte(`
apiVersion: tollgate.dev/v1
kind: API
metadata: {name: alpha}
spec:
  gateways: [g]
  routes:
  - {name: x, match: {pathPrefix: /x}, backends: [{service: s}]}
  - {name: y, match: {pathPrefix: /y}, backends: [{service: s}]}
`))
	require.Empty(t, vs)
	_, err := s.Apply(context.Background(), []store.Change{{Op: store.OpPut, Object: docs[0].Object}}, store.ApplyOptions{})
	require.NoError(t, err)

	out := Translate(s.Read())
	checkOutput(t, out)
	rcs := out.Gateways["g"].Resources[resourcev3.RouteType]
	require.Len(t, rcs, 1)
	var names []string
	for _, r := range rcs[0].Message.(*routev3.RouteConfiguration).GetVirtualHosts()[0].GetRoutes() {
		names = append(names, r.GetName())
	}
	require.Equal(t, []string{"zeta/x", "alpha/y"}, names)
	require.Equal(t, []model.Key{{Kind: model.KindAPI, Name: "alpha"}, {Kind: model.KindAPI, Name: "zeta"}}, rcs[0].Sources)

	alpha := out.Status[model.Key{Kind: model.KindAPI, Name: "alpha"}]
	require.True(t, alpha.Accepted, "alpha/y is served")
	require.Len(t, alpha.Problems, 1)
	require.Equal(t, "spec.routes[0].match", alpha.Problems[0].Path)
	require.Contains(t, alpha.Problems[0].Message, `route "zeta/x" of API "zeta", which is older`)
	zeta := out.Status[model.Key{Kind: model.KindAPI, Name: "zeta"}]
	require.Equal(t, &Status{Accepted: true}, zeta)
}
