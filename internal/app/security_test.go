package app_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tollgate.dev/tollgate/internal/admin"
	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/config"
	"tollgate.dev/tollgate/internal/pki"
	"tollgate.dev/tollgate/internal/xdsclient"
)

// secureApp is a control plane started with the default, secure settings,
// and an admin client holding the admin token it created.
type secureApp struct {
	*app.App
	t     *testing.T
	cfg   config.Config
	token string
	hc    *http.Client
}

// startSecureApp runs the control plane as `controlplane serve` would with
// no security settings at all: TLS and authentication on, built-in CA.
func startSecureApp(t *testing.T, dataDir string) *secureApp {
	t.Helper()
	return startSecureAppWith(t, dataDir, func(*config.Config) {})
}

// startSecureAppWith is startSecureApp with settings changed by modify.
func startSecureAppWith(t *testing.T, dataDir string, modify func(*config.Config)) *secureApp {
	t.Helper()
	cfg, err := config.Defaults()
	require.NoError(t, err)
	cfg.DataDir = dataDir
	cfg.Admin.Address, cfg.XDS.Address = "127.0.0.1:0", "127.0.0.1:0"
	modify(&cfg)
	require.Empty(t, cfg.Validate())
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Wait(ctx) }()
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { cancel(); require.NoError(t, <-done) }) })

	tok, err := os.ReadFile(cfg.AdminTokenPath())
	require.NoError(t, err)
	info, err := os.Stat(cfg.AdminTokenPath())
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the admin token is readable by its owner only")
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(a.CABundle()))
	onDisk, err := os.ReadFile(cfg.CABundlePath())
	require.NoError(t, err)
	require.Equal(t, string(a.CABundle()), string(onDisk))
	return &secureApp{
		App: a, t: t, cfg: cfg, token: strings.TrimSpace(string(tok)),
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}},
	}
}

// call sends an authenticated admin request and returns status and body.
func (s *secureApp) call(method, path, contentType, body string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.AdminURL()+path, strings.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Authorization", "Bearer "+s.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.hc.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, b
}

func (s *secureApp) mustCall(method, path, contentType, body string) []byte {
	s.t.Helper()
	code, b := s.call(method, path, contentType, body)
	require.Less(s.t, code, 300, "%s %s: %s", method, path, b)
	return b
}

// issue has the control plane's CA sign a fresh key for gateway, the way
// `controlplane certs issue` does: certificate, key and CA bundle.
func (s *secureApp) issue(gateway string) (certPEM, keyPEM, caPEM []byte) {
	s.t.Helper()
	keyPEM, csrPEM, err := pki.NewKeyAndCSR(gateway)
	require.NoError(s.t, err)
	body, err := json.Marshal(map[string]string{"csr": string(csrPEM)})
	require.NoError(s.t, err)
	var out struct {
		Certificate string `json:"certificate"`
		CABundle    string `json:"caBundle"`
	}
	require.NoError(s.t, json.Unmarshal(s.mustCall(http.MethodPost, "/v1/gateways/"+gateway+"/certificates", "application/json", string(body)), &out))
	return []byte(out.Certificate), keyPEM, []byte(out.CABundle)
}

// identity is a fresh identity of gateway as a TLS certificate.
func (s *secureApp) identity(gateway string) tls.Certificate {
	s.t.Helper()
	certPEM, keyPEM, _ := s.issue(gateway)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(s.t, err)
	return pair
}

// proxyTLS is a proxy's TLS configuration: its identity (none when nil)
// and the control plane's CA.
func (s *secureApp) proxyTLS(id *tls.Certificate) *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CABundle())
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if id != nil {
		c.Certificates = []tls.Certificate{*id}
	}
	return c
}

