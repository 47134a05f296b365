package model

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// validateJWT checks a JWT policy and each of its providers.
func validateJWT(e *Errs, p Path, j *tollgatev1.JWTPolicy) {
	pp := p.Field("providers")
	ps := j.GetProviders()
	if !checkRequired(e, pp, len(ps), "provider") || !checkCount(e, pp, len(ps), MaxJWTProviders, "providers") {
		return
	}
	names := firstSeen{}
	for i, pr := range ps {
		ip := pp.Index(i)
		if msg := ValidateName(pr.GetName()); msg != "" {
			e.Add(ip.Field("name"), "%s", msg)
		} else {
			names.dup(e, ip.Field("name"), pr.GetName(), "provider name")
		}
		validateJWTProvider(e, ip, pr)
	}
}

// validateJWTProvider checks one issuer: where its keys come from, and the
// claims it copies into headers.
func validateJWTProvider(e *Errs, p Path, pr *tollgatev1.JWTProvider) {
	if pr.GetIssuer() == "" {
		e.Add(p.Field("issuer"), "required: the iss claim tokens of this provider carry")
	} else {
		checkText(e, p.Field("issuer"), pr.GetIssuer(), MaxTextLength)
	}
	switch {
	case pr.GetJwksUri() == "" && pr.GetJwks() == "":
		e.Add(p, "set jwksUri (an https URL serving the issuer's keys) or jwks (the keys inline)")
	case pr.GetJwksUri() != "" && pr.GetJwks() != "":
		e.Add(p.Field("jwks"), "cannot be combined with jwksUri; set one of them")
	}
	if u := pr.GetJwksUri(); u != "" {
		checkJWKSURI(e, p.Field("jwksUri"), u)
	}
	if j := pr.GetJwks(); j != "" {
		checkJWKS(e, p.Field("jwks"), j)
	}
	ap := p.Field("audiences")
	if checkCount(e, ap, len(pr.GetAudiences()), MaxAudiences, "audiences") {
		for i, a := range pr.GetAudiences() {
			if a == "" {
				e.Add(ap.Index(i), "must not be empty")
				continue
			}
			checkText(e, ap.Index(i), a, MaxTextLength)
		}
	}
	cp := p.Field("claimToHeaders")
	if !checkCount(e, cp, len(pr.GetClaimToHeaders()), MaxClaimToHeaders, "claimToHeaders") {
		return
	}
	headers := firstSeen{}
	for i, c := range pr.GetClaimToHeaders() {
		ip := cp.Index(i)
		if c.GetClaim() == "" {
			e.Add(ip.Field("claim"), "required: the name of the claim to copy")
		} else {
			checkText(e, ip.Field("claim"), c.GetClaim(), MaxTextLength)
		}
		if checkMutableHeader(e, ip.Field("header"), c.GetHeader()) {
			headers.dup(e, ip.Field("header"), c.GetHeader(), "header")
		}
	}
}

// checkJWKSURI checks where keys are fetched from. Keys fetched over plain
// HTTP could be swapped in transit, so http is only for a local issuer.
func checkJWKSURI(e *Errs, p Path, s string) {
	if !checkLen(e, p, s, MaxURLLength) {
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		e.Add(p, "must be an absolute URL such as \"https://issuer.example.com/.well-known/jwks.json\", got %q", truncate(s))
	case u.User != nil:
		e.Add(p, "must not carry credentials (user:password@)")
	case u.Fragment != "" || strings.Contains(s, "#"):
		e.Add(p, "must not have a fragment (#...)")
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	case u.Scheme != "https":
		e.Add(p, "must use https (http is only allowed for localhost and 127.0.0.1), got scheme %q", truncate(u.Scheme))
	}
}

