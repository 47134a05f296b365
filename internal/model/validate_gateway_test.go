package model

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func gateway(spec string) string { return manifest("Gateway", spec) }

// httpsListener is a valid HTTPS listener's head, for cases about its TLS.
const httpsListener = `
mode: ingress
listeners:
- name: https
  port: 443
  protocol: HTTPS
  tls:
`

func TestValidateGateway(t *testing.T) { runValidation(t, gatewayCases()) }

func gatewayCases() []validationCase {
	return []validationCase{
		{name: "valid http", in: gateway(`
mode: ingress
network: vpc-a
listeners:
- {name: http, port: 80, protocol: HTTP, hostnames: [api.example.com, "*.example.com"]}
`)},
		{name: "valid https tcp", in: gateway(`
mode: egress
listeners:
- name: https
  port: 443
  protocol: HTTPS
  tls:
    certificates:
    - {secret: api-cert, serverNames: [api.example.com]}
    - {secret: default-cert}
    clientValidation: {mode: required, caSecret: clients-ca, subjectAltNames: ["spiffe://example.org/web"]}
    minVersion: TLSv1_2
    cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256]
- {name: db, port: 5432, protocol: TCP, backend: {service: postgres}}
`)},
		{name: "mode required", in: gateway(`
listeners: [{name: http, port: 80, protocol: HTTP}]
`), want: []string{"spec.mode: required: one of ingress, egress, sidecar"}},
		{name: "mode exact case", in: gateway(`
mode: Ingress
listeners: [{name: http, port: 80, protocol: HTTP}]
`), want: []string{`spec.mode: must be one of ingress, egress, sidecar, proxyless, got "Ingress"; did you mean "ingress"?`}},
		{name: "network label", in: gateway(`
mode: ingress
network: VPC_A
listeners: [{name: http, port: 80, protocol: HTTP}]
`), want: []string{`spec.network: "VPC_A" must be a DNS-1123 label`}},
		{name: "listeners required", in: gateway(`
mode: sidecar
`), want: []string{"spec.listeners: required: at least one listener"}},
		{
			name: "listeners capped", in: gateway(`
mode: ingress
listeners:
` + repeat(65, "- {name: l%[1]d, port: %[1]d, protocol: HTTP}\n")),
			want: []string{"spec.listeners: at most 64 listeners, got 65"},
		},
		{name: "listener name and port", in: gateway(`
mode: ingress
listeners:
- {name: http, port: 80, protocol: HTTP}
- {name: http, port: 80, protocol: HTTP}
- {name: Web, port: 0, protocol: HTTP}
- {port: 70000, protocol: HTTP}
`), want: []string{
			`spec.listeners[1].name: duplicate listener name "http": already at spec.listeners[0].name`,
			"spec.listeners[1].port: port 80 is already used by spec.listeners[0]",
			`spec.listeners[2].name: "Web" must be a DNS-1123 label`,
			"spec.listeners[2].port: required: a port between 1 and 65535",
			"spec.listeners[3].name: required",
			"spec.listeners[3].port: must be between 1 and 65535, got 70000",
		}},
		{name: "protocol", in: gateway(`
mode: ingress
listeners:
- {name: a, port: 80}
- {name: b, port: 81, protocol: http}
`), want: []string{
			"spec.listeners[0].protocol: required: one of HTTP, HTTPS, TCP, GRPC",
			`spec.listeners[1].protocol: must be one of HTTP, HTTPS, TCP, GRPC, got "http"`,
		}},
		{name: "hostnames", in: gateway(`
mode: ingress
listeners:
- name: http
  port: 80
  protocol: HTTP
  hostnames: [API.example.com, "example.com:80", "a.*.example.com", "*", a..b, "-a.example.com", api.example.com, api.example.com, ""]
`), want: []string{
			`spec.listeners[0].hostnames[0]: must be lower case: use "api.example.com"`,
			`spec.listeners[0].hostnames[1]: "example.com:80" must be a host name without a port`,
			`spec.listeners[0].hostnames[2]: "a.*.example.com": a wildcard is only allowed as the whole first label`,
			`spec.listeners[0].hostnames[3]: "*": a wildcard is only allowed`,
			`spec.listeners[0].hostnames[4]: "a..b" is not a DNS name`,
			`spec.listeners[0].hostnames[5]: "-a.example.com" is not a DNS name`,
			`spec.listeners[0].hostnames[7]: duplicate hostname "api.example.com": already at spec.listeners[0].hostnames[6]`,
			`spec.listeners[0].hostnames[8]: required`,
		}},
		{
			name: "hostnames capped", in: gateway(`
mode: ingress
listeners:
- name: http
  port: 80
  protocol: HTTP
  hostnames:
` + repeat(101, "  - h%[1]d.example.com\n")),
			want: []string{"spec.listeners[0].hostnames: at most 100 hostnames, got 101"},
		},
		{name: "https needs tls", in: gateway(`
mode: ingress
listeners: [{name: https, port: 443, protocol: HTTPS}]
`), want: []string{"spec.listeners[0].tls: required for protocol HTTPS"}},
		{name: "https needs a certificate", in: gateway(httpsListener + `
    minVersion: TLSv1_3
`), want: []string{"spec.listeners[0].tls.certificates: required: at least one certificate"}},
		{name: "http and tcp forbid tls", in: gateway(`
mode: ingress
listeners:
- {name: http, port: 80, protocol: HTTP, tls: {certificates: [{secret: c}]}}
- {name: tcp, port: 81, protocol: TCP, backend: {service: db}, tls: {certificates: [{secret: c}]}}
`), want: []string{
			"spec.listeners[0].tls: only allowed with protocol HTTPS, got HTTP",
			"spec.listeners[1].tls: only allowed with protocol HTTPS, got TCP",
		}},
		{name: "tcp rules", in: gateway(`
mode: egress
listeners:
- {name: a, port: 1, protocol: TCP}
- {name: b, port: 2, protocol: TCP, hostnames: [db.example.com], backend: {service: db}}
- {name: c, port: 3, protocol: TCP, backend: {service: db, weight: 5}}
- {name: d, port: 4, protocol: TCP, backend: {service: DB}}
- {name: e, port: 5, protocol: HTTP, backend: {service: db}}
`), want: []string{
			"spec.listeners[0].backend.service: required for protocol TCP",
			"spec.listeners[1].hostnames: not allowed with protocol TCP",
			"spec.listeners[2].backend.weight: has no effect on a listener backend",
			`spec.listeners[3].backend.service: "DB" must be a DNS-1123 label`,
			"spec.listeners[4].backend: only allowed with protocol TCP; HTTP listeners route through APIs",
		}},
		{name: "certificates", in: gateway(httpsListener + `
    certificates:
    - {serverNames: [a.example.com, "*.example.com"]}
    - {secret: two, serverNames: [b.example.com, a.example.com, Bad]}
    - {secret: three}
    - {secret: four}
`), want: []string{
			"spec.listeners[0].tls.certificates[0].secret: required",
			`spec.listeners[0].tls.certificates[1].serverNames[1]: server name "a.example.com" is already at spec.listeners[0].tls.certificates[0].serverNames[0]`,
			`spec.listeners[0].tls.certificates[1].serverNames[2]: must be lower case`,
			"spec.listeners[0].tls.certificates[3].serverNames: only one certificate may omit serverNames (the default certificate); spec.listeners[0].tls.certificates[2] already does",
		}},
		{name: "client validation", in: gateway(`
mode: ingress
listeners:
- {name: a, port: 1, protocol: HTTPS, tls: {certificates: [{secret: c}], clientValidation: {caSecret: ca}}}
- {name: b, port: 2, protocol: HTTPS, tls: {certificates: [{secret: c}], clientValidation: {mode: Required, caSecret: ca}}}
- {name: c, port: 3, protocol: HTTPS, tls: {certificates: [{secret: c}], clientValidation: {mode: required}}}
- {name: d, port: 4, protocol: HTTPS, tls: {certificates: [{secret: c}], clientValidation: {mode: none, caSecret: ca, subjectAltNames: [x]}}}
- {name: e, port: 5, protocol: HTTPS, tls: {certificates: [{secret: c}], clientValidation: {mode: optional, caSecret: ca, subjectAltNames: ["", x, x]}}}
`), want: []string{
			"spec.listeners[0].tls.clientValidation.mode: required: one of none, optional, required",
			`spec.listeners[1].tls.clientValidation.mode: must be one of none, optional, required, got "Required"`,
			"spec.listeners[2].tls.clientValidation.caSecret: required",
			"spec.listeners[3].tls.clientValidation.caSecret: not allowed with mode none",
			"spec.listeners[3].tls.clientValidation.subjectAltNames: not allowed with mode none",
			"spec.listeners[4].tls.clientValidation.subjectAltNames[0]: must not be empty",
			`spec.listeners[4].tls.clientValidation.subjectAltNames[2]: duplicate subject alternative name "x"`,
		}},
		{name: "versions and ciphers", in: gateway(`
mode: ingress
listeners:
- {name: a, port: 1, protocol: HTTPS, tls: {certificates: [{secret: c}], minVersion: TLSv1_1, cipherSuites: [AES128-SHA, ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256]}}
- {name: b, port: 2, protocol: HTTPS, tls: {certificates: [{secret: c}], minVersion: TLSv1_3, cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256]}}
`), want: []string{
			`spec.listeners[0].tls.minVersion: must be one of TLSv1_2, TLSv1_3, got "TLSv1_1"`,
			`spec.listeners[0].tls.cipherSuites[0]: must be one of ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256, ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-RSA-AES256-GCM-SHA384, ECDHE-ECDSA-CHACHA20-POLY1305, ECDHE-RSA-CHACHA20-POLY1305, got "AES128-SHA"`,
			`spec.listeners[0].tls.cipherSuites[2]: duplicate cipher suite`,
			"spec.listeners[1].tls.cipherSuites: only apply to TLS 1.2",
		}},
	}
}

func TestProxylessGateway(t *testing.T) {
	_, vs := DecodeAndValidate([]byte(gateway("mode: proxyless")))
	require.Empty(t, vs, vs.Error())
	_, vs = DecodeAndValidate([]byte(gateway("mode: proxyless\nlisteners: [{name: a, port: 80, protocol: HTTP}]")))
	require.Contains(t, vs.Error(), "spec.listeners[0].protocol: a proxyless gateway's listeners are the ports of its xDS-enabled gRPC servers: only GRPC is allowed, got HTTP")
}
