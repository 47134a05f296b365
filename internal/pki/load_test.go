package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadCAKeyEncodings(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	require.NoError(t, err)
	pkcs8EC, err := x509.MarshalPKCS8PrivateKey(ecKey)
	require.NoError(t, err)
	pkcs8RSA, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	require.NoError(t, err)
	// openssl ecparam -genkey writes the curve parameters before the key.
	ecParams := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{0x06, 0x08}})

	tests := []struct {
		name   string
		key    crypto.Signer
		keyPEM []byte
	}{
		{name: "PKCS#8 EC", key: ecKey, keyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8EC})},
		{name: "SEC1 EC after parameters", key: ecKey, keyPEM: append(ecParams, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)},
		{name: "PKCS#8 RSA", key: rsaKey, keyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8RSA})},
		{name: "PKCS#1 RSA", key: rsaKey, keyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM := selfSigned(t, caTemplate(), tt.key)
			ca, err := LoadCA(certPEM, tt.keyPEM, "corp.example", testNow)
			require.NoError(t, err)
			require.Equal(t, "corp.example", ca.TrustDomain())
			leaf, _, err := ca.Issue(GatewayID("corp.example", "edge"), nil, nil, testNow, time.Hour)
			require.NoError(t, err)
			verify(t, ca, leaf, testNow)
		})
	}
}

func TestLoadCARejects(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	keyPEM, err := encodeKey(key)
	require.NoError(t, err)
	otherKeyPEM, err := encodeKey(otherKey)
	require.NoError(t, err)

	notCA := caTemplate()
	notCA.IsCA = false
	notCA.KeyUsage = x509.KeyUsageDigitalSignature
	noCertSign := caTemplate()
	noCertSign.KeyUsage = x509.KeyUsageDigitalSignature
	expired := caTemplate()
	expired.NotBefore, expired.NotAfter = testNow.Add(-48*time.Hour), testNow.Add(-time.Hour)
	future := caTemplate()
	future.NotBefore = testNow.Add(time.Hour)
	good := selfSigned(t, caTemplate(), key)

	tests := []struct {
		name    string
		certPEM []byte
		keyPEM  []byte
		td      string
		wantErr string
	}{
		{name: "not a CA", certPEM: selfSigned(t, notCA, key), keyPEM: keyPEM, wantErr: "is not a CA certificate"},
		{name: "no certSign", certPEM: selfSigned(t, noCertSign, key), keyPEM: keyPEM, wantErr: "lacks keyCertSign"},
		{name: "mismatched key", certPEM: good, keyPEM: otherKeyPEM, wantErr: "does not belong to CA certificate"},
		{name: "expired", certPEM: selfSigned(t, expired, key), keyPEM: keyPEM, wantErr: "expired at"},
		{name: "not yet valid", certPEM: selfSigned(t, future, key), keyPEM: keyPEM, wantErr: "check the clock"},
		{name: "no certificate", certPEM: keyPEM, keyPEM: keyPEM, wantErr: "no PEM \"CERTIFICATE\" block"},
		{name: "no key", certPEM: good, keyPEM: good, wantErr: "no PEM private key block"},
		{name: "encrypted key", certPEM: good, keyPEM: pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), wantErr: "is encrypted"},
		{name: "bad trust domain", certPEM: good, keyPEM: keyPEM, td: "Corp", wantErr: "uppercase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := tt.td
			if td == "" {
				td = "corp.example"
			}
			ca, err := LoadCA(tt.certPEM, tt.keyPEM, td, testNow)
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, ca)
		})
	}

	_, err = LoadCA(selfSigned(t, expired, key), keyPEM, "corp.example", testNow)
	require.ErrorIs(t, err, ErrCAExpired)
}

// A CA supplied with a further certificate keeps it in the trust bundle.
func TestLoadCABundle(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	keyPEM, err := encodeKey(key)
	require.NoError(t, err)
	other := newTestCA(t)
	bundle := append(selfSigned(t, caTemplate(), key), other.CertPEM()...)
	ca, err := LoadCA(bundle, keyPEM, "corp.example", testNow)
	require.NoError(t, err)
	require.Equal(t, "Corp CA", ca.Certificate().Subject.CommonName)
	require.Equal(t, bundle, ca.CertPEM())
}