func isLoopbackHost(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

// checkJWKS checks an inline JWKS: JSON with a non-empty "keys" array whose
// entries each name their key type. The keys themselves are Envoy's to
// parse; this catches the pasted-the-wrong-document mistakes.
func checkJWKS(e *Errs, p Path, s string) {
	if !checkLen(e, p, s, MaxJWKSBytes) {
		return
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		e.Add(p, "must be a JWKS JSON document {\"keys\": [...]}: %s", err)
		return
	}
	if len(doc.Keys) == 0 {
		e.Add(p, "must have a non-empty \"keys\" array")
		return
	}
	for i, k := range doc.Keys {
		if kty, _ := k["kty"].(string); kty == "" {
			e.Add(p, "keys[%d] must have a \"kty\" string (such as \"RSA\" or \"EC\")", i)
		}
	}
}

// validateAPIKey checks an API-key policy. Messages never quote a key.
func validateAPIKey(e *Errs, p Path, a *tollgatev1.APIKeyPolicy) {
	apiKeyLocations.check(e, p.Field("in"), a.GetIn(), false)
	if n := a.GetName(); n != "" {
		if a.GetIn() == APIKeyInQuery {
			if msg := queryNameProblem(n); msg != "" {
				e.Add(p.Field("name"), "%s", msg)
			}
		} else {
			checkHeaderName(e, p.Field("name"), n)
		}
	}
	cp := p.Field("consumers")
	cs := a.GetConsumers()
	if !checkRequired(e, cp, len(cs), "consumer") || !checkCount(e, cp, len(cs), MaxAPIKeyConsumers, "consumers") {
		return
	}
	names, keys := firstSeen{}, map[string]int{}
	for i, c := range cs {
		ip := cp.Index(i)
		if msg := ValidateName(c.GetName()); msg != "" {
			e.Add(ip.Field("name"), "%s", msg)
		} else {
			names.dup(e, ip.Field("name"), c.GetName(), "consumer name")
		}
		if !checkAPIKey(e, ip.Field("key"), c.GetKey()) {
			continue
		}
		if first, dup := keys[c.GetKey()]; dup {
			e.Add(ip.Field("key"), "same key as consumers[%d]; every consumer needs its own key", first)
			continue
		}
		keys[c.GetKey()] = i
	}
}

// checkAPIKey checks one key without ever echoing it.
func checkAPIKey(e *Errs, p Path, k string) bool {
	switch {
	case k == "":
		e.Add(p, "required: a key of %d to %d characters", MinAPIKeyLength, MaxAPIKeyLength)
	case len(k) < MinAPIKeyLength:
		e.Add(p, "must be at least %d characters, got %d; generate one with \"openssl rand -hex 24\"", MinAPIKeyLength, len(k))
	case len(k) > MaxAPIKeyLength:
		e.Add(p, "must be at most %d characters, got %d", MaxAPIKeyLength, len(k))
	case !isVisibleASCII(k):
		e.Add(p, "must be printable ASCII without spaces")
	default:
		return true
	}
	return false
}

func isVisibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validateBasicAuth checks basic-auth users. Messages never quote a hash.
func validateBasicAuth(e *Errs, p Path, b *tollgatev1.BasicAuthPolicy) {
	up := p.Field("users")
	us := b.GetUsers()
	if !checkRequired(e, up, len(us), "user") || !checkCount(e, up, len(us), MaxBasicAuthUsers, "users") {
		return
	}
	names := firstSeen{}
	for i, u := range us {
		ip := up.Index(i)
		np := ip.Field("name")
		switch n := u.GetName(); {
		case n == "":
			e.Add(np, "required")
		case len(n) > MaxHeaderNameLength:
			e.Add(np, "must be at most %d bytes, got %d", MaxHeaderNameLength, len(n))
		case strings.Contains(n, ":") || !isVisibleASCII(n):
			e.Add(np, "%q must be printable ASCII without spaces or ':' (basic auth splits user and password at the first ':')", truncate(n))
		default:
			names.dup(e, np, n, "user name")
		}
		if !isSHAHash(u.GetPasswordHash()) {
			e.Add(ip.Field("passwordHash"), `must be an htpasswd SHA hash: "{SHA}" and the base64 SHA-1 of the password; produce one with "htpasswd -nbs user pass"`)
		}
	}
}

// isSHAHash reports whether h is "{SHA}" and the base64 of 20 bytes, the
// only htpasswd format Envoy's basic_auth filter accepts.
func isSHAHash(h string) bool {
	b64, ok := strings.CutPrefix(h, "{SHA}")
	if !ok || len(b64) != 28 {
		return false
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	return err == nil && len(raw) == 20
}
