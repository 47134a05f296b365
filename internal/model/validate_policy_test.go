package model

import "testing"

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
	return append(tests, validationCase{
		name: "full message", in: policy(target("Service", "") + bodies["jwt"]),
		want: []string{"spec.targetRef.kind: a jwt policy cannot target a Service; it applies to a Gateway, an API or a route of an API"},
	})
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
		{
			name: "limits capped", in: policy(onAPI + `
rateLimit:
  scope: Local
  limits:
` + repeat(MaxRateLimits+1, "  - {requests: 1, window: %[1]ds}\n")),
			want: []string{
				`spec.rateLimit.scope: must be one of local, global, got "Local"`,
				"spec.rateLimit.limits: at most 8 limits, got 9",
			},
		},
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
