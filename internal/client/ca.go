package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// CAInfo is the control plane's CA bundle and the SHA-256 fingerprint of
// its first certificate (what `certs join --ca-sha256` pins).
type CAInfo struct {
	CABundle string `json:"caBundle"`
	SHA256   string `json:"sha256"`
}

// Certificate is a certificate the CA signed for a gateway's identity.
type Certificate struct {
	Gateway     string `json:"gateway"`
	Certificate string `json:"certificate"`
	CABundle    string `json:"caBundle"`
}

// JoinToken is a one-time token for one new proxy of a gateway.
type JoinToken struct {
	Token    string    `json:"token"`
	Gateway  string    `json:"gateway"`
	Expires  time.Time `json:"expires"`
	CASHA256 string    `json:"caSHA256"`
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// CA reads the CA bundle.
func (c *Client) CA(ctx context.Context) (CAInfo, error) {
	var out CAInfo
	return out, c.do(ctx, http.MethodGet, "/v1/ca", nil, nil, nil, &out)
}

// IssueCertificate has the CA sign csrPEM for gateway (admin role). The
// private key never leaves the caller.
func (c *Client) IssueCertificate(ctx context.Context, gateway string, csrPEM []byte) (Certificate, error) {
	body, err := json.Marshal(map[string]string{"csr": string(csrPEM)})
	if err != nil {
		return Certificate{}, err
	}
	var out Certificate
	return out, c.do(ctx, http.MethodPost, "/v1/gateways/"+url.PathEscape(gateway)+"/certificates", nil, body, jsonHeader, &out)
}

// NewJoinToken makes a one-time join token for gateway, valid for ttl
// (admin role).
func (c *Client) NewJoinToken(ctx context.Context, gateway string, ttl time.Duration) (JoinToken, error) {
	req := map[string]string{}
	if ttl > 0 {
		req["ttl"] = ttl.String()
	}
	body, err := json.Marshal(req)
	if err != nil {
		return JoinToken{}, err
	}
	var out JoinToken
	return out, c.do(ctx, http.MethodPost, "/v1/gateways/"+url.PathEscape(gateway)+"/join-tokens", nil, body, jsonHeader, &out)
}

// Join spends a join token for a certificate of the token's gateway; it
// needs no bearer token.
func (c *Client) Join(ctx context.Context, token string, csrPEM []byte) (Certificate, error) {
	body, err := json.Marshal(map[string]string{"token": token, "csr": string(csrPEM)})
	if err != nil {
		return Certificate{}, err
	}
	var out Certificate
	return out, c.do(ctx, http.MethodPost, "/v1/join", nil, body, jsonHeader, &out)
}

// Renew has the CA sign csrPEM for the identity of the client certificate
// the connection presents (the certificate being renewed).
func (c *Client) Renew(ctx context.Context, csrPEM []byte) (Certificate, error) {
	body, err := json.Marshal(map[string]string{"csr": string(csrPEM)})
	if err != nil {
		return Certificate{}, err
	}
	var out Certificate
	return out, c.do(ctx, http.MethodPost, "/v1/renew", nil, body, jsonHeader, &out)
}

// RotateCA runs one step of a CA rotation (admin role) and returns the
// new trust bundle.
func (c *Client) RotateCA(ctx context.Context, phase string) (CAInfo, error) {
	body, err := json.Marshal(map[string]string{"phase": phase})
	if err != nil {
		return CAInfo{}, err
	}
	var out CAInfo
	return out, c.do(ctx, http.MethodPost, "/v1/ca/rotate", nil, body, jsonHeader, &out)
}
