package pki

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

const (
	// storedCAVersion is the version of the storedCA JSON layout.
	storedCAVersion = 1
	// caKeyPurpose is the additional data the CA key is sealed under, so no
	// other sealed blob can be passed off as the CA key.
	caKeyPurpose = "tollgate/ca-key"
)

// storedCA is the persisted form of a CA. JSON keeps it inspectable with
// ordinary tools: everything but the key is public.
type storedCA struct {
	Version     int    `json:"version"`
	TrustDomain string `json:"trustDomain"`
	// CertPEM is the trust bundle, the signing certificate first.
	CertPEM string `json:"certPEM"`
	// SealedKey is the PKCS#8 DER private key, sealed with caKeyPurpose.
	SealedKey []byte `json:"sealedKey"`
}

// MarshalSealed encodes the CA for storage with its private key sealed under
// k, so a copy of the store alone does not yield a key that can mint
// identities.
func (c *CA) MarshalSealed(k SealKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.key)
	if err != nil {
		return nil, fmt.Errorf("encode CA key: %w", err)
	}
	sealed, err := Seal(k, der, []byte(caKeyPurpose))
	if err != nil {
		return nil, fmt.Errorf("seal CA key: %w", err)
	}
	return json.Marshal(storedCA{
		Version:     storedCAVersion,
		TrustDomain: c.trustDomain,
		CertPEM:     string(c.bundlePEM),
		SealedKey:   sealed,
	})
}

// UnmarshalSealed reverses MarshalSealed and re-checks the CA as LoadCA does
// at now, so an expired stored CA is reported (wrapping ErrCAExpired) rather
// than used. A wrong k gives an error wrapping ErrWrongSealKey that tells
// the operator what to fix.
func UnmarshalSealed(data []byte, k SealKey, now time.Time) (*CA, error) {
	var s storedCA
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("stored CA: %w", err)
	}
	if s.Version != storedCAVersion {
		return nil, fmt.Errorf("stored CA has format version %d; this build reads version %d", s.Version, storedCAVersion)
	}
	if err := ValidateTrustDomain(s.TrustDomain); err != nil {
		return nil, fmt.Errorf("stored CA: %w", err)
	}
	certs, err := parseCertsPEM([]byte(s.CertPEM))
	if err != nil {
		return nil, fmt.Errorf("stored CA certificate: %w", err)
	}
	der, err := Open(k, s.SealedKey, []byte(caKeyPurpose))
	if errors.Is(err, ErrWrongSealKey) {
		return nil, fmt.Errorf("the CA key in the store was sealed with a different encryption key; set the seal key to the one used when the CA was created: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("stored CA key: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("stored CA key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("stored CA key: a %T key cannot sign certificates", key)
	}
	return newLoadedCA(certs, signer, s.TrustDomain, now)
}
