package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"tollgate.dev/tollgate/internal/ca"
	"tollgate.dev/tollgate/internal/model"
)

// CertificateAuthority is the built-in CA as the admin API sees it.
type CertificateAuthority interface {
	// Bundle is the PEM trust bundle (public).
	Bundle() []byte
	// Issue signs csrPEM for gateway's identity. Errors that are the
	// caller's fault wrap ErrInvalidCSR, or ErrUnknownGateway for an
	// unknown gateway.
	Issue(ctx context.Context, gateway string, csrPEM []byte) (certPEM []byte, err error)
	// NewJoinToken makes a one-time token for a new proxy of gateway,
	// valid for ttl.
	NewJoinToken(ctx context.Context, gateway string, ttl time.Duration) (token string, expires time.Time, err error)
	// Join spends token (once) and signs csrPEM for the token's gateway.
	// An unknown, expired or spent token wraps ErrBadJoinToken.
	Join(ctx context.Context, token string, csrPEM []byte) (gateway string, certPEM []byte, err error)
	// GatewayOf is the gateway a verified certificate is the identity of.
	GatewayOf(cert *x509.Certificate) (string, error)
	// RotateIdentity re-issues the identity the control plane holds for
	// gateway's proxies now (wrapping ErrNotRotatable when it holds none).
	RotateIdentity(ctx context.Context, gateway string) error
	// RotateCA runs one step of a CA rotation: "prepare", "activate" or
	// "retire" (wrapping ErrRotation when the state does not allow it).
	RotateCA(ctx context.Context, phase string) error
}

// The errors a CertificateAuthority wraps for the caller's mistakes; any
// other error is the server's and answers 500. They are the built-in CA's
// own sentinels, so *ca.Authority satisfies the contract as it is and an
// implementation written against either package is mapped alike.
var (
	ErrInvalidCSR     = ca.ErrInvalidCSR
	ErrUnknownGateway = ca.ErrUnknownGateway
	ErrBadJoinToken   = ca.ErrBadJoinToken
	ErrNotRotatable   = ca.ErrNotRotatable
	ErrRotation       = ca.ErrRotation
)

type caRotateRequest struct {
	Phase string `json:"phase"`
}

// Join token lifetimes: a token is a bearer credential for a gateway
// identity, so it lives a day at most.
const (
	defaultJoinTTL = time.Hour
	maxJoinTTL     = 24 * time.Hour
)

type caBundleBody struct {
	CABundle string `json:"caBundle"`
	SHA256   string `json:"sha256"`
}

type certificateRequest struct {
	CSR string `json:"csr"`
}

type joinTokenRequest struct {
	TTL string `json:"ttl,omitempty"`
}

type joinRequest struct {
	Token string `json:"token"`
	CSR   string `json:"csr"`
}

type certificateBody struct {
	Gateway     string `json:"gateway"`
	Certificate string `json:"certificate"`
	CABundle    string `json:"caBundle"`
}

type joinTokenBody struct {
	Token    string    `json:"token"`
	Gateway  string    `json:"gateway"`
	Expires  time.Time `json:"expires"`
	CASHA256 string    `json:"caSHA256"`
}

func errNoCA() error {
	return newError(http.StatusNotImplemented, ReasonNotImplemented,
		"the control plane runs without a CA (no built-in CA is configured); certificates and join tokens are unavailable")
}

// caBundle handles GET /v1/ca.
func (s *Server) caBundle(w http.ResponseWriter, _ *http.Request) error {
	if s.opts.CA == nil {
		return errNoCA()
	}
	b := s.opts.CA.Bundle()
	writeJSON(w, http.StatusOK, caBundleBody{CABundle: string(b), SHA256: fingerprint(b)})
	return nil
}

// fingerprint is the hex SHA-256 of the first certificate's DER, the value
// a joining proxy is given out of band to pin the CA.
func fingerprint(bundle []byte) string {
	for rest := bundle; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return ""
		}
		if blk.Type == "CERTIFICATE" {
			sum := sha256.Sum256(blk.Bytes)
			return hex.EncodeToString(sum[:])
		}
	}
}

// issueCertificate handles POST /v1/gateways/{name}/certificates.
func (s *Server) issueCertificate(w http.ResponseWriter, r *http.Request) error {
	name, err := s.caGateway(r)
	if err != nil {
		return err
	}
	return s.signFor(w, r, name)
}

