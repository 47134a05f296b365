package translate

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate/ir"
)

// pieces are what one update of a fineGateway may have to rebuild.
type pieces struct {
	// svcs are the Services whose use started or stopped, or that
	// changed; changed are the Services that changed (nil: all new).
	svcs, changed map[string]bool
	// secs are the Secrets to look at, and secChanged those that changed.
	secs, secChanged map[string]bool
	// hosts and lis are the hosts and HTTP listeners whose virtual hosts
	// were recomputed.
	hosts map[string]bool
	lis   map[int]bool
	// listeners are set when building the gateway from scratch.
	listeners []ir.Listener
}

// buildPieces rebuilds, checks and builds the Envoy resources of the
// changed pieces into p: clusters, secrets, route configurations (and
// scopes), and the listeners when given. Any invalid piece is an error,
// after which the gateway is translated as a whole, which reports it.
func (f *fineGateway) buildPieces(s *incState, p patch, pc pieces) error {
	clusters, secs, err := f.updateClusters(s, p, pc)
	if err != nil {
		return err
	}
	for sec := range pc.secs {
		secs[sec] = true
	}
	rcs, scopes := f.routeIR(p, pc)
	if err := f.check(s, pc.listeners, rcs, scopes, clusters); err != nil {
		return fmt.Errorf("gateway %q: %w", f.key.Name, err)
	}
	var errs []error
	for i := range pc.listeners {
		l := &pc.listeners[i]
		m, err := buildListener(l, f.key.Name)
		errs = append(errs, f.put(p, resourcev3.ListenerType, l.Name, l.Sources, m, err))
	}
	for i := range rcs {
		m, err := buildRouteConfig(&rcs[i])
		errs = append(errs, f.put(p, resourcev3.RouteType, rcs[i].Name, rcs[i].Sources, m, err))
	}
	for i := range scopes {
		errs = append(errs, f.put(p, resourcev3.ScopedRouteType, scopes[i].Name, scopes[i].Sources, buildScope(&scopes[i]), nil))
	}
	for _, name := range clusters {
		c := f.clusters[name].c
		m, err := buildCluster(c, false)
		errs = append(errs, f.put(p, resourcev3.ClusterType, c.Name, []ir.Source{c.Source}, m, err))
		if c.Discovery == ir.DiscoveryEDS {
			errs = append(errs, f.put(p, resourcev3.EndpointType, c.Name, []ir.Source{c.Source}, buildLoadAssignment(c), nil))
		} else {
			p.remove(resourcev3.EndpointType, c.Name)
		}
	}
	errs = append(errs, f.updateSecrets(s, p, secs, pc.secChanged))
	return errors.Join(errs...)
}

// put validates a built resource and adds it to p, unless the gateway
// already has the very same one (a scope whose host's routes changed):
// then the published resource stays, and the xDS server has nothing to do.
func (f *fineGateway) put(p patch, typ, name string, srcs []ir.Source, m validator, err error) error {
	if err == nil {
		err = m.ValidateAll()
	}
	if err != nil {
		return fmt.Errorf("%s %q: %w", typ, name, err)
	}
	r := Resource{Name: name, Message: m, Sources: toKeys(srcs)}
	rs := f.cfg.Resources[typ]
	i, found := slices.BinarySearchFunc(rs, name, func(r Resource, n string) int { return cmp.Compare(r.Name, n) })
	if found && slices.Equal(rs[i].Sources, r.Sources) && proto.Equal(rs[i].Message, r.Message) {
		delete(p[typ], name) // an earlier removal in this update, if any, is void
		return nil
	}
	p.put(typ, r)
	return nil
}

// updateClusters converts the clusters of the Services in pc.svcs that
// are used and new or changed, removes those no longer used, and returns
// the converted cluster names and the Secrets whose use started or
// stopped.
func (f *fineGateway) updateClusters(s *incState, p patch, pc pieces) ([]string, map[string]bool, error) {
	var built []string
	secs := map[string]bool{}
	for _, svc := range sortedKeys(pc.svcs) {
		name := clusterName(svc)
		old := f.clusters[name]
		used := f.svcUse[svc] > 0
		switch {
		case used && (old == nil || pc.changed == nil || pc.changed[svc]):
			now, err := f.toCluster(s, svc)
			if err != nil {
				return nil, nil, err
			}
			f.clusters[name] = now
			built = append(built, name)
			f.useSecrets(old, now, secs)
		case !used && old != nil:
			delete(f.clusters, name)
			p.remove(resourcev3.ClusterType, name)
			p.remove(resourcev3.EndpointType, name)
			f.useSecrets(old, nil, secs)
		}
	}
	return built, secs, nil
}

