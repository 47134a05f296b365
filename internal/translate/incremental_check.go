package translate

import (
	"cmp"
	"fmt"
	"slices"

	"tollgate.dev/tollgate/internal/translate/ir"
)

// check runs ir.Validate over the rebuilt pieces of a fineGateway: the
// listeners, route configurations and scopes given, the clusters they
// reference and the rebuilt ones, and the secrets all of these use.
// Given every piece (a gateway built from scratch), it is exactly the
// check Translate makes; after an edit, the unchanged pieces were checked
// when they were built and only their names are needed.
func (f *fineGateway) check(s *incState, listeners []ir.Listener, rcs []ir.RouteConfig, scopes []ir.Scope, rebuilt []string) error {
	slices.SortFunc(listeners, func(a, b ir.Listener) int { return cmp.Compare(a.Name, b.Name) })
	gw := &ir.Gateway{Name: f.key.Name, Listeners: listeners, RouteConfigs: rcs, Scopes: scopes}
	clusters, sds := map[string]bool{}, map[string]bool{}
	for _, name := range rebuilt {
		clusters[name] = true
	}
	for i := range rcs {
		for _, vh := range rcs[i].VirtualHosts {
			for _, r := range vh.Routes {
				for _, b := range r.Backends {
					clusters[b.Cluster] = true
				}
			}
		}
	}
	for i := range listeners {
		for _, fc := range listeners[i].FilterChains {
			if fc.TCPCluster != "" {
				clusters[fc.TCPCluster] = true
			}
			if fc.TLS != nil {
				addNonEmpty(sds, fc.TLS.CertSecret, fc.TLS.CASecret)
			}
		}
	}
	for _, name := range sortedKeys(clusters) {
		e := f.clusters[name]
		if e == nil {
			return fmt.Errorf("cluster %q is referenced but not built", name)
		}
		gw.Clusters = append(gw.Clusters, *e.c)
		if e.c.TLS != nil {
			addNonEmpty(sds, e.c.TLS.CASecret, e.c.TLS.ClientCertSecret)
		}
	}
	for _, name := range sortedKeys(sds) {
		def := s.secrets[f.sds[name]]
		if def == nil {
			return fmt.Errorf("secret %q is referenced but missing", name)
		}
		gw.Secrets = append(gw.Secrets, *toIRSecret(f.sds[name], def))
	}
	return gw.Validate()
}

func addNonEmpty(set map[string]bool, names ...string) {
	for _, n := range names {
		if n != "" {
			set[n] = true
		}
	}
}
