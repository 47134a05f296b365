package translate

import (
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbacfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate/ir"
)

// rbacFilterName is the RBAC HTTP filter, which grpc-go servers implement
// (gRFC A41).
const rbacFilterName = "envoy.filters.http.rbac"

// toIRGRPCListeners converts a proxyless gateway's GRPC listeners, the
// inbound ports of its xDS-enabled grpc-go servers: one chain each, TLS
// from the certificate provider (grpc-go has no SDS), and the client
// identity rules as allowed principals, because grpc-go NACKs SAN
// matchers on the server side.
func (t *gatewayTranslator) toIRGRPCListeners() []ir.Listener {
	var out []ir.Listener
	for _, l := range t.g.GetSpec().GetListeners() {
		if l.GetProtocol() != model.ListenerGRPC {
			continue // rejected by model validation
		}
		addr := listenAddress(l)
		fc := ir.FilterChain{Name: filterChainName(l.GetName(), "")}
		if tls := l.GetTls(); tls != nil {
			d := &ir.DownstreamTLS{
				CertProvider: model.IdentityProviderInstance,
				ClientCert:   ir.ClientCertMode(cmpOr(tls.GetClientValidation().GetMode(), model.ClientValidationNone)),
			}
			if d.ClientCert != ir.ClientCertNone {
				d.CAProvider = model.IdentityProviderInstance
				fc.AllowedPrincipals = sortedCopy(tls.GetClientValidation().GetSubjectAltNames())
			}
			fc.TLS = d
		}
		out = append(out, ir.Listener{
			Name: grpcServerListenerName(addr, l.GetPort()), Address: addr, Port: l.GetPort(),
			Protocol: ir.ProtocolGRPC, FilterChains: []ir.FilterChain{fc},
			Sources: []ir.Source{t.gatewaySource()},
		})
	}
	return out
}

// buildGRPCServerListener is the Listener a grpc-go server subscribes to.
// grpc-go NACKs listener filters and use_original_dst, drops chains that
// match on server names, and compares the socket address with its own
// listening address (internal/xds/xdsclient/xdsresource/unmarshal_lds.go,
// internal/xds/server/listener_wrapper.go), so the listener is its
// address and one chain without a match.
func buildGRPCServerListener(l *ir.Listener) (*listenerv3.Listener, error) {
	fc := &l.FilterChains[0]
	hcm, err := buildGRPCServerHCM(fc.Name, fc.AllowedPrincipals)
	if err != nil {
		return nil, fmt.Errorf("listener %q: %w", l.Name, err)
	}
	a, err := anypb.New(hcm)
	if err != nil {
		return nil, fmt.Errorf("listener %q: %w", l.Name, err)
	}
	chain := &listenerv3.FilterChain{
		Name:    fc.Name,
		Filters: []*listenerv3.Filter{{Name: hcmFilterName, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a}}},
	}
	if fc.TLS != nil {
		ts, err := transportSocket(buildProviderDownstreamTLS(fc.TLS))
		if err != nil {
			return nil, fmt.Errorf("listener %q: transport socket: %w", l.Name, err)
		}
		chain.TransportSocket = ts
	}
	return &listenerv3.Listener{
		Name:         l.Name,
		Address:      socketAddress(l.Address, l.Port),
		FilterChains: []*listenerv3.FilterChain{chain},
	}, nil
}

// buildGRPCServerHCM is a gRPC server's HTTP connection manager: an
// inline route configuration whose one route, for every path, is
// non_forwarding_action (what grpc-go requires of server routes: the
// server handles the call itself), and the RBAC filter before the router
// when client identities are restricted.
func buildGRPCServerHCM(name string, principals []string) (*hcmv3.HttpConnectionManager, error) {
	filters, err := buildHTTPFilters()
	if err != nil {
		return nil, err
	}
	if len(principals) > 0 {
		a, err := anypb.New(buildRBAC(principals))
		if err != nil {
			return nil, fmt.Errorf("http filter %q: %w", rbacFilterName, err)
		}
		rbac := &hcmv3.HttpFilter{Name: rbacFilterName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: a}}
		filters = append([]*hcmv3.HttpFilter{rbac}, filters...)
	}
	route := &routev3.Route{
		Name:   grpcServerRouteName,
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_NonForwardingAction{NonForwardingAction: &routev3.NonForwardingAction{}},
	}
	return &hcmv3.HttpConnectionManager{
		StatPrefix: statPrefix(name),
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
			Name: grpcServerRouteName,
			VirtualHosts: []*routev3.VirtualHost{{
				Name: grpcServerRouteName, Domains: []string{"*"}, Routes: []*routev3.Route{route},
			}},
		}},
		HttpFilters: filters,
	}, nil
}

