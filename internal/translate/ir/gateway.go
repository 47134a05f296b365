package ir

import "time"

// Source names one definition a piece of IR was built from ("API",
// "payments"), so the Envoy resources built from it can be attributed.
type Source struct {
	// Kind is the model kind (Gateway, Service, API, Policy, Secret).
	Kind string
	// Name is the definition's metadata.name.
	Name string
}

// Gateway is the complete configuration of one gateway.
type Gateway struct {
	// Name is the Gateway's name, which proxies present as node.cluster.
	Name string
	// Proxyless is true for gateways served to grpc-go clients directly:
	// their listeners are API listeners and clusters avoid STRICT_DNS.
	Proxyless bool
	// Listeners are sorted by name.
	Listeners []Listener
	// RouteConfigs are sorted by name.
	RouteConfigs []RouteConfig
	// Scopes are sorted by name. When set, every HTTP and HTTPS filter
	// chain of the gateway is Scoped: a request's Host selects one scope,
	// whose route configuration holds that host's routes only.
	Scopes []Scope
	// Clusters are sorted by name; only the ones this gateway routes to.
	Clusters []Cluster
	// Secrets are sorted by name; only the ones listeners or clusters use.
	Secrets []Secret
}

// Protocol is what a listener speaks.
type Protocol string

// The listener protocols.
const (
	ProtocolHTTP  Protocol = "HTTP"
	ProtocolHTTPS Protocol = "HTTPS"
	ProtocolTCP   Protocol = "TCP"
	// ProtocolGRPC is the inbound port of an xDS-enabled grpc-go server
	// (proxyless gateways): one filter chain, routes answered by the
	// server itself.
	ProtocolGRPC Protocol = "GRPC"
)

// Listener is one port a proxy opens, or for a proxyless gateway one API
// listener named by the hostname clients dial.
type Listener struct {
	// Name is the Envoy listener name.
	Name string
	// Address is the IP literal a socket listener binds; empty for API
	// listeners.
	Address string
	// Port is the TCP port; 0 for API listeners.
	Port uint32
	// Protocol decides between an HTTP connection manager and tcp_proxy.
	Protocol Protocol
	// API is true for an api_listener (proxyless): no socket, no filter chains.
	API bool
	// RouteConfig names the route configuration of an API listener.
	RouteConfig string
	// FilterChains are the socket listener's chains: one per SNI group for
	// HTTPS, exactly one otherwise; sorted by name.
	FilterChains []FilterChain
	// Sources are the definitions behind the listener (Gateway, Secrets).
	Sources []Source
}

// FilterChain is one filter chain of a socket listener.
type FilterChain struct {
	// Name is the Envoy filter chain name, unique within the listener.
	Name string
	// ServerNames select the chain by SNI; empty for the default chain.
	ServerNames []string
	// TLS terminates TLS on the chain (HTTPS); nil for plain text.
	TLS *DownstreamTLS
	// RouteConfig names the RDS route configuration (HTTP and HTTPS),
	// unless the chain is Scoped.
	RouteConfig string
	// Scoped chains route through the gateway's Scopes (by Host) instead
	// of one RouteConfig.
	Scoped bool
	// TCPCluster is the cluster tcp_proxy forwards to (TCP).
	TCPCluster string
	// AllowedPrincipals, on a GRPC chain, are the only client certificate
	// identities (SPIFFE IDs, DNS names) admitted, by an RBAC filter:
	// grpc-go rejects SAN matchers on servers. Empty means no RBAC filter.
	AllowedPrincipals []string
}

// Scope maps one exact Host value to the route configuration holding
// that host's routes.
type Scope struct {
	// Name is the scope's resource name, unique within the gateway.
	Name string
	// Host is the exact Host (or :authority) value, without a port.
	Host string
	// RouteConfig names the route configuration of the scope.
	RouteConfig string
	// Sources are the APIs whose routes the scope's configuration holds.
	Sources []Source
}

// TLSVersion is a TLS protocol version.
type TLSVersion string

// The TLS versions the model allows.
const (
	TLSv12 TLSVersion = "TLSv1_2"
	TLSv13 TLSVersion = "TLSv1_3"
)

// ClientCertMode says whether a listener asks clients for certificates.
type ClientCertMode string

// The client certificate modes.
const (
	ClientCertNone     ClientCertMode = "none"
	ClientCertOptional ClientCertMode = "optional"
	ClientCertRequired ClientCertMode = "required"
)

// DownstreamTLS is a filter chain's TLS termination.
type DownstreamTLS struct {
	// CertSecret is the SDS name of the certificate served on this chain;
	// empty with CertProvider.
	CertSecret string
	// CertProvider is the certificate provider instance supplying the
	// certificate (grpc-go servers, which have no SDS).
	CertProvider string
	// MinVersion is the lowest TLS version accepted (default TLSv1_2).
	MinVersion TLSVersion
	// CipherSuites restrict TLS 1.2 suites; empty means Envoy's defaults.
	CipherSuites []string
	// ClientCert says whether client certificates are asked for and required.
	ClientCert ClientCertMode
	// CASecret is the SDS name of the CA verifying client certificates.
	CASecret string
	// CAProvider is the certificate provider instance supplying that CA
	// (grpc-go servers); exclusive with CASecret.
	CAProvider string
	// SubjectAltNames restrict accepted client certificates; empty means
	// any. Never set with CAProvider (grpc-go rejects server SAN matchers).
	SubjectAltNames []string
}

// Secret is TLS material served over SDS.
type Secret struct {
	// Name is the SDS name.
	Name string
	// Source is the Secret definition.
	Source Source
	// CertificateChain and PrivateKey are set for a tls Secret (PEM).
	CertificateChain string
	// PrivateKey is the PEM key of CertificateChain's leaf.
	PrivateKey string
	// CABundle is set for a ca Secret (PEM).
	CABundle string
}

// Duration is a convenience alias so IR users need not import time for
// defaults; zero means "not set" unless a field says otherwise.
type Duration = time.Duration
