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
// only its hash (the key of the set), the gateway it is for and when it
// expires.
type joinToken struct {
	Gateway string    `json:"gateway"`
	Expires time.Time `json:"expires"`
}

// systemKeyJoinTokens holds every outstanding join token as one value, so
// each update can also sweep the expired ones. Tokens are few (one per
// proxy being rolled out, living an hour or so) and bounded by
// maxJoinTokens.
const (
	systemKeyJoinTokens = "join-tokens"
	maxJoinTokens       = 10000
)

// updateJoinTokens is a read-modify-write of the outstanding tokens with
// the expired ones dropped first.
func (a *Authority) updateJoinTokens(fn func(tokens map[string]joinToken) error) error {
	return a.opts.Store.UpdateSystem(systemKeyJoinTokens, func(old []byte) ([]byte, error) {
		tokens := map[string]joinToken{}
		if old != nil {
			if err := json.Unmarshal(old, &tokens); err != nil {
				return nil, fmt.Errorf("join tokens in the store: %w", err)
			}
		}
		now := a.now()
		for h, t := range tokens {
			if !now.Before(t.Expires) {
				delete(tokens, h)
			}
		}
		if err := fn(tokens); err != nil {
			return nil, err
		}
		return json.Marshal(tokens)
	})
}

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
	err = a.updateJoinTokens(func(tokens map[string]joinToken) error {
		if len(tokens) >= maxJoinTokens {
			return fmt.Errorf("%d join tokens are outstanding; let some expire or be used first", len(tokens))
		}
		tokens[hex.EncodeToString(hash[:])] = rec
		return nil
	})
	if err != nil {
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
	key := hex.EncodeToString(hash[:])
	err = a.updateJoinTokens(func(tokens map[string]joinToken) error {
		rec, ok := tokens[key]
		if !ok {
			return ErrBadJoinToken
		}
		if err := a.gatewayExists(rec.Gateway); err != nil {
			return err
		}
		signed, err := a.sign(rec.Gateway, csrPEM)
		if err != nil {
			return err
		}
		gateway, cert = rec.Gateway, signed
		delete(tokens, key) // spent
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	a.log.Info("proxy joined with a token", slog.String("gateway", gateway))
	return gateway, cert, nil
}
