package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestCA(t *testing.T) *CA {
	t.Helper()
	ca, err := NewCA("td", testNow, 365*24*time.Hour)
	require.NoError(t, err)
	return ca
}

// verify checks certPEM chains to ca at now, as a TLS peer would.
func verify(t *testing.T, ca *CA, certPEM []byte, now time.Time) *x509.Certificate {
	t.Helper()
	cert, err := ParseCertPEM(certPEM)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca.CertPEM()))
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	require.NoError(t, err)
	return cert
}

func TestNewCA(t *testing.T) {
	ca := newTestCA(t)
	c := ca.Certificate()
	require.Equal(t, "td", ca.TrustDomain())
	require.True(t, c.IsCA)
	require.True(t, c.MaxPathLenZero)
	require.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, c.KeyUsage)
	require.Equal(t, "Tollgate CA td", c.Subject.CommonName)
	require.Equal(t, []string{"Tollgate"}, c.Subject.Organization)
	require.Len(t, c.URIs, 1)
	require.Equal(t, "spiffe://td", c.URIs[0].String())

	_, err := NewCA("TD", testNow, time.Hour)
	require.ErrorContains(t, err, "uppercase")
	_, err = NewCA("td", testNow, 0)
	require.ErrorContains(t, err, "validity must be positive")
}

func TestIssue(t *testing.T) {
	ca := newTestCA(t)
	id := GatewayID("td", "edge")
	certPEM, keyPEM, err := ca.Issue(id, []string{"edge.local"}, []net.IP{net.ParseIP("10.0.0.1")}, testNow, time.Hour)
	require.NoError(t, err)

	cert := verify(t, ca, certPEM, testNow)
	require.Equal(t, []string{"edge.local"}, cert.DNSNames)
	require.True(t, cert.IPAddresses[0].Equal(net.ParseIP("10.0.0.1")))
	require.Equal(t, testNow.Add(-time.Minute), cert.NotBefore)
	require.Equal(t, testNow.Add(time.Hour), cert.NotAfter)
	require.Equal(t, x509.KeyUsageDigitalSignature, cert.KeyUsage)
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, cert.ExtKeyUsage)
	require.False(t, cert.IsCA)
	gw, err := GatewayOf(cert, "td")
	require.NoError(t, err)
	require.Equal(t, "edge", gw)

	key, err := parsePrivateKeyPEM(keyPEM)
	require.NoError(t, err)
	require.True(t, publicKeysEqual(cert.PublicKey, key.Public()))
	block, _ := pem.Decode(keyPEM)
	require.Equal(t, "PRIVATE KEY", block.Type, "keys are PKCS#8")

	// Serial numbers are random, so two certificates never share one.
	other, _, err := ca.Issue(id, nil, nil, testNow, time.Hour)
	require.NoError(t, err)
	require.NotEqual(t, cert.SerialNumber, verify(t, ca, other, testNow).SerialNumber)
}

func TestIssueNeverOutlivesCA(t *testing.T) {
	ca, err := NewCA("td", testNow, 2*time.Hour)
	require.NoError(t, err)
	certPEM, _, err := ca.Issue(ControlPlaneID("td"), nil, nil, testNow.Add(time.Hour), 24*time.Hour)
	require.NoError(t, err)
	cert, err := ParseCertPEM(certPEM)
	require.NoError(t, err)
	require.Equal(t, ca.Certificate().NotAfter, cert.NotAfter)

	_, _, err = ca.Issue(ControlPlaneID("td"), nil, nil, testNow.Add(3*time.Hour), time.Hour)
	require.ErrorIs(t, err, ErrCAExpired)
}

