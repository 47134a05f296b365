package model

import (
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// validateIPPolicy checks an ipAllow or ipDeny policy.
func validateIPPolicy(e *Errs, p Path, ip *tollgatev1.IPPolicy) {
	cp := p.Field("cidrs")
	cs := ip.GetCidrs()
	if checkRequired(e, cp, len(cs), "CIDR") && checkCount(e, cp, len(cs), MaxCIDRs, "CIDRs") {
		seen := firstSeen{}
		for i, c := range cs {
			if pfx, ok := checkAddrOrCIDR(e, cp.Index(i), c); ok {
				seen.dup(e, cp.Index(i), pfx.String(), "CIDR")
			}
		}
	}
	if h := ip.GetTrustedProxyHops(); h > MaxTrustedProxyHops {
		e.Add(p.Field("trustedProxyHops"), "must be at most %d, got %d", MaxTrustedProxyHops, h)
	}
}

// validateCORS checks a CORS policy. Origin "*" with credentials is
// refused because browsers refuse it too: the policy could never work.
func validateCORS(e *Errs, p Path, c *tollgatev1.CORSPolicy) {
	op := p.Field("allowOrigins")
	if len(c.GetAllowOrigins()) == 0 && len(c.GetAllowOriginRegexes()) == 0 {
		e.Add(p, "set allowOrigins or allowOriginRegexes")
	}
	if checkCount(e, op, len(c.GetAllowOrigins()), MaxCORSEntries, "origins") {
		seen := firstSeen{}
		if c.GetAllowCredentials() && slices.Contains(c.GetAllowOrigins(), "*") {
			e.Add(p.Field("allowCredentials"), `cannot be combined with origin "*" (browsers reject it); list the origins explicitly`)
		}
		for i, o := range c.GetAllowOrigins() {
			if checkOrigin(e, op.Index(i), o) {
				seen.dup(e, op.Index(i), o, "origin")
			}
		}
	}
	rp := p.Field("allowOriginRegexes")
	if checkCount(e, rp, len(c.GetAllowOriginRegexes()), MaxCORSEntries, "origin regexes") {
		for i, r := range c.GetAllowOriginRegexes() {
			checkRegex(e, rp.Index(i), r)
		}
	}
	mp := p.Field("allowMethods")
	if checkCount(e, mp, len(c.GetAllowMethods()), MaxCORSEntries, "methods") {
		checkMethods(e, mp, c.GetAllowMethods())
	}
	checkHeaderList(e, p.Field("allowHeaders"), c.GetAllowHeaders())
	checkHeaderList(e, p.Field("exposeHeaders"), c.GetExposeHeaders())
	checkDuration(e, p.Field("maxAge"), c.GetMaxAge(), span{max: MaxCORSMaxAge, zeroOK: true})
}

// schemeRE is RFC 3986's scheme syntax, lower case as origins carry it.
var schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// checkOrigin checks a CORS origin: "*", or scheme://host[:port] exactly as
// a browser sends it in the Origin header (no path, lower case).
func checkOrigin(e *Errs, p Path, o string) bool {
	if o == "*" {
		return true
	}
	if !checkLen(e, p, o, MaxURLLength) {
		return false
	}
	u, err := url.Parse(o)
	bad := func(why string) bool {
		e.Add(p, "must be \"*\" or an origin such as \"https://app.example.com\" or \"http://localhost:3000\", got %q: %s", truncate(o), why)
		return false
	}
	switch {
	case err != nil || u.Opaque != "" || u.Host == "":
		return bad("it is not scheme://host[:port]")
	case !strings.Contains(o, "://") || !schemeRE.MatchString(o[:strings.Index(o, "://")]):
		return bad("it must start with a lower-case scheme such as https://")
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#"):
		return bad("an origin has no path, query or fragment")
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad("the port must be between 1 and 65535")
		}
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil && a.Zone() == "" {
		return true
	}
	if msg := hostnameProblem(host, false); msg != "" {
		return bad("the host " + msg)
	}
	return true
}

// checkHeaderList checks a CORS header list: valid names, no repeats.
func checkHeaderList(e *Errs, p Path, names []string) {
	if !checkCount(e, p, len(names), MaxCORSEntries, "headers") {
		return
	}
	seen := firstSeen{}
	for i, n := range names {
		if checkHeaderName(e, p.Index(i), n) {
			seen.dup(e, p.Index(i), n, "header")
		}
	}
}

// validateHeadersPolicy checks header edits; the policy must edit
// something.
func validateHeadersPolicy(e *Errs, p Path, h *tollgatev1.HeadersPolicy) {
	empty := func(ed *tollgatev1.HeaderEdits) bool {
		return len(ed.GetAdd()) == 0 && len(ed.GetSet()) == 0 && len(ed.GetRemove()) == 0
	}
	if empty(h.GetRequest()) && empty(h.GetResponse()) {
		e.Add(p, "set at least one header to add, set or remove in request or response")
	}
	if r := h.GetRequest(); r != nil {
		validateHeaderEdits(e, p.Field("request"), r)
	}
	if r := h.GetResponse(); r != nil {
		validateHeaderEdits(e, p.Field("response"), r)
	}
}

// validateHeaderEdits checks one direction's edits. A header both set and
// removed would depend on the order of application; it is refused.
func validateHeaderEdits(e *Errs, p Path, ed *tollgatev1.HeaderEdits) {
	headers := func(f string, hs []*tollgatev1.Header, unique bool) firstSeen {
		fp := p.Field(f)
		seen := firstSeen{}
		if !checkCount(e, fp, len(hs), MaxHeaderEdits, "headers") {
			return seen
		}
		for i, h := range hs {
			ip := fp.Index(i)
			if checkMutableHeader(e, ip.Field("name"), h.GetName()) {
				if _, dup := seen[h.GetName()]; !dup || unique {
					seen.dup(e, ip.Field("name"), h.GetName(), "header")
				}
			}
			checkHeaderValue(e, ip.Field("value"), h.GetValue())
		}
		return seen
	}
	headers("add", ed.GetAdd(), false)
	set := headers("set", ed.GetSet(), true)
	rp := p.Field("remove")
	if !checkCount(e, rp, len(ed.GetRemove()), MaxHeaderEdits, "headers") {
		return
	}
	removed := firstSeen{}
	for i, n := range ed.GetRemove() {
		ip := rp.Index(i)
		if !checkMutableHeader(e, ip, n) || removed.dup(e, ip, n, "header") {
			continue
		}
		if at, ok := set[n]; ok {
			e.Add(ip, "header %q is also set at %s; a header cannot be both set and removed", n, at)
		}
	}
}
