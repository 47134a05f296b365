package admin

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// wantRole is the authorisation table written out by hand, independent of
// the role field the server uses: a route added without a line here, or a
// role changed in the route table, fails TestAuthorisationMatrix.
var wantRole = map[string]string{
	"POST /v1/apply":                           "editor",
	"GET /v1/status":                           "viewer",
	"GET /v1/{kind}":                           "viewer",
	"GET /v1/{kind}/{name}":                    "viewer",
	"PUT /v1/{kind}/{name}":                    "editor",
	"DELETE /v1/{kind}/{name}":                 "editor",
	"GET /v1/{kind}/{name}/status":             "viewer",
	"GET /v1/gateways/{name}/status":           "viewer",
	"GET /v1/gateways/{name}/config":           "viewer",
	"GET /v1/nodes":                            "viewer",
	"GET /v1/ca":                               "public",
	"POST /v1/renew":                           "gateway-certificate",
	"POST /v1/gateways/{name}/certificates":    "admin",
	"POST /v1/gateways/{name}/join-tokens":     "admin",
	"POST /v1/gateways/{name}/rotate-identity": "admin",
	"POST /v1/ca/rotate":                       "admin",
	"POST /v1/join":                            "public",
	"GET /v1/audit":                            "admin",
	"GET /metrics":                             "viewer",
	"GET /healthz":                             "public",
	"GET /readyz":                              "public",
	"GET /openapi.json":                        "public",
}

// identity is one column of the matrix: how a request authenticates and
// the role it should get ("" for none).
type identity struct {
	name   string
	role   string
	setup  func(env *testEnv, req *http.Request)
	remote string
}

func identities() []identity {
	bearer := func(r Role) func(*testEnv, *http.Request) {
		return func(env *testEnv, req *http.Request) { req.Header.Set("Authorization", "Bearer "+env.tokens[r]) }
	}
	header := func(v string) func(*testEnv, *http.Request) {
		return func(_ *testEnv, req *http.Request) { req.Header.Set("Authorization", v) }
	}
	none := func(*testEnv, *http.Request) {}
	return []identity{
		{name: "no token", setup: none},
		{name: "bad token", setup: header("Bearer tgt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")},
		{name: "revoked token", setup: header("Bearer tgt_revoked-not-configured-any-more")},
		{name: "expired token", setup: func(env *testEnv, req *http.Request) { req.Header.Set("Authorization", "Bearer "+env.expired) }},
		{name: "basic auth", setup: header("Basic " + base64.StdEncoding.EncodeToString([]byte("admin:admin")))},
		{name: "localhost v4 no token", setup: none, remote: "127.0.0.1:1234"},
		{name: "localhost v6 no token", setup: none, remote: "[::1]:1234"},
		{name: "unverified client cert", setup: func(_ *testEnv, req *http.Request) {
			req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{spiffeCert("spiffe://tollgate.test/admin/alice")}}
		}},
		{name: "viewer", role: "viewer", setup: bearer(RoleViewer)},
		{name: "editor", role: "editor", setup: bearer(RoleEditor)},
		{name: "admin", role: "admin", setup: bearer(RoleAdmin)},
		{name: "localhost viewer", role: "viewer", setup: bearer(RoleViewer), remote: "127.0.0.1:1234"},
		{name: "client cert editor", role: "editor", setup: func(_ *testEnv, req *http.Request) {
			req.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{spiffeCert("spiffe://tollgate.test/admin/bob")}}}
		}},
	}
}

func spiffeCert(id string) *x509.Certificate {
	u, _ := url.Parse(id)
	return &x509.Certificate{URIs: []*url.URL{u}}
}

var roleRank = map[string]int{"": 0, "viewer": 1, "editor": 2, "admin": 3}

// matrixEnv is a server with every optional part present, so each handler
// really runs behind the guard.
func matrixEnv(t *testing.T) *testEnv {
	t.Helper()
	env := newEnv(t, Options{CA: newFakeCA(t)})
	auth := env.srv.opts.Auth
	env.srv = New(env.st, Options{
		CA:    newFakeCA(t),
		Audit: openAudit(t),
		Auth:  FirstOf(auth, ClientCertRoles{"spiffe://tollgate.test/admin/bob": RoleEditor}),
	})
	env.apply(baseBundle)
	return env
}

