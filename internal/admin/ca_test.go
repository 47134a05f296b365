package admin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/ca"
	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/pki"
)

// The built-in CA is what the admin API serves in production.
var _ CertificateAuthority = (*ca.Authority)(nil)

// fakeCA signs for real with crypto/x509 so the tests see genuine
// certificates; the control plane's CA is another package's job.
type fakeCA struct {
	mu     sync.Mutex
	key    *ecdsa.PrivateKey
	cert   *x509.Certificate
	pem    []byte
	tokens map[string]fakeJoin
	now    func() time.Time
}

type fakeJoin struct {
	gateway string
	expires time.Time
}

func newFakeCA(t testing.TB) *fakeCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tollgate test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &fakeCA{
		key: key, cert: cert, tokens: map[string]fakeJoin{}, now: time.Now,
		pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}
}

func (c *fakeCA) Bundle() []byte { return c.pem }

func (c *fakeCA) RotateCA(_ context.Context, phase string) error {
	if phase == "retire" {
		return fmt.Errorf("%w: nothing to retire", ErrRotation)
	}
	return nil
}

func (c *fakeCA) RotateIdentity(_ context.Context, gateway string) error {
	if gateway == "proxyless" {
		return fmt.Errorf("%w: proxyless", ErrNotRotatable)
	}
	return nil
}

func (c *fakeCA) GatewayOf(cert *x509.Certificate) (string, error) {
	return pki.GatewayOf(cert, "tollgate.test")
}

func (c *fakeCA) Issue(_ context.Context, gateway string, csrPEM []byte) ([]byte, error) {
	blk, _ := pem.Decode(csrPEM)
	if blk == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrInvalidCSR)
	}
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	id, _ := url.Parse("spiffe://tollgate.test/gateway/" + gateway)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), URIs: []*url.URL{id},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, csr.PublicKey, c.key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func (c *fakeCA) NewJoinToken(_ context.Context, gateway string, ttl time.Duration) (string, time.Time, error) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "tgj_" + base64.RawURLEncoding.EncodeToString(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(ttl)
	c.tokens[tok] = fakeJoin{gateway: gateway, expires: exp}
	return tok, exp, nil
}

func (c *fakeCA) Join(ctx context.Context, token string, csrPEM []byte) (string, []byte, error) {
	c.mu.Lock()
	j, ok := c.tokens[token]
	delete(c.tokens, token) // spent, even when expired
	c.mu.Unlock()
	if !ok || c.now().After(j.expires) {
		return "", nil, ErrBadJoinToken
	}
	cert, err := c.Issue(ctx, j.gateway, csrPEM)
	return j.gateway, cert, err
}

// newCSR returns a PEM CSR and the PEM private key that stays with the proxy.
func newCSR(t testing.TB) (csrPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "proxy"}}, key)
	require.NoError(t, err)
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
}

