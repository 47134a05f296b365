package admin

import (
	"net/http"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate"
)

// TestGatewayConfigRedactsKeys: the config dump shows what proxies are
// served, except key material.
func TestGatewayConfigRedactsKeys(t *testing.T) {
	out := &translate.Output{Revision: 1, Gateways: map[string]*translate.GatewayConfig{
		"edge": {Name: "edge", Resources: map[string][]translate.Resource{
			resourcev3.SecretType: {{Name: "secret/edge-tls", Message: &tlsv3.Secret{
				Name: "secret/edge-tls",
				Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
					CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "CERTIFICATE"}},
					PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "KEY MATERIAL"}},
				}},
			}, Sources: []model.Key{{Kind: model.KindSecret, Name: "edge-tls"}}}},
		}},
	}}
	env := newEnv(t, Options{Translation: func() *translate.Output { return out }})
	env.apply(baseBundle)
	r := env.do(http.MethodGet, "/v1/gateways/edge/config", "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	require.Contains(t, string(r.body), "CERTIFICATE")
	require.NotContains(t, string(r.body), "KEY MATERIAL")
	require.Contains(t, string(r.body), translate.Redacted)

	r = env.do(http.MethodGet, "/v1/gateways/nowhere/config", "")
	require.Equal(t, http.StatusNotFound, r.code)
	r.errorBody(t)
	r = env.do(http.MethodGet, "/v1/nodes", "")
	require.Equal(t, http.StatusNotFound, r.code, "no xDS server, no nodes")
	r.errorBody(t)

	var st ObjectStatus
	r = env.do(http.MethodGet, "/v1/secrets/edge-tls/status", "")
	require.Equal(t, http.StatusNotFound, r.code, "status of a missing object is 404")
	r = env.do(http.MethodGet, "/v1/apis/shop/status", "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	r.json(t, &st)
	require.Equal(t, model.KindAPI, st.Kind)
	require.Empty(t, st.Programmed.Gateways, "the stand-in translation serves nothing from API/shop")
}