// buildRBAC admits only clients whose certificate identity is one of
// principals. grpc-go matches principal_name against the URI SANs of the
// client certificate when it has any, else its DNS SANs, else its subject
// (internal/xds/rbac/matchers.go); a client without a certificate has no
// principal and is denied.
func buildRBAC(principals []string) *rbacfilterv3.RBAC {
	ps := make([]*rbacv3.Principal, 0, len(principals))
	for _, p := range principals {
		ps = append(ps, &rbacv3.Principal{Identifier: &rbacv3.Principal_Authenticated_{
			Authenticated: &rbacv3.Principal_Authenticated{
				PrincipalName: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: p}},
			},
		}})
	}
	return &rbacfilterv3.RBAC{Rules: &rbacv3.RBAC{
		Action: rbacv3.RBAC_ALLOW,
		Policies: map[string]*rbacv3.Policy{rbacPolicyName: {
			Permissions: []*rbacv3.Permission{{Rule: &rbacv3.Permission_Any{Any: true}}},
			Principals:  ps,
		}},
	}}
}

// buildProviderDownstreamTLS is a grpc-go server's TLS: the certificate
// and the client CA from certificate provider instances (gRFC A29), no
// tls_params (grpc-go NACKs them) and no SAN matchers (grpc-go NACKs them
// on servers; identity rules are RBAC instead).
func buildProviderDownstreamTLS(t *ir.DownstreamTLS) *tlsv3.DownstreamTlsContext {
	common := &tlsv3.CommonTlsContext{TlsCertificateProviderInstance: providerInstance(t.CertProvider)}
	out := &tlsv3.DownstreamTlsContext{CommonTlsContext: common}
	if t.ClientCert == ir.ClientCertNone {
		return out
	}
	common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{
		ValidationContext: &tlsv3.CertificateValidationContext{CaCertificateProviderInstance: providerInstance(t.CAProvider)},
	}
	if t.ClientCert == ir.ClientCertRequired {
		out.RequireClientCertificate = wrapBool(true)
	}
	return out
}

// providerInstance names a certificate provider instance of the client's
// bootstrap; its default certificate is meant, so no certificate_name.
func providerInstance(name string) *tlsv3.CertificateProviderPluginInstance {
	return &tlsv3.CertificateProviderPluginInstance{InstanceName: name}
}

// buildProviderUpstreamTLS is a grpc-go client's TLS: trust and client
// certificate from certificate provider instances, the names verified as
// match_subject_alt_names, which is what grpc-go reads (it ignores the
// typed matchers; internal/xds/xdsclient/xdsresource/unmarshal_cds.go),
// and no tls_params (NACKed).
func buildProviderUpstreamTLS(t *ir.UpstreamTLS) *tlsv3.UpstreamTlsContext {
	sans := make([]*matcherv3.StringMatcher, 0, len(t.SubjectAltNames))
	for _, n := range t.SubjectAltNames {
		sans = append(sans, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}})
	}
	common := &tlsv3.CommonTlsContext{
		ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			CaCertificateProviderInstance: providerInstance(t.CAProvider),
			MatchSubjectAltNames:          sans, //nolint:staticcheck // deprecated in Envoy, but the only SAN field grpc-go reads
		}},
	}
	if t.CertProvider != "" {
		common.TlsCertificateProviderInstance = providerInstance(t.CertProvider)
	}
	return &tlsv3.UpstreamTlsContext{Sni: t.SNI, CommonTlsContext: common}
}
