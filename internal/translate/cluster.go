package translate

import (
	"fmt"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate/ir"
)

// httpProtocolOptionsKey is the extension name Envoy looks up upstream
// HTTP protocol options under.
const httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

var lbPolicies = map[string]clusterv3.Cluster_LbPolicy{
	model.LBRoundRobin:   clusterv3.Cluster_ROUND_ROBIN,
	model.LBLeastRequest: clusterv3.Cluster_LEAST_REQUEST,
	model.LBRandom:       clusterv3.Cluster_RANDOM,
	model.LBRingHash:     clusterv3.Cluster_RING_HASH,
	model.LBMaglev:       clusterv3.Cluster_MAGLEV,
}

// buildCluster is the CDS resource of a Service. Static endpoints are
// served over EDS (so an endpoint change re-sends one small resource, and
// grpc-go, which NACKs STATIC clusters, can use it); DNS Services carry
// their one hostname inline. Proxyless clusters leave out what only a
// proxy uses (connection buffer limits).
func buildCluster(c *ir.Cluster, proxyless bool) (*clusterv3.Cluster, error) {
	out := &clusterv3.Cluster{
		Name:             c.Name,
		ConnectTimeout:   durationpb.New(c.ConnectTimeout),
		LbPolicy:         lbPolicies[c.LB],
		CircuitBreakers:  buildCircuitBreakers(c.CircuitBreaker),
		OutlierDetection: buildOutlier(c.Outlier),
	}
	if !proxyless {
		out.PerConnectionBufferLimitBytes = wrapperspb.UInt32(connectionBufferLimit)
	}
	switch c.Discovery {
	case ir.DiscoveryEDS:
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
		out.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsConfigSource(), ServiceName: c.Name}
	case ir.DiscoveryStrictDNS, ir.DiscoveryLogicalDNS:
		typ := clusterv3.Cluster_STRICT_DNS
		if c.Discovery == ir.DiscoveryLogicalDNS {
			typ = clusterv3.Cluster_LOGICAL_DNS
		}
		out.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: typ}
		out.LoadAssignment = buildDNSLoadAssignment(c)
	}
	if c.Protocol == ir.UpstreamHTTP2 || c.Protocol == ir.UpstreamGRPC {
		opts, err := anypb.New(&upstreamhttpv3.HttpProtocolOptions{
			UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
				ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
					ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
						Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
					},
				},
			},
		})
		if err != nil {
			return nil, fmt.Errorf("cluster %q: protocol options: %w", c.Name, err)
		}
		out.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptionsKey: opts}
	}
	if c.TLS != nil {
		ts, err := transportSocket(buildUpstreamTLS(c.TLS))
		if err != nil {
			return nil, fmt.Errorf("cluster %q: transport socket: %w", c.Name, err)
		}
		out.TransportSocket = ts
	}
	if c.HealthCheck != nil {
		out.HealthChecks = []*corev3.HealthCheck{buildHealthCheck(c)}
	}
	return out, nil
}

func buildCircuitBreakers(cb *ir.CircuitBreaker) *clusterv3.CircuitBreakers {
	if cb == nil {
		return nil
	}
	th := &clusterv3.CircuitBreakers_Thresholds{Priority: corev3.RoutingPriority_DEFAULT}
	th.MaxConnections = optUint32(cb.MaxConnections)
	th.MaxPendingRequests = optUint32(cb.MaxPendingRequests)
	th.MaxRequests = optUint32(cb.MaxRequests)
	th.MaxRetries = optUint32(cb.MaxRetries)
	return &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{th}}
}

func buildOutlier(o *ir.Outlier) *clusterv3.OutlierDetection {
	if o == nil {
		return nil
	}
	return &clusterv3.OutlierDetection{
		Consecutive_5Xx:    wrapperspb.UInt32(o.Consecutive5xx),
		Interval:           durationpb.New(o.Interval),
		BaseEjectionTime:   durationpb.New(o.BaseEjectionTime),
		MaxEjectionPercent: wrapperspb.UInt32(o.MaxEjectionPercent),
	}
}

// buildHealthCheck is active health checking. HTTP probes use HTTP/2 when
// the Service speaks it.
func buildHealthCheck(c *ir.Cluster) *corev3.HealthCheck {
	h := c.HealthCheck
	out := &corev3.HealthCheck{
		Timeout:            durationpb.New(h.Timeout),
		Interval:           durationpb.New(h.Interval),
		HealthyThreshold:   wrapperspb.UInt32(h.HealthyThreshold),
		UnhealthyThreshold: wrapperspb.UInt32(h.UnhealthyThreshold),
	}
	switch h.Type {
	case model.HealthCheckTCP:
		out.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}
	case model.HealthCheckGRPC:
		out.HealthChecker = &corev3.HealthCheck_GrpcHealthCheck_{GrpcHealthCheck: &corev3.HealthCheck_GrpcHealthCheck{}}
	default:
		hc := &corev3.HealthCheck_HttpHealthCheck{Path: h.Path, Host: h.Host}
		for _, s := range h.ExpectedStatuses {
			hc.ExpectedStatuses = append(hc.ExpectedStatuses, &typev3.Int64Range{Start: int64(s), End: int64(s) + 1})
		}
		if c.Protocol != ir.UpstreamHTTP1 {
			hc.CodecClientType = typev3.CodecClientType_HTTP2
		}
		out.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: hc}
	}
	return out
}

func optUint32(v uint32) *wrapperspb.UInt32Value {
	if v == 0 {
		return nil
	}
	return wrapperspb.UInt32(v)
}

func wrapBool(v bool) *wrapperspb.BoolValue { return wrapperspb.Bool(v) }

func optDuration(d *time.Duration) *durationpb.Duration {
	if d == nil {
		return nil
	}
	return durationpb.New(*d)
}
