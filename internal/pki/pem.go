package pki

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
	"errors"
	"fmt"
)

const (
	pemCertificate = "CERTIFICATE"
	pemPKCS8       = "PRIVATE KEY"
	pemPKCS1       = "RSA PRIVATE KEY"
	pemSEC1        = "EC PRIVATE KEY"
	pemCSR         = "CERTIFICATE REQUEST"
	// pemCSRLegacy is what older tools (Netscape, some openssl builds) write.
	pemCSRLegacy = "NEW CERTIFICATE REQUEST"
	// minRSABits is the smallest RSA key we sign for; 2048 is the floor of
	// every current baseline (NIST SP 800-131A, CA/Browser Forum).
	minRSABits = 2048
)

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der})
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
}

// ParseCertPEM returns the first certificate of a PEM chain, which by
// convention is the leaf; the renewal check needs only that one.
func ParseCertPEM(pemBytes []byte) (*x509.Certificate, error) {
	certs, err := parseCertsPEM(pemBytes)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// parseCertsPEM returns every CERTIFICATE block in order, ignoring other
// block types (a bundle sometimes carries keys or parameters alongside).
func parseCertsPEM(pemBytes []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := pemBytes; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != pemCertificate {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d of the PEM data: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM \"CERTIFICATE\" block found")
	}
	return certs, nil
}

// parsePrivateKeyPEM reads the first private key block, in any of the
// encodings openssl and cfssl commonly write, so an operator need not convert
// an existing CA key.
func parsePrivateKeyPEM(pemBytes []byte) (crypto.Signer, error) {
	for rest := pemBytes; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key block found (expected \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")")
		}
		var key any
		var err error
		switch block.Type {
		case pemPKCS8:
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case pemPKCS1:
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case pemSEC1:
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key is encrypted; decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)")
		default:
			continue // e.g. "EC PARAMETERS" written by openssl ecparam -genkey
		}
		if err != nil {
			return nil, fmt.Errorf("parse %q block: %w", block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("a %T key cannot sign certificates", key)
		}
		return signer, nil
	}
}

func parseCSRPEM(csrPEM []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(csrPEM)
	if block == nil || (block.Type != pemCSR && block.Type != pemCSRLegacy) {
		return nil, errors.New("certificate request: no PEM \"CERTIFICATE REQUEST\" block found")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	return csr, nil
}

// checkPublicKey allows the key types Envoy and Go's TLS stacks both handle
// and that are strong today; anything else would only fail later, in a
// handshake, with a much worse error.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("ECDSA key on curve %s is not supported; use P-256 or P-384", k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return fmt.Errorf("RSA key of %d bits is too weak; use at least %d bits (or ECDSA P-256)", bits, minRSABits)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("%T keys are not supported; use ECDSA P-256/P-384, RSA of at least %d bits, or Ed25519", pub, minRSABits)
	}
	return nil
}

// publicKeysEqual reports whether a and b are the same key; every public key
// type of the standard library implements Equal.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// NewKeyAndCSR makes the proxy side of enrolment: a P-256 key (PKCS#8 PEM)
// that stays on the proxy and a CSR to send. commonName is informational
// only, since SignCSR ignores the request's names.
func NewKeyAndCSR(commonName string) (keyPEM, csrPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: commonName}}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate request: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return keyPEM, pem.EncodeToMemory(&pem.Block{Type: pemCSR, Bytes: der}), nil
}

// EncodeCertPEM is cert as one PEM CERTIFICATE block.
func EncodeCertPEM(cert *x509.Certificate) []byte { return encodeCert(cert.Raw) }
