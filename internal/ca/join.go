package ca

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"tollgate.dev/tollgate/internal/pki"
)

// MaxJoinTokenTTL bounds how long a join token stays usable: it is a
// bearer credential for a gateway identity, so it should not outlive the
// rollout it was made for.
const MaxJoinTokenTTL = 24 * time.Hour

// joinToken is what the store keeps of a token: never the token itself,
// only its hash (in the key), the gateway it is for and when it expires.
type joinToken struct {
	Gateway string    `json:"gateway"`
	Expires time.Time `json:"expires"`
}

func joinKey(hash [32]byte) string { return "join-token/" + hex.EncodeToString(hash[:]) }

// NewJoinToken makes a one-time token with which one new proxy of gateway
// obtains its certificate (Join), valid for ttl (at most MaxJoinTokenTTL).
func (a *Authority) NewJoinToken(_ context.Context, gateway string, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 || ttl > MaxJoinTokenTTL {
		return "", time.Time{}, fmt.Errorf("join token lifetime must be between 0 and %s, got %s", MaxJoinTokenTTL, ttl)
	}
	if err := a.gatewayExists(gateway); err != nil {
		return "", time.Time{}, err
	}
	token, hash, err := pki.NewJoinToken()
	if err != nil {
		return "", time.Time{}, err
	}
	rec := joinToken{Gateway: gateway, Expires: a.now().Add(ttl).UTC().Truncate(time.Second)}
	val, err := json.Marshal(rec)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := a.opts.Store.UpdateSystem(joinKey(hash), func([]byte) ([]byte, error) { return val, nil }); err != nil {
		return "", time.Time{}, err
	}
	a.log.Info("join token created", slog.String("gateway", gateway), slog.Time("expires", rec.Expires))
	return token, rec.Expires, nil
}

// Join spends token and signs csrPEM for the token's gateway. Spending
// and signing happen in one store update: two proxies racing with one
// token get one certificate between them, and a CSR that fails to verify
// does not burn the token.
func (a *Authority) Join(_ context.Context, token string, csrPEM []byte) (string, []byte, error) {
	hash, err := pki.HashJoinToken(token)
	if err != nil {
		return "", nil, ErrBadJoinToken
	}
	var (
		gateway string
		cert    []byte
	)
	err = a.opts.Store.UpdateSystem(joinKey(hash), func(old []byte) ([]byte, error) {
		var rec joinToken
		if old == nil || json.Unmarshal(old, &rec) != nil || !a.now().Before(rec.Expires) {
			return nil, ErrBadJoinToken
		}
		if err := a.gatewayExists(rec.Gateway); err != nil {
			return nil, err
		}
		signed, err := a.sign(rec.Gateway, csrPEM)
		if err != nil {
			return nil, err
		}
		gateway, cert = rec.Gateway, signed
		return nil, nil // spent: deleted
	})
	if err != nil {
		return "", nil, err
	}
	a.log.Info("proxy joined with a token", slog.String("gateway", gateway))
	return gateway, cert, nil
}
