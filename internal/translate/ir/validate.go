package ir

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Validate checks the invariants the Envoy builders rely on: names set and
// unique, lists sorted, every reference (route → cluster, listener → route
// configuration, TLS → secret) resolving inside the gateway, actions
// exclusive. A failure is a translator bug; the caller keeps it out of the
// output and reports it.
func (g *Gateway) Validate() error {
	var errs []error
	clusters := map[string]bool{}
	for _, c := range g.Clusters {
		clusters[c.Name] = true
	}
	secrets := map[string]bool{}
	for _, s := range g.Secrets {
		secrets[s.Name] = true
	}
	routeConfigs := map[string]bool{}
	for _, rc := range g.RouteConfigs {
		routeConfigs[rc.Name] = true
	}
	errs = append(errs, checkNames("listener", g.Listeners, func(l Listener) string { return l.Name }))
	errs = append(errs, checkNames("route configuration", g.RouteConfigs, func(r RouteConfig) string { return r.Name }))
	errs = append(errs, checkNames("cluster", g.Clusters, func(c Cluster) string { return c.Name }))
	errs = append(errs, checkNames("secret", g.Secrets, func(s Secret) string { return s.Name }))
	errs = append(errs, checkNames("scope", g.Scopes, func(s Scope) string { return s.Name }))
	errs = append(errs, g.validateScopes(routeConfigs))
	for i := range g.Listeners {
		errs = append(errs, g.Listeners[i].validate(clusters, secrets, routeConfigs, len(g.Scopes) > 0))
	}
	for i := range g.RouteConfigs {
		errs = append(errs, g.RouteConfigs[i].validate(clusters))
	}
	for i := range g.Clusters {
		errs = append(errs, g.Clusters[i].validate(secrets))
	}
	return errors.Join(errs...)
}

// checkNames reports empty, duplicate or unsorted names.
func checkNames[T any](what string, items []T, name func(T) string) error {
	prev := ""
	for i, it := range items {
		n := name(it)
		if n == "" {
			return fmt.Errorf("%s %d: empty name", what, i)
		}
		if i > 0 && n <= prev {
			return fmt.Errorf("%s %q: not sorted or duplicate after %q", what, n, prev)
		}
		prev = n
	}
	return nil
}

// validateScopes checks that scope hosts are exact and unique (a request's
// Host selects at most one scope) and that their configurations exist.
func (g *Gateway) validateScopes(rcs map[string]bool) error {
	hosts := map[string]bool{}
	for _, s := range g.Scopes {
		switch {
		case s.Host == "" || strings.ContainsAny(s.Host, "*:"):
			return fmt.Errorf("scope %q: host %q is not an exact host without a port", s.Name, s.Host)
		case hosts[s.Host]:
			return fmt.Errorf("scope %q: host %q is in two scopes", s.Name, s.Host)
		case !rcs[s.RouteConfig]:
			return fmt.Errorf("scope %q: route configuration %q is missing", s.Name, s.RouteConfig)
		}
		hosts[s.Host] = true
	}
	return nil
}

func (l *Listener) validate(clusters, secrets, rcs map[string]bool, scoped bool) error {
	if l.API {
		if !rcs[l.RouteConfig] {
			return fmt.Errorf("listener %q: route configuration %q is missing", l.Name, l.RouteConfig)
		}
		return nil
	}
	if l.Address == "" || l.Port == 0 || len(l.FilterChains) == 0 {
		return fmt.Errorf("listener %q: needs an address, a port and at least one filter chain", l.Name)
	}
	if err := checkNames("filter chain", l.FilterChains, func(f FilterChain) string { return f.Name }); err != nil {
		return fmt.Errorf("listener %q: %w", l.Name, err)
	}
	if l.Protocol == ProtocolGRPC && len(l.FilterChains) != 1 {
		return fmt.Errorf("listener %q: a GRPC listener has exactly one filter chain, got %d", l.Name, len(l.FilterChains))
	}
	defaults := 0
	for _, fc := range l.FilterChains {
		if len(fc.ServerNames) == 0 {
			defaults++
		}
		if err := fc.validate(l.Protocol, clusters, secrets, rcs, scoped); err != nil {
			return fmt.Errorf("listener %q: filter chain %q: %w", l.Name, fc.Name, err)
		}
	}
	if defaults > 1 {
		return fmt.Errorf("listener %q: %d filter chains without server names", l.Name, defaults)
	}
	return nil
}

