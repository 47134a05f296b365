package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate/ir"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// candidate is a converted route with what conflict resolution and
// reporting need to know about where it came from.
type candidate struct {
	route ir.Route
	api   *tollgatev1.API
	index int // in spec.routes
	key   string
}

func (c *candidate) apiKey() model.Key { return model.KeyOf(c.api) }

func (c *candidate) path() string { return string(model.Path("spec.routes").Index(c.index)) }

// toIRVirtualHosts builds the virtual hosts of one route configuration:
// one per domain, holding the routes of every API attached with it, in
// match order (see compareRoutes). It returns the APIs whose routes made it
// in, as the route configuration's sources.
func (t *gatewayTranslator) toIRVirtualHosts(atts []attachment) ([]ir.VirtualHost, []ir.Source) {
	byDomain := map[string][]*candidate{}
	for _, a := range atts {
		routes := t.toIRRoutes(a.api)
		for _, d := range a.domains {
			byDomain[d] = append(byDomain[d], routes...)
		}
	}
	var (
		vhs     []ir.VirtualHost
		sources = map[string]bool{}
	)
	for _, d := range sortedKeys(byDomain) {
		cs := t.resolveConflicts(d, byDomain[d])
		slices.SortFunc(cs, compareCandidates)
		t.reportShadowed(cs)
		vh := ir.VirtualHost{Name: virtualHostName(d), Domains: []string{d}}
		for _, c := range cs {
			vh.Routes = append(vh.Routes, c.route)
			sources[c.api.GetMetadata().GetName()] = true
			t.st.routesOut[c.api.GetMetadata().GetName()]++
		}
		if len(vh.Routes) == 0 {
			// Every route on d was left out (a rejected or pending
			// backend): the empty virtual host still answers d with 404s
			// rather than letting a catch-all take it, and it exists
			// because of the APIs on d, which are therefore its sources.
			for _, a := range atts {
				if slices.Contains(a.domains, d) {
					sources[a.api.GetMetadata().GetName()] = true
				}
			}
		}
		vhs = append(vhs, vh)
	}
	var srcs []ir.Source
	for _, name := range sortedKeys(sources) {
		srcs = append(srcs, ir.Source{Kind: string(model.KindAPI), Name: name})
	}
	return vhs, srcs
}

// toIRRoutes converts every route of an API that can be served on this
// gateway; the others are reported on the API.
func (t *gatewayTranslator) toIRRoutes(a *tollgatev1.API) []*candidate {
	var out []*candidate
	for i, r := range a.GetSpec().GetRoutes() {
		c := &candidate{api: a, index: i}
		ok := t.toIRRoute(c, r)
		if !ok {
			t.st.routesDropped[a.GetMetadata().GetName()]++
			continue
		}
		c.key = matchKey(&c.route.Match)
		out = append(out, c)
	}
	return out
}

// toIRRoute fills c.route from r; false when the route cannot be served.
func (t *gatewayTranslator) toIRRoute(c *candidate, r *tollgatev1.Route) bool {
	spec := c.api.GetSpec()
	c.route = ir.Route{
		Name:   routeName(c.api.GetMetadata().GetName(), r.GetName()),
		Source: ir.Source{Kind: string(model.KindAPI), Name: c.api.GetMetadata().GetName()},
		Match:  toIRMatch(spec.GetBasePath(), r.GetMatch()),
	}
	switch {
	case r.GetRedirect() != nil:
		rd := r.GetRedirect()
		c.route.Redirect = &ir.Redirect{Scheme: rd.GetScheme(), Host: rd.GetHost(), Port: rd.GetPort(), Path: rd.GetPath(), StatusCode: rd.GetStatusCode()}
		if c.route.Redirect.StatusCode == 0 {
			c.route.Redirect.StatusCode = 301
		}
		return true
	case r.GetDirectResponse() != nil:
		c.route.DirectResponse = &ir.DirectResponse{Status: r.GetDirectResponse().GetStatus(), Body: r.GetDirectResponse().GetBody()}
		return true
	}
	var rejected []string
	for _, b := range r.GetBackends() {
		cluster, ok := t.clusterFor(b.GetService())
		if !ok {
			rejected = append(rejected, b.GetService())
			continue
		}
		c.route.Backends = append(c.route.Backends, ir.Backend{Cluster: cluster, Weight: max(b.GetWeight(), 1)})
	}
	if len(c.route.Backends) == 0 {
		t.st.problem(c.apiKey(), c.path()+".backends", fmt.Sprintf(
			"route left out of Gateway %q: every backend was rejected (%s; see their status)", t.key.Name, strings.Join(rejected, ", ")))
		return false
	}
	if len(rejected) > 0 {
		t.st.warn(c.apiKey(), c.path()+".backends", fmt.Sprintf(
			"on Gateway %q, rejected backends get no traffic: %s (see their status)", t.key.Name, strings.Join(rejected, ", ")))
	}
	slices.SortFunc(c.route.Backends, func(a, b ir.Backend) int { return cmp.Compare(a.Cluster, b.Cluster) })
	toIRForwarding(&c.route, r)
	return true
}

