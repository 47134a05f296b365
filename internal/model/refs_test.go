package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestReferences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Ref
	}{
		{name: "gateway", in: gateway(`
mode: ingress
listeners:
- name: https
  port: 443
  protocol: HTTPS
  tls:
    certificates: [{secret: a-cert}, {secret: b-cert, serverNames: [b.example.com]}]
    clientValidation: {mode: required, caSecret: clients}
- {name: db, port: 5432, protocol: TCP, backend: {service: postgres}}
`), want: []Ref{
			{Path: "spec.listeners[0].tls.certificates[0].secret", To: Key{KindSecret, "a-cert"}, SecretType: SecretTypeTLS},
			{Path: "spec.listeners[0].tls.certificates[1].secret", To: Key{KindSecret, "b-cert"}, SecretType: SecretTypeTLS},
			{Path: "spec.listeners[0].tls.clientValidation.caSecret", To: Key{KindSecret, "clients"}, SecretType: SecretTypeCA},
			{Path: "spec.listeners[1].backend.service", To: Key{KindService, "postgres"}},
		}},
		{name: "service", in: service("hostname: a.example.com\nport: 443\ntls: {caSecret: ca, clientCertificateSecret: me, sni: a.example.com}"), want: []Ref{
			{Path: "spec.tls.caSecret", To: Key{KindSecret, "ca"}, SecretType: SecretTypeCA},
			{Path: "spec.tls.clientCertificateSecret", To: Key{KindSecret, "me"}, SecretType: SecretTypeTLS},
		}},
		{name: "service without refs", in: service("hostname: a.example.com\nport: 443\ntls: {systemRoots: true, sni: a.example.com}")},
		{name: "api", in: api("gateways: [edge, internal]\nroutes: [{name: r, backends: [{service: a}, {service: b}]}, {name: d, directResponse: {status: 200}}]"), want: []Ref{
			{Path: "spec.gateways[0]", To: Key{KindGateway, "edge"}},
			{Path: "spec.gateways[1]", To: Key{KindGateway, "internal"}},
			{Path: "spec.routes[0].backends[0].service", To: Key{KindService, "a"}},
			{Path: "spec.routes[0].backends[1].service", To: Key{KindService, "b"}},
		}},
		{name: "policy on a route", in: policy("targetRef: {kind: API, name: payments, route: list}\ntimeout: {request: 1s}"), want: []Ref{
			{Path: "spec.targetRef.name", To: Key{KindAPI, "payments"}, Route: "list"},
		}},
		{name: "policy with a bad kind", in: policy("targetRef: {kind: Secret, name: s}\ntimeout: {request: 1s}")},
		{name: "secret", in: secret("ca", "", "", "x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, vs := Decode([]byte(tt.in))
			require.Empty(t, vs)
			if diff := cmp.Diff(tt.want, References(objs[0])); diff != "" {
				t.Fatalf("references (-want +got):\n%s", diff)
			}
		})
	}
}
