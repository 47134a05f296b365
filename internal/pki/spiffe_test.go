package pki

import (
	"crypto/x509"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIDs(t *testing.T) {
	require.Equal(t, "spiffe://example.org/gateway/edge", GatewayID("example.org", "edge"))
	require.Equal(t, "spiffe://example.org/controlplane", ControlPlaneID("example.org"))
}

func TestValidateTrustDomain(t *testing.T) {
	tests := []struct {
		name    string
		td      string
		wantErr string
	}{
		{name: "dns name", td: "example.org"},
		{name: "all allowed characters", td: "a-b_c.0-9"},
		{name: "longest", td: strings.Repeat("a", 255)},
		{name: "empty", td: "", wantErr: "trust domain is empty"},
		{name: "too long", td: strings.Repeat("a", 256), wantErr: "256 characters long; the limit is 255"},
		{name: "uppercase", td: "Example.org", wantErr: "uppercase letter 'E' at position 0"},
		{name: "port", td: "example.org:443", wantErr: "character ':' at position 11"},
		{name: "space", td: "exa mple", wantErr: "character ' '"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTrustDomain(tt.td)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// certWithURIs is enough of a certificate for the SAN functions, which read
// only URIs; parsing goes through url.Parse exactly as crypto/x509 does.
func certWithURIs(t *testing.T, uris ...string) *x509.Certificate {
	t.Helper()
	c := &x509.Certificate{}
	for _, s := range uris {
		u, err := url.Parse(s)
		require.NoError(t, err)
		c.URIs = append(c.URIs, u)
	}
	return c
}

func TestGatewayOf(t *testing.T) {
	tests := []struct {
		name    string
		uris    []string
		want    string
		wantErr string
	}{
		{name: "gateway", uris: []string{"spiffe://td/gateway/edge"}, want: "edge"},
		{name: "gateway name with allowed punctuation", uris: []string{"spiffe://td/gateway/Edge-1.a_b"}, want: "Edge-1.a_b"},
		{name: "no URI SAN", wantErr: "has no URI SAN"},
		{name: "two URI SANs", uris: []string{"spiffe://td/gateway/a", "spiffe://td/gateway/b"}, wantErr: "has 2 URI SANs"},
		{name: "other trust domain", uris: []string{"spiffe://other/gateway/edge"}, wantErr: `belongs to trust domain "other", not "td"`},
		{name: "control plane", uris: []string{"spiffe://td/controlplane"}, wantErr: "is not a gateway identity"},
		{name: "wrong first segment", uris: []string{"spiffe://td/gateways/edge"}, wantErr: "is not a gateway identity"},
		{name: "no gateway name", uris: []string{"spiffe://td/gateway"}, wantErr: "is not a gateway identity"},
		{name: "extra segments", uris: []string{"spiffe://td/gateway/edge/proxy-1"}, wantErr: "is not a gateway identity"},
		{name: "trust domain ID", uris: []string{"spiffe://td"}, wantErr: "is not a gateway identity"},
		{name: "uppercase trust domain", uris: []string{"spiffe://TD/gateway/edge"}, wantErr: "uppercase letter 'T'"},
		{name: "not spiffe", uris: []string{"https://td/gateway/edge"}, wantErr: "is not a SPIFFE ID"},
		{name: "trailing slash", uris: []string{"spiffe://td/gateway/edge/"}, wantErr: "empty path segment"},
		{name: "dot segment", uris: []string{"spiffe://td/gateway/.."}, wantErr: "relative path segment"},
		{name: "query", uris: []string{"spiffe://td/gateway/edge?x=1"}, wantErr: "character '?'"},
		{name: "port", uris: []string{"spiffe://td:443/gateway/edge"}, wantErr: "character ':'"},
		{name: "user info", uris: []string{"spiffe://u@td/gateway/edge"}, wantErr: "character '@'"},
		{name: "percent-encoded", uris: []string{"spiffe://td/gateway/ed%41ge"}, wantErr: "character '%'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GatewayOf(certWithURIs(t, tt.uris...), "td")
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Empty(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSPIFFEID(t *testing.T) {
	id, err := SPIFFEID(certWithURIs(t, "spiffe://td/controlplane"))
	require.NoError(t, err)
	require.Equal(t, "spiffe://td/controlplane", id)

	id, err = SPIFFEID(certWithURIs(t, "urn:uuid:1234"))
	require.ErrorContains(t, err, "is not a SPIFFE ID")
	require.Empty(t, id)
}
