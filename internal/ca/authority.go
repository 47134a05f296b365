package ca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"tollgate.dev/tollgate/internal/pki"
	"tollgate.dev/tollgate/internal/store"
)

// Errors the callers (the admin API) map to statuses: they are the
// requester's fault, not the control plane's.
var (
	// ErrInvalidCSR: the certificate request does not parse or verify.
	ErrInvalidCSR = errors.New("invalid certificate signing request")
	// ErrUnknownGateway: no Gateway of that name is defined.
	ErrUnknownGateway = errors.New("unknown gateway")
	// ErrBadJoinToken: the join token is unknown, spent or expired. Which
	// one is not said, so tokens cannot be probed.
	ErrBadJoinToken = errors.New("join token is not valid (unknown, already used or expired)")
	// ErrNotRotatable: the gateway's identity is not one the control plane
	// holds (proxyless gateways keep theirs in files).
	ErrNotRotatable = errors.New("identity cannot be rotated by the control plane")
)

// systemKeyCA is the store system value holding the built-in CA, key
// sealed.
const systemKeyCA = "ca"

// caValidity is the built-in root's lifetime. Proxy certificates are short
// lived and renewed; the root is replaced by a CA rotation, not renewal.
const caValidity = 10 * 365 * 24 * time.Hour

// Options configure an Authority.
type Options struct {
	// Store keeps the built-in CA and join tokens (system values) and is
	// where gateway identities are written as Secrets.
	Store *store.Store
	// TrustDomain is the SPIFFE trust domain of every identity.
	TrustDomain string
	// SealKey seals the built-in CA's private key in the store.
	SealKey pki.SealKey
	// CertPEM and KeyPEM, when set, are the user's own CA; nothing about
	// it is stored.
	CertPEM, KeyPEM []byte
	// TTL is the lifetime of issued certificates.
	TTL time.Duration
	// Logger receives issuance and renewal events.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Authority signs certificates with one CA at a time, and trusts that
// one plus, during a CA rotation, the next and the previous ones
// (rotation.go).
type Authority struct {
	opts  Options
	trust atomic.Pointer[trust]
	log   *slog.Logger
	now   func() time.Time

	rotateMu sync.Mutex    // serialises CA rotations
	changeMu sync.Mutex    // guards changed
	changed  chan struct{} // closed (and replaced) when the trust changes

	mu      sync.Mutex
	serving map[string]*tls.Certificate // by the names it was issued for
}

// Open loads the CA: the user's when Options has one, else the built-in
// one from the store, created (and stored, sealed) on first use. A store
// whose CA was sealed with another key is an error, never a silent new
// CA: every proxy certificate would stop verifying.
func Open(opts Options) (*Authority, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Authority{opts: opts, log: opts.Logger, now: opts.Now, serving: map[string]*tls.Certificate{}, changed: make(chan struct{})}
	if len(opts.CertPEM) > 0 {
		c, err := pki.LoadCA(opts.CertPEM, opts.KeyPEM, opts.TrustDomain, opts.Now())
		if err != nil {
			return nil, fmt.Errorf("CA files: %w", err)
		}
		a.trust.Store(newTrust(c, nil, nil))
		return a, nil
	}
	c, err := builtin(opts)
	if err != nil {
		return nil, err
	}
	t, err := a.loadRotation(c)
	if err != nil {
		return nil, err
	}
	a.trust.Store(t)
	return a, nil
}

// builtin loads the stored CA or creates it, in one store update so two
// control planes starting on one store cannot create two CAs.
func builtin(opts Options) (*pki.CA, error) {
	var c *pki.CA
	err := opts.Store.UpdateSystem(systemKeyCA, func(old []byte) ([]byte, error) {
		if old != nil {
			loaded, err := pki.UnmarshalSealed(old, opts.SealKey, opts.Now())
			if err != nil {
				return nil, fmt.Errorf("built-in CA: %w", err)
			}
			c = loaded
			return old, nil
		}
		created, err := pki.NewCA(opts.TrustDomain, opts.Now(), caValidity)
		if err != nil {
			return nil, fmt.Errorf("create the built-in CA: %w", err)
		}
		sealed, err := created.MarshalSealed(opts.SealKey)
		if err != nil {
			return nil, err
		}
		c = created
		opts.Logger.Info("built-in CA created", slog.String("trust_domain", opts.TrustDomain))
		return sealed, nil
	})
	if err != nil {
		return nil, err
	}
	if c.TrustDomain() != opts.TrustDomain {
		return nil, fmt.Errorf("the built-in CA in the store is for trust domain %q, not %q (ca.trustDomain); "+
			"a trust domain cannot change under running proxies", c.TrustDomain(), opts.TrustDomain)
	}
	return c, nil
}

// TrustDomain is the SPIFFE trust domain of the identities issued.
func (a *Authority) TrustDomain() string { return a.opts.TrustDomain }

// Bundle is the PEM trust bundle proxies and clients verify against: the
// signing CA, and during a rotation the next or previous one.
func (a *Authority) Bundle() []byte { return a.trust.Load().bundle }

// Pool is the trust bundle as a pool, for verifying client certificates.
func (a *Authority) Pool() *x509.CertPool { return a.trust.Load().pool }

// signer is the CA that signs now.
func (a *Authority) signer() *pki.CA { return a.trust.Load().active }

// GatewayOf is the gateway a verified client certificate identifies.
func (a *Authority) GatewayOf(cert *x509.Certificate) (string, error) {
	return pki.GatewayOf(cert, a.opts.TrustDomain)
}

// Issue signs csrPEM with gateway's identity. The gateway must exist, so
// an admin's typo does not mint an identity nobody can use.
func (a *Authority) Issue(_ context.Context, gateway string, csrPEM []byte) ([]byte, error) {
	if err := a.gatewayExists(gateway); err != nil {
		return nil, err
	}
	return a.sign(gateway, csrPEM)
}

func (a *Authority) sign(gateway string, csrPEM []byte) ([]byte, error) {
	cert, err := a.signer().SignCSR(csrPEM, pki.GatewayID(a.opts.TrustDomain, gateway), a.now(), a.opts.TTL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	a.log.Info("certificate issued", slog.String("gateway", gateway))
	return cert, nil
}

func (a *Authority) gatewayExists(gateway string) error {
	g, err := a.opts.Store.Read().Gateway(nil, gateway)
	if err != nil {
		return err
	}
	if g == nil {
		return fmt.Errorf("%w %q: define the Gateway first", ErrUnknownGateway, gateway)
	}
	return nil
}

// ServerTLS is the TLS configuration of a control-plane listener: the
// control plane's own certificate (issued by the signing CA for names,
// renewed when due or when the signer changes, never stored) and, with
// clientAuth, client certificates verified against the trust bundle. Both
// are read at every handshake, so a CA rotation applies without a
// restart.
func (a *Authority) ServerTLS(names []string, clientAuth tls.ClientAuthType) *tls.Config {
	perHandshake := func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cert, err := a.servingCertificate(names)
		if err != nil {
			return nil, err
		}
		return &tls.Config{
			MinVersion:   tls.VersionTLS12,
			ClientAuth:   clientAuth,
			ClientCAs:    a.Pool(),
			Certificates: []tls.Certificate{*cert},
			NextProtos:   []string{"h2", "http/1.1"},
		}, nil
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: perHandshake}
}

// servingCertificate returns the current certificate for names, issuing a
// new one when there is none or it is due for renewal.
func (a *Authority) servingCertificate(names []string) (*tls.Certificate, error) {
	signer := a.signer()
	key := fmt.Sprint(names)
	a.mu.Lock()
	defer a.mu.Unlock()
	// Reused until due, and until a CA rotation changes the signer.
	if c := a.serving[key]; c != nil && !pki.NeedsRenewal(c.Leaf, a.now()) && c.Leaf.CheckSignatureFrom(signer.Certificate()) == nil {
		return c, nil
	}
	dns, ips := splitNames(names)
	certPEM, keyPEM, err := signer.Issue(pki.ControlPlaneID(a.opts.TrustDomain), dns, ips, a.now(), a.opts.TTL)
	if err != nil {
		return nil, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	a.serving[key] = &c
	return &c, nil
}

// splitNames sorts names into DNS names and IP addresses, always covering
// localhost and the loopback addresses.
func splitNames(names []string) (dns []string, ips []net.IP) {
	dns = []string{"localhost"}
	ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else if n != "" && n != "localhost" {
			dns = append(dns, n)
		}
	}
	return dns, ips
}
