package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"tollgate.dev/tollgate/internal/translate/ir"
)

// compareCandidates orders the routes of one virtual host, most specific
// first, because Envoy takes the first route that matches:
//
//  1. by path kind: exact, then regex, then prefix;
//  2. longer path (or regex) first, then the path in byte order;
//  3. more constraints first: header matchers + query matchers + 1 if
//     methods are restricted;
//  4. fewer methods first (a route for GET only before one for GET, POST);
//  5. API name, then the route's position in its API (so of two identical
//     routes in one API the one written first wins, as its author expects).
//
// The order is total (an API's positions are distinct), so the output
// never depends on the order definitions are read in.
func compareCandidates(a, b *candidate) int {
	ma, mb := &a.route.Match, &b.route.Match
	return cmp.Or(
		cmp.Compare(pathKindRank(ma.PathKind), pathKindRank(mb.PathKind)),
		cmp.Compare(len(mb.Path), len(ma.Path)),
		cmp.Compare(ma.Path, mb.Path),
		cmp.Compare(constraints(mb), constraints(ma)),
		cmp.Compare(methodRank(ma), methodRank(mb)),
		cmp.Compare(a.api.GetMetadata().GetName(), b.api.GetMetadata().GetName()),
		cmp.Compare(a.index, b.index),
	)
}

func pathKindRank(k ir.PathKind) int {
	switch k {
	case ir.PathExact:
		return 0
	case ir.PathRegex:
		return 1
	default:
		return 2
	}
}

func constraints(m *ir.Match) int {
	n := len(m.Headers) + len(m.QueryParams)
	if len(m.Methods) > 0 {
		n++
	}
	return n
}

// methodRank is the number of methods a route accepts, any being the most.
func methodRank(m *ir.Match) int {
	if len(m.Methods) == 0 {
		return 1 << 10
	}
	return len(m.Methods)
}

// resolveConflicts keeps, among routes of different APIs with identical
// matches on one domain, only those of the oldest API (smallest
// resourceVersion, then name): the newer API cannot take traffic an
// existing one already serves. The losers get a Problem on their route.
func (t *gatewayTranslator) resolveConflicts(domain string, cs []*candidate) []*candidate {
	winner := map[string]*candidate{}
	for _, c := range cs {
		w, ok := winner[c.key]
		if !ok || olderAPI(c, w) {
			winner[c.key] = c
		}
	}
	out := cs[:0:0]
	for _, c := range cs {
		w := winner[c.key]
		if w.api == c.api {
			out = append(out, c)
			continue
		}
		t.st.routesDropped[c.api.GetMetadata().GetName()]++
		t.st.problem(c.apiKey(), c.path()+".match", fmt.Sprintf(
			"route left out of Gateway %q host %q: route %q of API %q, which is older, has the same match; change the match or the hostnames",
			t.key.Name, domain, w.route.Name, w.api.GetMetadata().GetName()))
	}
	return out
}

func olderAPI(a, b *candidate) bool {
	ra, rb := resourceVersionOf(a.api), resourceVersionOf(b.api)
	if ra != rb {
		return ra < rb
	}
	return a.api.GetMetadata().GetName() < b.api.GetMetadata().GetName()
}

// reportShadowed warns about every route that an earlier route of the
// sorted list always takes first, so it never receives traffic.
func (t *gatewayTranslator) reportShadowed(cs []*candidate) {
	for j, later := range cs {
		for _, earlier := range cs[:j] {
			if !covers(&earlier.route.Match, &later.route.Match) {
				continue
			}
			t.st.warn(later.apiKey(), later.path(), fmt.Sprintf(
				"route %q never matches on Gateway %q: route %q comes first and matches every request it would (path %s %q)",
				later.route.Name, t.key.Name, earlier.route.Name, later.route.Match.PathKind, later.route.Match.Path))
			break
		}
	}
}

// covers reports whether every request matching b also matches a. It is
// exact for prefix and exact paths; regexes are only compared for
// equality.
func covers(a, b *ir.Match) bool {
	switch a.PathKind {
	case ir.PathExact:
		if b.PathKind != ir.PathExact || a.Path != b.Path {
			return false
		}
	case ir.PathPrefix:
		if b.PathKind == ir.PathRegex || !strings.HasPrefix(b.Path, a.Path) {
			return false
		}
	case ir.PathRegex:
		if b.PathKind != ir.PathRegex || a.Path != b.Path {
			return false
		}
	}
	if len(a.Methods) > 0 && (len(b.Methods) == 0 || !subset(b.Methods, a.Methods)) {
		return false
	}
	return subsetFunc(a.Headers, b.Headers, headerKey) && subsetFunc(a.QueryParams, b.QueryParams, queryKey)
}

func subset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}

func subsetFunc[T any](small, big []T, key func(T) string) bool {
	keys := make([]string, len(big))
	for i, b := range big {
		keys[i] = key(b)
	}
	for _, s := range small {
		if !slices.Contains(keys, key(s)) {
			return false
		}
	}
	return true
}
