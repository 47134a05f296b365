package model

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		kinds []Kind
		want  []Violation
	}{
		{
			name:  "unknown field with suggestion",
			in:    api("gateways: [edge]\nbase_path: /v1\nroutes: [{name: r, backends: [{service: s}]}]"),
			kinds: []Kind{KindAPI},
			want:  []Violation{{Document: 1, Object: "API/test", Path: "spec.base_path", Message: `unknown field; did you mean "basePath"?`}},
		},
		{
			name:  "unknown field with a typo suggestion",
			in:    service("endpoints: [{address: 10.0.0.1, port: 80}]\nconnectTimout: 1s"),
			kinds: []Kind{KindService},
			want:  []Violation{{Document: 1, Object: "Service/test", Path: "spec.connectTimout", Message: `unknown field; did you mean "connectTimeout"?`}},
		},
		{
			name:  "unknown field lists the valid ones",
			in:    gateway("mode: ingress\nlisteners: [{name: a, port: 80, protocol: HTTP, tls_mode: x}]"),
			kinds: []Kind{KindGateway},
			want: []Violation{{
				Document: 1, Object: "Gateway/test", Path: "spec.listeners[0].tls_mode",
				Message: "unknown field; valid fields are address, backend, hostnames, name, port, protocol, tls",
			}},
		},
		{
			name:  "wrong types",
			in:    gateway("mode: ingress\nnetwork: 10\nlisteners: [{name: a, port: \"80\", protocol: HTTP}]"),
			kinds: []Kind{KindGateway},
			want: []Violation{
				{Document: 1, Object: "Gateway/test", Path: "spec.network", Message: "must be a string, got number 10; quote the value"},
				{Document: 1, Object: "Gateway/test", Path: "spec.listeners[0].port", Message: `must be a whole number between 0 and 4294967295, got "80"`},
			},
		},
		{
			name:  "duplicate field",
			in:    gateway("mode: ingress\nmode: egress\nlisteners: [{name: a, port: 80, protocol: HTTP}]"),
			kinds: []Kind{KindGateway},
			want:  []Violation{{Document: 1, Object: "Gateway/test", Path: "spec.mode", Message: "duplicate field"}},
		},
		{
			name: "non-mapping documents",
			in:   "hello\n---\n- 1\n- 2\n",
			want: []Violation{
				{Document: 1, Message: "must be an object with apiVersion, kind, metadata and spec"},
				{Document: 2, Message: "must be an object with apiVersion, kind, metadata and spec"},
				{Document: 3, Message: "must be an object with apiVersion, kind, metadata and spec"},
			},
		},
		{
			name: "unknown kind",
			in:   "apiVersion: tollgate.dev/v1\nkind: Route\nmetadata: {name: r}\n",
			want: []Violation{{Document: 1, Path: "kind", Message: "must be one of API, Gateway, Policy, Secret, Service"}},
		},
		{
			name: "not yaml",
			in:   "kind: [unclosed\n",
			want: []Violation{{Document: 1, Message: "not valid YAML or JSON: line 1: did not find expected ',' or ']'"}},
		},
		{
			name:  "json",
			in:    `{"apiVersion": "tollgate.dev/v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"hostname": "a.example.com", "port": 443}}`,
			kinds: []Kind{KindService},
		},
		{
			name:  "multi-document with empty documents",
			in:    "---\n" + gateway("mode: ingress\nlisteners: [{name: a, port: 80, protocol: HTTP}]") + "---\n---\n" + service("hostname: a.example.com\nport: 80"),
			kinds: []Kind{KindGateway, KindService},
		},
		{
			name: "top-level list",
			in: `- {apiVersion: tollgate.dev/v1, kind: Secret, metadata: {name: a}, spec: {type: ca, caBundle: x}}
- {apiVersion: tollgate.dev/v1, kind: Service, metadata: {name: b}, spec: {hostname: b.example.com, port: 80, colour: red}}
`,
			kinds: []Kind{KindSecret, KindService},
			want: []Violation{{
				Document: 2, Object: "Service/b", Path: "spec.colour",
				Message: "unknown field; valid fields are circuitBreaker, connectTimeout, dnsResolution, endpoints, healthCheck, hostname, loadBalancing, network, outlierDetection, port, protocol, tls",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, vs := Decode([]byte(tt.in))
			if diff := cmp.Diff(tt.want, []Violation(vs)); diff != "" {
				t.Fatalf("violations (-want +got):\n%s", diff)
			}
			kinds := make([]Kind, 0, len(objs))
			for _, o := range objs {
				kinds = append(kinds, KindOf(o))
			}
			if len(tt.kinds) == 0 {
				require.Empty(t, kinds)
			} else {
				require.Equal(t, tt.kinds, kinds)
			}
		})
	}
}

