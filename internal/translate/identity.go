package translate

import (
	"tollgate.dev/tollgate/internal/model"
)

// Why a piece using the gateway identity or the CA bundle is left out:
// the control plane's CA writes both Secrets itself, so their absence is
// a state that resolves on its own (or a CA that is not configured), not
// a mistake in the definition, hence a warning rather than a problem.
const (
	identityPending   = "gateway identity not issued yet (the control plane's CA issues it; see `ca` settings)"
	identityCAPending = "control-plane CA bundle not issued yet (the control plane's CA writes it; see `ca` settings)"
)

// hasImplicitSecret reports whether the Secret name, which the control
// plane writes itself (a gateway identity, the CA bundle), exists with
// type typ. Nothing references these Secrets as far as the store's
// referential integrity knows, so they may be missing; every lookup is
// recorded in t.implicit, found or not, because the pieces that use them
// must be translated again when such a Secret appears or disappears.
func (t *gatewayTranslator) hasImplicitSecret(name, typ string) bool {
	t.implicit[name] = true
	sec, ok := t.s.secrets[name]
	return ok && sec.GetSpec().GetType() == typ
}

// identitySecret is the name of this gateway's identity Secret.
func (t *gatewayTranslator) identitySecret() string { return model.IdentitySecretName(t.key.Name) }
