package translate

import (
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"tollgate.dev/tollgate/internal/translate/ir"
)

// Envoy extension names of the filters listeners use.
const (
	hcmFilterName          = "envoy.filters.network.http_connection_manager"
	tcpProxyFilterName     = "envoy.filters.network.tcp_proxy"
	tlsInspectorFilterName = "envoy.filters.listener.tls_inspector"
)

// defaultListenAddress is where listeners bind unless they set an
// address: every IPv4 interface.
const defaultListenAddress = "0.0.0.0"

// connectionBufferLimit bounds what Envoy buffers per connection, on
// listeners and clusters (edge proxy best practices: 32 KiB).
const connectionBufferLimit = 32 * 1024

// buildListener is the LDS resource of a listener: an api_listener for a
// proxyless gateway, else a socket listener with one filter chain per SNI
// group (HTTPS) or a single chain (HTTP, TCP). gateway names the set of
// scopes of scoped chains.
func buildListener(l *ir.Listener, gateway string) (*listenerv3.Listener, error) {
	if l.API {
		hcm, err := buildAPIListenerHCM(l.Name, l.RouteConfig)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", l.Name, err)
		}
		a, err := anypb.New(hcm)
		if err != nil {
			return nil, fmt.Errorf("listener %q: api listener: %w", l.Name, err)
		}
		return &listenerv3.Listener{Name: l.Name, ApiListener: &listenerv3.ApiListener{ApiListener: a}}, nil
	}
	if l.Protocol == ir.ProtocolGRPC {
		return buildGRPCServerListener(l)
	}
	out := &listenerv3.Listener{
		Name:                          l.Name,
		Address:                       socketAddress(l.Address, l.Port),
		PerConnectionBufferLimitBytes: wrapperspb.UInt32(connectionBufferLimit),
	}
	for i := range l.FilterChains {
		fc, err := buildFilterChain(l, &l.FilterChains[i], gateway)
		if err != nil {
			return nil, fmt.Errorf("listener %q: filter chain %q: %w", l.Name, l.FilterChains[i].Name, err)
		}
		out.FilterChains = append(out.FilterChains, fc)
	}
	if l.Protocol == ir.ProtocolHTTPS {
		// SNI-based chain selection needs the ClientHello inspected.
		a, err := anypb.New(&tlsinspectorv3.TlsInspector{})
		if err != nil {
			return nil, fmt.Errorf("listener %q: tls inspector: %w", l.Name, err)
		}
		out.ListenerFilters = []*listenerv3.ListenerFilter{{
			Name: tlsInspectorFilterName, ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: a},
		}}
	}
	return out, nil
}

func buildFilterChain(l *ir.Listener, fc *ir.FilterChain, gateway string) (*listenerv3.FilterChain, error) {
	out := &listenerv3.FilterChain{Name: fc.Name}
	if len(fc.ServerNames) > 0 {
		out.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: fc.ServerNames}
	}
	var (
		filter validator
		name   = hcmFilterName
	)
	if l.Protocol == ir.ProtocolTCP {
		name = tcpProxyFilterName
		filter = &tcpproxyv3.TcpProxy{
			StatPrefix:       statPrefix(l.Name),
			ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: fc.TCPCluster},
		}
	} else {
		hcm, err := buildEdgeHCM(l.Name, fc.RouteConfig)
		if err != nil {
			return nil, err
		}
		if fc.Scoped {
			hcm.RouteSpecifier = scopedRoutes(gateway)
		}
		filter = hcm
	}
	a, err := anypb.New(filter)
	if err != nil {
		return nil, err
	}
	out.Filters = []*listenerv3.Filter{{Name: name, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}}
	if fc.TLS != nil {
		ts, err := transportSocket(buildDownstreamTLS(fc.TLS))
		if err != nil {
			return nil, fmt.Errorf("transport socket: %w", err)
		}
		out.TransportSocket = ts
	}
	return out, nil
}
