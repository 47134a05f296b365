package model

import (
	"strings"
	"testing"
)

func policy(spec string) string { return manifest("Policy", spec) }

// onAPI is a valid targetRef at an API, for cases about a body.
const onAPI = "targetRef: {kind: API, name: payments}\n"

func TestValidatePolicyTarget(t *testing.T) { runValidation(t, targetCases()) }

func targetCases() []validationCase {
	return []validationCase{
		{name: "valid route target", in: policy(`
targetRef: {kind: API, name: payments, route: list}
timeout: {request: 5s}
`)},
		{name: "target required", in: policy(`
timeout: {request: 5s}
`), want: []string{"spec.targetRef: required: the Gateway, API (optionally one route) or Service this policy applies to"}},
		{name: "target fields", in: policy(`
targetRef: {kind: api, route: r_1}
timeout: {request: 5s}
`), want: []string{
			`spec.targetRef.kind: must be one of Gateway, API, Service, got "api"; did you mean "API"?`,
			"spec.targetRef.name: required",
			`spec.targetRef.route: "r_1" must be a DNS-1123 label`,
			"spec.targetRef.route: only applies with kind API",
		}},
		{name: "target kind secret", in: policy(`
targetRef: {kind: Secret, name: s}
timeout: {request: 5s}
`), want: []string{`spec.targetRef.kind: must be one of Gateway, API, Service, got "Secret"`}},
		{name: "route needs API", in: policy(`
targetRef: {kind: Gateway, name: edge, route: r}
timeout: {request: 5s}
`), want: []string{"spec.targetRef.route: only applies with kind API; remove it"}},
		{name: "no body", in: policy(onAPI), want: []string{
			"spec: exactly one policy body must be set: one of rateLimit, jwt, apiKey, basicAuth, ipAllow, ipDeny, cors, headers, timeout, retry, circuitBreaker, spikeControl",
		}},
		{name: "two bodies", in: policy(onAPI + `
timeout: {request: 5s}
retry: {attempts: 2}
cors: {allowOrigins: ["*"]}
`), want: []string{"spec: exactly one policy body must be set, got cors, timeout and retry; split them into separate policies"}},
	}
}

func TestValidatePolicyMatrix(t *testing.T) { runValidation(t, matrixCases()) }

// matrixCases tries every body on every target.
func matrixCases() []validationCase {
	target := func(kind, route string) string {
		s := "targetRef: {kind: " + kind + ", name: x"
		if route != "" {
			s += ", route: " + route
		}
		return s + "}\n"
	}
	bodies := map[string]string{
		"rateLimit":      "rateLimit: {scope: local, limits: [{requests: 10, window: 1s}]}",
		"jwt":            `jwt: {providers: [{name: idp, issuer: "https://idp.example.com", jwksUri: "https://idp.example.com/jwks"}]}`,
		"apiKey":         "apiKey: {consumers: [{name: a, key: 0123456789abcdef}]}",
		"basicAuth":      `basicAuth: {users: [{name: u, passwordHash: "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="}]}`,
		"ipAllow":        "ipAllow: {cidrs: [10.0.0.0/8]}",
		"ipDeny":         "ipDeny: {cidrs: [10.0.0.0/8]}",
		"cors":           `cors: {allowOrigins: ["https://app.example.com"]}`,
		"headers":        "headers: {request: {set: [{name: x-a, value: b}]}}",
		"timeout":        "timeout: {request: 5s}",
		"retry":          "retry: {attempts: 2}",
		"circuitBreaker": "circuitBreaker: {maxConnections: 10}",
		"spikeControl":   "spikeControl: {requests: 10, window: 1s}",
	}
	// allowed is the matrix of docs/model.md: body → Gateway, API, route, Service.
	allowed := map[string][4]bool{
		"rateLimit":      {true, true, true, true},
		"jwt":            {true, true, true, false},
		"apiKey":         {true, true, true, false},
		"basicAuth":      {true, true, true, false},
		"ipAllow":        {true, true, true, false},
		"ipDeny":         {true, true, true, false},
		"cors":           {true, true, true, false},
		"headers":        {true, true, true, false},
		"timeout":        {true, true, true, false},
		"retry":          {false, true, true, false},
		"circuitBreaker": {false, false, false, true},
		"spikeControl":   {false, true, true, true},
	}
	targets := []struct{ kind, route, path, noun string }{
		{"Gateway", "", "spec.targetRef.kind", "a Gateway"},
		{"API", "", "spec.targetRef.kind", "an API"},
		{"API", "r", "spec.targetRef.route", "a route of an API"},
		{"Service", "", "spec.targetRef.kind", "a Service"},
	}
	var tests []validationCase
	for body, ok := range allowed {
		for i, tg := range targets {
			c := validationCase{name: body + " on " + tg.noun, in: policy(target(tg.kind, tg.route) + bodies[body])}
			if !ok[i] {
				c.want = []string{tg.path + ": a " + body + " policy cannot target " + tg.noun + "; it applies to "}
			}
			tests = append(tests, c)
		}
	}
	return append(tests, validationCase{name: "full message", in: policy(target("Service", "") + bodies["jwt"]),
		want: []string{"spec.targetRef.kind: a jwt policy cannot target a Service; it applies to a Gateway, an API or a route of an API"}})
}

