package xdsclient

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// fakeADS is a scripted ADS server: the test reads what the client asked
// for from reqs and says what to answer on sotw or delta.
type fakeADS struct {
	discoveryv3.UnimplementedAggregatedDiscoveryServiceServer
	reqs  chan proto.Message
	sotw  chan *discoveryv3.DiscoveryResponse
	delta chan *discoveryv3.DeltaDiscoveryResponse
}

func (f *fakeADS) StreamAggregatedResources(s grpc.BidiStreamingServer[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse]) error {
	go forward(s.Context(), s.Recv, f.reqs)
	for {
		select {
		case r := <-f.sotw:
			if err := s.Send(r); err != nil {
				return err
			}
		case <-s.Context().Done():
			return nil
		}
	}
}

func (f *fakeADS) DeltaAggregatedResources(s grpc.BidiStreamingServer[discoveryv3.DeltaDiscoveryRequest, discoveryv3.DeltaDiscoveryResponse]) error {
	go forward(s.Context(), s.Recv, f.reqs)
	for {
		select {
		case r := <-f.delta:
			if err := s.Send(r); err != nil {
				return err
			}
		case <-s.Context().Done():
			return nil
		}
	}
}

func forward[M proto.Message](ctx context.Context, recv func() (M, error), out chan<- proto.Message) {
	for {
		m, err := recv()
		if err != nil {
			return
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return
		}
	}
}

func startFake(t *testing.T) (*fakeADS, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeADS{
		reqs: make(chan proto.Message, 64), sotw: make(chan *discoveryv3.DiscoveryResponse),
		delta: make(chan *discoveryv3.DeltaDiscoveryResponse),
	}
	g := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, f)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return f, lis.Addr().String()
}

// request returns the next request the client sent.
func (f *fakeADS) request(t *testing.T) proto.Message {
	t.Helper()
	select {
	case m := <-f.reqs:
		return m
	case <-time.After(DefaultWait):
		t.Fatal("no request from the client")
		return nil
	}
}

func (f *fakeADS) sotwRequest(t *testing.T) *discoveryv3.DiscoveryRequest {
	t.Helper()
	r, ok := f.request(t).(*discoveryv3.DiscoveryRequest)
	require.True(t, ok)
	return r
}

func (f *fakeADS) deltaRequest(t *testing.T) *discoveryv3.DeltaDiscoveryRequest {
	t.Helper()
	r, ok := f.request(t).(*discoveryv3.DeltaDiscoveryRequest)
	require.True(t, ok)
	return r
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	require.NoError(t, err)
	return a
}

var ads = &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}

func cluster(t *testing.T, name string) *anypb.Any {
	return mustAny(t, &clusterv3.Cluster{Name: name})
}

// tlsListener has two filter chains taking routes r1 and r2 from RDS; the
// first serves TLS with secret "cert" from SDS over ADS and "static" from
// the bootstrap (not subscribed to).
func tlsListener(t *testing.T) *anypb.Any {
	chain := func(route string) *listenerv3.FilterChain {
		h := &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: ads, RouteConfigName: route}}}
		return &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{
			Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, h)},
		}}}
	}
	tls := &tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "cert", SdsConfig: ads}, {Name: "static"}},
	}}
	l := &listenerv3.Listener{Name: "l1", FilterChains: []*listenerv3.FilterChain{chain("r1"), chain("r2")}}
	l.FilterChains[0].TransportSocket = &corev3.TransportSocket{Name: "tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: mustAny(t, tls)}}
	return mustAny(t, l)
}

func routeTo(t *testing.T, name, cluster string) *anypb.Any {
	return mustAny(t, &routev3.RouteConfiguration{Name: name, VirtualHosts: []*routev3.VirtualHost{{
		Name: "vh", Domains: []string{"*"}, Routes: []*routev3.Route{{
			Name:   "all",
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}},
		}},
	}}})
}

