package bootstrap

import (
	"fmt"
	"path/filepath"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	"tollgate.dev/tollgate/internal/pki"
)

// Envoy reads its xDS client certificate through path-based SDS: two small
// discovery-response files beside the PEM files, naming them. Envoy
// watches the directory and re-reads both when a file is moved into it,
// which is how `controlplane certs` replaces certificates, so a renewed
// certificate is picked up without a restart.
const (
	// EnvoySDSCertFile is the SDS file of the proxy's certificate and key.
	EnvoySDSCertFile = "envoy-sds-cert.json"
	// EnvoySDSCAFile is the SDS file of the CA the control plane's
	// certificate must chain to.
	EnvoySDSCAFile = "envoy-sds-ca.json"
	sdsCertName    = "xds_client_certificate"
	sdsCAName      = "xds_trusted_ca"
	tlsSocketName  = "envoy.transport_sockets.tls"
)

// EnvoySDSFiles returns the path-based SDS files for an identity kept in
// dir (an absolute path), by file name. They only name the PEM files, so
// they never change when the certificate does.
func EnvoySDSFiles(dir string) (map[string][]byte, error) {
	cert := &tlsv3.Secret{Name: sdsCertName, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: fileSource(filepath.Join(dir, pki.CertFile)),
		PrivateKey:       fileSource(filepath.Join(dir, pki.KeyFile)),
	}}}
	ca := &tlsv3.Secret{Name: sdsCAName, Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
		TrustedCa: fileSource(filepath.Join(dir, pki.CAFile)),
	}}}
	out := map[string][]byte{}
	for file, s := range map[string]*tlsv3.Secret{EnvoySDSCertFile: cert, EnvoySDSCAFile: ca} {
		a, err := anypb.New(s)
		if err != nil {
			return nil, err
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true}.Marshal(&discoveryv3.DiscoveryResponse{Resources: []*anypb.Any{a}})
		if err != nil {
			return nil, fmt.Errorf("SDS file %s: %w", file, err)
		}
		out[file] = append(b, '\n')
	}
	return out, nil
}

func fileSource(path string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: path}}
}

// pathSDS references a secret in one of the SDS files of dir, re-read
// whenever a file is moved into dir.
func pathSDS(name, dir, file string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: &corev3.ConfigSource{
		ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_PathConfigSource{PathConfigSource: &corev3.PathConfigSource{
			Path:             filepath.Join(dir, file),
			WatchedDirectory: &corev3.WatchedDirectory{Path: dir},
		}},
	}}
}

// xdsTransportSocket is the xDS cluster's mTLS: the proxy's identity from
// dir, and the control plane verified by its SPIFFE ID (never a TLS
// channel that trusts whoever answers).
func xdsTransportSocket(o Options) (*corev3.TransportSocket, error) {
	ctx := &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsParams:                      &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2},
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{pathSDS(sdsCertName, o.CertDir, EnvoySDSCertFile)},
		ValidationContextType: &tlsv3.CommonTlsContext_CombinedValidationContext{
			CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext: &tlsv3.CertificateValidationContext{
					MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
						SanType: tlsv3.SubjectAltNameMatcher_URI,
						Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: pki.ControlPlaneID(o.TrustDomain)}},
					}},
				},
				ValidationContextSdsSecretConfig: pathSDS(sdsCAName, o.CertDir, EnvoySDSCAFile),
			},
		},
		AlpnProtocols: []string{"h2"},
	}}
	a, err := anypb.New(ctx)
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: tlsSocketName, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}, nil
}
