package model

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateIdentityTLS(t *testing.T) { runValidation(t, identityCases()) }

func identityCases() []validationCase {
	return []validationCase{
		{name: "identity certificate and CA", in: gateway(httpsListener + `
    certificates:
    - {identity: true, serverNames: [a.example.com]}
    - {secret: default-cert}
    clientValidation: {mode: required, identityCa: true, subjectAltNames: ["spiffe://tollgate.local/gateway/edge"]}
`)},
		{name: "identity exclusive with secret", in: gateway(httpsListener + `
    certificates:
    - {identity: true, secret: c, serverNames: [a.example.com]}
    - {identity: true}
    - {identity: true, serverNames: [b.example.com]}
    clientValidation: {mode: optional, identityCa: true, caSecret: ca}
`), want: []string{
			"spec.listeners[0].tls.certificates[0].identity: cannot be combined with secret",
			"spec.listeners[0].tls.certificates[2].identity: the gateway identity is already served by spec.listeners[0].tls.certificates[1]",
			"spec.listeners[0].tls.clientValidation.identityCa: cannot be combined with caSecret",
		}},
		{name: "identityCa with mode none", in: gateway(httpsListener + `
    certificates: [{secret: c}]
    clientValidation: {mode: none, identityCa: true}
`), want: []string{"spec.listeners[0].tls.clientValidation.identityCa: not allowed with mode none"}},
		{name: "listener address", in: gateway(`
mode: ingress
listeners:
- {name: a, port: 80, protocol: HTTP, address: "10.0.0.1"}
- {name: b, port: 81, protocol: HTTP, address: "::"}
- {name: c, port: 82, protocol: HTTP, address: "localhost"}
- {name: d, port: 83, protocol: HTTP, address: "fe80::1%eth0"}
`), want: []string{
			`spec.listeners[2].address: must be an IP address such as "0.0.0.0", "10.0.0.7" or "::", got "localhost"`,
			`spec.listeners[3].address: must be an IP address`,
		}},
		{name: "GRPC only on proxyless", in: gateway(`
mode: ingress
listeners: [{name: grpc, port: 50051, protocol: GRPC}]
`), want: []string{"spec.listeners[0].protocol: GRPC is only allowed on a proxyless gateway"}},
		{name: "proxyless GRPC listeners", in: gateway(`
mode: proxyless
listeners:
- {name: plain, port: 50050, protocol: GRPC}
- name: mtls
  port: 50051
  protocol: GRPC
  address: "::"
  tls:
    certificates: [{identity: true}]
    clientValidation: {mode: required, identityCa: true, subjectAltNames: ["spiffe://tollgate.local/gateway/clients"]}
- {name: tls, port: 50052, protocol: GRPC, tls: {certificates: [{identity: true}]}}
`)},
		{name: "GRPC listener TLS needs providers", in: gateway(`
mode: proxyless
listeners:
- name: a
  port: 1
  protocol: GRPC
  hostnames: [a.example.com]
  backend: {service: s}
  tls:
    certificates: [{secret: c, serverNames: [a.example.com]}]
    clientValidation: {mode: required, caSecret: ca}
    minVersion: TLSv1_3
    cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]
- {name: b, port: 2, protocol: GRPC, tls: {certificates: [{identity: true}, {secret: c}], clientValidation: {mode: required}}}
- {name: c, port: 3, protocol: GRPC, tls: {certificates: [{}], clientValidation: {mode: none, identityCa: true, subjectAltNames: [x]}}}
- {name: d, port: 4, protocol: GRPC, tls: {certificates: [{identity: true}], clientValidation: {mode: optional, identityCa: true}}}
`), want: []string{
			"spec.listeners[3].tls.clientValidation.mode: optional is not supported with protocol GRPC: grpc-go requests client certificates only when they are required",
			"spec.listeners[0].hostnames: not allowed with protocol GRPC",
			"spec.listeners[0].backend: not allowed with protocol GRPC",
			"spec.listeners[0].tls.certificates[0].secret: not allowed with protocol GRPC: grpc-go has no SDS",
			"spec.listeners[0].tls.certificates[0].serverNames: not allowed with protocol GRPC",
			"spec.listeners[0].tls.clientValidation.caSecret: not allowed with protocol GRPC: grpc-go has no SDS",
			"spec.listeners[0].tls.minVersion: not allowed with protocol GRPC",
			"spec.listeners[0].tls.cipherSuites: not allowed with protocol GRPC",
			"spec.listeners[1].tls.certificates: a GRPC listener serves exactly one certificate, the gateway identity",
			"spec.listeners[1].tls.clientValidation.identityCa: required with mode required on a GRPC listener",
			"spec.listeners[2].tls.certificates[0].identity: required with protocol GRPC",
			"spec.listeners[2].tls.clientValidation.identityCa: not allowed with mode none",
			"spec.listeners[2].tls.clientValidation.subjectAltNames: not allowed with mode none",
		}},
		{name: "upstream identity mTLS", in: service(`
hostname: orders.internal
port: 8443
tls: {identity: true, identityCa: true, subjectAltNames: ["spiffe://tollgate.local/gateway/orders"]}
`)},
		{name: "upstream identity exclusive", in: service(`
hostname: orders.internal
port: 8443
tls: {identity: true, clientCertificateSecret: c, identityCa: true, caSecret: ca}
`), want: []string{
			"spec.tls.identity: cannot be combined with clientCertificateSecret",
			"spec.tls.identityCa: cannot be combined with caSecret or systemRoots",
			"spec.tls.subjectAltNames: required with identityCa: set subjectAltNames to the SPIFFE IDs allowed, e.g. spiffe://<trust-domain>/gateway/<name>",
		}},
		{name: "upstream identityCa with sni", in: service(`
hostname: orders.internal
port: 8443
tls: {identityCa: true, sni: orders.internal}
`)},
	}
}

func TestIdentitySecretName(t *testing.T) {
	require.Equal(t, "tollgate-id-edge", IdentitySecretName("edge"))
	long := strings.Repeat("a", 63)
	name := IdentitySecretName(long)
	require.Len(t, name, 63)
	require.Empty(t, ValidateName(name))
	require.True(t, strings.HasPrefix(name, "tollgate-id-aaaa"))
	other := IdentitySecretName(strings.Repeat("a", 62) + "b")
	require.NotEqual(t, name, other, "truncated names stay unique")
	fits := strings.Repeat("b", 51) // 12 + 51 = 63: fits as is
	require.Equal(t, "tollgate-id-"+fits, IdentitySecretName(fits))
}
