package translate

import (
	"fmt"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Edge timeouts: a client may idle on a stream for at most
// streamIdleTimeout, and must send its request headers within
// requestHeadersTimeout (slowloris protection).
const (
	streamIdleTimeout     = 5 * time.Minute
	requestHeadersTimeout = 10 * time.Second
	// connectionIdleTimeout closes downstream connections without streams.
	connectionIdleTimeout = time.Hour
)

// HTTP/2 limits from Envoy's edge proxy best practices: one client cannot
// hold more than 100 streams or buffer more than the windows allow.
const (
	h2MaxConcurrentStreams        = 100
	h2InitialStreamWindowSize     = 64 * 1024
	h2InitialConnectionWindowSize = 1024 * 1024
)

// httpFilter is one HTTP filter of the chain.
type httpFilter struct {
	name   string
	config func() proto.Message
}

// httpFilters is the explicit, ordered HTTP filter chain. Policy filters
// (auth, rate limits, CORS) will be inserted before the router, which must
// stay last: Envoy rejects a chain whose terminal filter is not last.
var httpFilters = []httpFilter{
	{name: "envoy.filters.http.router", config: func() proto.Message {
		// suppress_envoy_headers: no x-envoy-* response headers reveal
		// upstream timings; respect_expected_rq_timeout stays false so a
		// downstream x-envoy-expected-rq-timeout-ms is not honoured.
		return &routerv3.Router{SuppressEnvoyHeaders: true, RespectExpectedRqTimeout: false}
	}},
}

// buildHTTPFilters renders httpFilters in order.
func buildHTTPFilters() ([]*hcmv3.HttpFilter, error) {
	out := make([]*hcmv3.HttpFilter, 0, len(httpFilters))
	for _, f := range httpFilters {
		a, err := anypb.New(f.config())
		if err != nil {
			return nil, fmt.Errorf("http filter %q: %w", f.name, err)
		}
		out = append(out, &hcmv3.HttpFilter{Name: f.name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}})
	}
	return out, nil
}

// rds fetches a route configuration by name over ADS.
func rds(routeConfig string) *hcmv3.HttpConnectionManager_Rds {
	return &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: adsConfigSource(), RouteConfigName: routeConfig}}
}

// scopeKeyBuilder computes a request's scope key: its Host (:authority)
// up to the first colon, so "api.example.com:8443" selects the scope of
// api.example.com. Hostnames are lower case (model rule), as clients send
// them in practice; scope keys match exactly, so a client sending upper
// case gets a 404 where a virtual host would have matched.
func scopeKeyBuilder() *hcmv3.ScopedRoutes_ScopeKeyBuilder {
	return &hcmv3.ScopedRoutes_ScopeKeyBuilder{Fragments: []*hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder{{
		Type: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_{
			HeaderValueExtractor: &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor{
				Name:             ":authority",
				ElementSeparator: ":",
				ExtractType:      &hcmv3.ScopedRoutes_ScopeKeyBuilder_FragmentBuilder_HeaderValueExtractor_Index{Index: 0},
			},
		},
	}}}
}

// scopedRoutes routes by host: the scopes (SRDS) and their route
// configurations (RDS) both come over ADS. Envoy fetches every scope's
// route configuration as soon as the scope arrives (on_demand is off), so
// a proxy holds all its routes before traffic needs them.
func scopedRoutes(gateway string) *hcmv3.HttpConnectionManager_ScopedRoutes {
	return &hcmv3.HttpConnectionManager_ScopedRoutes{ScopedRoutes: &hcmv3.ScopedRoutes{
		Name:            scopedRoutesName(gateway),
		ScopeKeyBuilder: scopeKeyBuilder(),
		RdsConfigSource: adsConfigSource(),
		ConfigSpecifier: &hcmv3.ScopedRoutes_ScopedRds{ScopedRds: &hcmv3.ScopedRds{ScopedRdsConfigSource: adsConfigSource()}},
	}}
}

// buildEdgeHCM is the HTTP connection manager of every proxied listener,
// with Envoy's edge-proxy best practices:
//   - paths are normalised and slashes merged before matching, and escaped
//     slashes unescaped with a redirect, so /a/../admin or /a%2Fb cannot
//     bypass a route;
//   - headers with underscores are rejected (they alias dashes in CGI-style
//     upstreams);
//   - the client address is the connection's peer (use_remote_address, no
//     trusted x-forwarded-for hops), and no downstream counts as internal
//     (empty internal_address_config), so Envoy strips x-envoy-* request
//     headers from every client instead of honouring them;
//   - idle connections, idle streams and slow request headers time out;
//   - HTTP/2 streams and flow-control windows are bounded.
//
// Sidecar and egress gateways get the same: their clients are
// applications, which are no more trusted than the internet here.
func buildEdgeHCM(statPrefixName, routeConfig string) (*hcmv3.HttpConnectionManager, error) {
	filters, err := buildHTTPFilters()
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpConnectionManager{
		StatPrefix:                   statPrefix(statPrefixName),
		CodecType:                    hcmv3.HttpConnectionManager_AUTO,
		RouteSpecifier:               rds(routeConfig),
		HttpFilters:                  filters,
		NormalizePath:                wrapperspb.Bool(true),
		MergeSlashes:                 true,
		PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT,
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{
			HeadersWithUnderscoresAction: corev3.HttpProtocolOptions_REJECT_REQUEST,
			IdleTimeout:                  durationpb.New(connectionIdleTimeout),
		},
		Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
			MaxConcurrentStreams:        wrapperspb.UInt32(h2MaxConcurrentStreams),
			InitialStreamWindowSize:     wrapperspb.UInt32(h2InitialStreamWindowSize),
			InitialConnectionWindowSize: wrapperspb.UInt32(h2InitialConnectionWindowSize),
		},
		UseRemoteAddress:      wrapperspb.Bool(true),
		XffNumTrustedHops:     0,
		InternalAddressConfig: &hcmv3.HttpConnectionManager_InternalAddressConfig{},
		StreamIdleTimeout:     durationpb.New(streamIdleTimeout),
		RequestHeadersTimeout: durationpb.New(requestHeadersTimeout),
	}, nil
}

// buildAPIListenerHCM is the HTTP connection manager of a proxyless API
// listener: RDS and the router only, which is what grpc-go reads (it
// ignores or rejects the socket-level settings of buildEdgeHCM).
func buildAPIListenerHCM(statPrefixName, routeConfig string) (*hcmv3.HttpConnectionManager, error) {
	filters, err := buildHTTPFilters()
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpConnectionManager{
		StatPrefix:     statPrefix(statPrefixName),
		RouteSpecifier: rds(routeConfig),
		HttpFilters:    filters,
	}, nil
}
