package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

const (
	// organization is the subject O of everything this package issues, so an
	// operator can tell our certificates apart in a TLS dump.
	organization = "Tollgate"
	// backdate is how far before "now" certificates start, to absorb clock
	// skew between the control plane and proxies.
	backdate = time.Minute
)

// ErrCAExpired is returned (wrapped) when a CA certificate is past its
// NotAfter, so a caller can offer to create a new CA instead of failing.
var ErrCAExpired = errors.New("CA certificate has expired")

// CA signs certificates for one trust domain. It is immutable and safe for
// concurrent use.
type CA struct {
	trustDomain string
	cert        *x509.Certificate
	// bundlePEM is the trust bundle clients should use: the CA certificate
	// and any further CA certificates the operator supplied with it.
	bundlePEM []byte
	key       crypto.Signer
}

// NewCA creates a self-signed ECDSA P-256 root for trustDomain, valid from
// now (backdated a minute) for validity. It may sign leaves only
// (MaxPathLen 0): Tollgate never needs intermediates, and forbidding them
// limits what a leaked leaf key could be abused for.
func NewCA(trustDomain string, now time.Time, validity time.Duration) (*CA, error) {
	if err := ValidateTrustDomain(trustDomain); err != nil {
		return nil, err
	}
	if validity <= 0 {
		return nil, fmt.Errorf("CA validity must be positive, got %s", validity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	uri, err := url.Parse(spiffeScheme + trustDomain)
	if err != nil {
		return nil, fmt.Errorf("trust domain %q as a URI: %w", trustDomain, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{organization},
			CommonName:   "Tollgate CA " + trustDomain,
		},
		URIs:                  []*url.URL{uri},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("self-sign CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new CA certificate: %w", err)
	}
	return &CA{trustDomain: trustDomain, cert: cert, bundlePEM: encodeCert(der), key: key}, nil
}

// LoadCA loads an operator-provided CA: the first certificate of certPEM
// signs, and any further certificates are kept in the trust bundle
// (CertPEM). The key may be PKCS#8, PKCS#1 RSA or SEC1 EC PEM. Everything
// that would otherwise surface later as proxies failing to handshake is
// checked here: the certificate is a CA allowed to sign certificates, the key
// is its key, and it is valid at now.
func LoadCA(certPEM, keyPEM []byte, trustDomain string, now time.Time) (*CA, error) {
	if err := ValidateTrustDomain(trustDomain); err != nil {
		return nil, err
	}
	certs, err := parseCertsPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("CA private key: %w", err)
	}
	return newLoadedCA(certs, key, trustDomain, now)
}

// newLoadedCA checks and assembles a CA from parsed parts; LoadCA and
// UnmarshalSealed share it so a stored CA gets the same checks as a new one.
func newLoadedCA(certs []*x509.Certificate, key crypto.Signer, trustDomain string, now time.Time) (*CA, error) {
	cert := certs[0]
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("CA certificate %q is not a CA certificate (its basic constraints do not say CA:TRUE)", cert.Subject)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("CA certificate %q may not sign certificates (its key usage lacks keyCertSign)", cert.Subject)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("CA certificate %q expired at %s: %w", cert.Subject, cert.NotAfter.UTC().Format(time.RFC3339), ErrCAExpired)
	}
	if now.Before(cert.NotBefore) {
		return nil, fmt.Errorf("CA certificate %q is not valid until %s; check the clock", cert.Subject, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("the private key does not belong to CA certificate %q", cert.Subject)
	}
	var bundle []byte
	for _, c := range certs {
		bundle = append(bundle, encodeCert(c.Raw)...)
	}
	return &CA{trustDomain: trustDomain, cert: cert, bundlePEM: bundle, key: key}, nil
}

// TrustDomain is the trust domain the CA issues identities in.
func (c *CA) TrustDomain() string { return c.trustDomain }

// Certificate is the signing CA certificate. Callers must not modify it.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// CertPEM is the trust bundle to hand to clients (ca.pem): the CA
// certificate and any further certificates supplied with it in LoadCA.
func (c *CA) CertPEM() []byte { return append([]byte(nil), c.bundlePEM...) }

// Issue makes a fresh P-256 key and a certificate for id (which must be a
// SPIFFE ID in the CA's trust domain) plus optional DNS names and IPs. It is
// for identities whose key may be generated by the control plane: its own,
// and `certs issue`. The key is returned as PKCS#8 PEM, the certificate as
// PEM of the leaf only (the CA goes in ca.pem).
func (c *CA) Issue(id string, dnsNames []string, ips []net.IP, now time.Time, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	certPEM, err = c.sign(key.Public(), id, dnsNames, ips, now, ttl)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

// SignCSR issues a certificate for id to the holder of the CSR's key, so a
// proxy's private key never leaves it. The CSR contributes only its public
// key: its subject and SANs are ignored, because the identity must come from
// what the caller authenticated (a join token, a current certificate), never
// from what the requester asks for.
func (c *CA) SignCSR(csrPEM []byte, id string, now time.Time, ttl time.Duration) ([]byte, error) {
	csr, err := parseCSRPEM(csrPEM)
	if err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request signature is not valid (the request was altered or not signed by its key): %w", err)
	}
	if err := checkPublicKey(csr.PublicKey); err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	return c.sign(csr.PublicKey, id, nil, nil, now, ttl)
}

// sign is the one leaf profile of the package: SPIFFE ID as the only URI
// SAN, usable as TLS client and server, never a CA, never valid past the CA.
func (c *CA) sign(pub crypto.PublicKey, id string, dnsNames []string, ips []net.IP, now time.Time, ttl time.Duration) ([]byte, error) {
	td, segs, err := parseID(id)
	if err != nil {
		return nil, err
	}
	if td != c.trustDomain {
		return nil, fmt.Errorf("SPIFFE ID %q is in trust domain %q; this CA issues for %q", id, td, c.trustDomain)
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("SPIFFE ID %q has no path; a workload identity needs one", id)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("certificate lifetime must be positive, got %s", ttl)
	}
	if !now.Before(c.cert.NotAfter) {
		return nil, fmt.Errorf("CA certificate expired at %s: %w", c.cert.NotAfter.UTC().Format(time.RFC3339), ErrCAExpired)
	}
	uri, err := url.Parse(id)
	if err != nil {
		return nil, fmt.Errorf("SPIFFE ID %q as a URI: %w", id, err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{organization}},
		URIs:                  []*url.URL{uri},
		DNSNames:              dnsNames,
		IPAddresses:           ips,
		NotBefore:             now.Add(-backdate),
		NotAfter:              minTime(now.Add(ttl), c.cert.NotAfter),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, pub, c.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %q: %w", id, err)
	}
	return encodeCert(der), nil
}

// newSerial returns a random positive 128-bit serial number; randomness
// rather than a counter means no state to persist and no collisions across
// control plane replicas.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("generate serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
