package translate

import (
	"fmt"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"tollgate.dev/tollgate/internal/translate/ir"
)

var redirectCodes = map[uint32]routev3.RedirectAction_RedirectResponseCode{
	301: routev3.RedirectAction_MOVED_PERMANENTLY,
	302: routev3.RedirectAction_FOUND,
	303: routev3.RedirectAction_SEE_OTHER,
	307: routev3.RedirectAction_TEMPORARY_REDIRECT,
	308: routev3.RedirectAction_PERMANENT_REDIRECT,
}

// buildRouteConfig is the RDS resource of a route configuration. Routes
// keep the IR's order, which is the match order.
func buildRouteConfig(rc *ir.RouteConfig) (*routev3.RouteConfiguration, error) {
	out := &routev3.RouteConfiguration{Name: rc.Name}
	for _, vh := range rc.VirtualHosts {
		v := &routev3.VirtualHost{Name: vh.Name, Domains: vh.Domains}
		for i := range vh.Routes {
			r, err := buildRoute(&vh.Routes[i])
			if err != nil {
				return nil, fmt.Errorf("route configuration %q: route %q: %w", rc.Name, vh.Routes[i].Name, err)
			}
			v.Routes = append(v.Routes, r)
		}
		out.VirtualHosts = append(out.VirtualHosts, v)
	}
	return out, nil
}

// buildScope is the SRDS resource of a scope: its host as the one key
// fragment (see scopeKeyBuilder) and the route configuration to use.
func buildScope(s *ir.Scope) *routev3.ScopedRouteConfiguration {
	return &routev3.ScopedRouteConfiguration{
		Name:                   s.Name,
		RouteConfigurationName: s.RouteConfig,
		Key: &routev3.ScopedRouteConfiguration_Key{Fragments: []*routev3.ScopedRouteConfiguration_Key_Fragment{{
			Type: &routev3.ScopedRouteConfiguration_Key_Fragment_StringKey{StringKey: s.Host},
		}}},
	}
}

func buildRoute(r *ir.Route) (*routev3.Route, error) {
	out := &routev3.Route{Name: r.Name, Match: buildRouteMatch(&r.Match)}
	switch {
	case r.Redirect != nil:
		out.Action = &routev3.Route_Redirect{Redirect: buildRedirect(r.Redirect)}
	case r.DirectResponse != nil:
		dr := &routev3.DirectResponseAction{Status: r.DirectResponse.Status}
		if r.DirectResponse.Body != "" {
			dr.Body = inline(r.DirectResponse.Body)
		}
		out.Action = &routev3.Route_DirectResponse{DirectResponse: dr}
	case len(r.Backends) > 0:
		out.Action = &routev3.Route_Route{Route: buildRouteAction(r)}
	default:
		return nil, fmt.Errorf("no action")
	}
	return out, nil
}

func buildRedirect(rd *ir.Redirect) *routev3.RedirectAction {
	out := &routev3.RedirectAction{HostRedirect: rd.Host, PortRedirect: rd.Port, ResponseCode: redirectCodes[rd.StatusCode]}
	if rd.Scheme != "" {
		out.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: rd.Scheme}
	}
	if rd.Path != "" {
		// A query in the path replaces the request's (Envoy keeps it).
		out.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: rd.Path}
	}
	return out
}

func buildRouteAction(r *ir.Route) *routev3.RouteAction {
	out := &routev3.RouteAction{PrefixRewrite: r.PrefixRewrite, Timeout: optDuration(r.Timeout)}
	if len(r.Backends) == 1 {
		out.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: r.Backends[0].Cluster}
	} else {
		wc := &routev3.WeightedCluster{}
		for _, b := range r.Backends {
			wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{Name: b.Cluster, Weight: wrapperspb.UInt32(b.Weight)})
		}
		out.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
	}
	if rx := r.RegexRewrite; rx != nil {
		out.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: regex(rx.Pattern), Substitution: rx.Substitution}
	}
	if r.HostRewrite != "" {
		out.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: r.HostRewrite}
	}
	if rt := r.Retry; rt != nil {
		p := &routev3.RetryPolicy{
			RetryOn:              strings.Join(rt.Conditions, ","),
			NumRetries:           wrapperspb.UInt32(rt.Attempts),
			RetriableStatusCodes: rt.StatusCodes,
		}
		if rt.PerTryTimeout > 0 {
			p.PerTryTimeout = durationpb.New(rt.PerTryTimeout)
		}
		out.RetryPolicy = p
	}
	return out
}

// buildRouteMatch renders a match. Methods become one :method header
// matcher (an exact value, or a regex alternation of the sorted methods),
// which both Envoy and grpc-go understand.
func buildRouteMatch(m *ir.Match) *routev3.RouteMatch {
	out := &routev3.RouteMatch{}
	switch m.PathKind {
	case ir.PathExact:
		out.PathSpecifier = &routev3.RouteMatch_Path{Path: m.Path}
	case ir.PathRegex:
		out.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: regex(m.Path)}
	default:
		out.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: m.Path}
	}
	switch len(m.Methods) {
	case 0:
	case 1:
		out.Headers = append(out.Headers, headerMatcher(":method", exact(m.Methods[0]), false))
	default:
		out.Headers = append(out.Headers, headerMatcher(":method", &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: regex(strings.Join(m.Methods, "|"))},
		}, false))
	}
	for _, h := range m.Headers {
		var hm *routev3.HeaderMatcher
		switch {
		case h.Present:
			hm = &routev3.HeaderMatcher{Name: h.Name, HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}, InvertMatch: h.Invert}
		case h.Prefix != "":
			hm = headerMatcher(h.Name, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: h.Prefix}}, h.Invert)
		case h.Regex != "":
			hm = headerMatcher(h.Name, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: regex(h.Regex)}}, h.Invert)
		default:
			hm = headerMatcher(h.Name, exact(h.Exact), h.Invert)
		}
		out.Headers = append(out.Headers, hm)
	}
	for _, q := range m.QueryParams {
		qm := &routev3.QueryParameterMatcher{Name: q.Name}
		switch {
		case q.Present:
			qm.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}
		case q.Regex != "":
			qm.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: regex(q.Regex)},
			}}
		default:
			qm.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_StringMatch{StringMatch: exact(q.Exact)}
		}
		out.QueryParameters = append(out.QueryParameters, qm)
	}
	return out
}

func headerMatcher(name string, sm *matcherv3.StringMatcher, invert bool) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{Name: name, HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm}, InvertMatch: invert}
}

func exact(v string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: v}}
}

// regex is an RE2 matcher. No engine is named: Envoy's default is Google
// RE2, and naming it would pin a deprecated field.
func regex(pattern string) *matcherv3.RegexMatcher {
	return &matcherv3.RegexMatcher{Regex: pattern}
}
