package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"tollgate.dev/tollgate/internal/translate/ir"
)

// buildSecret is the SDS resource of a Secret: a certificate with its key,
// or a validation context holding a CA bundle. The PEM is inline: SDS is
// how it reaches the proxy, and only gateways that reference the Secret
// receive it.
func buildSecret(s *ir.Secret) *tlsv3.Secret {
	out := &tlsv3.Secret{Name: s.Name}
	if s.CABundle != "" {
		out.Type = &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: inline(s.CABundle),
		}}
		return out
	}
	out.Type = &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: inline(s.CertificateChain),
		PrivateKey:       inline(s.PrivateKey),
	}}
	return out
}

func inline(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}
