package model

import (
	"strings"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// validateAPI checks an API: where it is exposed, its hostnames, base path
// and routes.
func validateAPI(e *Errs, s *tollgatev1.APISpec) {
	if s == nil {
		return
	}
	p := Path("spec")
	gp := p.Field("gateways")
	gws := s.GetGateways()
	if checkRequired(e, gp, len(gws), "gateway") && checkCount(e, gp, len(gws), MaxAPIGateways, "gateways") {
		seen := firstSeen{}
		for i, g := range gws {
			if msg := ValidateName(g); msg != "" {
				e.Add(gp.Index(i), "%s", msg)
				continue
			}
			seen.dup(e, gp.Index(i), g, "gateway")
		}
	}
	checkHostnames(e, p.Field("hostnames"), s.GetHostnames(), true)
	if bp := s.GetBasePath(); bp != "" {
		checkBasePath(e, p.Field("basePath"), bp)
	}
	rp := p.Field("routes")
	routes := s.GetRoutes()
	if !checkRequired(e, rp, len(routes), "route") || !checkCount(e, rp, len(routes), MaxRoutes, "routes") {
		return
	}
	names := firstSeen{}
	for i, r := range routes {
		ip := rp.Index(i)
		if ValidateName(r.GetName()) == "" {
			names.dup(e, ip.Field("name"), r.GetName(), "route name")
		}
		validateRoute(e, ip, r)
	}
}

// checkBasePath checks the prefix every route's path match is placed
// under. A trailing "/" is refused because "/v1/" + "/users" would join
// to a path with "//".
func checkBasePath(e *Errs, p Path, bp string) {
	if msg := pathProblem(bp); msg != "" {
		e.Add(p, "%s", msg)
		return
	}
	if bp != "/" && strings.HasSuffix(bp, "/") {
		e.Add(p, "must not end with \"/\": use %q", strings.TrimRight(bp, "/"))
	}
}

// validateMatch checks a route's match.
func validateMatch(e *Errs, p Path, m *tollgatev1.RouteMatch) {
	set := setNames([]string{"pathExact", "pathPrefix", "pathRegex"},
		[]bool{m.GetPathExact() != "", m.GetPathPrefix() != "", m.GetPathRegex() != ""})
	if len(set) > 1 {
		e.Add(p, "set at most one of pathExact, pathPrefix, pathRegex; got %s", joinAnd(set))
	}
	if v := m.GetPathExact(); v != "" {
		checkPath(e, p.Field("pathExact"), v)
	}
	if v := m.GetPathPrefix(); v != "" {
		checkPath(e, p.Field("pathPrefix"), v)
	}
	if v := m.GetPathRegex(); v != "" {
		if hasCRLFNUL(v) {
			e.Add(p.Field("pathRegex"), "must not contain CR, LF or NUL characters")
		} else {
			checkRegex(e, p.Field("pathRegex"), v)
		}
	}
	checkMethods(e, p.Field("methods"), m.GetMethods())
	hp := p.Field("headers")
	if checkCount(e, hp, len(m.GetHeaders()), MaxHeaderMatches, "header matches") {
		for i, h := range m.GetHeaders() {
			validateHeaderMatch(e, hp.Index(i), h)
		}
	}
	qp := p.Field("queryParams")
	if checkCount(e, qp, len(m.GetQueryParams()), MaxQueryParamMatches, "query parameter matches") {
		for i, q := range m.GetQueryParams() {
			validateQueryMatch(e, qp.Index(i), q)
		}
	}
}

// checkMethods checks a list of HTTP methods: known and unique.
func checkMethods(e *Errs, p Path, methods []string) {
	seen := firstSeen{}
	for i, m := range methods {
		if httpMethods.check(e, p.Index(i), m, true) {
			seen.dup(e, p.Index(i), m, "method")
		}
	}
}

// validateHeaderMatch checks one header match: a name and exactly one way
// of matching its value.
func validateHeaderMatch(e *Errs, p Path, h *tollgatev1.HeaderMatch) {
	checkHeaderName(e, p.Field("name"), h.GetName())
	set := setNames([]string{"exact", "prefix", "regex", "present"},
		[]bool{h.GetExact() != "", h.GetPrefix() != "", h.GetRegex() != "", h.GetPresent()})
	switch {
	case len(set) == 0:
		e.Add(p, "set one of exact, prefix, regex, present")
	case len(set) > 1:
		e.Add(p, "set only one of exact, prefix, regex, present; got %s", joinAnd(set))
	}
	if h.GetExact() != "" {
		checkHeaderValue(e, p.Field("exact"), h.GetExact())
	}
	if h.GetPrefix() != "" {
		checkHeaderValue(e, p.Field("prefix"), h.GetPrefix())
	}
	if h.GetRegex() != "" {
		checkRegex(e, p.Field("regex"), h.GetRegex())
	}
}

// validateQueryMatch checks one query parameter match.
func validateQueryMatch(e *Errs, p Path, q *tollgatev1.QueryParamMatch) {
	if msg := queryNameProblem(q.GetName()); msg != "" {
		e.Add(p.Field("name"), "%s", msg)
	}
	set := setNames([]string{"exact", "regex", "present"},
		[]bool{q.GetExact() != "", q.GetRegex() != "", q.GetPresent()})
	switch {
	case len(set) == 0:
		e.Add(p, "set one of exact, regex, present")
	case len(set) > 1:
		e.Add(p, "set only one of exact, regex, present; got %s", joinAnd(set))
	}
	if q.GetExact() != "" {
		checkText(e, p.Field("exact"), q.GetExact(), MaxHeaderValueLength)
	}
	if q.GetRegex() != "" {
		checkRegex(e, p.Field("regex"), q.GetRegex())
	}
}
