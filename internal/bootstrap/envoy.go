package bootstrap

import (
	"fmt"
	"net"
	"time"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	fileaccesslogv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	downstreamconnectionsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// XDSCluster is the static cluster that reaches the control plane. It is
// the one cluster not served over xDS, since xDS itself travels over it.
// Envoy rejects a CDS cluster named like a static one; translated clusters
// are named "svc/<service>" (internal/translate/names.go), so the underscore
// name cannot collide.
const XDSCluster = "xds_cluster"

// Extension names. The resource monitor names are also how overload
// actions refer to their triggers.
const (
	fileAccessLogName       = "envoy.access_loggers.file"
	fixedHeapMonitor        = "envoy.resource_monitors.fixed_heap"
	downstreamConnsMonitor  = "envoy.resource_monitors.global_downstream_max_connections"
	shrinkHeapAction        = "envoy.overload_actions.shrink_heap"
	stopAcceptingRequests   = "envoy.overload_actions.stop_accepting_requests"
	httpProtocolOptionsName = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

// Timing of the xDS channel. The keepalives detect a control plane that
// vanished without closing the connection (a crashed host, a dropped NAT
// entry), so the proxy reconnects in seconds rather than after the kernel's
// two-hour default.
const (
	xdsConnectTimeout    = 5 * time.Second
	tcpKeepaliveTime     = 30 // seconds idle before the first probe
	tcpKeepaliveInterval = 5  // seconds between probes
	tcpKeepaliveProbes   = 3
	h2PingInterval       = 30 * time.Second
	h2PingTimeout        = 5 * time.Second
	overloadRefresh      = 250 * time.Millisecond
)

// Overload thresholds from Envoy's edge-proxy best practices: try to give
// memory back first, and only refuse new requests when nearly out of heap.
const (
	shrinkHeapThreshold    = 0.95
	stopRequestsThreshold  = 0.98
	re2ErrorLevel          = 4096
	re2WarnLevel           = 1000
	adminAccessLogDiscards = "/dev/null"
)

// Envoy builds the bootstrap of one Envoy proxy of o.Gateway. Every listener,
// route and cluster besides XDSCluster arrives later over ADS.
func Envoy(o Options) (*bootstrapv3.Bootstrap, error) {
	if ps := o.Validate(); len(ps) > 0 {
		return nil, ps
	}
	o = o.withDefaults()
	xds, err := buildXDSCluster(o.XDSAddress)
	if err != nil {
		return nil, err
	}
	if o.CertDir != "" {
		if xds.TransportSocket, err = xdsTransportSocket(o); err != nil {
			return nil, fmt.Errorf("xDS channel TLS: %w", err)
		}
	}
	admin, err := buildAdmin(o.AdminPort)
	if err != nil {
		return nil, err
	}
	overload, err := buildOverloadManager(o.MaxHeapBytes, o.MaxConnections)
	if err != nil {
		return nil, err
	}
	runtime, err := buildRuntime()
	if err != nil {
		return nil, err
	}
	b := &bootstrapv3.Bootstrap{
		Node:             buildNode(o),
		StaticResources:  &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{xds}},
		DynamicResources: buildDynamicResources(),
		Admin:            admin,
		OverloadManager:  overload,
		LayeredRuntime:   runtime,
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap for gateway %q: %w", o.Gateway, err)
	}
	return b, nil
}

// buildNode sets the proxy's identity. node.cluster carries the gateway
// name because the control plane groups proxies by node.cluster: every
// proxy reporting the same cluster receives the same gateway's resources.
// node.id only distinguishes proxies in status.
func buildNode(o Options) *corev3.Node {
	return &corev3.Node{Id: o.NodeID, Cluster: o.Gateway}
}

// buildDynamicResources sends everything over one ADS stream, so the
// control plane can order updates (clusters before the routes that use
// them) and no resource type races another.
func buildDynamicResources() *bootstrapv3.Bootstrap_DynamicResources {
	return &bootstrapv3.Bootstrap_DynamicResources{
		AdsConfig: &corev3.ApiConfigSource{
			ApiType:             corev3.ApiConfigSource_GRPC,
			TransportApiVersion: corev3.ApiVersion_V3,
			GrpcServices: []*corev3.GrpcService{{
				TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSCluster},
				},
			}},
			// The node is the same for the life of the stream; sending it
			// once saves its bytes on every request.
			SetNodeOnFirstMessageOnly: true,
		},
		LdsConfig: adsSource(),
		CdsConfig: adsSource(),
	}
}

func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		ResourceApiVersion:    corev3.ApiVersion_V3,
	}
}