func TestValidateRateLimit(t *testing.T) { runValidation(t, rateLimitCases()) }

func rateLimitCases() []validationCase {
	return []validationCase{
		{name: "valid", in: policy(onAPI + `
rateLimit:
  scope: global
  limits: [{requests: 100, window: 1m}, {requests: 1000, window: 1h}, {requests: 5, window: 1s}, {requests: 10000, window: 24h}]
  key: {type: header, header: x-client-id}
`)},
		{name: "scope and limits required", in: policy(onAPI + `
rateLimit: {key: {type: consumer}}
`), want: []string{
			"spec.rateLimit.scope: required: one of local, global",
			"spec.rateLimit.limits: required: at least one limit",
		}},
		{name: "limits capped", in: policy(onAPI + `
rateLimit:
  scope: Local
  limits:
` + repeat(MaxRateLimits+1, "  - {requests: 1, window: %[1]ds}\n")),
			want: []string{
				`spec.rateLimit.scope: must be one of local, global, got "Local"`,
				"spec.rateLimit.limits: at most 8 limits, got 9",
			}},
		{name: "limits", in: policy(onAPI + `
rateLimit:
  scope: local
  limits:
  - {window: 1s}
  - {requests: 1}
  - {requests: 1, window: 500ms}
  - {requests: 1, window: 48h}
  - {requests: 1, window: 1m}
  - {requests: 1, window: 60s}
  - {requests: 1, window: often}
`), want: []string{
			"spec.rateLimit.limits[0].requests: must be at least 1",
			"spec.rateLimit.limits[1].window: required: a duration between 1s and 24h",
			`spec.rateLimit.limits[2].window: must be at least 1s, got "500ms"`,
			`spec.rateLimit.limits[3].window: must be at most 24h, got "48h"`,
			"spec.rateLimit.limits[5].window: window 1m is already used by spec.rateLimit.limits[4]; keep one limit per window",
			`spec.rateLimit.limits[6].window: must be a duration`,
		}},
		{name: "global windows", in: policy(onAPI + `
rateLimit: {scope: global, limits: [{requests: 1, window: 2m}, {requests: 1, window: 60m}]}
`), want: []string{`spec.rateLimit.limits[0].window: with scope global must be one of 1s, 1m, 1h, 24h (the rate-limit service's units), got "2m"`}},
		{name: "key", in: policy(onAPI + `
rateLimit: {scope: local, limits: [{requests: 1, window: 1s}], key: {header: x-a}}
`), want: []string{
			"spec.rateLimit.key.type: required: one of clientIP, header, consumer",
			"spec.rateLimit.key.header: only applies to key type header",
		}},
		{name: "key header", in: policy(onAPI + `
rateLimit: {scope: local, limits: [{requests: 1, window: 1s}], key: {type: header}}
`), want: []string{"spec.rateLimit.key.header: required"}},
		{name: "key header name", in: policy(onAPI + `
rateLimit: {scope: local, limits: [{requests: 1, window: 1s}], key: {type: header, header: X-Client}}
`), want: []string{`spec.rateLimit.key.header: must be lower case: use "x-client"`}},
	}
}

func TestValidateSimplePolicies(t *testing.T) { runValidation(t, simplePolicyCases()) }

