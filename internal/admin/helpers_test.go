package admin

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/store"
)

// testEnv is an admin server over a real bolt-backed store in a temp dir.
type testEnv struct {
	t   testing.TB
	st  *store.Store
	srv *Server
	// tokens are bearer tokens by role; do sends the admin one unless the
	// caller passes its own Authorization header.
	tokens map[Role]string
	// expired is an admin token past its expiry.
	expired string
}

// newEnv builds a server whose authenticator (unless opts sets one)
// accepts one token per role.
func newEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	st := newStore(t)
	env := &testEnv{t: t, st: st, tokens: map[Role]string{}}
	if opts.Auth == nil {
		var toks []Token
		for _, r := range []Role{RoleViewer, RoleEditor, RoleAdmin} {
			tok, err := NewToken()
			require.NoError(t, err)
			env.tokens[r] = tok
			toks = append(toks, Token{Name: r.String() + "-user", Role: r, SHA256: HashToken(tok)})
		}
		// An admin token that expired a minute ago: the matrix's "expired
		// token" column.
		expired, err := NewToken()
		require.NoError(t, err)
		env.expired = expired
		toks = append(toks, Token{Name: "expired-admin", Role: RoleAdmin, SHA256: HashToken(expired), Expires: time.Now().Add(-time.Minute)})
		a, err := NewTokenAuthenticator(toks)
		require.NoError(t, err)
		opts.Auth = a
	}
	env.srv = New(st, opts)
	return env
}

func newStore(t testing.TB) *store.Store {
	t.Helper()
	b, err := store.OpenBolt(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	st, err := store.Open(b)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// authorize adds the admin token to a request built by hand.
func (e *testEnv) authorize(req *http.Request) *http.Request {
	req.Header.Set("Authorization", "Bearer "+e.tokens[RoleAdmin])
	return req
}

// response is a recorded answer.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) errorBody(t testing.TB) ErrorDetail {
	t.Helper()
	var eb ErrorBody
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&eb), "error body must have the stable shape: %s", r.body)
	require.Equal(t, r.code, eb.Error.Code, "code in body matches status")
	require.NotEmpty(t, eb.Error.Reason)
	require.NotEmpty(t, eb.Error.Message)
	return eb.Error
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

func (e *testEnv) do(method, path, body string, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/yaml")
	}
	if tok := e.tokens[RoleAdmin]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (e *testEnv) apply(body string) store.Result {
	e.t.Helper()
	r := e.do(http.MethodPost, "/v1/apply", body)
	require.Equal(e.t, http.StatusOK, r.code, "apply: %s", r.body)
	var res store.Result
	r.json(e.t, &res)
	return res
}

// selfSigned returns a PEM certificate and key valid between notBefore and notAfter.
func selfSigned(t *testing.T, cn string, notBefore, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     []string{cn},
		NotBefore:    notBefore, NotAfter: notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
}

// indent prefixes every line of s for embedding in a YAML literal block.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

const baseBundle = `
apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: edge, labels: {tier: edge}}
spec:
  mode: ingress
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
---
apiVersion: tollgate.dev/v1
kind: Service
metadata: {name: orders, labels: {team: shop}}
spec:
  endpoints:
  - {address: 10.0.0.1, port: 8080}
---
apiVersion: tollgate.dev/v1
kind: API
metadata: {name: shop, labels: {team: shop, tier: public}}
spec:
  gateways: [edge]
  hostnames: [shop.example.com]
  basePath: /shop
  routes:
  - name: list
    match: {pathPrefix: /orders}
    backends: [{service: orders}]
`
