package model

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func api(spec string) string { return manifest("API", spec) }

// apiRoute wraps one route in an otherwise valid API.
func apiRoute(route string) string {
	var b strings.Builder
	b.WriteString("gateways: [edge]\nroutes:\n")
	for i, line := range strings.Split(strings.Trim(route, "\n"), "\n") {
		if i == 0 {
			b.WriteString("- " + line + "\n")
		} else {
			b.WriteString("  " + line + "\n")
		}
	}
	return api(b.String())
}

func TestValidateAPI(t *testing.T) { runValidation(t, apiCases()) }

func apiCases() []validationCase {
	return []validationCase{
		{name: "valid", in: api(`
gateways: [edge, internal]
hostnames: [api.example.com, "*.api.example.com"]
basePath: /payments
routes:
- name: list
  match: {pathPrefix: /invoices, methods: [GET, HEAD], headers: [{name: x-tenant, exact: acme}, {name: x-debug, present: true, invert: true}], queryParams: [{name: page, regex: "[0-9]+"}]}
  backends: [{service: invoices, weight: 90}, {service: invoices-canary, weight: 10}]
  rewrite: {pathPrefix: /v2/invoices, host: invoices.internal}
  timeout: 0s
  retries: {attempts: 3, conditions: [connect-failure, refused-stream], perTryTimeout: 2s}
- name: by-id
  match: {pathRegex: "^/payments/invoices/([0-9]+)$"}
  backends: [{service: invoices}]
  rewrite: {pathRegex: {pattern: "^/payments/invoices/([0-9]+)$", substitution: "/v2/invoice?id=\\1"}}
  timeout: 10s
  retries: {attempts: 2, perTryTimeout: 5s}
- name: old
  match: {pathExact: /old}
  redirect: {scheme: https, host: www.example.com, port: 8443, path: "/new?from=old", statusCode: 308}
- name: ping
  match: {pathExact: /ping}
  directResponse: {status: 200, body: pong}
- name: everything
  backends: [{service: invoices}]
  rewrite: {pathPrefix: /}
`)},
		{name: "gateways", in: api(`
gateways: [edge, edge, Edge]
routes: [{name: r, backends: [{service: s}]}]
`), want: []string{
			`spec.gateways[1]: duplicate gateway "edge": already at spec.gateways[0]`,
			`spec.gateways[2]: "Edge" must be a DNS-1123 label`,
		}},
		{name: "gateways and routes required", in: api(`
hostnames: [a.example.com, a.example.com]
`), want: []string{
			"spec.gateways: required: at least one gateway",
			"spec.routes: required: at least one route",
			`spec.hostnames[1]: duplicate hostname "a.example.com"`,
		}},
		{
			name: "routes capped", in: api(`
gateways: [edge]
routes:
` + repeat(MaxRoutes+1, "- {name: r%[1]d, backends: [{service: s}]}\n")),
			want: []string{"spec.routes: at most 1000 routes, got 1001"},
		},
		{
			name: "base path relative", in: api("gateways: [edge]\nbasePath: v1\nroutes: [{name: r, backends: [{service: s}]}]"),
			want: []string{`spec.basePath: must start with "/"`},
		},
		{
			name: "base path trailing slash", in: api("gateways: [edge]\nbasePath: /v1/\nroutes: [{name: r, backends: [{service: s}]}]"),
			want: []string{`spec.basePath: must not end with "/": use "/v1"`},
		},
		{
			name: "base path double slash", in: api("gateways: [edge]\nbasePath: /v1//x\nroutes: [{name: r, backends: [{service: s}]}]"),
			want: []string{`spec.basePath: must not contain "//"`},
		},
		{
			name: "base path dot dot", in: api("gateways: [edge]\nbasePath: /v1/%2E%2e/x\nroutes: [{name: r, backends: [{service: s}]}]"),
			want: []string{`spec.basePath: must not contain "." or ".." segments`},
		},
		{
			name: "base path query", in: api("gateways: [edge]\nbasePath: /v1?x=1\nroutes: [{name: r, backends: [{service: s}]}]"),
			want: []string{`spec.basePath: must not contain "?" or "#"`},
		},
		{name: "route names", in: api(`
gateways: [edge]
routes:
- {backends: [{service: s}]}
- {name: a, backends: [{service: s}]}
- {name: a, backends: [{service: s}]}
- {name: A_b, backends: [{service: s}]}
`), want: []string{
			"spec.routes[0].name: required",
			`spec.routes[2].name: duplicate route name "a": already at spec.routes[1].name`,
			`spec.routes[3].name: "A_b" must be a DNS-1123 label`,
		}},
		{name: "one path match", in: apiRoute(`
name: r
match: {pathExact: /a, pathPrefix: /b, pathRegex: /c}
backends: [{service: s}]
`), want: []string{"spec.routes[0].match: set at most one of pathExact, pathPrefix, pathRegex; got pathExact, pathPrefix and pathRegex"}},
		{name: "path prefix relative", in: apiRoute(`
name: r
match: {pathPrefix: users}
backends: [{service: s}]
`), want: []string{`spec.routes[0].match.pathPrefix: must start with "/"`}},
		{name: "path exact dot dot", in: apiRoute(`
name: r
match: {pathExact: /a/../b}
backends: [{service: s}]
`), want: []string{`spec.routes[0].match.pathExact: must not contain "." or ".." segments`}},
		{name: "path exact fragment", in: apiRoute(`
name: r
match: {pathExact: "/a#b"}
backends: [{service: s}]
`), want: []string{`spec.routes[0].match.pathExact: must not contain "?" or "#"`}},
		{name: "path with space", in: apiRoute(`
name: r
match: {pathPrefix: "/a b"}
backends: [{service: s}]
`), want: []string{`spec.routes[0].match.pathPrefix: must not contain spaces, control characters or non-ASCII characters`}},
		{name: "path not ascii", in: apiRoute(`
name: r
match: {pathPrefix: "/caf\u00e9"}
backends: [{service: s}]
`), want: []string{`spec.routes[0].match.pathPrefix: must not contain spaces, control characters or non-ASCII characters; percent-encode them`}},
		{name: "path too long", in: apiRoute(`
name: r
match: {pathPrefix: /` + strings.Repeat("a", MaxPathLength) + `}
backends: [{service: s}]
`), want: []string{`spec.routes[0].match.pathPrefix: must be at most 1024 bytes, got 1025`}},
		{name: "path regex syntax", in: apiRoute(`
name: r
match: {pathRegex: "/(a"}
backends: [{service: s}]
`), want: []string{"spec.routes[0].match.pathRegex: must be an RE2 regular expression: missing closing )"}},
		{name: "path regex too complex", in: apiRoute(`
name: r
match: {pathRegex: "/a{1000}"}
backends: [{service: s}]
`), want: []string{"spec.routes[0].match.pathRegex: regex is too complex: it compiles to 1003 instructions, at most 1000 are allowed"}},
		{name: "path regex far too complex", in: apiRoute(`
name: r
match: {pathRegex: "` + strings.Repeat(`(?:\\w+\\s*){1000}`, 50) + `"}
backends: [{service: s}]
`), want: []string{"spec.routes[0].match.pathRegex: regex is too complex: it compiles to more than 2000 instructions, at most 1000 are allowed"}},
		{name: "path regex too long", in: apiRoute(`
name: r
match: {pathRegex: "/` + strings.Repeat("a", MaxRegexLength) + `"}
backends: [{service: s}]
`), want: []string{"spec.routes[0].match.pathRegex: must be at most 1024 bytes, got 1025"}},
		{name: "methods", in: apiRoute(`
name: r
match: {methods: [get, GET, GET, FETCH]}
backends: [{service: s}]
`), want: []string{
			`spec.routes[0].match.methods[0]: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT, got "get"; did you mean "GET"?`,
			`spec.routes[0].match.methods[2]: duplicate method "GET"`,
			`spec.routes[0].match.methods[3]: must be one of GET`,
		}},
		{name: "header matches", in: apiRoute(`
name: r
match:
  headers:
  - {exact: a}
  - {name: X-Tenant, exact: a}
  - {name: ":path", prefix: /a}
  - {name: x-a}
  - {name: x-b, exact: a, regex: b}
  - {name: x-c, regex: "("}
  - {name: x-d, exact: "a\r\nb"}
  - {name: "x a", present: true}
backends: [{service: s}]
`), want: []string{
			"spec.routes[0].match.headers[0].name: required",
			`spec.routes[0].match.headers[1].name: must be lower case: use "x-tenant"`,
			`spec.routes[0].match.headers[2].name: ":path" is an HTTP/2 pseudo-header`,
			"spec.routes[0].match.headers[3]: set one of exact, prefix, regex, present",
			"spec.routes[0].match.headers[4]: set only one of exact, prefix, regex, present; got exact and regex",
			"spec.routes[0].match.headers[5].regex: must be an RE2 regular expression",
			"spec.routes[0].match.headers[6].exact: must not contain CR, LF or NUL characters",
			`spec.routes[0].match.headers[7].name: "x a" must be an HTTP header name`,
		}},
		{name: "header matches capped", in: apiRoute(`
name: r
match:
  headers:
` + repeat(MaxHeaderMatches+1, "  - {name: x-h%[1]d, present: true}\n") + `
backends: [{service: s}]
`), want: []string{"spec.routes[0].match.headers: at most 32 header matches, got 33"}},
		{name: "query matches", in: apiRoute(`
name: r
match:
  queryParams:
  - {name: "a&b", exact: x}
  - {name: page}
  - {name: q, exact: x, present: true}
  - {name: r, regex: "[" }
backends: [{service: s}]
`), want: []string{
			`spec.routes[0].match.queryParams[0].name: "a&b" must be a query parameter name`,
			"spec.routes[0].match.queryParams[1]: set one of exact, regex, present",
			"spec.routes[0].match.queryParams[2]: set only one of exact, regex, present; got exact and present",
			"spec.routes[0].match.queryParams[3].regex: must be an RE2 regular expression",
		}},
		{name: "action required", in: apiRoute(`
name: r
match: {pathPrefix: /}
`), want: []string{"spec.routes[0]: set one of backends, redirect, directResponse"}},
		{name: "one action", in: apiRoute(`
name: r
backends: [{service: s}]
redirect: {scheme: https}
directResponse: {status: 200}
`), want: []string{"spec.routes[0]: set only one of backends, redirect, directResponse; got backends, redirect and directResponse"}},
		{name: "backends", in: apiRoute(`
name: r
backends: [{weight: 1}, {service: s}, {service: s, weight: 1000001}]
`), want: []string{
			"spec.routes[0].backends[0].service: required",
			`spec.routes[0].backends[2].service: duplicate backend service "s": already at spec.routes[0].backends[1].service`,
			"spec.routes[0].backends[2].weight: must be at most 1000000, got 1000001",
		}},
		{
			name: "backends capped", in: apiRoute(`
name: r
backends:
` + repeat(MaxBackends+1, "- {service: s%[1]d}\n")),
			want: []string{"spec.routes[0].backends: at most 64 backends, got 65"},
		},
		{name: "settings need backends", in: apiRoute(`
name: r
directResponse: {status: 404}
rewrite: {host: a.example.com}
timeout: 1s
retries: {attempts: 1}
`), want: []string{
			"spec.routes[0].rewrite: only applies to routes that forward to backends",
			"spec.routes[0].timeout: only applies to routes that forward to backends",
			"spec.routes[0].retries: only applies to routes that forward to backends",
		}},
		{name: "rewrite prefix needs prefix match", in: apiRoute(`
name: r
match: {pathExact: /a}
backends: [{service: s}]
rewrite: {pathPrefix: b}
`), want: []string{
			"spec.routes[0].rewrite.pathPrefix: only applies with match.pathPrefix (or no path match); use pathRegex",
			`spec.routes[0].rewrite.pathPrefix: must start with "/"`,
		}},
		{name: "rewrite exclusive and empty", in: api(`
gateways: [edge]
routes:
- {name: a, backends: [{service: s}], rewrite: {pathPrefix: /x, pathRegex: {pattern: a, substitution: b}}}
- {name: b, backends: [{service: s}], rewrite: {}}
- {name: c, backends: [{service: s}], rewrite: {host: "Bad.example.com"}}
`), want: []string{
			"spec.routes[0].rewrite: set only one of pathPrefix, pathRegex",
			"spec.routes[1].rewrite: set pathPrefix, pathRegex or host, or remove rewrite",
			`spec.routes[2].rewrite.host: must be lower case: use "bad.example.com"`,
		}},
		{name: "rewrite regex", in: api(`
gateways: [edge]
routes:
- {name: a, backends: [{service: s}], rewrite: {pathRegex: {pattern: "^/(a)/(b)$", substitution: "/\\3"}}}
- {name: b, backends: [{service: s}], rewrite: {pathRegex: {pattern: "^/a$", substitution: "/\\n"}}}
- {name: c, backends: [{service: s}], rewrite: {pathRegex: {pattern: "(", substitution: "/"}}}
- {name: d, backends: [{service: s}], rewrite: {pathRegex: {pattern: "a", substitution: "/x\\"}}}
- {name: e, backends: [{service: s}], rewrite: {pathRegex: {substitution: "/\\\\"}}}
`), want: []string{
			`spec.routes[0].rewrite.pathRegex.substitution: refers to group \3 but the pattern has 2 capture groups`,
			`spec.routes[1].rewrite.pathRegex.substitution: "\n" is not a group reference`,
			"spec.routes[2].rewrite.pathRegex.pattern: must be an RE2 regular expression",
			`spec.routes[3].rewrite.pathRegex.substitution: ends with a lone "\"`,
			"spec.routes[4].rewrite.pathRegex.pattern: required: an RE2 regular expression",
		}},
		{name: "timeout and retries", in: api(`
gateways: [edge]
routes:
- {name: a, backends: [{service: s}], timeout: 2h, retries: {attempts: 0, conditions: [5XX, reset, reset]}}
- {name: b, backends: [{service: s}], timeout: 1s, retries: {attempts: 11, perTryTimeout: 2s}}
- {name: c, backends: [{service: s}], timeout: "-1s", retries: {attempts: 1, perTryTimeout: 0s}}
`), want: []string{
			`spec.routes[0].timeout: must be at most 1h, got "2h"`,
			"spec.routes[0].retries.attempts: must be between 1 and 10, got 0",
			`spec.routes[0].retries.conditions[0]: must be one of 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable, got "5XX"; did you mean "5xx"?`,
			`spec.routes[0].retries.conditions[2]: duplicate condition "reset"`,
			"spec.routes[1].retries.attempts: must be between 1 and 10, got 11",
			"spec.routes[1].retries.perTryTimeout: must be at most the route timeout (1s), got 2s",
			`spec.routes[2].timeout: must be 0s (disabled) or positive, got "-1s"`,
			`spec.routes[2].retries.perTryTimeout: must be greater than 0, got "0s"`,
		}},
		{name: "redirect", in: api(`
gateways: [edge]
routes:
- {name: a, redirect: {}}
- {name: b, redirect: {scheme: ftp, host: "*.example.com", port: 70000, path: new, statusCode: 200}}
- {name: c, redirect: {path: "/a b"}}
`), want: []string{
			"spec.routes[0].redirect: set at least one of scheme, host, port, path",
			`spec.routes[1].redirect.scheme: must be one of http, https, got "ftp"`,
			`spec.routes[1].redirect.host: "*.example.com" must be a host name, not a wildcard`,
			"spec.routes[1].redirect.port: must be between 1 and 65535, got 70000",
			`spec.routes[1].redirect.path: must start with "/"`,
			"spec.routes[1].redirect.statusCode: must be one of 301, 302, 303, 307, 308, got 200",
			"spec.routes[2].redirect.path: must not contain spaces, control characters or non-ASCII characters",
		}},
		{name: "direct response", in: api(`
gateways: [edge]
routes:
- {name: a, directResponse: {}}
- {name: b, directResponse: {status: 600}}
- {name: c, directResponse: {status: 200, body: "` + strings.Repeat("x", MaxDirectResponseBody+1) + `"}}
`), want: []string{
			"spec.routes[0].directResponse.status: must be between 200 and 599, got 0",
			"spec.routes[1].directResponse.status: must be between 200 and 599, got 600",
			"spec.routes[2].directResponse.body: must be at most 4096 bytes, got 4097",
		}},
	}
}

func TestRetryStatusCodes(t *testing.T) {
	tests := []struct {
		name  string
		retry string
		want  string
	}{
		{"valid", "{attempts: 2, conditions: [retriable-status-codes, reset], statusCodes: [503, 429]}", ""},
		{"codes required", "{attempts: 2, conditions: [retriable-status-codes]}", "spec.routes[0].retries.statusCodes: required with condition retriable-status-codes"},
		{"codes without condition", "{attempts: 2, conditions: [5xx], statusCodes: [503]}", "spec.routes[0].retries.statusCodes: only applies with condition retriable-status-codes"},
		{"not an error status", "{attempts: 2, conditions: [retriable-status-codes], statusCodes: [200]}", "spec.routes[0].retries.statusCodes[0]: must be an HTTP status between 400 and 599, got 200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := "apiVersion: tollgate.dev/v1\nkind: API\nmetadata: {name: test}\nspec:\n  gateways: [edge]\n  routes:\n  - {name: r, backends: [{service: s}], retries: " + tc.retry + "}\n"
			_, vs := DecodeAndValidate([]byte(in))
			if tc.want == "" {
				require.Empty(t, vs, vs.Error())
				return
			}
			require.Contains(t, vs.Error(), tc.want)
		})
	}
}
