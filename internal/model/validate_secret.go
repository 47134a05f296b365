package model

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"time"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// minRSABits is the smallest RSA key Envoy loads.
const minRSABits = 2048

// validateSecret checks TLS material as Envoy will load it, so that a bad
// certificate is refused on write instead of NACKed by every proxy. No
// message ever includes key material.
func validateSecret(e *Errs, s *tollgatev1.SecretSpec, now time.Time) {
	if s == nil {
		return
	}
	p := Path("spec")
	secretTypes.check(e, p.Field("type"), s.GetType(), true)
	switch s.GetType() {
	case SecretTypeTLS:
		if s.GetCaBundle() != "" {
			e.Add(p.Field("caBundle"), "only used with type ca; remove it")
		}
		validateKeyPair(e, p, s, now)
	case SecretTypeCA:
		if s.GetCertificate() != "" {
			e.Add(p.Field("certificate"), "only used with type tls; remove it")
		}
		if s.GetPrivateKey() != "" {
			e.Add(p.Field("privateKey"), "only used with type tls; remove it (a CA bundle needs no key)")
		}
		if s.GetCaBundle() == "" {
			e.Add(p.Field("caBundle"), "required: one or more PEM CA certificates")
			return
		}
		parseCertificates(e, p.Field("caBundle"), s.GetCaBundle(), now)
	}
}

// validateKeyPair checks a tls Secret: a chain whose leaf Envoy can serve
// and a private key that belongs to that leaf.
func validateKeyPair(e *Errs, p Path, s *tollgatev1.SecretSpec, now time.Time) {
	cp, kp := p.Field("certificate"), p.Field("privateKey")
	var leaf *x509.Certificate
	if s.GetCertificate() == "" {
		e.Add(cp, "required: the PEM certificate chain, leaf first")
	} else if chain := parseCertificates(e, cp, s.GetCertificate(), now); len(chain) > 0 {
		leaf = chain[0]
		checkLeafKeyType(e, cp, leaf)
	}
	if s.GetPrivateKey() == "" {
		e.Add(kp, "required: the PEM private key of the certificate")
		return
	}
	key := parsePrivateKey(e, kp, s.GetPrivateKey())
	if key == nil || leaf == nil {
		return
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		e.Add(kp, "does not match the certificate: the key must be the one the leaf (first) certificate was issued for")
	}
}

// parseCertificates parses a PEM bundle of certificates, reporting every
// bad block, any text outside the blocks, and certificates outside their
// validity period at now.
func parseCertificates(e *Errs, p Path, data string, now time.Time) []*x509.Certificate {
	if !checkLen(e, p, data, MaxPEMBytes) {
		return nil
	}
	blocks := decodePEM(e, p, data)
	if len(blocks) == 0 {
		e.Add(p, "must be PEM: no \"-----BEGIN CERTIFICATE-----\" block found")
		return nil
	}
	var certs []*x509.Certificate
	for i, b := range blocks {
		if b.Type != "CERTIFICATE" {
			e.Add(p, "PEM block %d is a %q, want CERTIFICATE", i+1, b.Type)
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			e.Add(p, "PEM block %d is not a valid X.509 certificate: %v", i+1, err)
			continue
		}
		switch {
		case now.After(c.NotAfter):
			e.Add(p, "certificate %d (%s) expired at %s; renew it", i+1, subject(c), c.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(c.NotBefore):
			e.Add(p, "certificate %d (%s) is not valid until %s; check the issuer's clock or wait", i+1, subject(c), c.NotBefore.UTC().Format(time.RFC3339))
		}
		certs = append(certs, c)
	}
	return certs
}

// subject names a certificate in messages by its subject common name.
func subject(c *x509.Certificate) string {
	if cn := c.Subject.CommonName; cn != "" {
		return "CN=" + truncate(cn)
	}
	return "serial " + truncate(c.SerialNumber.String())
}

// decodePEM splits data into PEM blocks and reports anything else in it:
// text before, between or after blocks, or a block that does not end.
// Envoy's loader would skip or choke on such text; either way a mistake.
func decodePEM(e *Errs, p Path, data string) []*pem.Block {
	rest := []byte(data)
	var blocks []*pem.Block
	junk := false
	for len(bytes.TrimSpace(rest)) > 0 {
		start := bytes.Index(rest, []byte("-----BEGIN "))
		if start < 0 || len(bytes.TrimSpace(rest[:start])) > 0 {
			junk = true
		}
		b, r := pem.Decode(rest)
		if b == nil {
			junk = true
			break
		}
		// pem.Decode skips a malformed block to reach the next good one.
		if bytes.Count(rest[:len(rest)-len(r)], []byte("-----BEGIN ")) > 1 {
			junk = true
		}
		blocks = append(blocks, b)
		rest = r
	}
	if junk {
		e.Add(p, "contains text that is not part of a complete PEM block; keep only the -----BEGIN/-----END blocks")
	}
	return blocks
}

// parsePrivateKey parses a PEM private key in PKCS#1, PKCS#8 or SEC 1 (EC)
// form. Errors describe the form, never the content.
func parsePrivateKey(e *Errs, p Path, data string) crypto.Signer {
	if !checkLen(e, p, data, MaxPEMBytes) {
		return nil
	}
	blocks := decodePEM(e, p, data)
	switch {
	case len(blocks) == 0:
		e.Add(p, "must be PEM: no \"-----BEGIN PRIVATE KEY-----\" block found")
		return nil
	case len(blocks) > 1:
		e.Add(p, "must hold exactly one PEM block, got %d", len(blocks))
		return nil
	}
	b := blocks[0]
	if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
		e.Add(p, "is encrypted; store it decrypted (openssl pkey -in key.pem -out plain.pem)")
		return nil
	}
	var key any
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	default:
		e.Add(p, "PEM block is a %q, want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY", truncate(b.Type))
		return nil
	}
	if err != nil {
		e.Add(p, "PEM block %q does not hold a valid key of that form", b.Type)
		return nil
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k
	case *ecdsa.PrivateKey:
		return k
	}
	e.Add(p, "must be an RSA or ECDSA key (the key types Envoy serves), got %T", key)
	return nil
}

// checkLeafKeyType reports leaf keys Envoy refuses to load: RSA below 2048
// bits, ECDSA on curves other than P-256, P-384 and P-521, other types.
func checkLeafKeyType(e *Errs, p Path, leaf *x509.Certificate) {
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits {
			e.Add(p, "the leaf certificate's RSA key has %d bits; Envoy needs at least %d", n, minRSABits)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			e.Add(p, "the leaf certificate's ECDSA curve %s is not supported; use P-256, P-384 or P-521", k.Curve.Params().Name)
		}
	default:
		e.Add(p, "the leaf certificate's key is %s; Envoy serves RSA or ECDSA certificates only", leaf.PublicKeyAlgorithm)
	}
}
