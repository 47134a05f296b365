package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Role is what a principal may do. Roles are ordered: each includes the
// ones below it, so an operation names only the least role it needs.
type Role int

// The roles. The zero Role is deliberately invalid so a forgotten field
// can never silently mean "viewer"; an operation without a role is treated
// as admin-only (fail closed).
const (
	// RoleViewer reads everything (definitions, status, metrics, CA bundle).
	RoleViewer Role = iota + 1
	// RoleEditor also writes definitions (apply, PUT, DELETE).
	RoleEditor
	// RoleAdmin also issues certificates and join tokens and reads the
	// audit log.
	RoleAdmin
)

// rolePublic marks an operation that needs no principal at all (probes,
// the OpenAPI document, the join flow which carries its own token).
const rolePublic Role = -1

// String returns the role's configuration name.
func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleEditor:
		return "editor"
	case RoleAdmin:
		return "admin"
	case rolePublic:
		return "public"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// valid reports whether r is one of the three grantable roles.
func (r Role) valid() bool { return r >= RoleViewer && r <= RoleAdmin }

// ParseRole parses "viewer", "editor" or "admin".
func ParseRole(s string) (Role, error) {
	for _, r := range []Role{RoleViewer, RoleEditor, RoleAdmin} {
		if s == r.String() {
			return r, nil
		}
	}
	return 0, fmt.Errorf("role %q: must be one of viewer, editor, admin", s)
}

// Principal is an authenticated caller.
type Principal struct {
	// Name identifies the caller in the audit log: a token's name or a
	// client certificate's SPIFFE ID.
	Name string
	Role Role
}

// Authenticator finds the principal behind a request. It must not look at
// RemoteAddr: a request from localhost gets no privilege, since anything
// on the host (a browser, a sidecar) can reach a loopback listener.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

var (
	// ErrNoCredentials means the request carries no credentials this
	// authenticator understands; FirstOf then asks the next one.
	ErrNoCredentials = errors.New("no credentials")
	// ErrBadCredentials means credentials were presented and are not
	// recognised. FirstOf stops there: a wrong token is never rescued by
	// another mechanism.
	ErrBadCredentials = errors.New("credentials not recognised")
)

// Token is one accepted bearer token. Only its SHA-256 is held, so a
// memory dump or a config file leaks no usable token.
type Token struct {
	Name   string
	Role   Role
	SHA256 [32]byte
	// Expires, when set, is when the token stops being accepted: tokens
	// handed to CI jobs or contractors should not live forever.
	Expires time.Time
}

// HashToken returns the SHA-256 a Token holds for token. A plain hash (no
// salt, no KDF) is enough: tokens are 256 random bits, not passwords.
func HashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// tokenPrefix makes tokens recognisable to secret scanners.
const tokenPrefix = "tgt_"

// NewToken returns a fresh random token: "tgt_" and 32 random bytes in
// unpadded base64url.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// TokenAuthenticator accepts "Authorization: Bearer <token>" for a fixed
// set of token hashes.
type TokenAuthenticator struct {
	tokens []Token
	now    func() time.Time
}

// NewTokenAuthenticator checks tokens: every name set and unique, every
// role grantable, every hash set and unique (two names for one token would
// make the audit log's actor ambiguous).
func NewTokenAuthenticator(tokens []Token) (*TokenAuthenticator, error) {
	names := map[string]bool{}
	hashes := map[[32]byte]bool{}
	for i, t := range tokens {
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("token %d: name is required", i)
		case names[t.Name]:
			return nil, fmt.Errorf("token %q: name appears twice", t.Name)
		case !t.Role.valid():
			return nil, fmt.Errorf("token %q: role %s: must be viewer, editor or admin", t.Name, t.Role)
		case t.SHA256 == [32]byte{}:
			return nil, fmt.Errorf("token %q: sha256 is required", t.Name)
		case hashes[t.SHA256]:
			return nil, fmt.Errorf("token %q: the same token is already configured under another name", t.Name)
		}
		names[t.Name], hashes[t.SHA256] = true, true
	}
	return &TokenAuthenticator{tokens: append([]Token(nil), tokens...), now: time.Now}, nil
}

// Authenticate implements Authenticator. Every configured hash is compared
// in constant time and the loop never exits early, so timing reveals
// neither which token nearly matched nor how many are configured before it.
func (a *TokenAuthenticator) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Principal{}, ErrNoCredentials
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return Principal{}, ErrBadCredentials
	}
	sum := HashToken(strings.TrimSpace(tok))
	found := -1
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], a.tokens[i].SHA256[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, ErrBadCredentials
	}
	if exp := a.tokens[found].Expires; !exp.IsZero() && !a.now().Before(exp) {
		return Principal{}, fmt.Errorf("%w: the token expired at %s", ErrBadCredentials, exp.UTC().Format(time.RFC3339))
	}
	return Principal{Name: a.tokens[found].Name, Role: a.tokens[found].Role}, nil
}

// ClientCertRoles authenticates by client certificate: the key is a
// SPIFFE ID (a URI SAN such as spiffe://example.org/admin/alice) and the
// value its role. Chain verification is the TLS listener's job; only
// r.TLS.VerifiedChains is trusted here, never an unverified peer
// certificate.
type ClientCertRoles map[string]Role

// Authenticate implements Authenticator.
func (c ClientCertRoles) Authenticate(r *http.Request) (Principal, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return Principal{}, ErrNoCredentials
	}
	for _, u := range r.TLS.VerifiedChains[0][0].URIs {
		id := u.String()
		if role, ok := c[id]; ok && role.valid() {
			return Principal{Name: id, Role: role}, nil
		}
	}
	return Principal{}, ErrBadCredentials
}

// FirstOf tries each authenticator in order and returns the first
// principal. An authenticator that finds no credentials passes on; one
// that finds bad credentials ends the search with its error.
func FirstOf(auths ...Authenticator) Authenticator { return firstOf(auths) }

type firstOf []Authenticator

func (f firstOf) Authenticate(r *http.Request) (Principal, error) {
	for _, a := range f {
		p, err := a.Authenticate(r)
		if errors.Is(err, ErrNoCredentials) {
			continue
		}
		return p, err
	}
	return Principal{}, ErrNoCredentials
}

// AllowAnonymous grants every request the given role as principal
// "anonymous". It exists for the explicit insecure development mode only;
// a nil Options.Auth denies everything instead.
func AllowAnonymous(role Role) Authenticator { return anonymous{role: role} }

type anonymous struct{ role Role }

func (a anonymous) Authenticate(*http.Request) (Principal, error) {
	return Principal{Name: "anonymous", Role: a.role}, nil
}

// denyAll is the authenticator of a server built without one: fail closed.
type denyAll struct{}

func (denyAll) Authenticate(*http.Request) (Principal, error) {
	return Principal{}, errNoAuthenticator
}

var errNoAuthenticator = fmt.Errorf("%w: the admin API has no authenticator configured", ErrNoCredentials)