func TestIssueRejects(t *testing.T) {
	ca := newTestCA(t)
	tests := []struct {
		name    string
		id      string
		ttl     time.Duration
		wantErr string
	}{
		{name: "other trust domain", id: "spiffe://other/gateway/edge", ttl: time.Hour, wantErr: `this CA issues for "td"`},
		{name: "not spiffe", id: "https://td/gateway/edge", ttl: time.Hour, wantErr: "is not a SPIFFE ID"},
		{name: "trust domain ID", id: "spiffe://td", ttl: time.Hour, wantErr: "has no path"},
		{name: "zero ttl", id: ControlPlaneID("td"), wantErr: "lifetime must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ca.Issue(tt.id, nil, nil, testNow, tt.ttl)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// csrPEM makes a CSR signed by key that asks for the admin gateway identity.
func csrPEM(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	admin, err := url.Parse(GatewayID("td", "admin"))
	require.NoError(t, err)
	tmpl := &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "proxy-admin"},
		URIs:     []*url.URL{admin},
		DNSNames: []string{"admin.example"},
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestSignCSRIgnoresRequestedNames(t *testing.T) {
	ca := newTestCA(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	certPEM, err := ca.SignCSR(csrPEM(t, key), GatewayID("td", "edge"), testNow, time.Hour)
	require.NoError(t, err)
	cert := verify(t, ca, certPEM, testNow)
	require.Len(t, cert.URIs, 1)
	require.Equal(t, GatewayID("td", "edge"), cert.URIs[0].String())
	require.Empty(t, cert.DNSNames)
	require.Empty(t, cert.Subject.CommonName)
	require.True(t, publicKeysEqual(cert.PublicKey, key.Public()))
}

func TestSignCSRKeyTypes(t *testing.T) {
	ca := newTestCA(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	for name, key := range map[string]crypto.Signer{"P-384": p384, "Ed25519": ed} {
		t.Run(name, func(t *testing.T) {
			certPEM, err := ca.SignCSR(csrPEM(t, key), GatewayID("td", "edge"), testNow, time.Hour)
			require.NoError(t, err)
			cert := verify(t, ca, certPEM, testNow)
			require.True(t, publicKeysEqual(cert.PublicKey, key.Public()))
		})
	}
}

func TestNewKeyAndCSR(t *testing.T) {
	ca := newTestCA(t)
	keyPEM, csr, err := NewKeyAndCSR("proxy-1")
	require.NoError(t, err)
	certPEM, err := ca.SignCSR(csr, GatewayID("td", "edge"), testNow, time.Hour)
	require.NoError(t, err)
	cert := verify(t, ca, certPEM, testNow)
	key, err := parsePrivateKeyPEM(keyPEM)
	require.NoError(t, err)
	require.True(t, publicKeysEqual(cert.PublicKey, key.Public()))
}

func TestSignCSRRejects(t *testing.T) {
	ca := newTestCA(t)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)

	good := csrPEM(t, p256)
	block, _ := pem.Decode(good)
	badSig := append([]byte(nil), block.Bytes...)
	badSig[len(badSig)-1] ^= 0x01 // last byte of the ECDSA signature's s
	_, err = x509.ParseCertificateRequest(badSig)
	require.NoError(t, err, "the tampered CSR must still parse, so the signature check is what rejects it")
	badSubject := bytes.Clone(block.Bytes)
	i := bytes.Index(badSubject, []byte("proxy-admin"))
	require.Positive(t, i)
	badSubject[i] = 'P'

	tests := []struct {
		name    string
		csr     []byte
		wantErr string
	}{
		{name: "tampered signature", csr: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: badSig}), wantErr: "signature is not valid"},
		{name: "tampered subject", csr: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: badSubject}), wantErr: "signature is not valid"},
		{name: "RSA 1024", csr: csrPEM(t, rsa1024), wantErr: "RSA key of 1024 bits is too weak"},
		{name: "P-224", csr: csrPEM(t, p224), wantErr: "curve P-224 is not supported"},
		{name: "not PEM", csr: []byte("hello"), wantErr: "no PEM \"CERTIFICATE REQUEST\" block"},
		{name: "certificate instead", csr: ca.CertPEM(), wantErr: "no PEM \"CERTIFICATE REQUEST\" block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := ca.SignCSR(tt.csr, GatewayID("td", "edge"), testNow, time.Hour)
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, cert)
		})
	}
}

// selfSigned makes a certificate from tmpl signed by its own key and
// returns both as PEM, for LoadCA inputs that NewCA would never produce.
func selfSigned(t *testing.T, tmpl *x509.Certificate, key crypto.Signer) []byte {
	t.Helper()
	tmpl.SerialNumber = big.NewInt(1)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	return encodeCert(der)
}

func caTemplate() *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Corp CA"},
		NotBefore:             testNow.Add(-time.Hour),
		NotAfter:              testNow.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
}