// buildXDSCluster reaches the control plane at addr: STATIC for an IP
// address, STRICT_DNS for a name (re-resolved, so a moved control plane is
// found again). ADS is gRPC, so the cluster speaks HTTP/2 explicitly.
func buildXDSCluster(addr string) (*clusterv3.Cluster, error) {
	host, port := splitXDSAddress(addr)
	h2, err := anypb.New(&upstreamhttpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{
						ConnectionKeepalive: &corev3.KeepaliveSettings{
							Interval: durationpb.New(h2PingInterval),
							Timeout:  durationpb.New(h2PingTimeout),
						},
					},
				},
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cluster %q: http protocol options: %w", XDSCluster, err)
	}
	c := &clusterv3.Cluster{
		Name:                          XDSCluster,
		ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		ConnectTimeout:                durationpb.New(xdsConnectTimeout),
		LoadAssignment:                xdsLoadAssignment(host, port),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{httpProtocolOptionsName: h2},
		UpstreamConnectionOptions: &clusterv3.UpstreamConnectionOptions{
			TcpKeepalive: &corev3.TcpKeepalive{
				KeepaliveTime:     wrapperspb.UInt32(tcpKeepaliveTime),
				KeepaliveInterval: wrapperspb.UInt32(tcpKeepaliveInterval),
				KeepaliveProbes:   wrapperspb.UInt32(tcpKeepaliveProbes),
			},
		},
	}
	if net.ParseIP(host) == nil {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
		// The control plane's default address is 127.0.0.1; with Envoy's
		// AUTO family "localhost" would resolve to ::1 first and miss it.
		c.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	}
	return c, nil
}

func xdsLoadAssignment(host string, port uint32) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{
		ClusterName: XDSCluster,
		Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
					Endpoint: &endpointv3.Endpoint{Address: socketAddress(host, port)},
				},
			}},
		}},
	}
}

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{
		SocketAddress: &corev3.SocketAddress{
			Address:       host,
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		},
	}}
}

// buildAdmin binds the admin interface to loopback only: it can drain
// listeners, change log levels, modify runtime and quit the process, so it
// must never be reachable from the network. Its access log is discarded:
// the callers are local health checks and operators, whose requests would
// drown the proxy's own logs.
func buildAdmin(port uint32) (*bootstrapv3.Admin, error) {
	log, err := anypb.New(&fileaccesslogv3.FileAccessLog{Path: adminAccessLogDiscards})
	if err != nil {
		return nil, fmt.Errorf("admin access log: %w", err)
	}
	return &bootstrapv3.Admin{
		Address: socketAddress("127.0.0.1", port),
		AccessLog: []*accesslogv3.AccessLog{{
			Name:       fileAccessLogName,
			ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: log},
		}},
	}, nil
}

// buildOverloadManager protects the proxy from running out of memory or
// file descriptors under load. The downstream connection monitor is a
// "proactive" monitor: Envoy enforces its limit itself when accepting
// connections, so no overload action refers to it; it replaces the older
// runtime key overload.global_downstream_max_connections, which is
// therefore not set.
func buildOverloadManager(maxHeap, maxConns uint64) (*overloadv3.OverloadManager, error) {
	heap, err := anypb.New(&fixedheapv3.FixedHeapConfig{MaxHeapSizeBytes: maxHeap})
	if err != nil {
		return nil, fmt.Errorf("overload manager: fixed heap monitor: %w", err)
	}
	// Validate checked maxConns fits in an int64.
	conns, err := anypb.New(&downstreamconnectionsv3.DownstreamConnectionsConfig{
		MaxActiveDownstreamConnections: int64(maxConns), //nolint:gosec // bounded by Validate
	})
	if err != nil {
		return nil, fmt.Errorf("overload manager: downstream connections monitor: %w", err)
	}
	return &overloadv3.OverloadManager{
		RefreshInterval: durationpb.New(overloadRefresh),
		ResourceMonitors: []*overloadv3.ResourceMonitor{
			{Name: fixedHeapMonitor, ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: heap}},
			{Name: downstreamConnsMonitor, ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: conns}},
		},
		Actions: []*overloadv3.OverloadAction{
			heapAction(shrinkHeapAction, shrinkHeapThreshold),
			heapAction(stopAcceptingRequests, stopRequestsThreshold),
		},
	}, nil
}

func heapAction(name string, threshold float64) *overloadv3.OverloadAction {
	return &overloadv3.OverloadAction{
		Name: name,
		Triggers: []*overloadv3.Trigger{{
			Name: fixedHeapMonitor,
			TriggerOneof: &overloadv3.Trigger_Threshold{
				Threshold: &overloadv3.ThresholdTrigger{Value: threshold},
			},
		}},
	}
}

// buildRuntime sets the runtime keys Tollgate depends on, plus an admin
// layer so operators can still override values through /runtime_modify.
//
// RE2 program size: Tollgate's validator accepts regexes of up to 1000
// instructions (counted by Go's regexp/syntax). Envoy rejects any regex whose
// RE2 program exceeds re2.max_program_size.error_level, default 100, so
// without this raise Envoy would NACK routes Tollgate accepted. RE2 counts
// instructions differently from Go, hence the headroom to 4096; the warn
// level at 1000 makes regexes beyond Tollgate's own bound visible in
// Envoy's stats.
func buildRuntime() (*bootstrapv3.LayeredRuntime, error) {
	static, err := structpb.NewStruct(map[string]any{
		"re2": map[string]any{
			"max_program_size": map[string]any{
				"error_level": re2ErrorLevel,
				"warn_level":  re2WarnLevel,
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("runtime static layer: %w", err)
	}
	return &bootstrapv3.LayeredRuntime{Layers: []*bootstrapv3.RuntimeLayer{
		{Name: "static", LayerSpecifier: &bootstrapv3.RuntimeLayer_StaticLayer{StaticLayer: static}},
		{Name: "admin", LayerSpecifier: &bootstrapv3.RuntimeLayer_AdminLayer_{AdminLayer: &bootstrapv3.RuntimeLayer_AdminLayer{}}},
	}}, nil
}