func (fc *FilterChain) validate(p Protocol, clusters, secrets, rcs map[string]bool, scoped bool) error {
	switch p {
	case ProtocolTCP:
		if !clusters[fc.TCPCluster] {
			return fmt.Errorf("cluster %q is missing", fc.TCPCluster)
		}
	case ProtocolHTTP, ProtocolHTTPS:
		switch {
		case fc.Scoped != scoped:
			return fmt.Errorf("scoped is %v, but the gateway's scopes say %v: every HTTP chain routes by scope or none does", fc.Scoped, scoped)
		case fc.Scoped && fc.RouteConfig != "":
			return fmt.Errorf("a scoped chain names no route configuration (it has %q)", fc.RouteConfig)
		case !fc.Scoped && !rcs[fc.RouteConfig]:
			return fmt.Errorf("route configuration %q is missing", fc.RouteConfig)
		}
	case ProtocolGRPC:
		if err := fc.validateGRPC(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown protocol %q", p)
	}
	if p != ProtocolGRPC && len(fc.AllowedPrincipals) > 0 {
		return errors.New("allowed principals are only for GRPC chains")
	}
	if p != ProtocolGRPC && (p == ProtocolHTTPS) != (fc.TLS != nil) {
		return errors.New("TLS must be set exactly for HTTPS")
	}
	if fc.TLS == nil {
		return nil
	}
	return fc.TLS.validate(secrets)
}

// validateGRPC checks a gRPC server chain: no routing of ours (the server
// answers), and identity rules only where client certificates are asked
// for (RBAC matches the certificate's identity).
func (fc *FilterChain) validateGRPC() error {
	switch {
	case fc.RouteConfig != "" || fc.Scoped || fc.TCPCluster != "" || len(fc.ServerNames) > 0:
		return errors.New("a GRPC chain has no route configuration, scope, TCP cluster or server names")
	case len(fc.AllowedPrincipals) > 0 && (fc.TLS == nil || fc.TLS.ClientCert == ClientCertNone):
		return errors.New("allowed principals need client certificates")
	case fc.TLS != nil && (fc.TLS.CertProvider == "" || fc.TLS.CertSecret != ""):
		return errors.New("a GRPC chain takes its certificate from a certificate provider (grpc-go has no SDS)")
	}
	return nil
}

// validate checks that the certificate and, when client certificates are
// asked for, the CA come from exactly one place each.
func (t *DownstreamTLS) validate(secrets map[string]bool) error {
	if (t.CertSecret == "") == (t.CertProvider == "") {
		return errors.New("TLS needs exactly one of a certificate secret and a certificate provider")
	}
	if t.CertSecret != "" && !secrets[t.CertSecret] {
		return fmt.Errorf("certificate secret %q is missing", t.CertSecret)
	}
	if t.ClientCert == ClientCertNone {
		return nil
	}
	if (t.CASecret == "") == (t.CAProvider == "") {
		return errors.New("client validation needs exactly one of a CA secret and a CA provider")
	}
	if t.CASecret != "" && !secrets[t.CASecret] {
		return fmt.Errorf("client CA secret %q is missing", t.CASecret)
	}
	if t.CAProvider != "" && len(t.SubjectAltNames) > 0 {
		return errors.New("subject alt names cannot be matched with a CA provider (grpc-go servers reject them)")
	}
	return nil
}

func (rc *RouteConfig) validate(clusters map[string]bool) error {
	domains := map[string]bool{}
	if err := checkNames("virtual host", rc.VirtualHosts, func(v VirtualHost) string { return v.Name }); err != nil {
		return fmt.Errorf("route configuration %q: %w", rc.Name, err)
	}
	for _, vh := range rc.VirtualHosts {
		for _, d := range vh.Domains {
			if domains[d] {
				return fmt.Errorf("route configuration %q: domain %q in two virtual hosts", rc.Name, d)
			}
			domains[d] = true
		}
		for _, r := range vh.Routes {
			if err := r.validate(clusters); err != nil {
				return fmt.Errorf("route configuration %q: virtual host %q: route %q: %w", rc.Name, vh.Name, r.Name, err)
			}
		}
	}
	return nil
}

func (r *Route) validate(clusters map[string]bool) error {
	actions := 0
	if len(r.Backends) > 0 {
		actions++
	}
	if r.Redirect != nil {
		actions++
	}
	if r.DirectResponse != nil {
		actions++
	}
	if actions != 1 {
		return fmt.Errorf("%d actions, want exactly one", actions)
	}
	for _, b := range r.Backends {
		if !clusters[b.Cluster] {
			return fmt.Errorf("cluster %q is missing", b.Cluster)
		}
		if b.Weight == 0 {
			return fmt.Errorf("cluster %q: weight 0", b.Cluster)
		}
	}
	if !slices.IsSortedFunc(r.Backends, func(a, b Backend) int { return strings.Compare(a.Cluster, b.Cluster) }) {
		return errors.New("backends not sorted")
	}
	switch r.Match.PathKind {
	case PathExact, PathPrefix:
		if !strings.HasPrefix(r.Match.Path, "/") {
			return fmt.Errorf("path %q does not start with /", r.Match.Path)
		}
	case PathRegex:
	default:
		return fmt.Errorf("unknown path kind %q", r.Match.PathKind)
	}
	return nil
}

func (c *Cluster) validate(secrets map[string]bool) error {
	switch c.Discovery {
	case DiscoveryEDS:
	case DiscoveryStrictDNS, DiscoveryLogicalDNS:
		if c.Hostname == "" || c.Port == 0 {
			return fmt.Errorf("cluster %q: DNS discovery needs a hostname and port", c.Name)
		}
	default:
		return fmt.Errorf("cluster %q: unknown discovery %q", c.Name, c.Discovery)
	}
	if c.ConnectTimeout <= 0 {
		return fmt.Errorf("cluster %q: connect timeout must be positive", c.Name)
	}
	if c.TLS != nil {
		return c.TLS.validate(c.Name, secrets)
	}
	return nil
}

// validate checks that the upstream is verified against exactly one trust
// anchor and a name, and that the client certificate comes from one place.
func (t *UpstreamTLS) validate(cluster string, secrets map[string]bool) error {
	anchors := 0
	for _, set := range []bool{t.CASecret != "", t.SystemRoots, t.CAProvider != ""} {
		if set {
			anchors++
		}
	}
	switch {
	case anchors != 1:
		return fmt.Errorf("cluster %q: TLS needs exactly one of a CA secret, system roots and a CA provider", cluster)
	case t.CASecret != "" && !secrets[t.CASecret]:
		return fmt.Errorf("cluster %q: CA secret %q is missing", cluster, t.CASecret)
	case t.ClientCertSecret != "" && t.CertProvider != "":
		return fmt.Errorf("cluster %q: client certificate from both a secret and a provider", cluster)
	case t.ClientCertSecret != "" && !secrets[t.ClientCertSecret]:
		return fmt.Errorf("cluster %q: client certificate secret %q is missing", cluster, t.ClientCertSecret)
	case len(t.SubjectAltNames) == 0:
		return fmt.Errorf("cluster %q: TLS must verify at least one subject alt name", cluster)
	}
	return nil
}
