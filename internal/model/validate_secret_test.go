package model

import (
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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Keys are generated once per test binary: RSA generation is slow under
// the race detector.
var (
	ecKey     = sync.OnceValue(func() crypto.Signer { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	otherKey  = sync.OnceValue(func() crypto.Signer { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	p224Key   = sync.OnceValue(func() crypto.Signer { return must(ecdsa.GenerateKey(elliptic.P224(), rand.Reader)) })
	rsaKey    = sync.OnceValue(func() crypto.Signer { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	rsaWeak   = sync.OnceValue(func() crypto.Signer { return must(rsa.GenerateKey(rand.Reader, 1024)) })
	edKey     = sync.OnceValue(func() crypto.Signer { _, k, err := ed25519.GenerateKey(rand.Reader); return must(k, err) })
	validFrom = testNow.AddDate(-1, 0, 0)
	validTo   = testNow.AddDate(1, 0, 0)
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// selfSigned returns the PEM of a certificate for key valid from nb to na.
func selfSigned(t testing.TB, key crypto.Signer, cn string, nb, na time.Time) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     []string{cn},
		NotBefore:    nb,
		NotAfter:     na,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// keyPEM encodes key in one of the PEM forms Envoy loads: "pkcs1" (RSA
// PRIVATE KEY), "ec" (EC PRIVATE KEY) or "pkcs8" (PRIVATE KEY).
func keyPEM(t testing.TB, key crypto.Signer, form string) string {
	t.Helper()
	var b *pem.Block
	switch form {
	case "pkcs1":
		b = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey))}
	case "ec":
		b = &pem.Block{Type: "EC PRIVATE KEY", Bytes: must(x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey)))}
	default:
		b = &pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(key))}
	}
	return string(pem.EncodeToMemory(b))
}

// secret renders a Secret manifest; empty fields are left out.
func secret(typ, cert, key, bundle string) string {
	var b strings.Builder
	if typ != "" {
		b.WriteString("type: " + typ + "\n")
	}
	for _, f := range []struct{ name, pem string }{{"certificate", cert}, {"privateKey", key}, {"caBundle", bundle}} {
		if f.pem == "" {
			continue
		}
		b.WriteString(f.name + ": |\n")
		for _, line := range strings.Split(strings.TrimRight(f.pem, "\n"), "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	return manifest("Secret", b.String())
}

func TestValidateSecret(t *testing.T) { runValidation(t, secretCases(t)) }

// secretCases generates its certificates, hence t.
func secretCases(t testing.TB) []validationCase {
	cert := selfSigned(t, ecKey(), "api.example.com", validFrom, validTo)
	key := keyPEM(t, ecKey(), "pkcs8")
	expired := selfSigned(t, ecKey(), "old.example.com", validFrom, testNow.Add(-time.Hour))
	future := selfSigned(t, ecKey(), "new.example.com", testNow.Add(time.Hour), validTo)
	return []validationCase{
		{name: "tls pkcs8 ec", in: secret("tls", cert, key, "")},
		{name: "tls sec1 ec", in: secret("tls", cert, keyPEM(t, ecKey(), "ec"), "")},
		{name: "tls pkcs1 rsa", in: secret("tls", selfSigned(t, rsaKey(), "rsa.example.com", validFrom, validTo), keyPEM(t, rsaKey(), "pkcs1"), "")},
		{name: "tls pkcs8 rsa", in: secret("tls", selfSigned(t, rsaKey(), "rsa.example.com", validFrom, validTo), keyPEM(t, rsaKey(), "pkcs8"), "")},
		{name: "tls chain", in: secret("tls", cert+selfSigned(t, otherKey(), "ca.example.com", validFrom, validTo), key, "")},
		{name: "ca bundle", in: secret("ca", "", "", cert+selfSigned(t, otherKey(), "ca2.example.com", validFrom, validTo))},
		{name: "type required", in: secret("", cert, key, ""), want: []string{"spec.type: required: one of tls, ca"}},
		{name: "type case", in: secret("TLS", cert, key, ""), want: []string{`spec.type: must be one of tls, ca, got "TLS"; did you mean "tls"?`}},
		{name: "tls fields", in: secret("tls", "", "", cert), want: []string{
			"spec.caBundle: only used with type ca; remove it",
			"spec.certificate: required: the PEM certificate chain, leaf first",
			"spec.privateKey: required: the PEM private key of the certificate",
		}},
		{name: "ca fields", in: secret("ca", cert, key, ""), want: []string{
			"spec.certificate: only used with type tls; remove it",
			"spec.privateKey: only used with type tls; remove it",
			"spec.caBundle: required: one or more PEM CA certificates",
		}},
		{name: "expired", in: secret("tls", expired, key, ""), want: []string{
			"spec.certificate: certificate 1 (CN=old.example.com) expired at 2026-05-31T23:00:00Z; renew it",
		}},
		{name: "not yet valid", in: secret("tls", future, key, ""), want: []string{
			"spec.certificate: certificate 1 (CN=new.example.com) is not valid until 2026-06-01T01:00:00Z",
		}},
		{name: "expired ca", in: secret("ca", "", "", cert+expired), want: []string{
			"spec.caBundle: certificate 2 (CN=old.example.com) expired at 2026-05-31T23:00:00Z; renew it",
		}},
		{name: "key mismatch", in: secret("tls", cert, keyPEM(t, otherKey(), "ec"), ""), want: []string{
			"spec.privateKey: does not match the certificate: the key must be the one the leaf (first) certificate was issued for",
		}},
		{name: "key of the second certificate", in: secret("tls", cert+selfSigned(t, otherKey(), "ca.example.com", validFrom, validTo), keyPEM(t, otherKey(), "pkcs8"), ""), want: []string{
			"spec.privateKey: does not match the certificate",
		}},
		{name: "trailing junk", in: secret("tls", cert+"garbage\n", key+"more\n", ""), want: []string{
			"spec.certificate: contains text that is not part of a complete PEM block",
			"spec.privateKey: contains text that is not part of a complete PEM block",
		}},
		{name: "leading junk", in: secret("ca", "", "", "subject=CN = ca\n"+cert), want: []string{
			"spec.caBundle: contains text that is not part of a complete PEM block",
		}},
		{name: "truncated block", in: secret("ca", "", "", cert+"-----BEGIN CERTIFICATE-----\nMIIB\n"), want: []string{
			"spec.caBundle: contains text that is not part of a complete PEM block",
		}},
		{name: "broken block before a good one", in: secret("ca", "", "", "-----BEGIN CERTIFICATE-----\nMIIB\n"+cert), want: []string{
			"spec.caBundle: contains text that is not part of a complete PEM block",
		}},
		{name: "not pem", in: secret("tls", "hello", "world", ""), want: []string{
			"spec.certificate: contains text that is not part of a complete PEM block",
			`spec.certificate: must be PEM: no "-----BEGIN CERTIFICATE-----" block found`,
			"spec.privateKey: contains text that is not part of a complete PEM block",
			`spec.privateKey: must be PEM: no "-----BEGIN PRIVATE KEY-----" block found`,
		}},
		{name: "wrong blocks", in: secret("tls", key, cert, ""), want: []string{
			`spec.certificate: PEM block 1 is a "PRIVATE KEY", want CERTIFICATE`,
			`spec.privateKey: PEM block is a "CERTIFICATE", want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY`,
		}},
		{name: "bad der", in: secret("ca", "", "", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), want: []string{
			"spec.caBundle: PEM block 1 is not a valid X.509 certificate",
		}},
		{name: "bad key der", in: secret("tls", cert, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", ""), want: []string{
			`spec.privateKey: PEM block "EC PRIVATE KEY" does not hold a valid key of that form`,
		}},
		{name: "two keys", in: secret("tls", cert, key+key, ""), want: []string{"spec.privateKey: must hold exactly one PEM block, got 2"}},
		{name: "encrypted key", in: secret("tls", cert, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", ""), want: []string{
			"spec.privateKey: is encrypted; store it decrypted",
		}},
		{name: "weak rsa", in: secret("tls", selfSigned(t, rsaWeak(), "weak.example.com", validFrom, validTo), keyPEM(t, rsaWeak(), "pkcs1"), ""), want: []string{
			"spec.certificate: the leaf certificate's RSA key has 1024 bits; Envoy needs at least 2048",
		}},
		{name: "p224", in: secret("tls", selfSigned(t, p224Key(), "p224.example.com", validFrom, validTo), keyPEM(t, p224Key(), "ec"), ""), want: []string{
			"spec.certificate: the leaf certificate's ECDSA curve P-224 is not supported; use P-256, P-384 or P-521",
		}},
		{name: "ed25519", in: secret("tls", selfSigned(t, edKey(), "ed.example.com", validFrom, validTo), keyPEM(t, edKey(), "pkcs8"), ""), want: []string{
			"spec.certificate: the leaf certificate's key is Ed25519; Envoy serves RSA or ECDSA certificates only",
			"spec.privateKey: must be an RSA or ECDSA key",
		}},
		{name: "too large", in: secret("ca", "", "", cert+strings.Repeat("# padding line that is not pem at all\n", MaxPEMBytes/38)), want: []string{
			"spec.caBundle: must be at most 65536 bytes, got",
		}},
	}
}

// TestValidateSecretNeverLeaksKeys checks that no message about a private
// key quotes any of it.
func TestValidateSecretNeverLeaksKeys(t *testing.T) {
	cert := selfSigned(t, ecKey(), "api.example.com", validFrom, validTo)
	key := keyPEM(t, otherKey(), "pkcs8")
	rsa := keyPEM(t, rsaKey(), "pkcs1")
	for _, in := range []string{
		secret("tls", cert, key, ""),
		secret("tls", cert, key+"junk", ""),
		secret("tls", key, key, ""),
		secret("tls", cert, rsa, ""),
		secret("ca", "", key, key),
		secret("tls", cert, strings.Replace(key, "PRIVATE KEY", "EC PRIVATE KEY", 2), ""),
	} {
		objs, vs := Decode([]byte(in))
		require.Empty(t, vs)
		got := ValidateAt(objs[0], testNow)
		require.NotEmpty(t, got)
		for _, v := range got {
			for _, pemText := range []string{key, rsa} {
				for _, line := range strings.Split(pemText, "\n") {
					if len(line) >= 8 && !strings.HasPrefix(line, "-----") {
						require.NotContains(t, v.Message, line[:8], "message quotes key material: %s", v)
					}
				}
			}
		}
	}
}