// toIRForwarding converts what only routes with backends have: rewrites,
// timeout and retries, defaults applied.
func toIRForwarding(out *ir.Route, r *tollgatev1.Route) {
	rw := r.GetRewrite()
	out.PrefixRewrite = rw.GetPathPrefix()
	out.HostRewrite = rw.GetHost()
	if rx := rw.GetPathRegex(); rx != nil {
		out.RegexRewrite = &ir.RegexRewrite{Pattern: rx.GetPattern(), Substitution: rx.GetSubstitution()}
	}
	if d, err := time.ParseDuration(r.GetTimeout()); err == nil {
		out.Timeout = &d
	}
	if rt := r.GetRetries(); rt != nil {
		conds := sortedCopy(rt.GetConditions())
		if len(conds) == 0 {
			conds = []string{"connect-failure", "refused-stream"}
		}
		per, _ := time.ParseDuration(rt.GetPerTryTimeout())
		codes := slices.Clone(rt.GetStatusCodes())
		slices.Sort(codes)
		out.Retry = &ir.Retry{Attempts: rt.GetAttempts(), Conditions: conds, PerTryTimeout: per, StatusCodes: codes}
	}
}

// toIRMatch joins basePath with the route's path match. A route without a
// path match matches basePath as a prefix; a regex is over the full path.
func toIRMatch(basePath string, m *tollgatev1.RouteMatch) ir.Match {
	var out ir.Match
	switch {
	case m.GetPathExact() != "":
		out.PathKind, out.Path = ir.PathExact, joinPath(basePath, m.GetPathExact())
	case m.GetPathPrefix() != "":
		out.PathKind, out.Path = ir.PathPrefix, joinPath(basePath, m.GetPathPrefix())
	case m.GetPathRegex() != "":
		out.PathKind, out.Path = ir.PathRegex, m.GetPathRegex()
	default:
		out.PathKind, out.Path = ir.PathPrefix, cmpOr(basePath, "/")
	}
	out.Methods = sortedCopy(m.GetMethods())
	for _, h := range m.GetHeaders() {
		out.Headers = append(out.Headers, ir.HeaderMatch{Name: h.GetName(), Exact: h.GetExact(), Prefix: h.GetPrefix(), Regex: h.GetRegex(), Present: h.GetPresent(), Invert: h.GetInvert()})
	}
	slices.SortFunc(out.Headers, func(a, b ir.HeaderMatch) int { return cmp.Compare(headerKey(a), headerKey(b)) })
	for _, q := range m.GetQueryParams() {
		out.QueryParams = append(out.QueryParams, ir.QueryMatch{Name: q.GetName(), Exact: q.GetExact(), Regex: q.GetRegex(), Present: q.GetPresent()})
	}
	slices.SortFunc(out.QueryParams, func(a, b ir.QueryMatch) int { return cmp.Compare(queryKey(a), queryKey(b)) })
	return out
}

// joinPath prefixes p with basePath ("/v1" + "/users" = "/v1/users").
func joinPath(basePath, p string) string {
	if basePath == "" || basePath == "/" {
		return p
	}
	return basePath + p
}

func headerKey(h ir.HeaderMatch) string {
	return fmt.Sprintf("%s|%q|%q|%q|%t|%t", h.Name, h.Exact, h.Prefix, h.Regex, h.Present, h.Invert)
}

func queryKey(q ir.QueryMatch) string {
	return fmt.Sprintf("%s|%q|%q|%t", q.Name, q.Exact, q.Regex, q.Present)
}

// matchKey is a canonical form of a match: equal keys match exactly the
// same requests.
func matchKey(m *ir.Match) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q %v", m.PathKind, m.Path, m.Methods)
	for _, h := range m.Headers {
		b.WriteString(" h:" + headerKey(h))
	}
	for _, q := range m.QueryParams {
		b.WriteString(" q:" + queryKey(q))
	}
	return b.String()
}
