package xds_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	grpcxds "google.golang.org/grpc/xds"

	"tollgate.dev/tollgate/internal/translate"
	"tollgate.dev/tollgate/internal/xds"
)

// backend is a gRPC server that answers UnaryCall with its name.
type backend struct {
	testgrpc.UnimplementedTestServiceServer
	name string
}

func (b *backend) UnaryCall(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{Hostname: b.name}, nil
}

func startBackend(t *testing.T, name string) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(g, &backend{name: name})
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return lis.Addr().String()
}

// proxylessGateway is what a proxyless gateway serves for xds:///echo.test:
// an API listener, its route configuration splitting between two EDS
// clusters, and their endpoints.
func proxylessGateway(t *testing.T, addrA, addrB string, wA, wB uint32) *translate.GatewayConfig {
	return gatewayOf("gw-proxyless", map[string][]translate.Resource{
		resourcev3.ListenerType: {apiListener(t, "echo.test", "echo-routes")},
		resourcev3.RouteType:    {routeConfig("echo-routes", weight{"backend-a", wA}, weight{"backend-b", wB})},
		resourcev3.ClusterType:  {edsCluster("backend-a"), edsCluster("backend-b")},
		resourcev3.EndpointType: {loadAssignment("backend-a", addrA), loadAssignment("backend-b", addrB)},
	})
}

// share makes n RPCs and counts them per backend.
func share(ctx context.Context, t *testing.T, c testgrpc.TestServiceClient, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		resp, err := c.UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.WaitForReady(true))
		require.NoError(t, err)
		got[resp.GetHostname()]++
	}
	return got
}

// TestGRPCProxyless drives grpc-go's own xDS client with our server only:
// real RPCs follow the weights we serve, and a weight change moves them.
func TestGRPCProxyless(t *testing.T) {
	addrA, addrB := startBackend(t, "a"), startBackend(t, "b")
	s := xds.NewServer(xds.Options{})
	xdsAddr, _ := startServer(t, s)
	require.NoError(t, s.Update(outputOf(proxylessGateway(t, addrA, addrB, 90, 10))))

	bootstrap := fmt.Sprintf(`{
		"xds_servers": [{"server_uri": %q, "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}],
		"node": {"id": "grpc-client", "cluster": "gw-proxyless"}
	}`, xdsAddr)
	resolver, err := grpcxds.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	require.NoError(t, err)
	conn, err := grpc.NewClient("xds:///echo.test", grpc.WithResolvers(resolver),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	client := testgrpc.NewTestServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
	defer cancel()

	// 90/10 over 200 RPCs: mean 180 on a, standard deviation ≈ 4.2.
	got := share(ctx, t, client, 200)
	require.GreaterOrEqual(t, got["a"], 150, "traffic share %v", got)
	require.Positive(t, got["b"], "traffic share %v", got)

	ns := waitNodes(t, s, "grpc-go ACKed every type", func(ns map[string]xds.NodeStatus) bool {
		return allAcked(ns["grpc-client"], resourcev3.ListenerType, resourcev3.RouteType,
			resourcev3.ClusterType, resourcev3.EndpointType)
	})
	require.Equal(t, "gw-proxyless", ns["grpc-client"].Gateway)

	// Flip the split: the route changes, nothing else is re-sent.
	require.NoError(t, s.Update(outputOf(proxylessGateway(t, addrA, addrB, 10, 90))))
	deadline := time.Now().Add(waitFor)
	for {
		got = share(ctx, t, client, 200)
		if got["b"] >= 150 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the share never moved to b: %v", got)
	}
	require.Positive(t, got["a"], "traffic share %v", got)

	// Remove backend b: traffic moves off it entirely.
	require.NoError(t, s.Update(outputOf(gatewayOf("gw-proxyless", map[string][]translate.Resource{
		resourcev3.ListenerType: {apiListener(t, "echo.test", "echo-routes")},
		resourcev3.RouteType:    {routeConfig("echo-routes", weight{"backend-a", 100})},
		resourcev3.ClusterType:  {edsCluster("backend-a")},
		resourcev3.EndpointType: {loadAssignment("backend-a", addrA)},
	}))))
	for {
		got = share(ctx, t, client, 50)
		if got["a"] == 50 {
			break
		}
		require.True(t, time.Now().Before(deadline.Add(waitFor)), "traffic still reaches b: %v", got)
	}
	waitNodes(t, s, "grpc-go ACKed the removal", func(ns map[string]xds.NodeStatus) bool {
		n := ns["grpc-client"]
		return allAcked(n, resourcev3.RouteType, resourcev3.ClusterType) && !n.Types[resourcev3.ClusterType].NACKed
	})
}
