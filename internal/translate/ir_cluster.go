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

// clusterIssue is why a Service cannot be used on a gateway, for the
// Service's status. A pending issue (the gateway identity not issued yet)
// resolves without a user edit, so it is a warning, not a problem.
type clusterIssue struct {
	path, msg string
	pending   bool
}

// toIRCluster converts a Service into the cluster this gateway uses. A
// Service this gateway cannot use yields an issue for its status.
func (t *gatewayTranslator) toIRCluster(svc *tollgatev1.Service) (*ir.Cluster, *clusterIssue) {
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
		var issue *clusterIssue
		if c.TLS, issue = t.toIRUpstreamTLS(tls); issue != nil {
			return nil, issue
		}
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
func (t *gatewayTranslator) toIRUpstreamTLS(tls *tollgatev1.UpstreamTLS) (*ir.UpstreamTLS, *clusterIssue) {
	out := &ir.UpstreamTLS{
		SNI:             tls.GetSni(),
		SystemRoots:     tls.GetSystemRoots(),
		SubjectAltNames: sortedCopy(tls.GetSubjectAltNames()),
		MinVersion:      ir.TLSVersion(cmpOr(tls.GetMinVersion(), model.TLSVersion12)),
	}
	if len(out.SubjectAltNames) == 0 && out.SNI != "" {
		out.SubjectAltNames = []string{out.SNI}
	}
	if t.proxyless {
		return t.toIRProviderTLS(tls, out)
	}
	if tls.GetIdentityCa() && !t.hasImplicitSecret(model.IdentityCASecretName, model.SecretTypeCA) {
		return nil, t.pendingIssue("spec.tls.identityCa", identityCAPending)
	}
	if tls.GetIdentity() && !t.hasImplicitSecret(t.identitySecret(), model.SecretTypeTLS) {
		return nil, t.pendingIssue("spec.tls.identity", identityPending)
	}
	if tls.GetIdentityCa() {
		out.CASecret = t.secretFor(model.IdentityCASecretName)
	}
	if tls.GetIdentity() {
		out.ClientCertSecret = t.secretFor(t.identitySecret())
	}
	if ca := tls.GetCaSecret(); ca != "" {
		out.CASecret = t.secretFor(ca)
	}
	if cert := tls.GetClientCertificateSecret(); cert != "" {
		out.ClientCertSecret = t.secretFor(cert)
	}
	return out, nil
}

// pendingIssue leaves a cluster out of this gateway until the control
// plane has written the Secret it needs.
func (t *gatewayTranslator) pendingIssue(path, why string) *clusterIssue {
	return &clusterIssue{path: path, pending: true, msg: fmt.Sprintf(
		"left out of Gateway %q: %s; routes to this Service are left out there until then", t.key.Name, why)}
}

// toIRProviderTLS is upstream TLS for grpc-go, which has no SDS and takes
// TLS material only from certificate provider instances (gRFC A29): the
// gateway identity and the control plane's CA, which the gateway's
// bootstrap configures as one file_watcher instance. Secrets and system
// roots cannot reach it, and it rejects tls_params (so no minVersion
// other than its own TLS 1.2 floor).
func (t *gatewayTranslator) toIRProviderTLS(tls *tollgatev1.UpstreamTLS, out *ir.UpstreamTLS) (*ir.UpstreamTLS, *clusterIssue) {
	if tls.GetCaSecret() != "" || tls.GetSystemRoots() || tls.GetClientCertificateSecret() != "" {
		return nil, &clusterIssue{path: "spec.tls", msg: fmt.Sprintf(
			"cannot be used on proxyless Gateway %q: grpc-go has no SDS and takes upstream TLS only from its certificate provider, "+
				"so use identityCa (and identity for mTLS) instead of caSecret, systemRoots or clientCertificateSecret; "+
				"routes to this Service are left out there", t.key.Name)}
	}
	if tls.GetMinVersion() == model.TLSVersion13 {
		return nil, &clusterIssue{path: "spec.tls.minVersion", msg: fmt.Sprintf(
			"TLSv1_3 cannot be enforced on proxyless Gateway %q: grpc-go rejects TLS parameters from xDS; "+
				"routes to this Service are left out there", t.key.Name)}
	}
	out.SystemRoots, out.MinVersion = false, ""
	out.CAProvider = model.IdentityProviderInstance
	if tls.GetIdentity() {
		out.CertProvider = model.IdentityProviderInstance
	}
	return out, nil
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