// concrete fills a route pattern with names that exist.
func concrete(pattern string) string {
	return strings.NewReplacer("{kind}", "services", "{name}", "edge").Replace(pattern)
}

func TestAuthorisationMatrix(t *testing.T) {
	env := matrixEnv(t)
	var seen []string
	for _, rt := range env.srv.routes() {
		for method := range rt.methods {
			key := method + " " + rt.pattern
			seen = append(seen, key)
			want, ok := wantRole[key]
			require.True(t, ok, "%s is not in the hand-written authorisation table", key)
			methods := []string{method}
			if method == http.MethodGet {
				methods = append(methods, http.MethodHead)
			}
			for _, m := range methods {
				for _, id := range identities() {
					r := matrixRequest(t, env, m, concrete(rt.pattern), id)
					checkClass(t, m+" "+rt.pattern+" as "+id.name, want, id.role, r)
				}
			}
		}
	}
	for key := range wantRole {
		require.Contains(t, seen, key, "the table lists %s but the server has no such route", key)
	}
}

// TestAuthBeforeDispatch: 405 and 404 are answers only an authenticated
// caller gets, except on public routes, so nothing can be enumerated.
func TestAuthBeforeDispatch(t *testing.T) {
	env := matrixEnv(t)
	for _, rt := range env.srv.routes() {
		public := true
		for m := range rt.methods {
			w := wantRole[m+" "+rt.pattern]
			public = public && (w == "public" || w == "gateway-certificate")
		}
		want := "viewer"
		if public {
			want = "public"
		}
		for _, id := range identities() {
			r := matrixRequest(t, env, http.MethodPatch, concrete(rt.pattern), id)
			name := "PATCH " + rt.pattern + " as " + id.name
			checkClass(t, name, want, id.role, r)
			if r.code != http.StatusUnauthorized {
				require.Equal(t, http.StatusMethodNotAllowed, r.code, name)
			}
		}
	}
	for _, path := range []string{"/v2/apis", "/v1/nothings", "/v1/apis/x/y/z", "/admin", "/"} {
		for _, id := range identities() {
			r := matrixRequest(t, env, http.MethodGet, path, id)
			checkClass(t, "GET "+path+" as "+id.name, "viewer", id.role, r)
			if id.role != "" {
				require.Equal(t, http.StatusNotFound, r.code, "%s as %s", path, id.name)
			}
		}
	}
}