// serverSecret is a Secret of type tls for host, from a CA of the test's
// own (the data-plane certificates users bring).
func serverSecret(t *testing.T, ca *pki.CA, name, host string) (yaml, keyPEM string) {
	t.Helper()
	certPEM, key, err := ca.Issue("spiffe://users.test/"+name, []string{host}, nil, time.Now(), 24*time.Hour)
	require.NoError(t, err)
	return fmt.Sprintf("apiVersion: tollgate.dev/v1\nkind: Secret\nmetadata: {name: %s}\nspec:\n  type: tls\n  certificate: |\n%s  privateKey: |\n%s",
		name, indent(string(certPEM)), indent(string(key))), string(key)
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// twoGateways defines gateways a and b, each serving HTTPS with its own
// certificate Secret.
func twoGateways(t *testing.T) (bundle, keyA, keyB string) {
	t.Helper()
	userCA, err := pki.NewCA("users.test", time.Now().Add(-time.Minute), 48*time.Hour)
	require.NoError(t, err)
	secA, keyA := serverSecret(t, userCA, "a-cert", "a.example.com")
	secB, keyB := serverSecret(t, userCA, "b-cert", "b.example.com")
	var b strings.Builder
	b.WriteString(secA + "---\n" + secB)
	b.WriteString("---\napiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: web}\nspec: {endpoints: [{address: 10.0.0.1, port: 8080}]}\n")
	for _, gw := range []string{"a", "b"} {
		fmt.Fprintf(&b, "---\napiVersion: tollgate.dev/v1\nkind: Gateway\nmetadata: {name: %[1]s}\nspec:\n  mode: ingress\n"+
			"  listeners:\n  - {name: https, port: 8443, protocol: HTTPS, tls: {certificates: [{secret: %[1]s-cert}]}}\n", gw)
		fmt.Fprintf(&b, "---\napiVersion: tollgate.dev/v1\nkind: API\nmetadata: {name: web-%[1]s}\nspec:\n  gateways: [%[1]s]\n"+
			"  hostnames: [%[1]s.example.com]\n  routes: [{name: all, backends: [{service: web}]}]\n", gw)
	}
	return b.String(), keyA, keyB
}

// TestXDSChannelIdentity: the xDS server only talks TLS with a client
// certificate from its CA, the certificate decides the gateway, and a
// proxy of gateway A never receives a byte of gateway B's secret, even
// when it asks for it by name.
func TestXDSChannelIdentity(t *testing.T) {
	s := startSecureApp(t, filepath.Join(t.TempDir(), "data"))
	bundle, keyA, keyB := twoGateways(t)
	s.mustCall(http.MethodPost, "/v1/apply", "application/yaml", bundle)
	idA := s.identity("a")

	refused := func(t *testing.T, tlsConf *tls.Config, gateway string) error {
		t.Helper()
		// Refused either when the stream opens (the TLS handshake fails)
		// or on its first request (the identity check).
		c, err := xdsclient.Dial(context.Background(), s.XDSAddress(), "proxy-1", gateway, xdsclient.Options{Delta: true, TLS: tlsConf})
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Start(); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = c.Next(ctx)
		require.Error(t, err, "the stream must be refused")
		require.NotErrorIs(t, err, context.DeadlineExceeded, "refused, not ignored")
		return err
	}
	t.Run("a certificate of gateway a claiming gateway b", func(t *testing.T) {
		err := refused(t, s.proxyTLS(&idA), "b")
		st, _ := status.FromError(unwrapAll(err))
		require.Equal(t, codes.PermissionDenied, st.Code(), "%v", err)
		require.Contains(t, st.Message(), `claims gateway "b"`)
		require.Contains(t, st.Message(), `gateway "a"`)
	})
	t.Run("no client certificate", func(t *testing.T) {
		require.ErrorContains(t, refused(t, s.proxyTLS(nil), "a"), "Unavailable")
	})
	t.Run("plaintext", func(t *testing.T) {
		require.ErrorContains(t, refused(t, nil, "a"), "Unavailable")
	})
	t.Run("a certificate from another CA", func(t *testing.T) {
		other, err := pki.NewCA(s.TrustDomain(), time.Now(), time.Hour)
		require.NoError(t, err)
		certPEM, key, err := other.Issue("spiffe://"+s.TrustDomain()+"/gateway/a", nil, nil, time.Now(), time.Hour)
		require.NoError(t, err)
		forged, err := tls.X509KeyPair(certPEM, key)
		require.NoError(t, err)
		// The server aborts the handshake; the client sees it as an
		// unknown authority or a broken connection, depending on timing.
		require.ErrorContains(t, refused(t, s.proxyTLS(&forged), "a"), "Unavailable")
	})

	t.Run("refusals are counted", func(t *testing.T) {
		metrics := string(s.mustCall(http.MethodGet, "/metrics", "", ""))
		require.Regexp(t, `tollgate_xds_streams_refused_total\{code="PermissionDenied"\} [1-9]`, metrics)
		require.Contains(t, metrics, "tollgate_translate_fallbacks_total 0")
		require.Contains(t, metrics, "tollgate_xds_admission_expired_total 0")
	})

	for i, delta := range []bool{true, false} {
		t.Run(map[bool]string{true: "delta", false: "sotw"}[delta]+": only its own secrets", func(t *testing.T) {
			c := xdsclient.DialTest(t, s.XDSAddress(), "proxy-a", "a", xdsclient.Options{Delta: delta, TLS: s.proxyTLS(&idA)})
			c.Start()
			c.WaitFor("gateway a's listener and certificate", func() bool {
				return slices.Equal(c.Has(resourcev3.ListenerType), []string{"https"}) &&
					slices.Equal(c.Has(resourcev3.SecretType), []string{"secret/a-cert"})
			})
			// Ask for b's secret by name, then make a change that is
			// answered, so the request has certainly been processed.
			require.NoError(t, c.Subscribe(resourcev3.SecretType, []string{"secret/a-cert", "secret/b-cert"}))
			mark := c.Received()
			s.mustCall(http.MethodPut, "/v1/services/web", "application/yaml",
				fmt.Sprintf("apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: web}\nspec: {endpoints: [{address: 10.0.0.%d, port: 8080}]}\n", 10+i))
			c.WaitFor("the endpoint change", func() bool { return c.ReceivedSince(mark, resourcev3.EndpointType) })
			require.Equal(t, []string{"secret/a-cert"}, c.Has(resourcev3.SecretType))
			for _, r := range c.Log() {
				require.NotContains(t, r.Names, "secret/b-cert", "gateway b's secret was sent to a proxy of gateway a")
			}
			held := heldBytes(c)
			require.NotContains(t, held, pemBody(keyB), "gateway b's key material reached gateway a")
			require.Contains(t, held, pemBody(keyA), "gateway a's own key is delivered by SDS")
		})
	}
}

// heldBytes is every resource the client holds, serialised.
func heldBytes(c *xdsclient.TestClient) string {
	var b bytes.Buffer
	for _, typ := range []string{resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.SecretType} {
		for _, n := range c.Has(typ) {
			b.Write(c.Resource(typ, n).GetValue())
		}
	}
	return b.String()
}

// pemBody is the base64 of a PEM block without headers or line breaks, as
// it appears in a proto's bytes once decoded... the key is carried as
// inline bytes of the PEM text, so one line of it is enough to find it.
func pemBody(p string) string {
	lines := strings.Split(strings.TrimSpace(p), "\n")
	return lines[1]
}

func unwrapAll(err error) error {
	for {
		type unwrapper interface{ Unwrap() error }
		u, ok := err.(unwrapper)
		if !ok {
			return err
		}
		if _, isStatus := status.FromError(err); isStatus {
			return err
		}
		err = u.Unwrap()
	}
}

// TestOwnCAAndAdminClientCertificates: with ca.mode file the user's CA
// signs everything (the control plane's own certificate and the proxies'),
// and client certificates from it listed in admin.clientCertRoles are
// admin API principals with their role, no token needed.
func TestOwnCAAndAdminClientCertificates(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSignedCA(t, "corp.test")
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	require.NoError(t, os.WriteFile(certFile, certPEM, 0o600))
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	s := startSecureAppWith(t, filepath.Join(dir, "data"), func(c *config.Config) {
		c.CA.Mode, c.CA.CertFile, c.CA.KeyFile, c.CA.TrustDomain = config.CAModeFile, certFile, keyFile, "corp.test"
		c.Admin.ClientCertRoles = "spiffe://corp.test/admin/ops=viewer"
	})
	require.Equal(t, string(certPEM), string(s.CABundle()), "the user's CA is the trust bundle")

	userCA, err := pki.LoadCA(certPEM, keyPEM, "corp.test", time.Now())
	require.NoError(t, err)
	asCert := func(id string) *http.Client {
		c, k, err := userCA.Issue(id, nil, nil, time.Now(), time.Hour)
		require.NoError(t, err)
		pair, err := tls.X509KeyPair(c, k)
		require.NoError(t, err)
		conf := s.proxyTLS(&pair)
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf}}
	}
	status := func(hc *http.Client, method, path, body string) int {
		req, err := http.NewRequest(method, s.AdminURL()+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/yaml")
		resp, err := hc.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	ops := asCert("spiffe://corp.test/admin/ops")
	require.Equal(t, http.StatusOK, status(ops, http.MethodGet, "/v1/gateways", ""), "a listed certificate is a viewer")
	require.Equal(t, http.StatusForbidden, status(ops, http.MethodPost, "/v1/apply",
		"apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: x}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n"),
		"a viewer may not write")
	require.Equal(t, http.StatusUnauthorized, status(asCert("spiffe://corp.test/admin/other"), http.MethodGet, "/v1/gateways", ""),
		"an unlisted certificate is no principal")

	s.mustCall(http.MethodPost, "/v1/apply", "application/yaml",
		"apiVersion: tollgate.dev/v1\nkind: Gateway\nmetadata: {name: edge}\nspec: {mode: ingress, listeners: [{name: http, port: 8080, protocol: HTTP}]}\n")
	id := s.identity("edge")
	leaf, err := x509.ParseCertificate(id.Certificate[0])
	require.NoError(t, err)
	require.NoError(t, leaf.CheckSignatureFrom(userCA.Certificate()), "proxy identities are signed by the user's CA")
}

// selfSignedCA is a CA a user would bring: their own PKI's root.
func selfSignedCA(t *testing.T, td string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "corp root"},
		URIs:      []*url.URL{{Scheme: "spiffe", Host: td}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
}

// TestTokensFile: with admin.tokensFile the control plane accepts exactly
// the tokens listed (by hash), each with its role, until it expires, and
// creates no admin token of its own.
func TestTokensFile(t *testing.T) {
	dir := t.TempDir()
	editor, err := admin.NewToken()
	require.NoError(t, err)
	expired, err := admin.NewToken()
	require.NoError(t, err)
	hash := func(tok string) string { h := admin.HashToken(tok); return hex.EncodeToString(h[:]) }
	file := filepath.Join(dir, "tokens.yaml")
	require.NoError(t, os.WriteFile(file, []byte(fmt.Sprintf(
		"- {name: ci, role: editor, sha256: %s, expires: %s}\n- {name: old, role: admin, sha256: %s, expires: 2020-01-01T00:00:00Z}\n",
		hash(editor), time.Now().Add(time.Hour).UTC().Format(time.RFC3339), hash(expired))), 0o600))
	data := filepath.Join(dir, "data")
	cfg, err := config.Defaults()
	require.NoError(t, err)
	cfg.DataDir, cfg.Admin.Address, cfg.XDS.Address, cfg.Admin.TokensFile = data, "127.0.0.1:0", "127.0.0.1:0", file
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Wait(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	require.NoFileExists(t, cfg.AdminTokenPath(), "no admin token of its own when tokens are configured")

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.CABundle())
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	status := func(token, method, path, body string) int {
		req, err := http.NewRequest(method, a.AdminURL()+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/yaml")
		resp, err := hc.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	svc := "apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: web}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n"
	require.Equal(t, http.StatusOK, status(editor, http.MethodPost, "/v1/apply", svc), "the editor writes definitions")
	require.Equal(t, http.StatusForbidden, status(editor, http.MethodPost, "/v1/gateways/edge/join-tokens", "{}"), "but is no admin")
	require.Equal(t, http.StatusUnauthorized, status(expired, http.MethodGet, "/v1/services", ""), "an expired token is refused")
}
