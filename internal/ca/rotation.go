package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"tollgate.dev/tollgate/internal/pki"
)

// A CA rotation replaces the signing CA without a failed handshake, in
// three steps an operator runs in order, each after the previous one has
// reached every proxy:
//
//  1. prepare: a new CA is created and added to the trust bundle; the old
//     one still signs. Proxies learn to trust the new CA: Envoy gateways by
//     SDS (the tollgate-ca Secret), file-based proxies through
//     `certs renew --watch`, which refreshes ca.pem.
//  2. activate: the new CA signs from now on; the old one stays trusted.
//     Envoy gateway identities are re-issued at once and reach their
//     proxies by SDS; file-based identities move on their next renewal
//     (`certs renew` forces it).
//  3. retire: the old CA leaves the bundle. Certificates it signed stop
//     verifying, so wait until they have all been renewed (ca.certTTL).
//
// The state lives in three system values: "ca" (the signing CA, sealed,
// as before rotation existed), "ca-next" (a prepared CA, sealed) and
// "ca-previous" (retired signers' certificates, still trusted). Each step
// writes them in an order that a crash leaves recoverable: re-running the
// interrupted step finishes it.
const (
	systemKeyCANext     = "ca-next"
	systemKeyCAPrevious = "ca-previous"
)

// The phases of a CA rotation.
const (
	PhasePrepare  = "prepare"
	PhaseActivate = "activate"
	PhaseRetire   = "retire"
)

// ErrRotation is wrapped when a rotation step is not possible in the current state
// (the message says why and what to do).
var ErrRotation = errors.New("CA rotation")

// trust is the CA state at one moment: who signs and whom to trust.
type trust struct {
	active   *pki.CA
	next     *pki.CA
	previous []*x509.Certificate
	pool     *x509.CertPool
	bundle   []byte
}

func newTrust(active, next *pki.CA, previous []*x509.Certificate) *trust {
	t := &trust{active: active, next: next, previous: previous, pool: x509.NewCertPool()}
	var b bytes.Buffer
	add := func(c *x509.Certificate, pemBytes []byte) {
		t.pool.AddCert(c)
		b.Write(bytes.TrimSpace(pemBytes))
		b.WriteByte('\n')
	}
	add(active.Certificate(), active.CertPEM())
	if next != nil {
		add(next.Certificate(), next.CertPEM())
	}
	for _, c := range previous {
		add(c, pki.EncodeCertPEM(c))
	}
	t.bundle = b.Bytes()
	return t
}

// loadRotation reads a rotation in progress around the signing CA active.
func (a *Authority) loadRotation(active *pki.CA) (*trust, error) {
	var next *pki.CA
	raw, err := a.opts.Store.GetSystem(systemKeyCANext)
	if err != nil {
		return nil, err
	}
	if raw != nil {
		if next, err = pki.UnmarshalSealed(raw, a.opts.SealKey, a.now()); err != nil {
			return nil, fmt.Errorf("prepared CA: %w", err)
		}
		if next.Certificate().Equal(active.Certificate()) {
			next = nil // an activation was interrupted after the switch
		}
	}
	previous, err := a.loadPrevious()
	if err != nil {
		return nil, err
	}
	return newTrust(active, next, previous), nil
}