func TestDecodeJSONMatchesYAML(t *testing.T) {
	fromJSON, vs := Decode([]byte(`{"apiVersion": "tollgate.dev/v1", "kind": "API", "metadata": {"name": "a", "labels": {"team": "pay"}},
		"spec": {"gateways": ["edge"], "routes": [{"name": "r", "backends": [{"service": "s", "weight": 2}]}]}}`))
	require.Empty(t, vs)
	fromYAML, vs := Decode([]byte(`apiVersion: tollgate.dev/v1
kind: API
metadata: {name: a, labels: {team: pay}}
spec:
  gateways: [edge]
  routes:
  - name: r
    backends: [{service: s, weight: 2}]
`))
	require.Empty(t, vs)
	if diff := cmp.Diff(fromYAML, fromJSON, protocmp.Transform()); diff != "" {
		t.Fatalf("JSON and YAML decode differently (-yaml +json):\n%s", diff)
	}
}

// TestDecodeAliasBomb checks that aliases cannot expand a small document
// into an unbounded walk: each of 1000 routes aliases a route with 1000
// backends, a million nodes from a few kilobytes.
func TestDecodeAliasBomb(t *testing.T) {
	backends := "&b [&c {service: s}" + strings.Repeat(", *c", 999) + "]"
	routes := "[&r {name: r, backends: " + backends + "}" + strings.Repeat(", *r", 999) + "]"
	in := "apiVersion: tollgate.dev/v1\nkind: API\nmetadata: {name: bomb}\nspec:\n  gateways: [edge]\n  routes: " + routes + "\n"
	require.Less(t, len(in), 16*1024)
	_, vs := Decode([]byte(in))
	require.Len(t, vs, 1)
	require.Equal(t, "document expands to more than 200000 YAML nodes; remove aliases or split the bundle", vs[0].Message)
}

func TestDecodeAndValidateDuplicateObject(t *testing.T) {
	gw := gateway("mode: ingress\nlisteners: [{name: a, port: 80, protocol: HTTP}]")
	_, vs := DecodeAndValidate([]byte(gw + "---\n" + service("hostname: a.example.com\nport: 80") + "---\n" + gw))
	require.Equal(t, Violations{{
		Document: 3, Object: "Gateway/test", Path: "metadata.name",
		Message: "Gateway/test appears twice in this bundle (documents 1 and 3); keep one",
	}}, vs)
}

