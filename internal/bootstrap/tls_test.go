package bootstrap

import (
	"path/filepath"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestEnvoyXDSChannelTLS: with a certificate directory, the xDS cluster
// presents the proxy's identity and accepts only the control plane's
// SPIFFE ID, both from files Envoy watches.
func TestEnvoyXDSChannelTLS(t *testing.T) {
	t.Parallel()
	b, err := Envoy(Options{Gateway: "edge", CertDir: "/etc/tollgate/id", TrustDomain: "corp.example"})
	require.NoError(t, err)
	ts := b.GetStaticResources().GetClusters()[0].GetTransportSocket()
	require.NotNil(t, ts, "the xDS channel is TLS")
	var ctx tlsv3.UpstreamTlsContext
	require.NoError(t, ts.GetTypedConfig().UnmarshalTo(&ctx))
	common := ctx.GetCommonTlsContext()
	require.Equal(t, "/etc/tollgate/id/envoy-sds-cert.json",
		common.GetTlsCertificateSdsSecretConfigs()[0].GetSdsConfig().GetPathConfigSource().GetPath())
	combined := common.GetCombinedValidationContext()
	require.Equal(t, "spiffe://corp.example/controlplane",
		combined.GetDefaultValidationContext().GetMatchTypedSubjectAltNames()[0].GetMatcher().GetExact())
	require.Equal(t, "/etc/tollgate/id", combined.GetValidationContextSdsSecretConfig().GetSdsConfig().GetPathConfigSource().GetWatchedDirectory().GetPath())

	plain, err := Envoy(Options{Gateway: "edge"})
	require.NoError(t, err)
	require.Nil(t, plain.GetStaticResources().GetClusters()[0].GetTransportSocket())

	_, err = Envoy(Options{Gateway: "edge", CertDir: "relative/dir"})
	require.ErrorContains(t, err, "--cert-dir")
}

func TestEnvoySDSFiles(t *testing.T) {
	t.Parallel()
	files, err := EnvoySDSFiles("/etc/tollgate/id")
	require.NoError(t, err)
	for name, want := range map[string]string{EnvoySDSCertFile: filepath.Join("/etc/tollgate/id", "cert.pem"), EnvoySDSCAFile: "/etc/tollgate/id/ca.pem"} {
		var resp discoveryv3.DiscoveryResponse
		require.NoError(t, protojson.Unmarshal(files[name], &resp), name)
		var s tlsv3.Secret
		require.NoError(t, resp.GetResources()[0].UnmarshalTo(&s))
		require.NoError(t, s.ValidateAll())
		got := s.GetTlsCertificate().GetCertificateChain().GetFilename() + s.GetValidationContext().GetTrustedCa().GetFilename()
		require.Equal(t, want, got)
	}
}