// TestSotW: Envoy's subscription order, ACKs carrying version and nonce,
// the consistency check, and a NACK keeping the last good state.
func TestSotW(t *testing.T) {
	f, addr := startFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	c, err := Dial(ctx, addr, "n1", "gw", Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()

	require.NoError(t, c.Start())
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		r := f.sotwRequest(t)
		assert.Equal(t, typ, r.GetTypeUrl())
		assert.Empty(t, r.GetResourceNames(), "wildcard")
		assert.Equal(t, "gw", r.GetNode().GetCluster())
	}

	f.sotw <- &discoveryv3.DiscoveryResponse{TypeUrl: resourcev3.ClusterType, VersionInfo: "v1", Nonce: "n1", Resources: []*anypb.Any{cluster(t, "c2"), cluster(t, "c1")}}
	got, err := c.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, Response{TypeURL: resourcev3.ClusterType, Version: "v1", Names: []string{"c1", "c2"}}, got)
	ack := f.sotwRequest(t)
	assert.Equal(t, []string{resourcev3.ClusterType, "v1", "n1"}, []string{ack.GetTypeUrl(), ack.GetVersionInfo(), ack.GetResponseNonce()})
	assert.Nil(t, ack.GetErrorDetail())
	eds := f.sotwRequest(t)
	assert.Equal(t, resourcev3.EndpointType, eds.GetTypeUrl())
	assert.Equal(t, []string{"c1", "c2"}, eds.GetResourceNames())

	f.sotw <- &discoveryv3.DiscoveryResponse{TypeUrl: resourcev3.ListenerType, VersionInfo: "v1", Nonce: "n2", Resources: []*anypb.Any{tlsListener(t)}}
	_, err = c.Next(ctx)
	require.NoError(t, err)
	assert.Equal(t, resourcev3.ListenerType, f.sotwRequest(t).GetTypeUrl())
	rds := f.sotwRequest(t)
	assert.Equal(t, resourcev3.RouteType, rds.GetTypeUrl())
	assert.Equal(t, []string{"r1", "r2"}, rds.GetResourceNames(), "every filter chain's RDS name")
	sds := f.sotwRequest(t)
	assert.Equal(t, resourcev3.SecretType, sds.GetTypeUrl())
	assert.Equal(t, []string{"cert"}, sds.GetResourceNames(), "only secrets served over ADS")

	// A route to a cluster the client lacks is applied and ACKed, and
	// reported.
	f.sotw <- &discoveryv3.DiscoveryResponse{TypeUrl: resourcev3.RouteType, VersionInfo: "v1", Nonce: "n3", Resources: []*anypb.Any{routeTo(t, "r1", "c3")}}
	_, err = c.Next(ctx)
	var ie *InconsistencyError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, InconsistencyError{NodeID: "n1", Route: "r1", Cluster: "c3"}, *ie)
	assert.Equal(t, "n3", f.sotwRequest(t).GetResponseNonce())
	assert.Equal(t, []string{"c3"}, mustRouteClusters(t, c))

	// A NACK names the last good version and keeps the last good state.
	c.SetNACK(func(typeURL string, res map[string]*anypb.Any) string {
		if typeURL == resourcev3.ClusterType && res["bad"] != nil {
			return "bad cluster"
		}
		return ""
	})
	f.sotw <- &discoveryv3.DiscoveryResponse{TypeUrl: resourcev3.ClusterType, VersionInfo: "v2", Nonce: "n4", Resources: []*anypb.Any{cluster(t, "bad")}}
	_, err = c.Next(ctx)
	require.ErrorAs(t, err, &ie, "still inconsistent: c3 is missing")
	nack := f.sotwRequest(t)
	assert.Equal(t, []string{"v1", "n4", "bad cluster"}, []string{nack.GetVersionInfo(), nack.GetResponseNonce(), nack.GetErrorDetail().GetMessage()})
	assert.Equal(t, []string{"c1", "c2"}, c.Has(resourcev3.ClusterType))
	assert.Len(t, c.Log(), 4)
}

func mustRouteClusters(t *testing.T, c *Client) []string {
	t.Helper()
	cl, err := c.RouteClusters()
	require.NoError(t, err)
	return cl
}

// TestDelta: wildcard subscriptions, EDS following the clusters through
// additions and removals, removals logged.
func TestDelta(t *testing.T) {
	f, addr := startFake(t)
	c := DialTest(t, addr, "n1", "gw", Options{Delta: true})
	c.Start()
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		r := f.deltaRequest(t)
		assert.Equal(t, typ, r.GetTypeUrl())
		assert.Empty(t, r.GetResourceNamesSubscribe(), "wildcard")
	}

	f.delta <- &discoveryv3.DeltaDiscoveryResponse{TypeUrl: resourcev3.ClusterType, Nonce: "n1", Resources: []*discoveryv3.Resource{
		{Name: "c1", Version: "1", Resource: cluster(t, "c1")}, {Name: "c2", Version: "1", Resource: cluster(t, "c2")},
	}}
	c.Next()
	assert.Equal(t, "n1", f.deltaRequest(t).GetResponseNonce())
	eds := f.deltaRequest(t)
	assert.Equal(t, resourcev3.EndpointType, eds.GetTypeUrl())
	assert.Equal(t, []string{"c1", "c2"}, eds.GetResourceNamesSubscribe())

	mark := c.Received()
	f.delta <- &discoveryv3.DeltaDiscoveryResponse{TypeUrl: resourcev3.ClusterType, Nonce: "n2", RemovedResources: []string{"c2"}}
	got := c.Next()
	assert.Equal(t, []string{"c2"}, got.Removed)
	assert.True(t, c.Removed(mark, resourcev3.ClusterType, "c2"))
	assert.Equal(t, "n2", f.deltaRequest(t).GetResponseNonce())
	eds = f.deltaRequest(t)
	assert.Empty(t, eds.GetResourceNamesSubscribe())
	assert.Equal(t, []string{"c2"}, eds.GetResourceNamesUnsubscribe())
	assert.Equal(t, []string{"c1"}, c.Has(resourcev3.ClusterType))
	assert.Equal(t, 1, c.LastIndex(0, resourcev3.ClusterType), "the second response is the last CDS")
}