func simplePolicyCases() []validationCase {
	return []validationCase{
		{name: "timeout empty", in: policy(onAPI + "timeout: {}"), want: []string{"spec.timeout: set request or idle"}},
		{name: "timeout values", in: policy(onAPI + "timeout: {request: 2h, idle: 0s}"), want: []string{
			`spec.timeout.request: must be at most 1h, got "2h"`,
			`spec.timeout.idle: must be greater than 0, got "0s"`,
		}},
		{name: "timeout disabled", in: policy(onAPI + "timeout: {request: 0s, idle: 1h}")},
		{name: "retry", in: policy(onAPI + "retry: {conditions: [5xx, sometimes], perTryTimeout: 2h}"), want: []string{
			"spec.retry.attempts: must be between 1 and 10, got 0",
			`spec.retry.conditions[1]: must be one of 5xx`,
			`spec.retry.perTryTimeout: must be at most 1h, got "2h"`,
		}},
		{name: "circuit breaker empty", in: policy("targetRef: {kind: Service, name: s}\ncircuitBreaker: {}"), want: []string{
			"spec.circuitBreaker: set at least one threshold: maxConnections, maxPendingRequests, maxRequests or maxRetries",
		}},
		{name: "circuit breaker capped", in: policy("targetRef: {kind: Service, name: s}\ncircuitBreaker: {maxPendingRequests: 1000001}"), want: []string{
			"spec.circuitBreaker.maxPendingRequests: must be at most 1000000, got 1000001",
		}},
		{name: "spike control valid", in: policy(onAPI + "spikeControl: {requests: 10, window: 1s, maxDelay: 0s}")},
		{name: "spike control required", in: policy(onAPI + "spikeControl: {maxDelay: 1s}"), want: []string{
			"spec.spikeControl.requests: must be at least 1",
			"spec.spikeControl.window: required: a duration between 1s and 1h",
		}},
		{name: "spike control bounds", in: policy(onAPI + "spikeControl: {requests: 1, window: 2h, maxDelay: -1s}"), want: []string{
			`spec.spikeControl.window: must be at most 1h, got "2h"`,
			`spec.spikeControl.maxDelay: must be 0s (disabled) or positive, got "-1s"`,
		}},
		{name: "spike control delay", in: policy(onAPI + "spikeControl: {requests: 1, window: 1s, maxDelay: 2s}"), want: []string{
			"spec.spikeControl.maxDelay: must be at most window (1s), got 2s",
		}},
		{name: "spike control requests capped", in: policy(onAPI + "spikeControl: {requests: 4000000000, window: 1s}"), want: []string{
			"spec.spikeControl.requests: must be at most 1000000000, got 4000000000",
		}},
	}
}

func TestValidateJWT(t *testing.T) { runValidation(t, jwtCases()) }

