package translate

import (
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// wholeGateway is a gateway translated as one unit, exactly as Translate
// does: proxyless gateways (one listener per hostname), and proxied ones
// whose pieces failed a check, so that the reference code path reports it.
type wholeGateway struct {
	g   *tollgatev1.Gateway
	u   *unit
	cfg *GatewayConfig
	// services and secrets are the ones the last translation looked up,
	// found or not (the identity Secrets the control plane writes): a
	// change to any other cannot change this gateway.
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
	cfg := t.translate()
	if w.cfg != nil {
		keepUnchanged(w.cfg, cfg)
	}
	w.cfg = cfg
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
	for sec := range t.implicit {
		// Looked up but possibly missing: its appearance changes the
		// gateway as much as its edit does.
		w.secrets[sec] = true
	}
}

func (w *wholeGateway) config() *GatewayConfig { return w.cfg }

// keepUnchanged gives every resource of now that equals its namesake in
// old (same sources, equal message) old's Message pointer, so that the xDS
// server does not re-encode it: a whole-gateway translation then costs
// the proxies no more than an incremental one.
func keepUnchanged(old, now *GatewayConfig) {
	for typ, rs := range now.Resources {
		prev := old.Resources[typ]
		for i := range rs {
			j, found := slices.BinarySearchFunc(prev, rs[i].Name, func(r Resource, n string) int { return strings.Compare(r.Name, n) })
			if found && slices.Equal(prev[j].Sources, rs[i].Sources) && proto.Equal(prev[j].Message, rs[i].Message) {
				rs[i].Message = prev[j].Message
			}
		}
	}
}

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
