package translate

import (
	"slices"
	"strings"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// wholeGateway is a gateway translated as one unit, exactly as Translate
// does: proxyless gateways (one listener per hostname), and proxied ones
// whose pieces failed a check, so that the reference code path reports it.
type wholeGateway struct {
	g   *tollgatev1.Gateway
	u   *unit
	cfg *GatewayConfig
	// services and secrets are the ones the last translation looked up:
	// a change to any other cannot change this gateway.
	services, secrets map[string]bool
}

func newWholeGateway(s *incState, g *tollgatev1.Gateway) *wholeGateway {
	w := &wholeGateway{g: g}
	w.translate(s)
	s.book.replace(nil, w.u)
	return w
}

// translate runs the full translation of the gateway over the APIs on it.
func (w *wholeGateway) translate(s *incState) {
	u := newUnit()
	t := newGatewayTranslator(s.view(), u.st, w.g)
	name := w.g.GetMetadata().GetName()
	for _, a := range s.apis {
		if onGateway(a, name) {
			t.apis = append(t.apis, a)
		}
	}
	slices.SortFunc(t.apis, func(a, b *tollgatev1.API) int {
		return strings.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName())
	})
	w.cfg = t.translate()
	w.u = u.seal()
	w.services, w.secrets = map[string]bool{}, map[string]bool{}
	for _, c := range t.clusters {
		w.services[c.Source.Name] = true
	}
	for svc := range t.rejected {
		w.services[svc] = true
	}
	for _, sec := range t.secrets {
		w.secrets[sec.Source.Name] = true
	}
}

func (w *wholeGateway) config() *GatewayConfig { return w.cfg }

func (w *wholeGateway) update(s *incState, ch *changeSet) error {
	if !w.affected(s, ch) {
		return nil
	}
	old := w.u
	w.translate(s)
	s.book.replace(old, w.u)
	return nil
}

// affected reports whether ch can change the gateway: an API on it was
// changed (or moved off it), or a Service or Secret it looked up.
func (w *wholeGateway) affected(s *incState, ch *changeSet) bool {
	name := w.g.GetMetadata().GetName()
	for api, old := range ch.apis {
		if onGateway(old, name) || onGateway(s.apis[api], name) {
			return true
		}
	}
	for svc := range ch.services {
		if w.services[svc] {
			return true
		}
	}
	for sec := range ch.secrets {
		if w.secrets[sec] {
			return true
		}
	}
	return false
}

func (w *wholeGateway) drop(b *statusBook) { b.replace(w.u, nil) }
