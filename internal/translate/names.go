package translate

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"tollgate.dev/tollgate/internal/model"
)

// Every Envoy resource name is built here, and nowhere else. Names are
// scoped by resource type and by gateway (each gateway's proxies see only
// their own resources), so uniqueness is only needed within one type of one
// gateway.

// listenerName names a gateway listener's Envoy listener: listener names
// are unique within a Gateway (model rule).
func listenerName(listener string) string { return listener }

// apiListenerName names a proxyless API listener: the API hostname, which
// is exactly what grpc-go clients dial as xds:///<hostname>. Hostnames are
// unique among the API listeners of one gateway because APIs sharing a
// hostname share its listener.
func apiListenerName(hostname string) string { return hostname }

// routeConfigName names the RDS route configuration of a gateway listener:
// one per listener, shared by its filter chains, so the listener name is
// unique. It cannot collide with proxyless route configurations, which
// contain dots, because listener names are DNS labels.
func routeConfigName(listener string) string { return listener }

// hostRouteConfigName names the route configuration of one scope (one
// host) of a gateway routing by host: "host/<hostname>". The slash keeps
// it apart from listener names (DNS labels); the two never coexist on one
// gateway anyway (every HTTP chain is scoped or none is).
func hostRouteConfigName(hostname string) string { return "host/" + hostname }

// scopeName names the scope of one host: the hostname, which is unique
// among the scopes of a gateway (one scope per host).
func scopeName(hostname string) string { return hostname }

// scopedRoutesName names a gateway's set of scopes in every HTTP
// connection manager that routes by host. Envoy keys its SRDS subscription
// on the config source, so every listener of the proxy shares the set.
func scopedRoutesName(gateway string) string { return "scopes/" + gateway }

// apiRouteConfigName names the route configuration of a proxyless API
// listener: its hostname.
func apiRouteConfigName(hostname string) string { return hostname }

// filterChainName names a filter chain: the listener, then the secret of
// its certificate (one certificate per SNI group, each secret once per
// listener) or "default" for plain text listeners.
func filterChainName(listener, certSecret string) string {
	if certSecret == "" {
		return listener + "/default"
	}
	return listener + "/" + certSecret
}

// identityFilterChainName names the filter chain serving the gateway's
// identity certificate: "<listener>/@identity". A listener serves the
// identity at most once (model rule), and "@" cannot appear in a Secret
// name, so it never collides with a "<listener>/<secret>" chain.
func identityFilterChainName(listener string) string { return listener + "/@identity" }

// grpcServerListenerName names the Listener an xDS-enabled grpc-go server
// listening on address:port subscribes to: the bootstrap's
// server_listener_resource_name_template (model.GRPCServerListenerTemplate)
// with "host:port" as net.Addr.String() renders it, IPv6 in brackets
// (grpc-go xds/server.go). One per address and port, which listeners do
// not share (model rule), and never a hostname, unlike API listeners.
func grpcServerListenerName(address string, port uint32) string {
	return fmt.Sprintf(model.GRPCServerListenerTemplate, net.JoinHostPort(address, strconv.FormatUint(uint64(port), 10)))
}

// grpcServerRouteName names the one inline route configuration, virtual
// host and route of a gRPC server listener; they are not resources, so
// the name only has to be non-empty and stable.
const grpcServerRouteName = "grpc-server"

// rbacPolicyName names the RBAC policy admitting a gRPC server's allowed
// client identities, its only policy.
const rbacPolicyName = "allowed-clients"

// virtualHostName names a virtual host by its single domain: domains are
// unique within a route configuration (Envoy requires it), and each
// virtual host serves one domain.
func virtualHostName(domain string) string { return domain }

// routeName names a route "<api>/<route>": route names are unique within an
// API, API names are unique.
func routeName(api, route string) string { return api + "/" + route }

// clusterName names a Service's cluster "svc/<service>"; Service names are
// unique. It is also the EDS service name of its ClusterLoadAssignment.
func clusterName(service string) string { return "svc/" + service }

// secretName names an SDS secret "secret/<secret>"; Secret names are unique.
func secretName(secret string) string { return "secret/" + secret }

// statPrefix makes a resource name safe as an Envoy stats prefix (no dots
// or slashes, which split stat names).
func statPrefix(name string) string {
	return strings.NewReplacer(".", "_", "/", "_", "*", "wildcard").Replace(name)
}