// TestStreamEnd: a stream the server ends is an error, not an
// inconsistency.
func TestStreamEnd(t *testing.T) {
	_, addr := startFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Dial(ctx, addr, "n1", "gw", Options{})
	require.NoError(t, err)
	cancel()
	_, err = c.Next(context.Background())
	require.Error(t, err)
	var ie *InconsistencyError
	assert.False(t, errors.As(err, &ie))
	require.NoError(t, c.Close())
}

// TestCheckFollowsChanges: Check and follow decode each resource once per
// version (decodeCache), so they must notice a resource that changed under
// the same name, accept one resent unchanged, report every missing cluster
// in route name order, and forget what is no longer held.
func TestCheckFollowsChanges(t *testing.T) {
	f, addr := startFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	c, err := Dial(ctx, addr, "n1", "gw", Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()
	require.NoError(t, c.Start())
	respond := func(typeURL, version string, res ...*anypb.Any) error {
		f.sotw <- &discoveryv3.DiscoveryResponse{TypeUrl: typeURL, VersionInfo: version, Nonce: version, Resources: res}
		_, err := c.Next(ctx)
		return err
	}
	// rdsRequest returns the names of the RDS request that follows the
	// ACK of listener response nonce.
	rdsRequest := func(nonce string) []string {
		for r := f.sotwRequest(t); r.GetTypeUrl() != resourcev3.ListenerType || r.GetResponseNonce() != nonce; r = f.sotwRequest(t) {
		}
		for {
			if r := f.sotwRequest(t); r.GetTypeUrl() == resourcev3.RouteType {
				return r.GetResourceNames()
			}
		}
	}
	require.NoError(t, respond(resourcev3.ClusterType, "1", cluster(t, "c1"), cluster(t, "c2")))
	require.NoError(t, respond(resourcev3.ListenerType, "2", rdsListener(t, "r1", "r2")))
	assert.Equal(t, []string{"r1", "r2"}, rdsRequest("2"))

	require.NoError(t, respond(resourcev3.RouteType, "3", routeTo(t, "r1", "c1"), routeTo(t, "r2", "c2")))
	err = respond(resourcev3.RouteType, "4", routeTo(t, "r1", "c3"))
	var ie *InconsistencyError
	require.ErrorAs(t, err, &ie, "r1 changed to a missing cluster")
	assert.Equal(t, InconsistencyError{NodeID: "n1", Route: "r1", Cluster: "c3"}, *ie)
	require.NoError(t, respond(resourcev3.RouteType, "5", routeTo(t, "r1", "c1")), "r1 back to its first content")

	err = respond(resourcev3.RouteType, "6", routeTo(t, "r2", "c9"), routeTo(t, "r1", "c8"))
	var joined interface{ Unwrap() []error }
	require.ErrorAs(t, err, &joined)
	var got []InconsistencyError
	for _, e := range joined.Unwrap() {
		require.ErrorAs(t, e, &ie)
		got = append(got, *ie)
	}
	assert.Equal(t, []InconsistencyError{{"n1", "r1", "c8"}, {"n1", "r2", "c9"}}, got, "in route name order")

	// The listener drops r2: the client unsubscribes and forgets it, and
	// only r1's missing cluster is left.
	err = respond(resourcev3.ListenerType, "7", rdsListener(t, "r1"))
	assert.Equal(t, []string{"r1"}, rdsRequest("7"))
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, InconsistencyError{NodeID: "n1", Route: "r1", Cluster: "c8"}, *ie)
	assert.Equal(t, []string{"r1"}, c.Has(resourcev3.RouteType))
	assert.Equal(t, []string{"c8"}, mustRouteClusters(t, c))

	// Adding the cluster makes it consistent again.
	require.NoError(t, respond(resourcev3.ClusterType, "8", cluster(t, "c1"), cluster(t, "c2"), cluster(t, "c8")))
	assert.Len(t, c.routeRefs, 1, "the cache holds only what is held")
}

// rdsListener is a listener with one filter chain per route name, each
// taking it from RDS over ADS.
func rdsListener(t *testing.T, routes ...string) *anypb.Any {
	l := &listenerv3.Listener{Name: "l1"}
	for _, route := range routes {
		h := &hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: ads, RouteConfigName: route}}}
		l.FilterChains = append(l.FilterChains, &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{
			Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, h)},
		}}})
	}
	return mustAny(t, l)
}
