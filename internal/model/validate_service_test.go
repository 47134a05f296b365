package model

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func service(spec string) string { return manifest("Service", spec) }

func TestValidateService(t *testing.T) { runValidation(t, serviceCases()) }

func serviceCases() []validationCase {
	return []validationCase{
		{name: "valid endpoints", in: service(`
endpoints:
- {address: 10.0.0.7, port: 8080, weight: 2, locality: {region: eu-west-1, zone: eu-west-1a}}
- {address: "2001:db8::7", port: 8080}
network: vpc-a
protocol: HTTP2
connectTimeout: 2s
loadBalancing: LEAST_REQUEST
healthCheck: {type: HTTP, path: /healthz, interval: 5s, timeout: 1s, healthyThreshold: 2, unhealthyThreshold: 3}
circuitBreaker: {maxConnections: 1000, maxRequests: 1000}
outlierDetection: {consecutive5xx: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50}
`)},
		{name: "valid hostname", in: service(`
hostname: api.rates.example.net
port: 443
dnsResolution: logical
tls: {sni: api.rates.example.net, systemRoots: true, subjectAltNames: [api.rates.example.net], minVersion: TLSv1_3, clientCertificateSecret: egress-client}
healthCheck: {type: GRPC}
protocol: GRPC
`)},
		{name: "endpoints or hostname", in: service(`
protocol: HTTP1
`), want: []string{"spec: set one of endpoints (static IP addresses) or hostname (a DNS name the proxy resolves)"}},
		{name: "not both", in: service(`
endpoints: [{address: 10.0.0.1, port: 80}]
hostname: a.example.com
port: 80
`), want: []string{
			"spec.hostname: cannot be combined with endpoints; set one of them",
			"spec.port: only used with hostname",
		}},
		{name: "endpoints", in: service(`
endpoints:
- {address: backend.local, port: 80}
- {port: 80}
- {address: "fe80::1%eth0", port: 80}
- {address: 10.0.0.1}
- {address: 10.0.0.2, port: 80, weight: 129}
- {address: 10.0.0.3, port: 80, locality: {region: "a\nb"}}
- {address: "2001:db8::1", port: 80}
- {address: "2001:0db8:0::1", port: 80}
`), want: []string{
			`spec.endpoints[0].address: must be an IP address such as "10.0.0.7" or "2001:db8::7", got "backend.local"; use spec.hostname for a DNS name`,
			"spec.endpoints[1].address: required: an IPv4 or IPv6 address",
			`spec.endpoints[2].address: must be an IP address`,
			"spec.endpoints[3].port: required: a port between 1 and 65535",
			"spec.endpoints[4].weight: must be between 1 and 128 (0 means 1), got 129",
			"spec.endpoints[5].locality.region: must not contain CR, LF or NUL characters",
			`spec.endpoints[7]: duplicate endpoint "[2001:db8::1]:80": already at spec.endpoints[6]`,
		}},
		{
			name: "endpoints capped", in: service(`
endpoints:
` + repeat(MaxEndpoints+1, "- {address: 10.0.0.1, port: %[1]d}\n")),
			want: []string{"spec.endpoints: at most 10000 endpoints, got 10001"},
		},
		{name: "hostname", in: service(`
hostname: "*.example.com"
dnsResolution: STRICT
`), want: []string{
			`spec.hostname: "*.example.com" must be a host name, not a wildcard`,
			"spec.port: required: a port between 1 and 65535",
			`spec.dnsResolution: must be one of strict, logical, got "STRICT"; did you mean "strict"?`,
		}},
		{name: "dns resolution needs hostname", in: service(`
endpoints: [{address: 10.0.0.1, port: 80}]
dnsResolution: strict
network: Net
protocol: http2
loadBalancing: round_robin
`), want: []string{
			"spec.dnsResolution: only applies to a hostname Service",
			`spec.network: "Net" must be a DNS-1123 label`,
			`spec.protocol: must be one of HTTP1, HTTP2, GRPC, got "http2"; did you mean "HTTP2"?`,
			`spec.loadBalancing: must be one of ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV, got "round_robin"`,
		}},
		{name: "tls trust and name", in: service(`
hostname: a.example.com
port: 443
tls: {minVersion: tls13}
`), want: []string{
			"spec.tls: set caSecret, systemRoots: true or identityCa: true",
			"spec.tls: set sni or subjectAltNames so that the upstream certificate's name is verified",
			`spec.tls.minVersion: must be one of TLSv1_2, TLSv1_3, got "tls13"`,
		}},
		{name: "tls exclusive", in: service(`
hostname: a.example.com
port: 443
tls: {caSecret: Bad_CA, systemRoots: true, sni: "a.example.com:443", clientCertificateSecret: c_1, subjectAltNames: [""]}
`), want: []string{
			"spec.tls.systemRoots: cannot be combined with caSecret",
			`spec.tls.caSecret: "Bad_CA" must be a DNS-1123 label`,
			`spec.tls.clientCertificateSecret: "c_1" must be a DNS-1123 label`,
			`spec.tls.sni: "a.example.com:443" must be a host name without a port`,
			"spec.tls.subjectAltNames[0]: must not be empty",
		}},
		{name: "connect timeout", in: service(`
hostname: a.example.com
port: 80
connectTimeout: 10m
`), want: []string{`spec.connectTimeout: must be at most 5m, got "10m"`}},
		{name: "durations", in: service(`
hostname: a.example.com
port: 80
connectTimeout: soon
outlierDetection: {interval: "0s", baseEjectionTime: "-1s"}
`), want: []string{
			`spec.connectTimeout: must be a duration such as "250ms", "5s" or "1m", got "soon"`,
			`spec.outlierDetection.interval: must be greater than 0, got "0s"`,
			`spec.outlierDetection.baseEjectionTime: must be greater than 0, got "-1s"`,
		}},
		{name: "health check", in: service(`
hostname: a.example.com
port: 80
healthCheck: {type: http, path: healthz, interval: 1s, healthyThreshold: 101, unhealthyThreshold: 1000}
`), want: []string{
			`spec.healthCheck.type: must be one of HTTP, TCP, GRPC, got "http"`,
			`spec.healthCheck.path: must start with "/"`,
			"spec.healthCheck.timeout: the default timeout (1s) must be less than interval (1s); set a shorter timeout",
			"spec.healthCheck.healthyThreshold: must be at most 100, got 101",
			"spec.healthCheck.unhealthyThreshold: must be at most 100, got 1000",
		}},
		{name: "health check type rules", in: service(`
hostname: a.example.com
port: 80
healthCheck: {type: GRPC, path: /healthz, interval: 2h, timeout: 2h}
`), want: []string{
			"spec.healthCheck.path: only applies to type HTTP",
			"spec.healthCheck.type: GRPC health checks need HTTP/2: set spec.protocol to GRPC or HTTP2",
			`spec.healthCheck.timeout: must be at most 1h, got "2h"`,
		}},
		{name: "health check timeout below interval", in: service(`
hostname: a.example.com
port: 80
healthCheck: {interval: 5s, timeout: 5s}
`), want: []string{"spec.healthCheck.timeout: must be less than interval (5s), got 5s"}},
		{name: "breaker and outliers", in: service(`
hostname: a.example.com
port: 80
circuitBreaker: {maxConnections: 1000001, maxRetries: 2000000}
outlierDetection: {consecutive5xx: 1001, maxEjectionPercent: 101}
`), want: []string{
			"spec.circuitBreaker.maxConnections: must be at most 1000000, got 1000001",
			"spec.circuitBreaker.maxRetries: must be at most 1000000, got 2000000",
			"spec.outlierDetection.consecutive5xx: must be at most 1000, got 1001",
			"spec.outlierDetection.maxEjectionPercent: must be between 1 and 100 (0 means 10), got 101",
		}},
	}
}

