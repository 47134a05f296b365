package translate

import (
	"os"
	"path/filepath"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
)

// TestGeneratedUpstreamTLSVerifiesNames lints the generated configuration
// of every golden case: a cluster that originates TLS must verify the
// upstream's name (SAN matchers), or TLS is encryption to whoever answers.
// Envoy's typed matchers and grpc-go's match_subject_alt_names both count.
func TestGeneratedUpstreamTLSVerifiesNames(t *testing.T) {
	for _, path := range goldenInputs(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		out := Translate(loadStore(t, data).Read())
		for gw, cfg := range out.Gateways {
			for _, r := range cfg.Resources[resourcev3.ClusterType] {
				c, ok := r.Message.(*clusterv3.Cluster)
				require.True(t, ok)
				if c.GetTransportSocket() == nil {
					continue
				}
				ctx := &tlsv3.UpstreamTlsContext{}
				require.NoError(t, c.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx))
				require.Positive(t, sanMatcherCount(ctx.GetCommonTlsContext()),
					"%s: gateway %s cluster %s originates TLS without verifying a name", filepath.Base(path), gw, c.GetName())
			}
		}
	}
}

// sanMatcherCount counts the SAN matchers of a TLS context, wherever the
// validation context is.
func sanMatcherCount(common *tlsv3.CommonTlsContext) int {
	vc := common.GetValidationContext()
	if vc == nil {
		vc = common.GetCombinedValidationContext().GetDefaultValidationContext()
	}
	return len(vc.GetMatchTypedSubjectAltNames()) + len(vc.GetMatchSubjectAltNames()) //nolint:staticcheck // grpc-go reads the deprecated field
}
