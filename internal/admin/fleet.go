package admin

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"

	"google.golang.org/protobuf/encoding/protojson"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
	"tollgate.dev/tollgate/internal/translate"
	"tollgate.dev/tollgate/internal/xds"
)

// Fleet is the xDS side as the admin API sees it: what every connected
// proxy was sent, ACKed and rejected. *xds.Server implements it.
type Fleet interface {
	Nodes() []xds.NodeStatus
	GatewayStatus(name string) xds.GatewayStatus
	DefinitionStatus(key model.Key) []xds.ProxyProblem
}

// nodes handles GET /v1/nodes.
func (s *Server) nodes(w http.ResponseWriter, _ *http.Request) error {
	if s.opts.Fleet == nil {
		return errNoFleet()
	}
	writeJSON(w, http.StatusOK, map[string]any{"nodes": s.opts.Fleet.Nodes()})
	return nil
}

func errNoFleet() error {
	return newError(http.StatusNotFound, ReasonNotFound, "this control plane runs no xDS server")
}

// gatewayStatusBody is the answer of GET /v1/gateways/{name}/status.
type gatewayStatusBody struct {
	xds.GatewayStatus
	// Proxies is the number of connected proxies of the gateway.
	Proxies int `json:"proxies"`
	// InSync is how many of them run the latest configuration.
	InSync int `json:"inSync"`
	// Revision is the store revision of the served configuration.
	Revision uint64 `json:"revision"`
	// Accepted, Problems and Warnings are how translation judged the
	// Gateway object itself.
	Accepted bool             `json:"accepted"`
	Problems model.Violations `json:"problems,omitempty"`
	Warnings model.Violations `json:"warnings,omitempty"`
}

// gatewayStatus handles GET /v1/gateways/{name}/status.
func (s *Server) gatewayStatus(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Fleet == nil {
		return errNoFleet()
	}
	name := r.PathValue("name")
	if err := s.mustExist(model.Key{Kind: model.KindGateway, Name: name}); err != nil {
		return err
	}
	gs := s.opts.Fleet.GatewayStatus(name)
	b := gatewayStatusBody{GatewayStatus: gs, Proxies: len(gs.Nodes)}
	for _, n := range gs.Nodes {
		if n.InSync {
			b.InSync++
		}
	}
	if out := s.translation(); out != nil {
		b.Revision = out.Revision
		if st := out.Status[model.Key{Kind: model.KindGateway, Name: name}]; st != nil {
			b.Accepted, b.Problems, b.Warnings = st.Accepted, st.Problems, st.Warnings
		}
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// gatewayConfig handles GET /v1/gateways/{name}/config: the Envoy
// resources the gateway is served, grouped by type, like an Envoy config
// dump (write-only material such as private keys included only as
// "[redacted]").
func (s *Server) gatewayConfig(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := s.mustExist(model.Key{Kind: model.KindGateway, Name: name}); err != nil {
		return err
	}
	out := s.translation()
	if out == nil || out.Gateways[name] == nil {
		return newError(http.StatusServiceUnavailable, ReasonNotReady, "no configuration has been translated for gateway %q yet", name)
	}
	g := out.Gateways[name]
	types := make([]string, 0, len(g.Resources))
	for t := range g.Resources {
		types = append(types, t)
	}
	sort.Strings(types)
	body := map[string]any{"gateway": name, "revision": out.Revision}
	res := map[string][]json.RawMessage{}
	for _, t := range types {
		for _, rs := range g.Resources[t] {
			b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(translate.Redact(rs.Message))
			if err != nil {
				return err
			}
			res[t] = append(res[t], b)
		}
	}
	body["resources"] = res
	writeJSON(w, http.StatusOK, body)
	return nil
}

// ObjectStatus is the answer of GET /v1/{kind}/{name}/status; the CLI
// decodes the same type.
type ObjectStatus struct {
	Kind     model.Kind       `json:"kind"`
	Name     string           `json:"name"`
	Revision uint64           `json:"revision"`
	Accepted bool             `json:"accepted"`
	Problems model.Violations `json:"problems,omitempty"`
	Warnings model.Violations `json:"warnings,omitempty"`
	// Programmed counts the connected proxies of the gateways this
	// definition reaches, and how many of them run the latest configuration.
	Programmed Programmed `json:"programmed"`
	// Rejections are proxies currently NACKing resources built from it,
	// with Envoy's own message.
	Rejections []xds.ProxyProblem `json:"rejections,omitempty"`
}

// Programmed counts the proxies running a definition's latest version.
type Programmed struct {
	Proxies  int      `json:"proxies"`
	InSync   int      `json:"inSync"`
	Gateways []string `json:"gateways"`
}

// objectStatus handles GET /v1/{kind}/{name}/status.
func (s *Server) objectStatus(w http.ResponseWriter, r *http.Request) error {
	key, err := keyParam(r)
	if err != nil {
		return err
	}
	if err := s.mustExist(key); err != nil {
		return err
	}
	out := s.translation()
	if out == nil {
		return newError(http.StatusServiceUnavailable, ReasonNotReady, "no translation has run yet")
	}
	b := ObjectStatus{Kind: key.Kind, Name: key.Name, Revision: out.Revision, Programmed: Programmed{Gateways: []string{}}}
	if st := out.Status[key]; st != nil {
		b.Accepted, b.Problems, b.Warnings = st.Accepted, st.Problems, st.Warnings
	}
	b.Programmed.Gateways = gatewaysOf(out, key)
	if s.opts.Fleet != nil {
		for _, g := range b.Programmed.Gateways {
			for _, n := range s.opts.Fleet.GatewayStatus(g).Nodes {
				b.Programmed.Proxies++
				if n.InSync {
					b.Programmed.InSync++
				}
			}
		}
		b.Rejections = s.opts.Fleet.DefinitionStatus(key)
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// gatewaysOf lists the gateways serving a resource built from key (and a
// Gateway itself), sorted.
func gatewaysOf(out *translate.Output, key model.Key) []string {
	var gws []string
	for name, g := range out.Gateways {
		if g == nil {
			continue
		}
		if key.Kind == model.KindGateway && key.Name == name {
			gws = append(gws, name)
			continue
		}
		if servesSource(g, key) {
			gws = append(gws, name)
		}
	}
	sort.Strings(gws)
	return gws
}

func servesSource(g *translate.GatewayConfig, key model.Key) bool {
	for _, rs := range g.Resources {
		for _, r := range rs {
			if slices.Contains(r.Sources, key) {
				return true
			}
		}
	}
	return false
}

func (s *Server) translation() *translate.Output {
	if s.opts.Translation == nil {
		return nil
	}
	return s.opts.Translation()
}

func (s *Server) mustExist(k model.Key) error {
	o, err := s.st.Read().Get(nil, k)
	if err != nil {
		return err
	}
	if o == nil {
		return &store.NotFoundError{Key: k}
	}
	return nil
}