// jsonBody quotes v for embedding in a JSON document.
func jsonBody(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, fmt.Sprintf("%q: %q", kv[i], kv[i+1]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

var jsonCT = []string{"Content-Type", "application/json"}

func TestCAEndpointsWithoutCA(t *testing.T) {
	env := newEnv(t, Options{})
	env.apply(baseBundle)
	csr, _ := newCSR(t)
	for _, rq := range [][3]string{
		{"GET", "/v1/ca", ""},
		{"POST", "/v1/gateways/edge/certificates", jsonBody("csr", csr)},
		{"POST", "/v1/gateways/edge/join-tokens", "{}"},
		{"POST", "/v1/join", jsonBody("token", "x", "csr", csr)},
	} {
		r := env.do(rq[0], rq[1], rq[2], jsonCT...)
		require.Equal(t, http.StatusNotImplemented, r.code, "%s %s: %s", rq[0], rq[1], r.body)
		e := r.errorBody(t)
		require.Equal(t, ReasonNotImplemented, e.Reason)
		require.Contains(t, e.Message, "without a CA")
	}
}

func TestCABundleAndIssue(t *testing.T) {
	ca := newFakeCA(t)
	env := newEnv(t, Options{CA: ca})
	env.apply(baseBundle)

	r := env.do("GET", "/v1/ca", "", "Authorization", "Bearer "+env.tokens[RoleViewer])
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	var b caBundleBody
	r.json(t, &b)
	sum := sha256.Sum256(ca.cert.Raw)
	require.Equal(t, hex.EncodeToString(sum[:]), b.SHA256)
	require.Equal(t, string(ca.pem), b.CABundle)

	csr, key := newCSR(t)
	r = env.do("POST", "/v1/gateways/edge/certificates", jsonBody("csr", csr), jsonCT...)
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	var cb certificateBody
	r.json(t, &cb)
	require.Equal(t, "edge", cb.Gateway)
	require.Equal(t, string(ca.pem), cb.CABundle)
	blk, _ := pem.Decode([]byte(cb.Certificate))
	require.NotNil(t, blk)
	cert, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(t, err)
	require.NoError(t, cert.CheckSignatureFrom(ca.cert))
	require.Equal(t, "spiffe://tollgate.test/gateway/edge", cert.URIs[0].String())
	require.NotContains(t, string(r.body), "PRIVATE KEY")

	tests := []struct {
		name, path, body string
		hdr              []string
		code             int
		reason           Reason
		violation        string // path of the expected violation
	}{
		{"a private key alongside the CSR", "/v1/gateways/edge/certificates", jsonBody("csr", csr+key), jsonCT, 400, ReasonInvalid, "csr"},
		{"a private key instead of a CSR", "/v1/gateways/edge/certificates", jsonBody("csr", key), jsonCT, 400, ReasonInvalid, "csr"},
		{"unknown field", "/v1/gateways/edge/certificates", jsonBody("csr", csr, "key", "x"), jsonCT, 400, ReasonInvalid, "key"},
		{"wrong type", "/v1/gateways/edge/certificates", `{"csr": 5}`, jsonCT, 400, ReasonInvalid, "csr"},
		{"missing csr", "/v1/gateways/edge/certificates", `{}`, jsonCT, 400, ReasonInvalid, "csr"},
		{"CSR the CA cannot parse", "/v1/gateways/edge/certificates", jsonBody("csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), jsonCT, 400, ReasonInvalid, "csr"},
		{"YAML is not accepted", "/v1/gateways/edge/certificates", "csr: x", []string{"Content-Type", "application/yaml"}, 415, ReasonUnsupportedMedia, ""},
		{"trailing data", "/v1/gateways/edge/certificates", jsonBody("csr", csr) + "{}", jsonCT, 400, ReasonInvalid, ""},
		{"unknown gateway", "/v1/gateways/nowhere/certificates", jsonBody("csr", csr), jsonCT, 404, ReasonNotFound, ""},
		{"bad gateway name", "/v1/gateways/Bad_Name/certificates", jsonBody("csr", csr), jsonCT, 400, ReasonInvalid, ""},
		{"ttl over a day", "/v1/gateways/edge/join-tokens", jsonBody("ttl", "48h"), jsonCT, 400, ReasonInvalid, "ttl"},
		{"ttl not a duration", "/v1/gateways/edge/join-tokens", jsonBody("ttl", "soon"), jsonCT, 400, ReasonInvalid, "ttl"},
		{"join token for unknown gateway", "/v1/gateways/nowhere/join-tokens", "{}", jsonCT, 404, ReasonNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.do("POST", tc.path, tc.body, tc.hdr...)
			require.Equal(t, tc.code, r.code, "%s", r.body)
			e := r.errorBody(t)
			require.Equal(t, tc.reason, e.Reason)
			if tc.violation != "" {
				require.True(t, hasViolation(e.Violations, violationAt(tc.violation)), "want a violation at %q: %+v", tc.violation, e.Violations)
			}
			require.NotContains(t, string(r.body), "PRIVATE KEY")
		})
	}
}

func TestJoinFlow(t *testing.T) {
	ca := newFakeCA(t)
	env := newEnv(t, Options{CA: ca})
	env.apply(baseBundle)

	// An empty JSON body takes the default lifetime.
	r := env.do("POST", "/v1/gateways/edge/join-tokens", "", jsonCT...)
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	var jt joinTokenBody
	r.json(t, &jt)
	require.Equal(t, "edge", jt.Gateway)
	require.WithinDuration(t, time.Now().Add(time.Hour), jt.Expires, time.Minute)
	sum := sha256.Sum256(ca.cert.Raw)
	require.Equal(t, hex.EncodeToString(sum[:]), jt.CASHA256)

	csr, _ := newCSR(t)
	// The join is authenticated by its token alone: no Authorization header.
	noAuth := []string{"Authorization", "", "Content-Type", "application/json"}
	r = env.do("POST", "/v1/join", jsonBody("token", jt.Token, "csr", csr), noAuth...)
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	var cb certificateBody
	r.json(t, &cb)
	require.Equal(t, "edge", cb.Gateway)
	require.Contains(t, cb.Certificate, "BEGIN CERTIFICATE")

	r = env.do("POST", "/v1/gateways/edge/join-tokens", jsonBody("ttl", "1m"), jsonCT...)
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	var short joinTokenBody
	r.json(t, &short)
	ca.mu.Lock()
	ca.now = func() time.Time { return time.Now().Add(time.Hour) }
	ca.mu.Unlock()

	var messages []string
	for name, tok := range map[string]string{"spent": jt.Token, "expired": short.Token, "unknown": "tgj_nope"} {
		r = env.do("POST", "/v1/join", jsonBody("token", tok, "csr", csr), noAuth...)
		require.Equal(t, http.StatusUnauthorized, r.code, "%s: %s", name, r.body)
		e := r.errorBody(t)
		require.Equal(t, ReasonInvalidJoinToken, e.Reason, name)
		messages = append(messages, e.Message)
	}
	require.Equal(t, messages[0], messages[1], "no hint which way a token is bad")
	require.Equal(t, messages[1], messages[2], "no hint which way a token is bad")

	r = env.do("POST", "/v1/join", jsonBody("csr", csr), noAuth...)
	require.Equal(t, http.StatusBadRequest, r.code, "%s", r.body)
	require.True(t, hasViolation(r.errorBody(t).Violations, violationAt("token")))
}

// violationAt matches any violation at path.
func violationAt(path string) model.Violation { return model.Violation{Path: path} }

// TestRenew: the only credential for renewal is a verified gateway
// certificate, and the new certificate is for that same gateway.
func TestRenew(t *testing.T) {
	fake := newFakeCA(t)
	env := newEnv(t, Options{CA: fake})
	env.apply(baseBundle)
	csr, _ := newCSR(t)
	current, err := fake.Issue(context.Background(), "edge", []byte(csr))
	require.NoError(t, err)
	leaf, err := pki.ParseCertPEM(current)
	require.NoError(t, err)

	renew := func(state *tls.ConnectionState, bearer string) response {
		req := httptest.NewRequest(http.MethodPost, "/v1/renew", strings.NewReader(jsonBody("csr", csr)))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		req.TLS = state
		rec := httptest.NewRecorder()
		env.srv.ServeHTTP(rec, req)
		return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	}
	r := renew(&tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf, fake.cert}}}, "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	var cb certificateBody
	r.json(t, &cb)
	require.Equal(t, "edge", cb.Gateway)
	renewed, err := pki.ParseCertPEM([]byte(cb.Certificate))
	require.NoError(t, err)
	require.Equal(t, "spiffe://tollgate.test/gateway/edge", renewed.URIs[0].String())

	require.Equal(t, http.StatusUnauthorized, renew(nil, "").code, "no certificate")
	require.Equal(t, http.StatusUnauthorized, renew(nil, env.tokens[RoleAdmin]).code, "a bearer token is not a gateway identity")
	require.Equal(t, http.StatusUnauthorized, renew(&tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}, "").code,
		"an unverified certificate is no identity")
	admin := *leaf
	admin.URIs = []*url.URL{{Scheme: "spiffe", Host: "tollgate.test", Path: "/admin/ops"}}
	require.Equal(t, http.StatusUnauthorized, renew(&tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{&admin}}}, "").code,
		"only gateway identities renew")
}