func matrixRequest(t *testing.T, env *testEnv, method, path string, id identity) response {
	t.Helper()
	body := ""
	if method == http.MethodPost || method == http.MethodPut {
		body = "{}"
	}
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if id.remote != "" {
		req.RemoteAddr = id.remote
	}
	id.setup(env, req)
	rec := httptest.NewRecorder()
	env.srv.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// checkClass asserts the status class a caller with role has on an
// operation that needs need.
func checkClass(t *testing.T, name, need, role string, r response) {
	t.Helper()
	switch {
	case need == "public":
		require.NotContains(t, []int{401, 403}, r.code, "%s: %s", name, r.body)
	case need == "gateway-certificate":
		// Only a verified gateway identity (TestRenew) gets through; no
		// bearer token or admin certificate does.
		require.Equal(t, http.StatusUnauthorized, r.code, "%s: %s", name, r.body)
	case role == "":
		require.Equal(t, http.StatusUnauthorized, r.code, "%s: %s", name, r.body)
		require.Equal(t, `Bearer realm="tollgate"`, r.header.Get("WWW-Authenticate"), name)
		if len(r.body) > 0 { // HEAD answers carry no body
			require.Equal(t, ReasonUnauthenticated, r.errorBody(t).Reason, name)
		}
	case roleRank[role] < roleRank[need]:
		require.Equal(t, http.StatusForbidden, r.code, "%s: %s", name, r.body)
		if len(r.body) > 0 {
			e := r.errorBody(t)
			require.Equal(t, ReasonForbidden, e.Reason, name)
			require.Contains(t, e.Message, "needs role "+need, name)
			require.Contains(t, e.Message, "has role "+role, name)
		}
	default:
		require.NotContains(t, []int{401, 403}, r.code, "%s: %s", name, r.body)
	}
}

func TestUnauthenticatedMessages(t *testing.T) {
	env := newEnv(t, Options{})
	missing := env.do("GET", "/v1/apis", "", "Authorization", "")
	bad := env.do("GET", "/v1/apis", "", "Authorization", "Bearer tgt_wrong")
	for _, r := range []response{missing, bad} {
		require.Equal(t, http.StatusUnauthorized, r.code)
		require.Equal(t, ReasonUnauthenticated, r.errorBody(t).Reason)
	}
	require.Contains(t, missing.errorBody(t).Message, "no bearer token")
	require.Contains(t, bad.errorBody(t).Message, "not recognised")
}

// TestNoAuthenticatorFailsClosed: a server built without Auth serves only
// the public endpoints; the insecure mode has to be asked for.
func TestNoAuthenticatorFailsClosed(t *testing.T) {
	st := newStore(t)
	srv := New(st, Options{})
	get := func(path string) int {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	require.Equal(t, http.StatusUnauthorized, get("/v1/apis"))
	require.Equal(t, http.StatusUnauthorized, get("/metrics"))
	require.Equal(t, http.StatusOK, get("/healthz"))
	require.Equal(t, http.StatusOK, get("/readyz"))
	require.Equal(t, http.StatusOK, get("/openapi.json"))

	env := &testEnv{t: t, st: st, srv: New(st, Options{Auth: AllowAnonymous(RoleViewer)})}
	require.Equal(t, http.StatusOK, env.do("GET", "/v1/apis", "").code)
	r := env.do("PUT", "/v1/services/s", "{}")
	require.Equal(t, http.StatusForbidden, r.code)
	require.Contains(t, r.errorBody(t).Message, `"anonymous" has role viewer`)
}

// TestNoCORS: no answer carries Access-Control-* headers, so browsers on
// other origins can neither read answers nor pass a preflight.
func TestNoCORS(t *testing.T) {
	env := newEnv(t, Options{})
	env.apply(baseBundle)
	for _, rq := range [][2]string{
		{"GET", "/v1/apis"},
		{"GET", "/healthz"},
		{"GET", "/openapi.json"},
		{"OPTIONS", "/v1/apply"},
		{"POST", "/v1/apply"},
		{"GET", "/nowhere"},
	} {
		for _, tok := range []string{"", "Bearer " + env.tokens[RoleAdmin]} {
			r := env.do(rq[0], rq[1], "", "Origin", "https://evil.example", "Authorization", tok,
				"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization")
			for h := range r.header {
				require.False(t, strings.HasPrefix(strings.ToLower(h), "access-control-"), "%s %s: header %s", rq[0], rq[1], h)
			}
		}
	}
}

func TestTokenAuthenticator(t *testing.T) {
	tok, err := NewToken()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, "tgt_"))
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, "tgt_"))
	require.NoError(t, err)
	require.Len(t, raw, 32)
	other, err := NewToken()
	require.NoError(t, err)
	require.NotEqual(t, tok, other)

	h := HashToken(tok)
	bad := []struct {
		name   string
		tokens []Token
	}{
		{"no name", []Token{{Role: RoleAdmin, SHA256: h}}},
		{"no role", []Token{{Name: "a", SHA256: h}}},
		{"public is no role", []Token{{Name: "a", Role: rolePublic, SHA256: h}}},
		{"no hash", []Token{{Name: "a", Role: RoleAdmin}}},
		{"duplicate name", []Token{{Name: "a", Role: RoleAdmin, SHA256: h}, {Name: "a", Role: RoleViewer, SHA256: HashToken(other)}}},
		{"duplicate hash", []Token{{Name: "a", Role: RoleAdmin, SHA256: h}, {Name: "b", Role: RoleViewer, SHA256: h}}},
	}
	for _, tc := range bad {
		_, err := NewTokenAuthenticator(tc.tokens)
		require.Error(t, err, tc.name)
	}
	a, err := NewTokenAuthenticator([]Token{{Name: "ci", Role: RoleEditor, SHA256: h}})
	require.NoError(t, err)
	for hdr, want := range map[string]error{
		"": ErrNoCredentials, "Bearer " + tok: nil, "bearer " + tok: nil, "Bearer  " + tok + " ": nil,
		"Bearer " + other: ErrBadCredentials, "Bearer": ErrBadCredentials, "Token " + tok: ErrBadCredentials,
	} {
		req := httptest.NewRequest("GET", "/", nil)
		if hdr != "" {
			req.Header.Set("Authorization", hdr)
		}
		p, err := a.Authenticate(req)
		require.ErrorIs(t, err, want, "%q", hdr)
		if want == nil {
			require.NoError(t, err)
			require.Equal(t, Principal{Name: "ci", Role: RoleEditor}, p)
		}
	}
}

