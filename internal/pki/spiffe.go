package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

const (
	spiffeScheme = "spiffe://"
	// gatewaySegment is the first path segment of every gateway identity.
	gatewaySegment = "gateway"
	// maxTrustDomainLen is the SPIFFE limit on a trust domain name.
	maxTrustDomainLen = 255
	// maxIDLen is the SPIFFE limit on a whole SPIFFE ID in bytes.
	maxIDLen = 2048
)

// GatewayID is the identity shared by every proxy of gateway: configuration
// is served per gateway, so telling its proxies apart would buy nothing.
func GatewayID(trustDomain, gateway string) string {
	return spiffeScheme + trustDomain + "/" + gatewaySegment + "/" + gateway
}

// ControlPlaneID is the identity the control plane presents to proxies, which
// they pin so that only our control plane can configure them.
func ControlPlaneID(trustDomain string) string {
	return spiffeScheme + trustDomain + "/controlplane"
}

// ValidateTrustDomain checks td against the SPIFFE trust domain grammar:
// 1 to 255 characters of lowercase letters, digits, '-', '.' and '_'. The
// error names the offending character, since the value comes from config.
func ValidateTrustDomain(td string) error {
	if td == "" {
		return errors.New("trust domain is empty; use a lowercase DNS-like name such as \"example.org\"")
	}
	if len(td) > maxTrustDomainLen {
		return fmt.Errorf("trust domain is %d characters long; the limit is %d", len(td), maxTrustDomainLen)
	}
	for i, r := range td {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
		case r >= 'A' && r <= 'Z':
			return fmt.Errorf("trust domain %q has an uppercase letter %q at position %d; trust domains must be lowercase", td, r, i)
		default:
			return fmt.Errorf("trust domain %q has the character %q at position %d; only lowercase letters, digits, '-', '.' and '_' are allowed", td, r, i)
		}
	}
	return nil
}

// validatePathSegment checks one segment of a SPIFFE ID path: letters,
// digits, '-', '.' and '_', and not a relative "." or "..".
func validatePathSegment(id, seg string) error {
	switch seg {
	case "":
		return fmt.Errorf("SPIFFE ID %q has an empty path segment (a doubled or trailing '/')", id)
	case ".", "..":
		return fmt.Errorf("SPIFFE ID %q has the relative path segment %q", id, seg)
	}
	for _, r := range seg {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
		default:
			return fmt.Errorf("SPIFFE ID %q has the character %q in its path; only letters, digits, '-', '.' and '_' are allowed", id, r)
		}
	}
	return nil
}

// parseID splits a SPIFFE ID into its trust domain and path segments after
// checking it against the SPIFFE ID grammar. Working on the text rather than
// url.URL means query strings, ports, user info and percent-encoding are all
// rejected by the character rules instead of being silently normalised.
func parseID(id string) (td string, segs []string, err error) {
	if len(id) > maxIDLen {
		return "", nil, fmt.Errorf("SPIFFE ID is %d bytes long; the limit is %d", len(id), maxIDLen)
	}
	rest, ok := strings.CutPrefix(id, spiffeScheme)
	if !ok {
		return "", nil, fmt.Errorf("%q is not a SPIFFE ID: it must start with %q", id, spiffeScheme)
	}
	td, path, hasPath := strings.Cut(rest, "/")
	if err := ValidateTrustDomain(td); err != nil {
		return "", nil, fmt.Errorf("SPIFFE ID %q: %w", id, err)
	}
	if !hasPath {
		return td, nil, nil
	}
	segs = strings.Split(path, "/")
	for _, seg := range segs {
		if err := validatePathSegment(id, seg); err != nil {
			return "", nil, err
		}
	}
	return td, segs, nil
}

// SPIFFEID returns the certificate's SPIFFE ID. An X.509 SVID carries exactly
// one URI SAN; a certificate with none or several is not an identity we can
// act on, so it is refused rather than guessed at.
func SPIFFEID(cert *x509.Certificate) (string, error) {
	switch len(cert.URIs) {
	case 0:
		return "", errors.New("the certificate has no URI SAN; a Tollgate identity certificate carries exactly one SPIFFE ID such as spiffe://<trust domain>/gateway/<name>")
	case 1:
	default:
		return "", fmt.Errorf("the certificate has %d URI SANs; a Tollgate identity certificate carries exactly one SPIFFE ID", len(cert.URIs))
	}
	id := cert.URIs[0].String()
	if _, _, err := parseID(id); err != nil {
		return "", fmt.Errorf("the certificate's URI SAN: %w", err)
	}
	return id, nil
}

// GatewayOf returns the gateway named by the certificate's SPIFFE ID in
// trustDomain. Its errors end up in the gRPC status a refused proxy logs, so
// each says what the certificate has and what was expected.
func GatewayOf(cert *x509.Certificate, trustDomain string) (string, error) {
	id, err := SPIFFEID(cert)
	if err != nil {
		return "", err
	}
	td, segs, err := parseID(id)
	if err != nil {
		return "", err
	}
	if td != trustDomain {
		return "", fmt.Errorf("the certificate's SPIFFE ID %q belongs to trust domain %q, not %q", id, td, trustDomain)
	}
	if len(segs) != 2 || segs[0] != gatewaySegment {
		return "", fmt.Errorf("the certificate's SPIFFE ID %q is not a gateway identity; expected %q", id, GatewayID(trustDomain, "<name>"))
	}
	return segs[1], nil
}