// TestReservedNames: the objects the CA manages cannot be written or
// deleted through the API, by anyone.
func TestReservedNames(t *testing.T) {
	env := newEnv(t, Options{})
	bundle, err := json.Marshal(string(newFakeCA(t).pem))
	require.NoError(t, err)
	secret := "apiVersion: tollgate.dev/v1\nkind: Secret\nmetadata: {name: tollgate-ca}\nspec: {type: ca, caBundle: " + string(bundle) + "}\n"
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/v1/apply", secret},
		{"PUT", "/v1/secrets/tollgate-ca", secret},
		{"DELETE", "/v1/secrets/tollgate-id-edge", ""},
	} {
		r := env.do(tc.method, tc.path, tc.body, "Content-Type", "application/yaml")
		require.Equal(t, http.StatusBadRequest, r.code, "%s %s: %s", tc.method, tc.path, r.body)
		e := r.errorBody(t)
		require.True(t, hasViolation(e.Violations, violationAt("metadata.name")), "%+v", e.Violations)
		require.Contains(t, e.Violations[0].Message, "managed by the control plane")
	}
}

func TestRotateIdentity(t *testing.T) {
	env := newEnv(t, Options{CA: newFakeCA(t)})
	env.apply(baseBundle)
	r := env.do("POST", "/v1/gateways/edge/rotate-identity", "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	require.Contains(t, string(r.body), `"rotated": "tollgate-id-edge"`)
	require.Equal(t, http.StatusNotFound, env.do("POST", "/v1/gateways/nowhere/rotate-identity", "").code)
}

func TestRotateCA(t *testing.T) {
	env := newEnv(t, Options{CA: newFakeCA(t)})
	r := env.do("POST", "/v1/ca/rotate", `{"phase":"prepare"}`, jsonCT...)
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	r = env.do("POST", "/v1/ca/rotate", `{"phase":"later"}`, jsonCT...)
	require.Equal(t, http.StatusBadRequest, r.code, "%s", r.body)
	require.True(t, hasViolation(r.errorBody(t).Violations, violationAt("phase")))
	r = env.do("POST", "/v1/ca/rotate", `{"phase":"retire"}`, jsonCT...)
	require.Equal(t, http.StatusConflict, r.code, "%s", r.body)
}