func jwtCases() []validationCase {
	return []validationCase{
		{name: "valid", in: policy(onAPI + `
jwt:
  optional: true
  providers:
  - {name: corp, issuer: "https://idp.example.com", jwksUri: "https://idp.example.com/.well-known/jwks.json", audiences: [payments], claimToHeaders: [{claim: sub, header: x-user}]}
  - {name: local, issuer: dev, jwksUri: "http://127.0.0.1:8080/jwks"}
  - {name: inline, issuer: ci, jwks: '{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"}]}'}
`)},
		{name: "providers required", in: policy(onAPI + "jwt: {optional: true}"), want: []string{"spec.jwt.providers: required: at least one provider"}},
		{name: "providers capped", in: policy(onAPI + "jwt:\n  providers:\n" + repeat(MaxJWTProviders+1, "  - {name: p%[1]d, issuer: i, jwksUri: \"https://i.example.com/k\"}\n")),
			want: []string{"spec.jwt.providers: at most 16 providers, got 17"}},
		{name: "provider fields", in: policy(onAPI + `
jwt:
  providers:
  - {name: a}
  - {name: a, issuer: i, jwksUri: "https://i/k", jwks: '{}'}
  - {name: B, issuer: "i\n", jwksUri: "http://idp.example.com/jwks"}
  - {name: c, issuer: i, jwksUri: "/jwks"}
  - {name: d, issuer: i, jwksUri: "https://user:pw@idp.example.com/jwks#x"}
`), want: []string{
			"spec.jwt.providers[0].issuer: required",
			"spec.jwt.providers[0]: set jwksUri (an https URL serving the issuer's keys) or jwks (the keys inline)",
			`spec.jwt.providers[1].name: duplicate provider name "a"`,
			"spec.jwt.providers[1].jwks: cannot be combined with jwksUri",
			`spec.jwt.providers[1].jwks: must have a non-empty "keys" array`,
			`spec.jwt.providers[2].name: "B" must be a DNS-1123 label`,
			"spec.jwt.providers[2].issuer: must not contain CR, LF or NUL characters",
			`spec.jwt.providers[2].jwksUri: must use https (http is only allowed for localhost and 127.0.0.1), got scheme "http"`,
			`spec.jwt.providers[3].jwksUri: must be an absolute URL`,
			"spec.jwt.providers[4].jwksUri: must not carry credentials",
		}},
		{name: "jwks documents", in: policy(onAPI + `
jwt:
  providers:
  - {name: a, issuer: i, jwks: 'not json'}
  - {name: b, issuer: i, jwks: '{"keys":[{"kid":"1"}, {"kty":"RSA"}]}'}
  - {name: c, issuer: i, jwks: '{"keys":"x"}'}
`), want: []string{
			"spec.jwt.providers[0].jwks: must be a JWKS JSON document",
			`spec.jwt.providers[1].jwks: keys[0] must have a "kty" string`,
			"spec.jwt.providers[2].jwks: must be a JWKS JSON document",
		}},
		{name: "audiences and claims", in: policy(onAPI + `
jwt:
  providers:
  - name: a
    issuer: i
    jwksUri: "https://i.example.com/k"
    audiences: ["", ok]
    claimToHeaders: [{header: x-a}, {claim: sub, header: host}, {claim: sub, header: x-a}, {claim: email, header: ":authority"}]
`), want: []string{
			"spec.jwt.providers[0].audiences[0]: must not be empty",
			"spec.jwt.providers[0].claimToHeaders[0].claim: required",
			"spec.jwt.providers[0].claimToHeaders[1].header: the host header cannot be added, set or removed",
			`spec.jwt.providers[0].claimToHeaders[2].header: duplicate header "x-a"`,
			`spec.jwt.providers[0].claimToHeaders[3].header: ":authority" is an HTTP/2 pseudo-header`,
		}},
	}
}

func TestValidateAPIKey(t *testing.T) { runValidation(t, apiKeyCases()) }

func apiKeyCases() []validationCase {
	const key = "0123456789abcdef"
	return []validationCase{
		{name: "valid", in: policy(onAPI + `
apiKey: {in: query, name: api_key, consumers: [{name: a, key: ` + key + `}, {name: b, key: ` + key + `x}]}
`)},
		{name: "consumers required", in: policy(onAPI + "apiKey: {in: Header, name: X-Key}"), want: []string{
			`spec.apiKey.in: must be one of header, query, got "Header"`,
			`spec.apiKey.name: must be lower case: use "x-key"`,
			"spec.apiKey.consumers: required: at least one consumer",
		}},
		{name: "query name", in: policy(onAPI + "apiKey: {in: query, name: 'a=b', consumers: [{name: a, key: " + key + "}]}"), want: []string{
			`spec.apiKey.name: "a=b" must be a query parameter name`,
		}},
		{name: "consumers", in: policy(onAPI + `
apiKey:
  consumers:
  - {name: a, key: short}
  - {name: a, key: ` + key + `}
  - {name: C, key: ` + key + `}
  - {name: d}
  - {name: e, key: "0123456789 abcdef"}
  - {name: f, key: ` + strings.Repeat("k", MaxAPIKeyLength+1) + `}
`), want: []string{
			`spec.apiKey.consumers[0].key: must be at least 16 characters, got 5; generate one with "openssl rand -hex 24"`,
			`spec.apiKey.consumers[1].name: duplicate consumer name "a"`,
			`spec.apiKey.consumers[2].name: "C" must be a DNS-1123 label`,
			"spec.apiKey.consumers[2].key: same key as consumers[1]; every consumer needs its own key",
			"spec.apiKey.consumers[3].key: required",
			"spec.apiKey.consumers[4].key: must be printable ASCII without spaces",
			"spec.apiKey.consumers[5].key: must be at most 256 characters, got 257",
		}},
	}
}

func TestValidateBasicAuth(t *testing.T) { runValidation(t, basicAuthCases()) }

