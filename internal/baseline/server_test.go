package baseline_test

import (
	"net"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"tollgate.dev/tollgate/internal/baseline"
	"tollgate.dev/tollgate/internal/translate"
	"tollgate.dev/tollgate/internal/xdsclient"
)

const gateway = "gw"

// serve starts a baseline on a real gRPC server on 127.0.0.1:0.
func serve(t *testing.T, c baseline.Cache) (*baseline.Server, string) {
	t.Helper()
	s, err := baseline.New(t.Context(), baseline.Options{Cache: c, Gateway: gateway})
	require.NoError(t, err)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := grpc.NewServer()
	s.Register(g)
	done := make(chan struct{})
	go func() { defer close(done); _ = g.Serve(lis) }()
	t.Cleanup(func() { g.Stop(); <-done })
	return s, lis.Addr().String()
}

// TestServe publishes translations to each baseline in both xDS variants
// and checks what Envoy-like clients get: a client connected before the
// first translation is held and then served, one connecting later gets the
// current configuration at once, a route moving to a new cluster arrives
// after that cluster (the client fails the test on any route naming a
// cluster it does not hold), and a removed cluster disappears. The linear
// cache must not resend what did not change.
func TestServe(t *testing.T) {
	for _, c := range []baseline.Cache{baseline.Snapshot, baseline.Linear} {
		for _, delta := range []bool{false, true} {
			name := string(c) + "/sotw"
			if delta {
				name = string(c) + "/delta"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s, addr := serve(t, c)
				early := xdsclient.DialTest(t, addr, "early", gateway, xdsclient.Options{Delta: delta})
				early.Start()

				s.Publish(output(t, 1, "c1", "c1"))
				early.WaitFor("route r1 → c1", routesTo(early, "c1"))
				late := xdsclient.DialTest(t, addr, "late", gateway, xdsclient.Options{Delta: delta})
				late.Start()
				late.WaitFor("route r1 → c1", routesTo(late, "c1"))

				mark := early.Received()
				s.Publish(output(t, 2, "c2", "c1", "c2"))
				for _, p := range []*xdsclient.TestClient{early, late} {
					p.WaitFor("route r1 → c2", routesTo(p, "c2"))
				}
				if c == baseline.Linear {
					require.False(t, early.ReceivedSince(mark, resourcev3.ListenerType), "linear: the unchanged listener is not resent")
				}

				s.Publish(output(t, 3, "c2", "c2"))
				for _, p := range []*xdsclient.TestClient{early, late} {
					p.WaitFor("cluster c1 removed", func() bool {
						return !slices.Contains(p.Has(resourcev3.ClusterType), "c1")
					})
				}
			})
		}
	}
}

// TestNewRejectsBadOptions: an unknown cache, or a linear cache without
// the gateway it serves, is refused with the reason.
func TestNewRejectsBadOptions(t *testing.T) {
	_, err := baseline.New(t.Context(), baseline.Options{Cache: "mux"})
	require.ErrorContains(t, err, `"mux"`)
	_, err = baseline.New(t.Context(), baseline.Options{Cache: baseline.Linear})
	require.ErrorContains(t, err, "Gateway")
}

func routesTo(c *xdsclient.TestClient, cluster string) func() bool {
	return func() bool {
		got, err := c.Client.RouteClusters()
		return err == nil && slices.Equal(got, []string{cluster})
	}
}

// output is a translation of gateway "gw" at revision rev: listener l1
// taking route configuration r1 from RDS, r1 sending everything to
// routeTo, and one EDS cluster with its endpoints per name in clusters.
func output(t *testing.T, rev uint64, routeTo string, clusters ...string) *translate.Output {
	t.Helper()
	res := map[string][]translate.Resource{
		resourcev3.ListenerType: {{Name: "l1", Message: listener(t, "l1", "r1")}},
		resourcev3.RouteType:    {{Name: "r1", Message: route("r1", routeTo)}},
	}
	for _, n := range clusters {
		res[resourcev3.ClusterType] = append(res[resourcev3.ClusterType], translate.Resource{Name: n, Message: &clusterv3.Cluster{
			Name:                 n,
			ConnectTimeout:       durationpb.New(1e9),
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
			EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: n},
		}})
		res[resourcev3.EndpointType] = append(res[resourcev3.EndpointType], translate.Resource{Name: n, Message: &endpointv3.ClusterLoadAssignment{
			ClusterName: n,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{
					Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
						Address: "10.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 80},
					}},
				}}},
			}}}},
		}})
	}
	return &translate.Output{Revision: rev, Gateways: map[string]*translate.GatewayConfig{
		gateway: {Name: gateway, Resources: res},
	}}
}

func ads() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

func listener(t *testing.T, name, routeName string) *listenerv3.Listener {
	router, err := anypb.New(&routerv3.Router{})
	require.NoError(t, err)
	hcm, err := anypb.New(&hcmv3.HttpConnectionManager{
		StatPrefix:     "ingress",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: ads(), RouteConfigName: routeName}},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router},
		}},
	})
	require.NoError(t, err)
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080},
		}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm},
		}}}},
	}
}

func route(name, cluster string) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: name, VirtualHosts: []*routev3.VirtualHost{{
		Name: "all", Domains: []string{"*"},
		Routes: []*routev3.Route{{
			Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
			}},
		}},
	}}}
}
