package model

import (
	"strings"
	"testing"
)

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
		{
			name: "cidrs capped", in: policy(onAPI + "ipAllow:\n  cidrs:\n" + repeat(MaxCIDRs+1, "  - 10.0.%[1]d.0/32\n")),
			want: []string{"spec.ipAllow.cidrs: at most 1000 CIDRs, got 1001"},
		},
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
		{name: "star with credentials", in: policy(onAPI + `cors: {allowOrigins: ["*", "*"], allowCredentials: true}`), want: []string{
			`spec.cors.allowOrigins[1]: duplicate origin "*"`,
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
		{
			name: "edits capped", in: policy(onAPI + "headers:\n  request:\n    remove:\n" + repeat(MaxHeaderEdits+1, "    - x-h%[1]d\n")),
			want: []string{"spec.headers.request.remove: at most 32 headers, got 33"},
		},
	}
}

func TestValidateCORSOriginWithoutScheme(t *testing.T) {
	requireViolations(t, policy(onAPI+`cors: {allowOrigins: ["//a.example.com", "HTTPS://a.example.com"]}`), []string{
		`spec.cors.allowOrigins[0]: must be "*" or an origin such as "https://app.example.com" or "http://localhost:3000", got "//a.example.com": it must start with a lower-case scheme`,
		`spec.cors.allowOrigins[1]: must be "*" or an origin such as "https://app.example.com" or "http://localhost:3000", got "HTTPS://a.example.com": it must start with a lower-case scheme`,
	})
}