func TestFirstOfAndClientCerts(t *testing.T) {
	tok, _ := NewToken()
	tokens, err := NewTokenAuthenticator([]Token{{Name: "ci", Role: RoleViewer, SHA256: HashToken(tok)}})
	require.NoError(t, err)
	certs := ClientCertRoles{"spiffe://t/admin/alice": RoleAdmin}
	auth := FirstOf(tokens, certs)
	verified := &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{spiffeCert("spiffe://t/admin/alice")}}}

	req := httptest.NewRequest("GET", "/", nil)
	_, err = auth.Authenticate(req)
	require.ErrorIs(t, err, ErrNoCredentials)

	req.TLS = verified
	p, err := auth.Authenticate(req)
	require.NoError(t, err)
	require.Equal(t, Principal{Name: "spiffe://t/admin/alice", Role: RoleAdmin}, p)

	req.Header.Set("Authorization", "Bearer "+tok)
	p, err = auth.Authenticate(req)
	require.NoError(t, err)
	require.Equal(t, "ci", p.Name, "a bearer token is asked first")

	req.Header.Set("Authorization", "Bearer wrong")
	_, err = auth.Authenticate(req)
	require.ErrorIs(t, err, ErrBadCredentials, "a wrong token is not rescued by a certificate")

	req = httptest.NewRequest("GET", "/", nil)
	req.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{spiffeCert("spiffe://t/admin/mallory")}}}
	_, err = auth.Authenticate(req)
	require.ErrorIs(t, err, ErrBadCredentials, "a verified but unlisted identity is refused")
}

func TestRoles(t *testing.T) {
	for _, name := range []string{"viewer", "editor", "admin"} {
		r, err := ParseRole(name)
		require.NoError(t, err)
		require.Equal(t, name, r.String())
	}
	for _, bad := range []string{"", "Admin", "public", "root"} {
		_, err := ParseRole(bad)
		require.Error(t, err, bad)
	}
	require.True(t, slices.IsSorted([]Role{RoleViewer, RoleEditor, RoleAdmin}))
	require.Less(t, Role(0), RoleViewer, "the zero role grants nothing")
}

// TestOpenAPISecurity: the document states every operation's role and how
// to authenticate, matching the hand-written table.
func TestOpenAPISecurity(t *testing.T) {
	env := newEnv(t, Options{})
	r := env.do("GET", "/openapi.json", "", "Authorization", "")
	require.Equal(t, http.StatusOK, r.code)
	var doc struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	r.json(t, &doc)
	require.Equal(t, "http", doc.Components.SecuritySchemes["bearerAuth"]["type"])
	require.Equal(t, "bearer", doc.Components.SecuritySchemes["bearerAuth"]["scheme"])
	for key, want := range wantRole {
		method, pattern, _ := strings.Cut(key, " ")
		op := doc.Paths[concreteDocPath(pattern)][strings.ToLower(method)]
		require.NotNil(t, op, "%s is documented", key)
		if want == "gateway-certificate" {
			want = "public" // no bearer token; the handler checks the certificate (summary says so)
		}
		require.Equal(t, want, op["x-tollgate-role"], key)
		sec, _ := op["security"].([]any)
		if want == "public" {
			require.Empty(t, sec, "%s needs no credentials", key)
		} else {
			require.NotEmpty(t, sec, "%s names its security", key)
		}
	}
}

// concreteDocPath is the documented path of a pattern ({kind} expands to
// every collection; services is one of them).
func concreteDocPath(pattern string) string {
	return strings.ReplaceAll(pattern, "{kind}", "services")
}
