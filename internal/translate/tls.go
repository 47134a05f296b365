package translate

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"tollgate.dev/tollgate/internal/translate/ir"
)

// tlsTransportSocketName is Envoy's TLS transport socket.
const tlsTransportSocketName = "envoy.transport_sockets.tls"

// systemRootsFile is the CA bundle a Service with systemRoots trusts: the
// Debian/Ubuntu/Alpine location, which the official Envoy images use.
// grpc-go and other runtimes may keep their roots elsewhere; Envoy has no
// "system roots" switch, so a path is the only way to express it.
const systemRootsFile = "/etc/ssl/certs/ca-certificates.crt"

// adsConfigSource fetches a resource over the same ADS stream as
// everything else, so a proxy receives a consistent configuration.
func adsConfigSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

// sdsSecret references a secret served over ADS by name.
func sdsSecret(name string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: adsConfigSource()}
}

func tlsVersion(v ir.TLSVersion) tlsv3.TlsParameters_TlsProtocol {
	if v == ir.TLSv13 {
		return tlsv3.TlsParameters_TLSv1_3
	}
	return tlsv3.TlsParameters_TLSv1_2
}

// sanMatchers turns names into typed SAN matchers: a name with a scheme
// ("spiffe://…") is a URI SAN, anything else a DNS SAN.
func sanMatchers(names []string) []*tlsv3.SubjectAltNameMatcher {
	out := make([]*tlsv3.SubjectAltNameMatcher, 0, len(names))
	for _, n := range names {
		typ := tlsv3.SubjectAltNameMatcher_DNS
		if strings.Contains(n, "://") {
			typ = tlsv3.SubjectAltNameMatcher_URI
		}
		out = append(out, &tlsv3.SubjectAltNameMatcher{
			SanType: typ,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}},
		})
	}
	return out
}

// buildDownstreamTLS is the TLS context of one HTTPS filter chain: its
// certificate and client CA by SDS name, so rotating a Secret re-sends
// only the secret.
func buildDownstreamTLS(t *ir.DownstreamTLS) *tlsv3.DownstreamTlsContext {
	common := &tlsv3.CommonTlsContext{
		TlsParams: &tlsv3.TlsParameters{
			TlsMinimumProtocolVersion: tlsVersion(t.MinVersion),
			CipherSuites:              t.CipherSuites,
		},
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sdsSecret(t.CertSecret)},
		AlpnProtocols:                  []string{"h2", "http/1.1"},
	}
	out := &tlsv3.DownstreamTlsContext{CommonTlsContext: common}
	if t.ClientCert == ir.ClientCertNone {
		return out
	}
	common.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
		CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext:         &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: sanMatchers(t.SubjectAltNames)},
			ValidationContextSdsSecretConfig: sdsSecret(t.CASecret),
		},
	}
	// optional: a certificate is requested and verified when sent, but
	// clients without one are let through.
	if t.ClientCert == ir.ClientCertRequired {
		out.RequireClientCertificate = wrapBool(true)
	}
	return out
}

// buildUpstreamTLS originates TLS and always verifies the upstream's name.
func buildUpstreamTLS(t *ir.UpstreamTLS) *tlsv3.UpstreamTlsContext {
	if t.CAProvider != "" {
		return buildProviderUpstreamTLS(t)
	}
	common := &tlsv3.CommonTlsContext{
		TlsParams: &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsVersion(t.MinVersion)},
	}
	if t.ClientCertSecret != "" {
		common.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{sdsSecret(t.ClientCertSecret)}
	}
	sans := sanMatchers(t.SubjectAltNames)
	if t.SystemRoots {
		common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{
			ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa:                 &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: systemRootsFile}},
				MatchTypedSubjectAltNames: sans,
			},
		}
	} else {
		common.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
			CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext:         &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: sans},
				ValidationContextSdsSecretConfig: sdsSecret(t.CASecret),
			},
		}
	}
	return &tlsv3.UpstreamTlsContext{Sni: t.SNI, CommonTlsContext: common}
}

// transportSocket wraps a TLS context as Envoy's TLS transport socket.
func transportSocket(ctx validator) (*corev3.TransportSocket, error) {
	a, err := anypb.New(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: tlsTransportSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}, nil
}