// TestDecodeAndValidateReportsEverything checks that one bundle with many
// problems in many objects reports every one of them, attributed to its
// object, and that a schema error in one document does not hide the
// semantic errors of the others.
func TestDecodeAndValidateReportsEverything(t *testing.T) {
	in := gateway(`
mode: Ingress
listeners:
- {name: http, port: 0, protocol: HTTP, tls: {certificates: [{secret: c}]}}
- {name: http, port: 443, protocol: HTTPS}
`) + "---\n" + api(`
gateways: []
basePath: v1/
routes:
- name: r
  match: {pathPrefix: users, pathExact: /x}
  backends: [{service: s}]
  redirect: {statusCode: 200}
`) + "---\n" + policy(`
targetRef: {kind: Service, name: s}
jwt: {providers: [{name: p}]}
cors: {allowOrigins: ["*"], allowCredentials: true}
`) + "---\n" + service("hostname: s.example.com\nport: 80\nconnect_timeout: 1s")
	_, vs := DecodeAndValidate([]byte(in))
	var got []string
	for _, v := range vs {
		got = append(got, v.Object+" "+v.Path+": "+v.Message)
	}
	requireMatch(t, got, []string{
		`Service/test spec.connect_timeout: unknown field; did you mean "connectTimeout"?`,
		`Gateway/test spec.mode: must be one of ingress, egress, sidecar, proxyless, got "Ingress"`,
		"Gateway/test spec.listeners[1].name: duplicate listener name",
		"Gateway/test spec.listeners[0].port: required: a port between 1 and 65535",
		"Gateway/test spec.listeners[0].tls: only allowed with protocol HTTPS",
		"Gateway/test spec.listeners[1].tls: required for protocol HTTPS",
		"API/test spec.gateways: required: at least one gateway",
		`API/test spec.basePath: must start with "/"`,
		"API/test spec.routes[0].match: set at most one of pathExact, pathPrefix, pathRegex; got pathExact and pathPrefix",
		`API/test spec.routes[0].match.pathPrefix: must start with "/"`,
		"API/test spec.routes[0]: set only one of backends, redirect, directResponse; got backends and redirect",
		"API/test spec.routes[0].redirect: set at least one of scheme, host, port, path",
		"API/test spec.routes[0].redirect.statusCode: must be one of 301, 302, 303, 307, 308, got 200",
		"Policy/test spec.targetRef.kind: a jwt policy cannot target a Service",
		"Policy/test spec.jwt.providers[0].issuer: required",
		"Policy/test spec.jwt.providers[0]: set jwksUri",
		"Policy/test spec.targetRef.kind: a cors policy cannot target a Service",
		`Policy/test spec.cors.allowCredentials: cannot be combined with origin "*"`,
		"Policy/test spec: exactly one policy body must be set, got jwt and cors",
	})
}

func TestValidateNilSpecs(t *testing.T) {
	for _, k := range Kinds {
		o := k.New()
		require.NotPanics(t, func() { ValidateAt(o, testNow) }, "kind %s", k)
	}
	// Empty sub-messages everywhere must not panic either.
	objs, vs := Decode([]byte(policy("targetRef: {}\nrateLimit: {key: {}}\njwt: {providers: [{claimToHeaders: [{}]}]}\nheaders: {request: {add: [{}]}}") +
		"---\n" + api("routes: [{match: {headers: [{}], queryParams: [{}]}, rewrite: {pathRegex: {}}, retries: {}, redirect: {}, directResponse: {}}]") +
		"---\n" + gateway("listeners: [{tls: {certificates: [{}], clientValidation: {}}, backend: {}}]") +
		"---\n" + service("endpoints: [{locality: {}}]\ntls: {}\nhealthCheck: {}\ncircuitBreaker: {}\noutlierDetection: {}")))
	require.Empty(t, vs)
	for _, o := range objs {
		require.NotEmpty(t, ValidateAt(o, testNow))
	}
}

func TestNodeCapIsPerDocument(t *testing.T) {
	// 800 ordinary documents of ~360 nodes each: over the per-document
	// cap in total, and every one of them fine.
	var b strings.Builder
	for i := range 800 {
		fmt.Fprintf(&b, "---\napiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: s%d, labels: {", i)
		for j := range 170 {
			fmt.Fprintf(&b, "k%d: v%d, ", j, j)
		}
		b.WriteString("}}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n")
	}
	objs, vs := Decode([]byte(b.String()))
	require.Empty(t, vs)
	require.Len(t, objs, 800)
}