// toCluster converts a used Service's cluster for this gateway.
func (f *fineGateway) toCluster(s *incState, svc string) (*clusterEntry, error) {
	def := s.services[svc]
	if def == nil {
		return nil, fmt.Errorf("service %q is used but missing", svc)
	}
	t := newGatewayTranslator(s.view(), emptyStatuses(), f.g)
	c, v := t.toIRCluster(def)
	if len(t.implicit) > 0 {
		// The cluster depends on whether the control plane has written a
		// Secret yet, which only the whole-gateway path tracks.
		return nil, fmt.Errorf("service %q: uses the gateway identity: %w", svc, errRebuild)
	}
	if v != nil {
		return nil, fmt.Errorf("service %q: %s", svc, v.msg)
	}
	e := &clusterEntry{c: c, service: svc}
	for _, sec := range t.secrets {
		e.secrets = append(e.secrets, sec.Source.Name)
		f.sds[sec.Name] = sec.Source.Name
	}
	return e, nil
}

// useSecrets moves the Secret uses of a cluster from old to now, adding
// to secs the Secrets whose use started or stopped.
func (f *fineGateway) useSecrets(old, now *clusterEntry, secs map[string]bool) {
	if old != nil {
		for _, sec := range old.secrets {
			if f.secUse[sec]--; f.secUse[sec] == 0 {
				delete(f.secUse, sec)
				secs[sec] = true
			}
		}
	}
	if now != nil {
		for _, sec := range now.secrets {
			if f.secUse[sec]++; f.secUse[sec] == 1 {
				secs[sec] = true
			}
		}
	}
}

// updateSecrets builds the SDS resources of the Secrets in secs that are
// used and new to the gateway or changed, and removes the unused ones.
func (f *fineGateway) updateSecrets(s *incState, p patch, secs, changed map[string]bool) error {
	for _, name := range sortedKeys(secs) {
		used := f.secUse[name] > 0
		switch {
		case used && (!f.secrets[name] || changed[name]):
			def := s.secrets[name]
			if def == nil {
				return fmt.Errorf("secret %q is used but missing", name)
			}
			sec := toIRSecret(name, def)
			if err := f.put(p, resourcev3.SecretType, sec.Name, []ir.Source{sec.Source}, buildSecret(sec), nil); err != nil {
				return err
			}
			f.secrets[name] = true
		case !used && f.secrets[name]:
			p.remove(resourcev3.SecretType, secretName(name))
			delete(f.secrets, name)
		}
	}
	return nil
}

// routeIR converts the route configurations (and scopes) that the
// recomputed hosts and listeners feed, recording in p those that are gone.
func (f *fineGateway) routeIR(p patch, pc pieces) ([]ir.RouteConfig, []ir.Scope) {
	var (
		rcs    []ir.RouteConfig
		scopes []ir.Scope
	)
	if !f.scoped {
		for _, li := range slices.Sorted(maps.Keys(pc.lis)) {
			rcs = append(rcs, f.listenerRoutes(li))
		}
	} else {
		for d := range pc.hosts {
			hs := f.hosts[d]
			if hs == nil || !hs.routed {
				p.remove(resourcev3.RouteType, hostRouteConfigName(d))
				p.remove(resourcev3.ScopedRouteType, scopeName(d))
				continue
			}
			rc, sc := hostRouting(hs.vhs[0].vh)
			rcs, scopes = append(rcs, rc), append(scopes, sc)
		}
	}
	slices.SortFunc(rcs, func(a, b ir.RouteConfig) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(scopes, func(a, b ir.Scope) int { return cmp.Compare(a.Name, b.Name) })
	return rcs, scopes
}

// listenerRoutes is the one route configuration of HTTP listener li when
// the gateway does not route by host: every host it serves.
func (f *fineGateway) listenerRoutes(li int) ir.RouteConfig {
	rc := ir.RouteConfig{Name: routeConfigName(f.http[li].GetName())}
	apis := map[string]bool{}
	for _, d := range sortedKeys(f.hosts) {
		hu := f.hosts[d].vhs[li]
		if hu == nil {
			continue
		}
		rc.VirtualHosts = append(rc.VirtualHosts, hu.vh)
		for _, src := range hu.srcs {
			apis[src.Name] = true
		}
	}
	for _, name := range sortedKeys(apis) {
		rc.Sources = append(rc.Sources, ir.Source{Kind: string(model.KindAPI), Name: name})
	}
	if len(rc.Sources) == 0 {
		rc.Sources = []ir.Source{{Kind: string(model.KindGateway), Name: f.key.Name}}
	}
	return rc
}