func (a *Authority) loadPrevious() ([]*x509.Certificate, error) {
	raw, err := a.opts.Store.GetSystem(systemKeyCAPrevious)
	if err != nil || raw == nil {
		return nil, err
	}
	var pems []string
	if err := json.Unmarshal(raw, &pems); err != nil {
		return nil, fmt.Errorf("previous CAs: %w", err)
	}
	out := make([]*x509.Certificate, 0, len(pems))
	for _, p := range pems {
		c, err := pki.ParseCertPEM([]byte(p))
		if err != nil {
			return nil, fmt.Errorf("previous CAs: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// RotateCA runs one step of a CA rotation (PhasePrepare, PhaseActivate,
// PhaseRetire). Only the built-in CA rotates; a CA brought as files is
// rotated by replacing the files.
func (a *Authority) RotateCA(_ context.Context, phase string) error {
	if len(a.opts.CertPEM) > 0 {
		return fmt.Errorf("%w: the CA comes from ca.certFile and ca.keyFile; rotate it by replacing them", ErrRotation)
	}
	a.rotateMu.Lock()
	defer a.rotateMu.Unlock()
	cur := a.trust.Load()
	var (
		next *trust
		err  error
	)
	switch phase {
	case PhasePrepare:
		next, err = a.prepare(cur)
	case PhaseActivate:
		next, err = a.activate(cur)
	case PhaseRetire:
		next, err = a.retire(cur)
	default:
		return fmt.Errorf("%w: phase must be %s, %s or %s, got %q", ErrRotation, PhasePrepare, PhaseActivate, PhaseRetire, phase)
	}
	if err != nil {
		return err
	}
	a.trust.Store(next)
	a.notifyChanged()
	a.log.Info("CA rotation step done", slog.String("phase", phase))
	return nil
}

func (a *Authority) prepare(cur *trust) (*trust, error) {
	if cur.next != nil {
		return nil, fmt.Errorf("%w: a new CA is already prepared; activate it", ErrRotation)
	}
	c, err := pki.NewCA(a.opts.TrustDomain, a.now(), caValidity)
	if err != nil {
		return nil, err
	}
	sealed, err := c.MarshalSealed(a.opts.SealKey)
	if err != nil {
		return nil, err
	}
	if err := a.opts.Store.UpdateSystem(systemKeyCANext, func([]byte) ([]byte, error) { return sealed, nil }); err != nil {
		return nil, err
	}
	return newTrust(cur.active, c, cur.previous), nil
}

// activate switches the signer: the old one joins the previous CAs first,
// so at every point of a crash it is still trusted.
func (a *Authority) activate(cur *trust) (*trust, error) {
	if cur.next == nil {
		return nil, fmt.Errorf("%w: no new CA is prepared; run the prepare step first", ErrRotation)
	}
	previous := append([]*x509.Certificate{cur.active.Certificate()}, cur.previous...)
	if err := a.storePrevious(previous); err != nil {
		return nil, err
	}
	sealed, err := cur.next.MarshalSealed(a.opts.SealKey)
	if err != nil {
		return nil, err
	}
	if err := a.opts.Store.UpdateSystem(systemKeyCA, func([]byte) ([]byte, error) { return sealed, nil }); err != nil {
		return nil, err
	}
	if err := a.opts.Store.UpdateSystem(systemKeyCANext, func([]byte) ([]byte, error) { return nil, nil }); err != nil {
		return nil, err
	}
	return newTrust(cur.next, nil, previous), nil
}

func (a *Authority) retire(cur *trust) (*trust, error) {
	if len(cur.previous) == 0 {
		return nil, fmt.Errorf("%w: no previous CA is trusted; nothing to retire", ErrRotation)
	}
	if cur.next != nil {
		return nil, fmt.Errorf("%w: a new CA is prepared but not active; activate it first", ErrRotation)
	}
	if err := a.storePrevious(nil); err != nil {
		return nil, err
	}
	return newTrust(cur.active, nil, nil), nil
}

func (a *Authority) storePrevious(certs []*x509.Certificate) error {
	return a.opts.Store.UpdateSystem(systemKeyCAPrevious, func([]byte) ([]byte, error) {
		if len(certs) == 0 {
			return nil, nil
		}
		pems := make([]string, len(certs))
		for i, c := range certs {
			pems[i] = string(pki.EncodeCertPEM(c))
		}
		return json.Marshal(pems)
	})
}

// Changed returns a channel closed at the next change of the trust.
func (a *Authority) Changed() <-chan struct{} {
	a.changeMu.Lock()
	defer a.changeMu.Unlock()
	return a.changed
}

func (a *Authority) notifyChanged() {
	a.changeMu.Lock()
	defer a.changeMu.Unlock()
	close(a.changed)
	a.changed = make(chan struct{})
}
