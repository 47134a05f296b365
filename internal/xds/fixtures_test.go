package xds_test

import (
	"net"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate"
	"tollgate.dev/tollgate/internal/xds"
)

// startServer serves s on 127.0.0.1:0 and returns its address and a stop
// function (also run at cleanup).
func startServer(t *testing.T, s *xds.Server) (string, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := grpc.NewServer()
	s.Register(g)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = g.Serve(lis)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		s.Close()
		g.Stop()
		<-done
	}
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

func mustAny(t testing.TB, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	require.NoError(t, err)
	return a
}

func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}

func svc(name string) []model.Key { return []model.Key{{Kind: model.KindService, Name: name}} }
func api(name string) []model.Key { return []model.Key{{Kind: model.KindAPI, Name: name}} }

// edsCluster is an EDS cluster whose endpoints come over ADS.
func edsCluster(name string) translate.Resource {
	return translate.Resource{Name: name, Sources: svc(name), Message: &clusterv3.Cluster{
		Name:                 name,
		ConnectTimeout:       durationpb.New(1e9),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource(), ServiceName: name},
		LbPolicy:             clusterv3.Cluster_ROUND_ROBIN,
	}}
}

// loadAssignment puts one endpoint per address into one locality.
func loadAssignment(name string, addrs ...string) translate.Resource {
	var lbs []*endpointv3.LbEndpoint
	for _, a := range addrs {
		host, port := splitHostPort(a)
		lbs = append(lbs, &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
			Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
				SocketAddress: &corev3.SocketAddress{Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}},
			}}},
		}})
	}
	return translate.Resource{Name: name, Sources: svc(name), Message: &endpointv3.ClusterLoadAssignment{
		ClusterName: name,
		Endpoints: []*endpointv3.LocalityLbEndpoints{{
			Locality:            &corev3.Locality{Region: "r", Zone: "z"},
			LbEndpoints:         lbs,
			LoadBalancingWeight: wrapperspb.UInt32(1),
		}},
	}}
}

func splitHostPort(a string) (string, uint32) {
	host, p, err := net.SplitHostPort(a)
	if err != nil {
		return a, 0
	}
	var port uint32
	for _, c := range p {
		port = port*10 + uint32(c-'0')
	}
	return host, port
}

// hcm is an HTTP connection manager taking its routes from RDS over ADS.
func hcm(t testing.TB, routeName string) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		StatPrefix: "ingress",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource: adsSource(), RouteConfigName: routeName,
		}},
		HttpFilters: []*hcmv3.HttpFilter{{
			Name:       "envoy.filters.http.router",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})},
		}},
	}
}

// socketListener is an Envoy listener on a port whose HCM uses routeName,
// serving TLS with secret "s1".
func socketListener(t testing.TB, name, routeName string, port uint32) translate.Resource {
	return translate.Resource{Name: name, Sources: []model.Key{{Kind: model.KindGateway, Name: "gw"}}, Message: &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}},
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       "envoy.filters.network.http_connection_manager",
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm(t, routeName))},
			}},
			TransportSocket: tlsSocket(t, "s1"),
		}},
	}}
}

// tlsSocket terminates TLS with the certificate secret named secret, which
// the proxy takes from SDS over ADS.
func tlsSocket(t testing.TB, secret string) *corev3.TransportSocket {
	ctx := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: secret, SdsConfig: adsSource()}},
	}}
	return &corev3.TransportSocket{
		Name:       "envoy.transport_sockets.tls",
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, ctx)},
	}
}

// apiListener is what grpc-go resolves for xds:///name.
func apiListener(t testing.TB, name, routeName string) translate.Resource {
	return translate.Resource{Name: name, Sources: api(name), Message: &listenerv3.Listener{
		Name:        name,
		ApiListener: &listenerv3.ApiListener{ApiListener: mustAny(t, hcm(t, routeName))},
	}}
}

// weight names a cluster and its share in a weighted route.
type weight struct {
	cluster string
	weight  uint32
}

// routeConfig has one virtual host for every domain and one route to the
// weighted clusters.
func routeConfig(name string, ws ...weight) translate.Resource {
	var wcs []*routev3.WeightedCluster_ClusterWeight
	for _, w := range ws {
		wcs = append(wcs, &routev3.WeightedCluster_ClusterWeight{Name: w.cluster, Weight: wrapperspb.UInt32(w.weight)})
	}
	return translate.Resource{Name: name, Sources: api(name), Message: &routev3.RouteConfiguration{
		Name: name,
		VirtualHosts: []*routev3.VirtualHost{{
			Name:    name,
			Domains: []string{"*"},
			Routes: []*routev3.Route{{
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_WeightedClusters{
						WeightedClusters: &routev3.WeightedCluster{Clusters: wcs},
					},
				}},
			}},
		}},
	}}
}

// secret is a TLS certificate secret (content irrelevant to the server).
func secret(name, pem string) translate.Resource {
	return translate.Resource{Name: name, Sources: []model.Key{{Kind: model.KindSecret, Name: name}}, Message: &tlsv3.Secret{
		Name: name,
		Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: pem}},
		}},
	}}
}

// gatewayOf groups resources by type for a GatewayConfig.
func gatewayOf(name string, byType map[string][]translate.Resource) *translate.GatewayConfig {
	return &translate.GatewayConfig{Name: name, Resources: byType}
}

func outputOf(gws ...*translate.GatewayConfig) *translate.Output {
	out := &translate.Output{Gateways: map[string]*translate.GatewayConfig{}}
	for _, g := range gws {
		out.Gateways[g.Name] = g
	}
	return out
}

// envoyGateway builds the usual test gateway: a listener using route "r1",
// the route splitting across clusters, one cluster + endpoints each, and a
// secret.
func envoyGateway(t testing.TB, name string, ws ...weight) *translate.GatewayConfig {
	rs := map[string][]translate.Resource{
		resourcev3.ListenerType: {socketListener(t, "l1", "r1", 8080)},
		resourcev3.RouteType:    {routeConfig("r1", ws...)},
		resourcev3.SecretType:   {secret("s1", "cert-1")},
	}
	for _, w := range ws {
		rs[resourcev3.ClusterType] = append(rs[resourcev3.ClusterType], edsCluster(w.cluster))
		rs[resourcev3.EndpointType] = append(rs[resourcev3.EndpointType], loadAssignment(w.cluster, "127.0.0.1:9000"))
	}
	return gatewayOf(name, rs)
}