func TestHealthCheckHostAndStatuses(t *testing.T) {
	tests := []struct {
		name string
		hc   string
		want []string
	}{
		{"valid", "{path: /health, host: api.example.com, expectedStatuses: [200, 204]}", nil},
		{"bad host", "{host: 'not a host'}", []string{"spec.healthCheck.host: "}},
		{"status out of range", "{expectedStatuses: [99, 700]}", []string{
			"spec.healthCheck.expectedStatuses[0]: must be an HTTP status between 100 and 599, got 99",
			"spec.healthCheck.expectedStatuses[1]: must be an HTTP status between 100 and 599, got 700",
		}},
		{"duplicate", "{expectedStatuses: [200, 200]}", []string{"spec.healthCheck.expectedStatuses[1]: duplicate status 200"}},
		{"tcp has no host", "{type: TCP, host: a.example.com}", []string{"spec.healthCheck: host and expectedStatuses only apply to type HTTP"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, vs := DecodeAndValidate([]byte(service("endpoints: [{address: 10.0.0.1, port: 80}]\nhealthCheck: " + tc.hc)))
			got := vs.Error()
			if len(tc.want) == 0 {
				require.Empty(t, vs, got)
			}
			for _, w := range tc.want {
				require.Contains(t, got, w)
			}
		})
	}
}
