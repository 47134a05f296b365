package ca

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/pki"
	"tollgate.dev/tollgate/internal/store"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Labels on the Secrets the control plane manages, so people and tools
// can tell them apart from their own (and select them).
const (
	LabelManagedBy = "tollgate.dev/managed-by"
	LabelGateway   = "tollgate.dev/gateway"
	managedByCA    = "ca"
)

// retryAfterError is how soon a failed issuance round is tried again.
const retryAfterError = 5 * time.Second

// RunIdentities keeps, until ctx ends, one identity Secret per Envoy
// gateway (model.IdentitySecretName: its certificate and key, for the
// gateway's SPIFFE ID) and the CA bundle Secret (model.IdentityCASecretName)
// in the store. Each is renewed once two thirds of its lifetime has
// passed, and deleted with its gateway. Because they are ordinary Secrets,
// a renewal reaches exactly the proxies of that gateway, by SDS, and only
// if something of theirs uses it. Proxyless gateways get none: grpc-go
// reads its identity from files (`controlplane certs`).
func (a *Authority) RunIdentities(ctx context.Context) error {
	for {
		ws := memdb.NewWatchSet()
		ws.Add(a.Changed()) // a CA rotation step changes the bundle and the signer
		next, err := a.reconcileIdentities(ctx, ws)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			a.log.Error("gateway identities not updated; retrying", slog.Any("error", err))
			next = a.now().Add(retryAfterError)
		}
		timer := time.NewTimer(max(time.Until(next), 0))
		werr := ws.WatchCtx(timerCtx(ctx, timer))
		timer.Stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = werr // a timeout just means renewal is due
	}
}

// timerCtx is ctx, also ended when timer fires.
func timerCtx(ctx context.Context, timer *time.Timer) context.Context {
	c, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-timer.C:
		case <-c.Done():
		}
		cancel()
	}()
	return c
}

// reconcileIdentities applies what is missing, due or stale, and returns
// when the next renewal falls due. ws is armed on what it read.
func (a *Authority) reconcileIdentities(ctx context.Context, ws memdb.WatchSet) (time.Time, error) {
	r := a.opts.Store.Read()
	r.WatchRevision(ws)
	gateways, err := r.Gateways(nil)
	if err != nil {
		return time.Time{}, err
	}
	secrets, err := r.Secrets(nil)
	if err != nil {
		return time.Time{}, err
	}
	have := map[string]*tollgatev1.Secret{}
	for _, s := range secrets {
		if s.GetMetadata().GetLabels()[LabelManagedBy] == managedByCA {
			have[s.GetMetadata().GetName()] = s
		}
	}
	now := a.now()
	next := now.Add(a.opts.TTL)
	var changes []store.Change
	want := map[string]bool{model.IdentityCASecretName: true}
	if s := have[model.IdentityCASecretName]; s == nil || s.GetSpec().GetCaBundle() != a.bundleText() {
		changes = append(changes, store.Change{Op: store.OpPut, Object: a.bundleSecret(s)})
	}
	for _, g := range gateways {
		if g.GetSpec().GetMode() == model.GatewayModeProxyless {
			continue
		}
		gw := g.GetMetadata().GetName()
		name := model.IdentitySecretName(gw)
		want[name] = true
		renew, due := a.identityDue(have[name], gw, now)
		if !due {
			next = minTime(next, renew)
			continue
		}
		sec, renewAt, err := a.identitySecret(gw, have[name])
		if err != nil {
			return time.Time{}, err
		}
		next = minTime(next, renewAt)
		changes = append(changes, store.Change{Op: store.OpPut, Object: sec})
	}
	for name, s := range have {
		if !want[name] {
			changes = append(changes, store.Change{Op: store.OpDelete, Key: model.KeyOf(s), IfMatch: s.GetMetadata().GetResourceVersion()})
		}
	}
	if len(changes) == 0 {
		return next, nil
	}
	if _, err := a.opts.Store.Apply(ctx, changes, store.ApplyOptions{}); err != nil {
		var conflict *store.ConflictError
		if errors.As(err, &conflict) {
			return now, nil // someone wrote meanwhile: look again at once
		}
		return time.Time{}, err
	}
	a.log.Info("gateway identities updated", slog.Int("changes", len(changes)))
	return next, nil
}

