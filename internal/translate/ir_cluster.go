package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate/ir"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Defaults from docs/model.md.
const (
	defaultConnectTimeout   = 5 * time.Second
	defaultHCPath           = "/healthz"
	defaultHCInterval       = 10 * time.Second
	defaultHCTimeout        = time.Second
	defaultHCHealthy        = 1
	defaultHCUnhealthy      = 3
	defaultOutlier5xx       = 5
	defaultOutlierInterval  = 10 * time.Second
	defaultOutlierEjection  = 30 * time.Second
	defaultOutlierMaxPct    = 10
	defaultHCExpectedStatus = 200
)

// toIRCluster converts a Service into the cluster this gateway uses. A
// Service this gateway cannot use yields a violation for its status.
func (t *gatewayTranslator) toIRCluster(svc *tollgatev1.Service) (*ir.Cluster, *model.Violation) {
	spec := svc.GetSpec()
	name := svc.GetMetadata().GetName()
	c := &ir.Cluster{
		Name:           clusterName(name),
		Source:         ir.Source{Kind: string(model.KindService), Name: name},
		Protocol:       ir.UpstreamProtocol(cmpOr(spec.GetProtocol(), model.UpstreamHTTP1)),
		ConnectTimeout: durationOr(spec.GetConnectTimeout(), defaultConnectTimeout),
		LB:             cmpOr(spec.GetLoadBalancing(), model.LBRoundRobin),
	}
	if spec.GetHostname() != "" {
		c.Hostname, c.Port = spec.GetHostname(), spec.GetPort()
		c.Discovery = ir.DiscoveryStrictDNS
		// grpc-go NACKs STRICT_DNS clusters; LOGICAL_DNS is what it knows.
		if spec.GetDnsResolution() == model.DNSLogical || t.proxyless {
			c.Discovery = ir.DiscoveryLogicalDNS
		}
	} else {
		c.Discovery = ir.DiscoveryEDS
		c.Localities = toIRLocalities(spec.GetEndpoints())
	}
	if tls := spec.GetTls(); tls != nil {
		if t.proxyless {
			return nil, &model.Violation{Path: "spec.tls", Message: fmt.Sprintf(
				"cannot be used on proxyless Gateway %q: grpc-go takes upstream TLS only from certificate providers, "+
					"which Tollgate does not configure yet; routes to this Service are left out there", t.key.Name)}
		}
		c.TLS = t.toIRUpstreamTLS(tls)
	}
	c.HealthCheck = toIRHealthCheck(spec, c.Name)
	if cb := spec.GetCircuitBreaker(); cb != nil && (cb.GetMaxConnections()|cb.GetMaxPendingRequests()|cb.GetMaxRequests()|cb.GetMaxRetries()) != 0 {
		c.CircuitBreaker = &ir.CircuitBreaker{
			MaxConnections: cb.GetMaxConnections(), MaxPendingRequests: cb.GetMaxPendingRequests(),
			MaxRequests: cb.GetMaxRequests(), MaxRetries: cb.GetMaxRetries(),
		}
	}
	if od := spec.GetOutlierDetection(); od != nil {
		c.Outlier = &ir.Outlier{
			Consecutive5xx:     uintOr(od.GetConsecutive_5Xx(), defaultOutlier5xx),
			Interval:           durationOr(od.GetInterval(), defaultOutlierInterval),
			BaseEjectionTime:   durationOr(od.GetBaseEjectionTime(), defaultOutlierEjection),
			MaxEjectionPercent: uintOr(od.GetMaxEjectionPercent(), defaultOutlierMaxPct),
		}
	}
	return c, nil
}

// toIRLocalities groups endpoints by locality, sorted, weight 0 meaning 1.
func toIRLocalities(eps []*tollgatev1.Endpoint) []ir.Locality {
	byKey := map[string]*ir.Locality{}
	for _, e := range eps {
		l := e.GetLocality()
		k := strings.Join([]string{l.GetRegion(), l.GetZone(), l.GetSubZone()}, "\x00")
		loc, ok := byKey[k]
		if !ok {
			loc = &ir.Locality{Region: l.GetRegion(), Zone: l.GetZone(), SubZone: l.GetSubZone()}
			byKey[k] = loc
		}
		loc.Endpoints = append(loc.Endpoints, ir.Endpoint{Address: e.GetAddress(), Port: e.GetPort(), Weight: max(e.GetWeight(), 1)})
	}
	out := make([]ir.Locality, 0, len(byKey))
	for _, k := range sortedKeys(byKey) {
		loc := byKey[k]
		slices.SortFunc(loc.Endpoints, func(a, b ir.Endpoint) int {
			return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
		})
		out = append(out, *loc)
	}
	return out
}

// toIRUpstreamTLS always verifies a name: the SANs given, else the SNI.
func (t *gatewayTranslator) toIRUpstreamTLS(tls *tollgatev1.UpstreamTLS) *ir.UpstreamTLS {
	out := &ir.UpstreamTLS{
		SNI:             tls.GetSni(),
		SystemRoots:     tls.GetSystemRoots(),
		SubjectAltNames: sortedCopy(tls.GetSubjectAltNames()),
		MinVersion:      ir.TLSVersion(cmpOr(tls.GetMinVersion(), model.TLSVersion12)),
	}
	if len(out.SubjectAltNames) == 0 && out.SNI != "" {
		out.SubjectAltNames = []string{out.SNI}
	}
	if ca := tls.GetCaSecret(); ca != "" {
		out.CASecret = t.secretFor(ca)
	}
	if cert := tls.GetClientCertificateSecret(); cert != "" {
		out.ClientCertSecret = t.secretFor(cert)
	}
	return out
}

func toIRHealthCheck(spec *tollgatev1.ServiceSpec, cluster string) *ir.HealthCheck {
	hc := spec.GetHealthCheck()
	if hc == nil {
		return nil
	}
	out := &ir.HealthCheck{
		Type:               cmpOr(hc.GetType(), model.HealthCheckHTTP),
		Interval:           durationOr(hc.GetInterval(), defaultHCInterval),
		Timeout:            durationOr(hc.GetTimeout(), defaultHCTimeout),
		HealthyThreshold:   uintOr(hc.GetHealthyThreshold(), defaultHCHealthy),
		UnhealthyThreshold: uintOr(hc.GetUnhealthyThreshold(), defaultHCUnhealthy),
	}
	if out.Type == model.HealthCheckHTTP {
		out.Path = cmpOr(hc.GetPath(), defaultHCPath)
		out.Host = cmpOr(hc.GetHost(), cmpOr(spec.GetHostname(), cluster))
		out.ExpectedStatuses = slices.Clone(hc.GetExpectedStatuses())
		if len(out.ExpectedStatuses) == 0 {
			out.ExpectedStatuses = []uint32{defaultHCExpectedStatus}
		}
		slices.Sort(out.ExpectedStatuses)
	}
	return out
}

// durationOr parses a validated duration, or returns def when it is empty.
func durationOr(s string, def time.Duration) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return def
	}
	return d
}

func uintOr(v, def uint32) uint32 {
	if v == 0 {
		return def
	}
	return v
}