func basicAuthCases() []validationCase {
	// {SHA} hash of "password", as htpasswd -nbs produces it.
	const hash = `"{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="`
	return []validationCase{
		{name: "valid", in: policy(onAPI + "basicAuth: {users: [{name: alice, passwordHash: " + hash + "}, {name: Bob.Smith, passwordHash: " + hash + "}]}")},
		{name: "users required", in: policy(onAPI + "basicAuth: {}"), want: []string{"spec.basicAuth.users: required: at least one user"}},
		{name: "users", in: policy(onAPI + `
basicAuth:
  users:
  - {passwordHash: ` + hash + `}
  - {name: "a:b", passwordHash: ` + hash + `}
  - {name: alice, passwordHash: ` + hash + `}
  - {name: alice, passwordHash: "$apr1$abc$def"}
  - {name: carol, passwordHash: "{SHA}c2hvcnQ="}
`), want: []string{
			"spec.basicAuth.users[0].name: required",
			`spec.basicAuth.users[1].name: "a:b" must be printable ASCII without spaces or ':'`,
			`spec.basicAuth.users[3].name: duplicate user name "alice"`,
			`spec.basicAuth.users[3].passwordHash: must be an htpasswd SHA hash: "{SHA}" and the base64 SHA-1 of the password; produce one with "htpasswd -nbs user pass"`,
			`spec.basicAuth.users[4].passwordHash: must be an htpasswd SHA hash`,
		}},
	}
}

func TestValidateIPPolicy(t *testing.T) { runValidation(t, ipPolicyCases()) }

func ipPolicyCases() []validationCase {
	return []validationCase{
		{name: "valid", in: policy(onAPI + `ipAllow: {cidrs: [10.0.0.0/8, 192.0.2.7, "2001:db8::/32", "::1"], trustedProxyHops: 1}`)},
		{name: "cidrs required", in: policy(onAPI + "ipDeny: {trustedProxyHops: 11}"), want: []string{
			"spec.ipDeny.cidrs: required: at least one CIDR",
			"spec.ipDeny.trustedProxyHops: must be at most 10, got 11",
		}},
		{name: "cidrs", in: policy(onAPI + `ipAllow: {cidrs: [10.0.0.1/8, banana, "fe80::1%eth0", 10.0.0.0/33, 10.0.0.0/8, 10.0.0.0/8, "2001:db8::1/32"]}`), want: []string{
			`spec.ipAllow.cidrs[0]: host bits must be zero: use "10.0.0.0/8"`,
			`spec.ipAllow.cidrs[1]: must be a CIDR such as "10.0.0.0/8" or an address such as "192.0.2.7", got "banana"`,
			`spec.ipAllow.cidrs[2]: must be a CIDR`,
			`spec.ipAllow.cidrs[3]: must be a CIDR`,
			`spec.ipAllow.cidrs[5]: duplicate CIDR "10.0.0.0/8"`,
			`spec.ipAllow.cidrs[6]: host bits must be zero: use "2001:db8::/32"`,
		}},
		{name: "cidrs capped", in: policy(onAPI + "ipAllow:\n  cidrs:\n" + repeat(MaxCIDRs+1, "  - 10.0.%[1]d.0/32\n")),
			want: []string{"spec.ipAllow.cidrs: at most 1000 CIDRs, got 1001"}},
	}
}

func TestValidateCORS(t *testing.T) { runValidation(t, corsCases()) }

