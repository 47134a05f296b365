package model

import (
	"time"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// validateRoute checks one route: name, match, and exactly one action
// with the settings that apply to it.
func validateRoute(e *Errs, p Path, r *tollgatev1.Route) {
	checkRef(e, p.Field("name"), r.GetName())
	if m := r.GetMatch(); m != nil {
		validateMatch(e, p.Field("match"), m)
	}
	forwards := len(r.GetBackends()) > 0
	set := setNames([]string{"backends", "redirect", "directResponse"},
		[]bool{forwards, r.GetRedirect() != nil, r.GetDirectResponse() != nil})
	switch {
	case len(set) == 0:
		e.Add(p, "set one of backends, redirect, directResponse")
	case len(set) > 1:
		e.Add(p, "set only one of backends, redirect, directResponse; got %s", joinAnd(set))
	}
	if forwards {
		validateBackends(e, p.Field("backends"), r.GetBackends())
	}
	if rw := r.GetRewrite(); rw != nil {
		if !forwards {
			e.Add(p.Field("rewrite"), "only applies to routes that forward to backends; remove it")
		}
		validateRewrite(e, p.Field("rewrite"), rw, r.GetMatch())
	}
	timeout, hasTimeout := checkDuration(e, p.Field("timeout"), r.GetTimeout(), span{max: MaxRequestTimeout, zeroOK: true})
	if r.GetTimeout() != "" && !forwards {
		e.Add(p.Field("timeout"), "only applies to routes that forward to backends; remove it")
	}
	if rt := r.GetRetries(); rt != nil {
		if !forwards {
			e.Add(p.Field("retries"), "only applies to routes that forward to backends; remove it")
		}
		validateRetry(e, p.Field("retries"), rt, timeout, hasTimeout && timeout > 0)
	}
	if rd := r.GetRedirect(); rd != nil {
		validateRedirect(e, p.Field("redirect"), rd)
	}
	if dr := r.GetDirectResponse(); dr != nil {
		validateDirectResponse(e, p.Field("directResponse"), dr)
	}
}

// validateBackends checks a route's weighted Services. A weight of 0 means
// the default 1 (proto3 cannot tell an explicit 0 from an absent weight);
// to drain a Service, remove it from the list.
func validateBackends(e *Errs, p Path, bs []*tollgatev1.BackendRef) {
	if !checkCount(e, p, len(bs), MaxBackends, "backends") {
		return
	}
	seen := firstSeen{}
	for i, b := range bs {
		ip := p.Index(i)
		if msg := ValidateName(b.GetService()); msg != "" {
			e.Add(ip.Field("service"), "%s", msg)
		} else {
			seen.dup(e, ip.Field("service"), b.GetService(), "backend service")
		}
		if b.GetWeight() > MaxBackendWeight {
			e.Add(ip.Field("weight"), "must be at most %d, got %d", MaxBackendWeight, b.GetWeight())
		}
	}
}

// validateRewrite checks a rewrite. A prefix rewrite replaces the matched
// prefix, so it needs a prefix match: match.pathPrefix, or no path match
// at all (the route then matches basePath as a prefix).
func validateRewrite(e *Errs, p Path, rw *tollgatev1.Rewrite, m *tollgatev1.RouteMatch) {
	if rw.GetPathPrefix() == "" && rw.GetPathRegex() == nil && rw.GetHost() == "" {
		e.Add(p, "set pathPrefix, pathRegex or host, or remove rewrite")
	}
	if rw.GetPathPrefix() != "" && rw.GetPathRegex() != nil {
		e.Add(p, "set only one of pathPrefix, pathRegex; got pathPrefix and pathRegex")
	}
	if pp := rw.GetPathPrefix(); pp != "" {
		if m.GetPathExact() != "" || m.GetPathRegex() != "" {
			e.Add(p.Field("pathPrefix"), "only applies with match.pathPrefix (or no path match); use pathRegex to rewrite this match")
		}
		checkPath(e, p.Field("pathPrefix"), pp)
	}
	if rx := rw.GetPathRegex(); rx != nil {
		rp := p.Field("pathRegex")
		groups, ok := checkRegex(e, rp.Field("pattern"), rx.GetPattern())
		checkSubstitution(e, rp.Field("substitution"), rx.GetSubstitution(), groups, ok)
	}
	if h := rw.GetHost(); h != "" {
		checkHostname(e, p.Field("host"), h, false)
	}
}

// checkSubstitution checks an RE2 rewrite string: "\N" (N 0-9) refers to a
// capture group that must exist, "\\" is a backslash, and any other
// backslash is an error RE2 would report at request time.
func checkSubstitution(e *Errs, p Path, sub string, groups int, patternOK bool) {
	if !checkLen(e, p, sub, MaxPathLength) {
		return
	}
	if needsEncoding(sub) {
		e.Add(p, mustEncode)
		return
	}
	for i := 0; i < len(sub); i++ {
		if sub[i] != '\\' {
			continue
		}
		i++
		switch {
		case i == len(sub):
			e.Add(p, `ends with a lone "\"; write "\\" for a backslash`)
			return
		case sub[i] == '\\':
		case sub[i] >= '0' && sub[i] <= '9':
			if n := int(sub[i] - '0'); patternOK && n > groups {
				e.Add(p, `refers to group \%d but the pattern has %d capture groups`, n, groups)
				return
			}
		default:
			e.Add(p, `"\%c" is not a group reference: use \0-\9, or "\\" for a backslash`, sub[i])
			return
		}
	}
}

// validateRetry checks retries of a route or a retry policy. routeTimeout
// is the route's timeout when it has a non-zero one: a try cannot outlast
// the whole request.
func validateRetry(e *Errs, p Path, r *tollgatev1.Retry, routeTimeout time.Duration, hasTimeout bool) {
	if a := r.GetAttempts(); a < 1 || a > MaxRetryAttempts {
		e.Add(p.Field("attempts"), "must be between 1 and %d, got %d", MaxRetryAttempts, a)
	}
	cp := p.Field("conditions")
	seen := firstSeen{}
	onStatus := false
	for i, c := range r.GetConditions() {
		if retryConditions.check(e, cp.Index(i), c, true) {
			seen.dup(e, cp.Index(i), c, "condition")
		}
		onStatus = onStatus || c == "retriable-status-codes"
	}
	validateRetryStatusCodes(e, p.Field("statusCodes"), r.GetStatusCodes(), onStatus)
	ptp := p.Field("perTryTimeout")
	if d, ok := checkDuration(e, ptp, r.GetPerTryTimeout(), span{max: MaxRequestTimeout}); ok && hasTimeout && d > routeTimeout {
		e.Add(ptp, "must be at most the route timeout (%s), got %s", fmtDuration(routeTimeout), fmtDuration(d))
	}
}

// validateRetryStatusCodes checks the statuses of retriable-status-codes:
// Envoy ignores the condition without them, and the list alone does nothing.
func validateRetryStatusCodes(e *Errs, p Path, codes []uint32, onStatus bool) {
	switch {
	case onStatus && len(codes) == 0:
		e.Add(p, "required with condition retriable-status-codes: list the HTTP statuses to retry, e.g. [503]")
	case !onStatus && len(codes) > 0:
		e.Add(p, "only applies with condition retriable-status-codes; add it to conditions or remove statusCodes")
	}
	checkStatusList(e, p, codes, 400)
}

// checkStatusList checks a list of HTTP statuses between min and 599,
// without duplicates, at most MaxStatusCodes long.
func checkStatusList(e *Errs, p Path, codes []uint32, minStatus uint32) {
	if len(codes) > MaxStatusCodes {
		e.Add(p, "at most %d status codes, got %d", MaxStatusCodes, len(codes))
		return
	}
	seen := map[uint32]bool{}
	for i, c := range codes {
		switch {
		case c < minStatus || c > 599:
			e.Add(p.Index(i), "must be an HTTP status between %d and 599, got %d", minStatus, c)
		case seen[c]:
			e.Add(p.Index(i), "duplicate status %d; list each once", c)
		}
		seen[c] = true
	}
}

// validateRedirect checks a redirect; it must change something.
func validateRedirect(e *Errs, p Path, r *tollgatev1.Redirect) {
	if r.GetScheme() == "" && r.GetHost() == "" && r.GetPort() == 0 && r.GetPath() == "" {
		e.Add(p, "set at least one of scheme, host, port, path")
	}
	redirectSchemes.check(e, p.Field("scheme"), r.GetScheme(), false)
	if h := r.GetHost(); h != "" {
		checkHostname(e, p.Field("host"), h, false)
	}
	if port := r.GetPort(); port > 65535 {
		e.Add(p.Field("port"), "must be between 1 and 65535, got %d", port)
	}
	if path := r.GetPath(); path != "" {
		checkRedirectPath(e, p.Field("path"), path)
	}
	switch r.GetStatusCode() {
	case 0, 301, 302, 303, 307, 308:
	default:
		e.Add(p.Field("statusCode"), "must be one of 301, 302, 303, 307, 308, got %d", r.GetStatusCode())
	}
}

// checkRedirectPath checks a redirect's path. Unlike a match path it may
// carry a query, which replaces the request's.
func checkRedirectPath(e *Errs, p Path, path string) {
	switch {
	case path[0] != '/':
		e.Add(p, `must start with "/"`)
	case len(path) > MaxPathLength:
		e.Add(p, "must be at most %d bytes, got %d", MaxPathLength, len(path))
	case needsEncoding(path):
		e.Add(p, mustEncode)
	}
}

// validateDirectResponse checks a fixed response.
func validateDirectResponse(e *Errs, p Path, d *tollgatev1.DirectResponse) {
	if s := d.GetStatus(); s < 200 || s > 599 {
		e.Add(p.Field("status"), "must be between 200 and 599, got %d", s)
	}
	checkLen(e, p.Field("body"), d.GetBody(), MaxDirectResponseBody)
}