// identityDue says whether gateway's identity Secret s must be (re)issued:
// missing, not parseable, not from this CA, not this gateway's identity,
// or due for renewal. It returns the renewal time otherwise.
func (a *Authority) identityDue(s *tollgatev1.Secret, gateway string, now time.Time) (time.Time, bool) {
	if s == nil || s.GetSpec().GetPrivateKey() == "" {
		return time.Time{}, true
	}
	cert, err := pki.ParseCertPEM([]byte(s.GetSpec().GetCertificate()))
	if err != nil || cert.CheckSignatureFrom(a.signer().Certificate()) != nil {
		return time.Time{}, true
	}
	if gw, err := a.GatewayOf(cert); err != nil || gw != gateway || pki.NeedsRenewal(cert, now) {
		return time.Time{}, true
	}
	return pki.RenewAt(cert), false
}

// identitySecret issues a fresh identity for gateway as a Secret, keeping
// old's resourceVersion as the write's precondition.
func (a *Authority) identitySecret(gateway string, old *tollgatev1.Secret) (*tollgatev1.Secret, time.Time, error) {
	certPEM, keyPEM, err := a.signer().Issue(pki.GatewayID(a.opts.TrustDomain, gateway), nil, nil, a.now(), a.opts.TTL)
	if err != nil {
		return nil, time.Time{}, err
	}
	cert, err := pki.ParseCertPEM(certPEM)
	if err != nil {
		return nil, time.Time{}, err
	}
	s := &tollgatev1.Secret{
		ApiVersion: model.APIVersion, Kind: string(model.KindSecret),
		Metadata: &tollgatev1.ObjectMeta{
			Name:            model.IdentitySecretName(gateway),
			Labels:          map[string]string{LabelManagedBy: managedByCA, LabelGateway: gateway},
			ResourceVersion: old.GetMetadata().GetResourceVersion(),
		},
		Spec: &tollgatev1.SecretSpec{Type: model.SecretTypeTLS, Certificate: string(certPEM), PrivateKey: string(keyPEM)},
	}
	return s, pki.RenewAt(cert), nil
}

func (a *Authority) bundleSecret(old *tollgatev1.Secret) *tollgatev1.Secret {
	return &tollgatev1.Secret{
		ApiVersion: model.APIVersion, Kind: string(model.KindSecret),
		Metadata: &tollgatev1.ObjectMeta{
			Name:            model.IdentityCASecretName,
			Labels:          map[string]string{LabelManagedBy: managedByCA},
			ResourceVersion: old.GetMetadata().GetResourceVersion(),
		},
		Spec: &tollgatev1.SecretSpec{Type: model.SecretTypeCA, CaBundle: a.bundleText()},
	}
}

// bundleText is the CA bundle as the managed Secret holds it.
func (a *Authority) bundleText() string { return strings.TrimSpace(string(a.Bundle())) + "\n" }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// RotateIdentity re-issues gateway's identity Secret now, before it is
// due: what an operator does when a proxy's key may have leaked. The new
// certificate reaches the gateway's proxies by SDS; the old one stays
// valid until it expires (there is no revocation list), so its lifetime
// (ca.certTTL) bounds the exposure.
func (a *Authority) RotateIdentity(ctx context.Context, gateway string) error {
	r := a.opts.Store.Read()
	g, err := r.Gateway(nil, gateway)
	if err != nil {
		return err
	}
	if g == nil {
		return fmt.Errorf("%w %q: define the Gateway first", ErrUnknownGateway, gateway)
	}
	if g.GetSpec().GetMode() == model.GatewayModeProxyless {
		return fmt.Errorf("%w: gateway %q is proxyless: its proxies keep their identity in files; renew them with `controlplane certs renew`",
			ErrNotRotatable, gateway)
	}
	old, err := r.Secret(nil, model.IdentitySecretName(gateway))
	if err != nil {
		return err
	}
	sec, _, err := a.identitySecret(gateway, old)
	if err != nil {
		return err
	}
	if _, err := a.opts.Store.Apply(ctx, []store.Change{{Op: store.OpPut, Object: sec}}, store.ApplyOptions{}); err != nil {
		return err
	}
	a.log.Info("gateway identity rotated on request", slog.String("gateway", gateway))
	return nil
}
