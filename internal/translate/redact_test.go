package translate

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func inlineSource(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}

func TestRedact(t *testing.T) {
	cert := &tlsv3.TlsCertificate{CertificateChain: inlineSource("CERT"), PrivateKey: inlineSource("KEY-MATERIAL"), Password: inlineSource("PASSWORD")}
	secret := &tlsv3.Secret{Name: "s", Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: cert}}
	ctx, err := anypb.New(&tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{TlsCertificates: []*tlsv3.TlsCertificate{proto.Clone(cert).(*tlsv3.TlsCertificate)}}})
	require.NoError(t, err)
	listener := &listenerv3.Listener{Name: "l", FilterChains: []*listenerv3.FilterChain{{
		TransportSocket: &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: ctx}},
	}}}
	for _, m := range []proto.Message{secret, listener} {
		before := proto.Clone(m)
		got := Redact(m)
		js, err := protojson.Marshal(got)
		require.NoError(t, err)
		require.NotContains(t, string(js), "KEY-MATERIAL")
		require.NotContains(t, string(js), "PASSWORD")
		require.Contains(t, string(js), Redacted, "a withheld value is marked, not silently dropped")
		require.Contains(t, string(js), "CERT", "certificates stay visible")
		require.True(t, proto.Equal(before, m), "the served resource is not changed")
	}
}
