package pki

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNeedsRenewal(t *testing.T) {
	start := testNow
	tests := []struct {
		name     string
		lifetime time.Duration
		at       time.Duration // since NotBefore
		want     bool
	}{
		{name: "fresh", lifetime: 3 * time.Hour, at: 0, want: false},
		{name: "just before two thirds", lifetime: 3 * time.Hour, at: 2*time.Hour - time.Nanosecond, want: false},
		{name: "at two thirds", lifetime: 3 * time.Hour, at: 2 * time.Hour, want: true},
		{name: "expired", lifetime: 3 * time.Hour, at: 4 * time.Hour, want: true},
		// With 90s of life two thirds is 60s, but the one-minute floor says 30s.
		{name: "short: before last minute", lifetime: 90 * time.Second, at: 29 * time.Second, want: false},
		{name: "short: last minute", lifetime: 90 * time.Second, at: 30 * time.Second, want: true},
		{name: "shorter than a minute", lifetime: 30 * time.Second, at: 0, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := &x509.Certificate{NotBefore: start, NotAfter: start.Add(tt.lifetime)}
			require.Equal(t, tt.want, NeedsRenewal(cert, start.Add(tt.at)))
		})
	}
}

func TestRenewAtIssued(t *testing.T) {
	ca := newTestCA(t)
	certPEM, _, err := ca.Issue(ControlPlaneID("td"), nil, nil, testNow, 59*time.Minute)
	require.NoError(t, err)
	cert, err := ParseCertPEM(certPEM)
	require.NoError(t, err)
	// Lifetime is 60 minutes including the one-minute backdate.
	require.Equal(t, testNow.Add(39*time.Minute), RenewAt(cert))
}

func TestParseCertPEM(t *testing.T) {
	_, err := ParseCertPEM(nil)
	require.ErrorContains(t, err, "no PEM \"CERTIFICATE\" block")
	_, err = ParseCertPEM([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	require.ErrorContains(t, err, "certificate 1 of the PEM data")
}
