package ir

// Discovery is how a cluster finds its endpoints.
type Discovery string

// The discovery kinds.
const (
	// DiscoveryEDS serves static endpoints as a ClusterLoadAssignment.
	DiscoveryEDS Discovery = "EDS"
	// DiscoveryStrictDNS makes every resolved address an endpoint.
	DiscoveryStrictDNS Discovery = "STRICT_DNS"
	// DiscoveryLogicalDNS uses the first resolved address per connection.
	DiscoveryLogicalDNS Discovery = "LOGICAL_DNS"
)

// UpstreamProtocol is what a cluster speaks to its endpoints.
type UpstreamProtocol string

// The upstream protocols.
const (
	UpstreamHTTP1 UpstreamProtocol = "HTTP1"
	UpstreamHTTP2 UpstreamProtocol = "HTTP2"
	UpstreamGRPC  UpstreamProtocol = "GRPC"
)

// Cluster is one upstream Service as seen by one gateway.
type Cluster struct {
	// Name is the CDS name (and the EDS service name).
	Name string
	// Source is the Service.
	Source Source
	// Discovery selects EDS, STRICT_DNS or LOGICAL_DNS.
	Discovery Discovery
	// Localities hold the static endpoints (EDS), sorted.
	Localities []Locality
	// Hostname and Port are the DNS target (STRICT_DNS, LOGICAL_DNS).
	Hostname string
	// Port is the DNS target's port.
	Port uint32
	// Protocol selects HTTP/1.1 or HTTP/2 upstream.
	Protocol UpstreamProtocol
	// TLS originates TLS; nil for plain text.
	TLS *UpstreamTLS
	// ConnectTimeout defaults to 5s.
	ConnectTimeout Duration
	// LB is the load-balancing algorithm (model spelling, default ROUND_ROBIN).
	LB string
	// HealthCheck is active health checking; nil for none.
	HealthCheck *HealthCheck
	// CircuitBreaker thresholds; nil for Envoy's defaults.
	CircuitBreaker *CircuitBreaker
	// Outlier is passive health checking; nil for none.
	Outlier *Outlier
}

// Locality is the endpoints of one locality.
type Locality struct {
	// Region, Zone and SubZone identify the locality; all empty for none.
	Region string
	// Zone within Region.
	Zone string
	// SubZone within Zone.
	SubZone string
	// Endpoints are sorted by address and port.
	Endpoints []Endpoint
}

// Endpoint is one static upstream address.
type Endpoint struct {
	// Address is an IP literal.
	Address string
	// Port is the TCP port.
	Port uint32
	// Weight is 1-128.
	Weight uint32
}

// UpstreamTLS is TLS origination; the upstream is always verified.
type UpstreamTLS struct {
	// SNI is sent in the ClientHello.
	SNI string
	// CASecret is the SDS name of the trust anchor; empty with SystemRoots.
	CASecret string
	// SystemRoots trusts the proxy's system CA bundle.
	SystemRoots bool
	// SubjectAltNames are the names the certificate must carry (never empty).
	SubjectAltNames []string
	// ClientCertSecret is the SDS name of the client certificate for mTLS.
	ClientCertSecret string
	// CAProvider is the certificate provider instance supplying the trust
	// anchor (grpc-go clients, which have no SDS); exclusive with CASecret
	// and SystemRoots.
	CAProvider string
	// CertProvider is the certificate provider instance supplying the
	// client certificate (grpc-go); exclusive with ClientCertSecret.
	CertProvider string
	// MinVersion is the lowest TLS version offered.
	MinVersion TLSVersion
}

// HealthCheck is active health checking, defaults applied.
type HealthCheck struct {
	// Type is HTTP, TCP or GRPC.
	Type string
	// Path is the HTTP path probed.
	Path string
	// Host is the HTTP Host header of probes.
	Host string
	// Interval between probes.
	Interval Duration
	// Timeout of one probe.
	Timeout Duration
	// HealthyThreshold probes to mark healthy.
	HealthyThreshold uint32
	// UnhealthyThreshold probes to mark unhealthy.
	UnhealthyThreshold uint32
	// ExpectedStatuses are the healthy HTTP statuses, sorted.
	ExpectedStatuses []uint32
}

// CircuitBreaker thresholds; zero keeps Envoy's default.
type CircuitBreaker struct {
	// MaxConnections to all endpoints.
	MaxConnections uint32
	// MaxPendingRequests waiting for a connection.
	MaxPendingRequests uint32
	// MaxRequests in flight.
	MaxRequests uint32
	// MaxRetries in flight.
	MaxRetries uint32
}

// Outlier is passive health checking, defaults applied.
type Outlier struct {
	// Consecutive5xx errors eject an endpoint.
	Consecutive5xx uint32
	// Interval between ejection sweeps.
	Interval Duration
	// BaseEjectionTime of one ejection.
	BaseEjectionTime Duration
	// MaxEjectionPercent of endpoints ejectable.
	MaxEjectionPercent uint32
}