func corsCases() []validationCase {
	return []validationCase{
		{name: "valid", in: policy(onAPI + `
cors:
  allowOrigins: ["https://app.example.com", "http://localhost:3000", "http://[::1]:8080", "http://127.0.0.1"]
  allowOriginRegexes: ["https://[a-z]+\\.example\\.com"]
  allowMethods: [GET, POST]
  allowHeaders: [authorization, content-type]
  exposeHeaders: [x-request-id]
  maxAge: 10m
  allowCredentials: true
`)},
		{name: "origins required", in: policy(onAPI + "cors: {allowMethods: [GET]}"), want: []string{"spec.cors: set allowOrigins or allowOriginRegexes"}},
		{name: "star with credentials", in: policy(onAPI + `cors: {allowOrigins: ["*"], allowCredentials: true}`), want: []string{
			`spec.cors.allowCredentials: cannot be combined with origin "*"`,
		}},
		{name: "origins", in: policy(onAPI + `
cors:
  allowOrigins: ["https://app.example.com/", "HTTPS://app.example.com", "https://App.example.com", "app.example.com", "https://a.example.com:99999", "https://a.example.com?x", "https://a.example.com", "https://a.example.com"]
`), want: []string{
			`spec.cors.allowOrigins[0]: must be "*" or an origin such as "https://app.example.com" or "http://localhost:3000", got "https://app.example.com/": an origin has no path, query or fragment`,
			`spec.cors.allowOrigins[1]: must be "*" or an origin`,
			`spec.cors.allowOrigins[2]: must be "*" or an origin such as "https://app.example.com" or "http://localhost:3000", got "https://App.example.com": the host must be lower case`,
			`spec.cors.allowOrigins[3]: must be "*" or an origin`,
			`spec.cors.allowOrigins[4]: must be "*" or an origin`,
			`spec.cors.allowOrigins[5]: must be "*" or an origin`,
			`spec.cors.allowOrigins[7]: duplicate origin "https://a.example.com"`,
		}},
		{name: "lists", in: policy(onAPI + `
cors:
  allowOriginRegexes: ["("]
  allowMethods: [get]
  allowHeaders: [Authorization]
  exposeHeaders: [x-a, x-a]
  maxAge: 48h
`), want: []string{
			"spec.cors.allowOriginRegexes[0]: must be an RE2 regular expression",
			`spec.cors.allowMethods[0]: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT, got "get"`,
			`spec.cors.allowHeaders[0]: must be lower case: use "authorization"`,
			`spec.cors.exposeHeaders[1]: duplicate header "x-a"`,
			`spec.cors.maxAge: must be at most 24h, got "48h"`,
		}},
	}
}

func TestValidateHeadersPolicy(t *testing.T) { runValidation(t, headersPolicyCases()) }

func headersPolicyCases() []validationCase {
	return []validationCase{
		{name: "valid", in: policy(onAPI + `
headers:
  request: {add: [{name: x-a, value: "1"}, {name: x-a, value: "2"}], set: [{name: x-b, value: ""}], remove: [x-c]}
  response: {remove: [server]}
`)},
		{name: "empty", in: policy(onAPI + "headers: {request: {}}"), want: []string{
			"spec.headers: set at least one header to add, set or remove in request or response",
		}},
		{name: "edits", in: policy(onAPI + `
headers:
  request:
    add: [{name: Host, value: a}, {name: host, value: a}]
    set: [{name: x-a, value: "a\nb"}, {name: x-a, value: b}, {name: ":path", value: /}]
    remove: [x-a, x-d, x-d, ""]
  response:
    set: [{name: x-big, value: "` + strings.Repeat("v", MaxHeaderValueLength+1) + `"}]
`), want: []string{
			`spec.headers.request.add[0].name: must be lower case: use "host"`,
			"spec.headers.request.add[1].name: the host header cannot be added, set or removed; use a route's rewrite.host",
			"spec.headers.request.set[0].value: must not contain CR, LF or NUL characters",
			`spec.headers.request.set[1].name: duplicate header "x-a"`,
			`spec.headers.request.set[2].name: ":path" is an HTTP/2 pseudo-header`,
			`spec.headers.request.remove[0]: header "x-a" is also set at spec.headers.request.set[0].name; a header cannot be both set and removed`,
			`spec.headers.request.remove[2]: duplicate header "x-d"`,
			"spec.headers.request.remove[3]: required",
			"spec.headers.response.set[0].value: must be at most 4096 bytes, got 4097",
		}},
		{name: "edits capped", in: policy(onAPI + "headers:\n  request:\n    remove:\n" + repeat(MaxHeaderEdits+1, "    - x-h%[1]d\n")),
			want: []string{"spec.headers.request.remove: at most 32 headers, got 33"}},
	}
}

func TestValidateCORSOriginWithoutScheme(t *testing.T) {
	requireViolations(t, policy(onAPI+`cors: {allowOrigins: ["//a.example.com", "HTTPS://a.example.com"]}`), []string{
		`spec.cors.allowOrigins[0]: must be "*" or an origin such as "https://app.example.com" or "http://localhost:3000", got "//a.example.com": it must start with a lower-case scheme`,
		`spec.cors.allowOrigins[1]: must be "*" or an origin such as "https://app.example.com" or "http://localhost:3000", got "HTTPS://a.example.com": it must start with a lower-case scheme`,
	})
}
