package pki

import (
	"crypto/x509"
	"time"
)

// minRemaining is the least lifetime a certificate may have left before it
// is renewed regardless of the two-thirds rule, for very short lifetimes.
const minRemaining = time.Minute

// RenewAt is when cert should be replaced: two thirds into its lifetime,
// leaving a third for retries if the control plane is unreachable, or one
// minute before expiry if that comes first.
func RenewAt(cert *x509.Certificate) time.Time {
	lifetime := cert.NotAfter.Sub(cert.NotBefore)
	at := cert.NotBefore.Add(lifetime * 2 / 3)
	return minTime(at, cert.NotAfter.Add(-minRemaining))
}

// NeedsRenewal reports whether cert is due for replacement at now.
func NeedsRenewal(cert *x509.Certificate, now time.Time) bool {
	return !now.Before(RenewAt(cert))
}
