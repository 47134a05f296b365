package model

import (
	"strings"
	"testing"
)

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
		{
			name: "providers capped", in: policy(onAPI + "jwt:\n  providers:\n" + repeat(MaxJWTProviders+1, "  - {name: p%[1]d, issuer: i, jwksUri: \"https://i.example.com/k\"}\n")),
			want: []string{"spec.jwt.providers: at most 16 providers, got 17"},
		},
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
