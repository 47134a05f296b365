package model

import (
	"net/netip"
	"time"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Defaults the health-check rules compare against when a field is unset.
const (
	defaultHealthInterval = 10 * time.Second
	defaultHealthTimeout  = time.Second
)

// validateService checks how a Service is reached (static endpoints or a
// DNS name) and how its traffic is treated.
func validateService(e *Errs, s *tollgatev1.ServiceSpec) {
	if s == nil {
		return
	}
	p := Path("spec")
	hasEndpoints, hasHostname := len(s.GetEndpoints()) > 0, s.GetHostname() != ""
	switch {
	case hasEndpoints && hasHostname:
		e.Add(p.Field("hostname"), "cannot be combined with endpoints; set one of them")
	case !hasEndpoints && !hasHostname:
		e.Add(p, "set one of endpoints (static IP addresses) or hostname (a DNS name the proxy resolves)")
	}
	if hasEndpoints {
		validateEndpoints(e, p.Field("endpoints"), s.GetEndpoints())
		if s.GetPort() != 0 {
			e.Add(p.Field("port"), "only used with hostname; endpoints carry their own ports")
		}
	}
	if hasHostname {
		checkHostname(e, p.Field("hostname"), s.GetHostname(), false)
		checkPort(e, p.Field("port"), s.GetPort())
	}
	if dnsResolutions.check(e, p.Field("dnsResolution"), s.GetDnsResolution(), false) &&
		s.GetDnsResolution() != "" && !hasHostname {
		e.Add(p.Field("dnsResolution"), "only applies to a hostname Service; remove it")
	}
	checkOptionalName(e, p.Field("network"), s.GetNetwork())
	upstreamProtocols.check(e, p.Field("protocol"), s.GetProtocol(), false)
	if t := s.GetTls(); t != nil {
		validateUpstreamTLS(e, p.Field("tls"), t)
	}
	checkDuration(e, p.Field("connectTimeout"), s.GetConnectTimeout(), span{max: MaxConnectTimeout})
	lbAlgorithms.check(e, p.Field("loadBalancing"), s.GetLoadBalancing(), false)
	if hc := s.GetHealthCheck(); hc != nil {
		validateHealthCheck(e, p.Field("healthCheck"), hc, s.GetProtocol())
	}
	if cb := s.GetCircuitBreaker(); cb != nil {
		checkCircuitBreaker(e, p.Field("circuitBreaker"), cb)
	}
	if od := s.GetOutlierDetection(); od != nil {
		validateOutlierDetection(e, p.Field("outlierDetection"), od)
	}
}

// validateEndpoints checks static endpoints: IP literals, ports, weights,
// and no address:port twice (Envoy would count it twice when balancing).
func validateEndpoints(e *Errs, p Path, eps []*tollgatev1.Endpoint) {
	if !checkCount(e, p, len(eps), MaxEndpoints, "endpoints") {
		return
	}
	seen := firstSeen{}
	for i, ep := range eps {
		ip := p.Index(i)
		addr, err := netip.ParseAddr(ep.GetAddress())
		switch {
		case ep.GetAddress() == "":
			e.Add(ip.Field("address"), "required: an IPv4 or IPv6 address")
		case err != nil || addr.Zone() != "":
			e.Add(ip.Field("address"), "must be an IP address such as \"10.0.0.7\" or \"2001:db8::7\", got %q; use spec.hostname for a DNS name", truncate(ep.GetAddress()))
		}
		portOK := checkPort(e, ip.Field("port"), ep.GetPort())
		if w := ep.GetWeight(); w > MaxEndpointWeight {
			e.Add(ip.Field("weight"), "must be between 1 and %d (0 means 1), got %d", MaxEndpointWeight, w)
		}
		if l := ep.GetLocality(); l != nil {
			lp := ip.Field("locality")
			checkText(e, lp.Field("region"), l.GetRegion(), MaxTextLength)
			checkText(e, lp.Field("zone"), l.GetZone(), MaxTextLength)
			checkText(e, lp.Field("subZone"), l.GetSubZone(), MaxTextLength)
		}
		if err == nil && addr.Zone() == "" && portOK {
			seen.dup(e, ip, netip.AddrPortFrom(addr, uint16(ep.GetPort())).String(), "endpoint") //nolint:gosec // portOK: 1-65535
		}
	}
}

// validateUpstreamTLS checks TLS origination. The peer is always
// verified: a trust anchor and a name to verify are both required, because
// TLS without them is encryption to whoever answers.
func validateUpstreamTLS(e *Errs, p Path, t *tollgatev1.UpstreamTLS) {
	checkTrustAnchor(e, p, t)
	checkOptionalName(e, p.Field("caSecret"), t.GetCaSecret())
	checkOptionalName(e, p.Field("clientCertificateSecret"), t.GetClientCertificateSecret())
	if t.GetIdentity() && t.GetClientCertificateSecret() != "" {
		e.Add(p.Field("identity"), "cannot be combined with clientCertificateSecret; present one or the other")
	}
	if t.GetSni() == "" && len(t.GetSubjectAltNames()) == 0 {
		if t.GetIdentityCa() {
			// Every gateway identity chains to the control plane's CA:
			// without a name, any gateway would be accepted.
			e.Add(p.Field("subjectAltNames"), "required with identityCa: set subjectAltNames to the SPIFFE IDs allowed, e.g. spiffe://<trust-domain>/gateway/<name>")
		} else {
			e.Add(p, "set sni or subjectAltNames so that the upstream certificate's name is verified")
		}
	}
	if t.GetSni() != "" {
		checkHostname(e, p.Field("sni"), t.GetSni(), false)
	}
	checkSubjectAltNames(e, p.Field("subjectAltNames"), t.GetSubjectAltNames())
	tlsVersions.check(e, p.Field("minVersion"), t.GetMinVersion(), false)
}

// checkTrustAnchor requires exactly one of caSecret, systemRoots and
// identityCa.
func checkTrustAnchor(e *Errs, p Path, t *tollgatev1.UpstreamTLS) {
	switch {
	case t.GetCaSecret() != "" && t.GetSystemRoots():
		e.Add(p.Field("systemRoots"), "cannot be combined with caSecret; trust one or the other")
	case t.GetIdentityCa() && (t.GetCaSecret() != "" || t.GetSystemRoots()):
		e.Add(p.Field("identityCa"), "cannot be combined with caSecret or systemRoots; trust one of them")
	case t.GetCaSecret() == "" && !t.GetSystemRoots() && !t.GetIdentityCa():
		e.Add(p, "set caSecret, systemRoots: true or identityCa: true to say which CAs the upstream certificate must chain to")
	}
}

// validateHealthCheck checks an active health check. The timeout must be
// below the interval, or probes would overlap.
func validateHealthCheck(e *Errs, p Path, hc *tollgatev1.HealthCheck, protocol string) {
	typ := hc.GetType()
	healthCheckTypes.check(e, p.Field("type"), typ, false)
	if hc.GetPath() != "" {
		if typ == HealthCheckTCP || typ == HealthCheckGRPC {
			e.Add(p.Field("path"), "only applies to type HTTP; remove it")
		} else {
			checkPath(e, p.Field("path"), hc.GetPath())
		}
	}
	if hc.GetHost() != "" || len(hc.GetExpectedStatuses()) > 0 {
		if typ == HealthCheckTCP || typ == HealthCheckGRPC {
			e.Add(p, "host and expectedStatuses only apply to type HTTP; remove them")
		}
		if h := hc.GetHost(); h != "" {
			checkHostname(e, p.Field("host"), h, false)
		}
		checkStatusList(e, p.Field("expectedStatuses"), hc.GetExpectedStatuses(), 100)
	}
	if typ == HealthCheckGRPC && protocol != UpstreamHTTP2 && protocol != UpstreamGRPC {
		e.Add(p.Field("type"), "GRPC health checks need HTTP/2: set spec.protocol to GRPC or HTTP2")
	}
	interval, iok := checkDuration(e, p.Field("interval"), hc.GetInterval(), span{max: MaxIdleTimeout})
	timeout, tok := checkDuration(e, p.Field("timeout"), hc.GetTimeout(), span{max: MaxRequestTimeout})
	if !iok && hc.GetInterval() == "" {
		interval, iok = defaultHealthInterval, true
	}
	if !tok && hc.GetTimeout() == "" {
		timeout, tok = defaultHealthTimeout, true
	}
	if iok && tok && timeout >= interval {
		if hc.GetTimeout() == "" {
			e.Add(p.Field("timeout"), "the default timeout (%s) must be less than interval (%s); set a shorter timeout", fmtDuration(timeout), fmtDuration(interval))
		} else {
			e.Add(p.Field("timeout"), "must be less than interval (%s), got %s", fmtDuration(interval), fmtDuration(timeout))
		}
	}
	for _, f := range []namedUint{{"healthyThreshold", hc.GetHealthyThreshold()}, {"unhealthyThreshold", hc.GetUnhealthyThreshold()}} {
		if f.v > MaxHealthThreshold {
			e.Add(p.Field(f.name), "must be at most %d, got %d", MaxHealthThreshold, f.v)
		}
	}
}

// checkCircuitBreaker caps each threshold; zero means Envoy's default.
func checkCircuitBreaker(e *Errs, p Path, cb *tollgatev1.CircuitBreaker) {
	for _, f := range circuitBreakerFields(cb) {
		if f.v > MaxCircuitBreakerThreshold {
			e.Add(p.Field(f.name), "must be at most %d, got %d", MaxCircuitBreakerThreshold, f.v)
		}
	}
}

// namedUint is a numeric field and its manifest name, for checks that
// treat several fields alike.
type namedUint struct {
	name string
	v    uint32
}

func circuitBreakerFields(cb *tollgatev1.CircuitBreaker) []namedUint {
	return []namedUint{
		{"maxConnections", cb.GetMaxConnections()},
		{"maxPendingRequests", cb.GetMaxPendingRequests()},
		{"maxRequests", cb.GetMaxRequests()},
		{"maxRetries", cb.GetMaxRetries()},
	}
}

// validateOutlierDetection checks passive health checking.
func validateOutlierDetection(e *Errs, p Path, od *tollgatev1.OutlierDetection) {
	if v := od.GetConsecutive_5Xx(); v > MaxConsecutive5xx {
		e.Add(p.Field("consecutive5xx"), "must be at most %d, got %d", MaxConsecutive5xx, v)
	}
	checkDuration(e, p.Field("interval"), od.GetInterval(), span{max: MaxIdleTimeout})
	checkDuration(e, p.Field("baseEjectionTime"), od.GetBaseEjectionTime(), span{max: MaxIdleTimeout})
	if v := od.GetMaxEjectionPercent(); v > 100 {
		e.Add(p.Field("maxEjectionPercent"), "must be between 1 and 100 (0 means 10), got %d", v)
	}
}