// signFor answers a certificate for gateway, signed from the CSR in the
// request body (the issue and renew endpoints differ only in how they
// decide the gateway).
func (s *Server) signFor(w http.ResponseWriter, r *http.Request, gateway string) error {
	var req certificateRequest
	if err := s.readJSON(w, r, &req, false); err != nil {
		return err
	}
	csr, err := checkCSR(req.CSR)
	if err != nil {
		return err
	}
	cert, err := s.opts.CA.Issue(r.Context(), gateway, csr)
	if err != nil {
		return caError(err, gateway)
	}
	return s.writeCertificate(w, gateway, cert)
}

// newJoinToken handles POST /v1/gateways/{name}/join-tokens.
func (s *Server) newJoinToken(w http.ResponseWriter, r *http.Request) error {
	name, err := s.caGateway(r)
	if err != nil {
		return err
	}
	var req joinTokenRequest
	if err := s.readJSON(w, r, &req, true); err != nil {
		return err
	}
	ttl := defaultJoinTTL
	if req.TTL != "" {
		ttl, err = time.ParseDuration(req.TTL)
		if err != nil || ttl <= 0 || ttl > maxJoinTTL {
			return model.Violations{{Path: "ttl", Message: fmt.Sprintf("must be a duration between 1s and %s such as \"1h\", got %q", maxJoinTTL, req.TTL)}}
		}
	}
	tok, exp, err := s.opts.CA.NewJoinToken(r.Context(), name, ttl)
	if err != nil {
		return caError(err, name)
	}
	writeJSON(w, http.StatusOK, joinTokenBody{Token: tok, Gateway: name, Expires: exp.UTC(), CASHA256: fingerprint(s.opts.CA.Bundle())})
	return nil
}

// join handles POST /v1/join. The token is the credential: the audit
// record names the mechanism ("join-token") and the gateway, never the
// token itself.
func (s *Server) join(w http.ResponseWriter, r *http.Request) error {
	noteActor(r, "join-token")
	if s.opts.CA == nil {
		return errNoCA()
	}
	var req joinRequest
	if err := s.readJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Token == "" {
		return model.Violations{{Path: "token", Message: "required: the join token an admin created for this gateway"}}
	}
	csr, err := checkCSR(req.CSR)
	if err != nil {
		return err
	}
	gw, cert, err := s.opts.CA.Join(r.Context(), req.Token, csr)
	if errors.Is(err, ErrBadJoinToken) {
		// Unknown, expired and spent look the same: no oracle for guessing.
		return newError(http.StatusUnauthorized, ReasonInvalidJoinToken, "the join token is not valid; ask an admin for a new one")
	}
	if err != nil {
		return caError(err, "")
	}
	noteObjects(r, model.Key{Kind: model.KindGateway, Name: gw}.String())
	return s.writeCertificate(w, gw, cert)
}

// rotateCA handles POST /v1/ca/rotate: one step of a CA rotation.
func (s *Server) rotateCA(w http.ResponseWriter, r *http.Request) error {
	if s.opts.CA == nil {
		return errNoCA()
	}
	var req caRotateRequest
	if err := s.readJSON(w, r, &req, false); err != nil {
		return err
	}
	switch req.Phase {
	case ca.PhasePrepare, ca.PhaseActivate, ca.PhaseRetire:
	default:
		return model.Violations{{Path: "phase", Message: fmt.Sprintf("must be %s, %s or %s, got %q", ca.PhasePrepare, ca.PhaseActivate, ca.PhaseRetire, req.Phase)}}
	}
	if err := s.opts.CA.RotateCA(r.Context(), req.Phase); err != nil {
		if errors.Is(err, ErrRotation) {
			return newError(http.StatusConflict, ReasonConflict, "%s", err.Error())
		}
		return fmt.Errorf("ca: %w", err)
	}
	b := s.opts.CA.Bundle()
	writeJSON(w, http.StatusOK, caBundleBody{CABundle: string(b), SHA256: fingerprint(b)})
	return nil
}

// rotateIdentity handles POST /v1/gateways/{name}/rotate-identity.
func (s *Server) rotateIdentity(w http.ResponseWriter, r *http.Request) error {
	name, err := s.caGateway(r)
	if err != nil {
		return err
	}
	if err := s.opts.CA.RotateIdentity(r.Context(), name); err != nil {
		if errors.Is(err, ErrNotRotatable) {
			return newError(http.StatusConflict, ReasonConflict, "%s", err.Error())
		}
		return caError(err, name)
	}
	writeJSON(w, http.StatusOK, map[string]string{"gateway": name, "rotated": model.IdentitySecretName(name)})
	return nil
}

