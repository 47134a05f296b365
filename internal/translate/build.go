package translate

import (
	"cmp"
	"fmt"
	"slices"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate/ir"
)

// validator is implemented by every generated Envoy message.
type validator interface {
	proto.Message
	ValidateAll() error
}

// buildGateway builds and validates every Envoy resource of a validated
// IR. A resource that fails to build or to validate is left out and
// reported on the definitions it came from; the others are served.
func buildGateway(gw *ir.Gateway, st *statuses, cfg *GatewayConfig) {
	add := func(typ, name string, srcs []ir.Source, m validator, err error) {
		keys := toKeys(srcs)
		if err == nil {
			err = m.ValidateAll()
		}
		if err != nil {
			for _, k := range keys {
				st.problem(k, "", fmt.Sprintf("Envoy resource %q of Gateway %q left out: %v", name, gw.Name, err))
			}
			return
		}
		cfg.Resources[typ] = append(cfg.Resources[typ], Resource{Name: name, Message: m, Sources: keys})
	}
	for i := range gw.Clusters {
		c := &gw.Clusters[i]
		m, err := buildCluster(c, gw.Proxyless)
		add(resourcev3.ClusterType, c.Name, []ir.Source{c.Source}, m, err)
		if c.Discovery == ir.DiscoveryEDS {
			add(resourcev3.EndpointType, c.Name, []ir.Source{c.Source}, buildLoadAssignment(c), nil)
		}
	}
	for i := range gw.Listeners {
		l := &gw.Listeners[i]
		m, err := buildListener(l, gw.Name)
		add(resourcev3.ListenerType, l.Name, l.Sources, m, err)
	}
	for i := range gw.RouteConfigs {
		rc := &gw.RouteConfigs[i]
		m, err := buildRouteConfig(rc)
		add(resourcev3.RouteType, rc.Name, rc.Sources, m, err)
	}
	for i := range gw.Scopes {
		sc := &gw.Scopes[i]
		add(resourcev3.ScopedRouteType, sc.Name, sc.Sources, buildScope(sc), nil)
	}
	for i := range gw.Secrets {
		s := &gw.Secrets[i]
		add(resourcev3.SecretType, s.Name, []ir.Source{s.Source}, buildSecret(s), nil)
	}
	for typ, rs := range cfg.Resources {
		slices.SortFunc(rs, func(a, b Resource) int { return cmp.Compare(a.Name, b.Name) })
		cfg.Resources[typ] = rs
	}
}

// toKeys converts IR sources to model keys, sorted and unique.
func toKeys(srcs []ir.Source) []model.Key {
	keys := make([]model.Key, 0, len(srcs))
	for _, s := range srcs {
		keys = append(keys, model.Key{Kind: model.Kind(s.Kind), Name: s.Name})
	}
	slices.SortFunc(keys, func(a, b model.Key) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Name, b.Name))
	})
	return slices.Compact(keys)
}

func kindRank(k model.Kind) int { return slices.Index(model.Kinds, k) }