// renew handles POST /v1/renew: the credential is the client certificate
// of the TLS connection, verified against the CA by the listener, and the
// new certificate is for the same gateway. A proxy thus keeps its
// identity fresh without any token, and can never obtain another's.
func (s *Server) renew(w http.ResponseWriter, r *http.Request) error {
	noteActor(r, "certificate")
	if s.opts.CA == nil {
		return errNoCA()
	}
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return newError(http.StatusUnauthorized, ReasonUnauthenticated,
			"renewal needs the current certificate: connect with it as the TLS client certificate")
	}
	gw, err := s.opts.CA.GatewayOf(r.TLS.VerifiedChains[0][0])
	if err != nil {
		return newError(http.StatusUnauthorized, ReasonUnauthenticated, "the client certificate is not a gateway identity: %v", err)
	}
	noteActor(r, "certificate:"+gw)
	noteObjects(r, model.Key{Kind: model.KindGateway, Name: gw}.String())
	return s.signFor(w, r, gw)
}

// caGateway checks the CA is there and the URL names a defined Gateway:
// identities are only issued for gateways the definitions know.
func (s *Server) caGateway(r *http.Request) (string, error) {
	if s.opts.CA == nil {
		return "", errNoCA()
	}
	name := r.PathValue("name")
	if msg := model.ValidateName(name); msg != "" {
		return "", newError(http.StatusBadRequest, ReasonInvalid, "name in the URL: %s", msg)
	}
	return name, s.mustExist(model.Key{Kind: model.KindGateway, Name: name})
}

// checkCSR accepts exactly one PEM CERTIFICATE REQUEST. Anything holding a
// private key is refused outright: keys are made and kept by the proxy.
func checkCSR(s string) ([]byte, error) {
	const path = "csr"
	if strings.TrimSpace(s) == "" {
		return nil, model.Violations{{Path: path, Message: "required: a PEM CERTIFICATE REQUEST"}}
	}
	if strings.Contains(s, "PRIVATE KEY") {
		return nil, model.Violations{{Path: path, Message: "must be a CSR only; never send a private key"}}
	}
	blk, rest := pem.Decode([]byte(s))
	if blk == nil || (blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST") {
		return nil, model.Violations{{Path: path, Message: "must be one PEM block of type CERTIFICATE REQUEST"}}
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, model.Violations{{Path: path, Message: "must hold exactly one PEM block, found trailing data"}}
	}
	return []byte(s), nil
}

// caError maps a CA's errors to answers.
func caError(err error, gateway string) error {
	switch {
	case errors.Is(err, ErrInvalidCSR):
		return model.Violations{{Path: "csr", Message: err.Error()}}
	case errors.Is(err, ErrUnknownGateway):
		return newError(http.StatusNotFound, ReasonNotFound, "Gateway/%s not found", gateway)
	}
	return fmt.Errorf("ca: %w", err)
}

// writeCertificate answers a signed certificate. A CA answer that holds
// key material is a bug and is refused rather than passed on.
func (s *Server) writeCertificate(w http.ResponseWriter, gateway string, cert []byte) error {
	if bytes.Contains(cert, []byte("PRIVATE KEY")) {
		return errors.New("ca: the issued certificate holds a private key")
	}
	writeJSON(w, http.StatusOK, certificateBody{Gateway: gateway, Certificate: string(cert), CABundle: string(s.opts.CA.Bundle())})
	return nil
}

// readJSON decodes a bounded JSON body into v, rejecting unknown fields
// with their path. Only application/json is accepted: these endpoints are
// not definitions, and the type check also stops cross-origin form posts.
// allowEmpty lets an empty body stand for "all defaults".
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return newError(http.StatusUnsupportedMediaType, ReasonUnsupportedMedia,
			"content type %q is not accepted; send Content-Type: application/json", r.Header.Get("Content-Type"))
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return newError(http.StatusUnsupportedMediaType, ReasonUnsupportedMedia, "content encoding %q is not accepted; send the body uncompressed", enc)
	}
	body, err := s.readRaw(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return newError(http.StatusBadRequest, ReasonBadRequest, "the request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonViolation(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return model.Violations{{Path: "", Message: "must be a single JSON object; found trailing data"}}
	}
	return nil
}

// jsonViolation turns a decoding error into a violation with the field
// path where encoding/json knows it.
func jsonViolation(err error) error {
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
	)
	switch {
	case errors.As(err, &te):
		return model.Violations{{Path: te.Field, Message: "must be a JSON " + te.Type.Kind().String() + ", got " + te.Value}}
	case errors.As(err, &se):
		return model.Violations{{Path: "", Message: fmt.Sprintf("not valid JSON at byte %d: %v", se.Offset, se)}}
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return model.Violations{{Path: strings.Trim(f, `"`), Message: "unknown field"}}
	}
	return model.Violations{{Path: "", Message: "not a valid JSON object: " + err.Error()}}
}
