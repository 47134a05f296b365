package bootstrap

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/xds"
	"google.golang.org/protobuf/types/known/emptypb"
)

func TestGRPC(t *testing.T) {
	t.Parallel()
	files := &grpcFileWatcher{
		CertificateFile: "/etc/tollgate/id/cert.pem", PrivateKeyFile: "/etc/tollgate/id/key.pem",
		CACertificateFile: "/etc/tollgate/id/ca.pem", RefreshInterval: "60s",
	}
	tests := []struct {
		name      string
		in        Options
		wantNode  string
		wantURI   string
		wantCreds grpcChannelCred
		wantProv  map[string]grpcCertProvider
	}{
		{name: "defaults", in: Options{Gateway: "grpc-clients", Hostname: "vm-1"}, wantNode: "grpc-clients-vm-1", wantURI: "127.0.0.1:18000", wantCreds: grpcChannelCred{Type: "insecure"}},
		{name: "explicit", in: Options{Gateway: "mesh", NodeID: "orders-0", XDSAddress: "controlplane:18000"}, wantNode: "orders-0", wantURI: "controlplane:18000", wantCreds: grpcChannelCred{Type: "insecure"}},
		{
			name: "mutual TLS", in: Options{Gateway: "mesh", NodeID: "orders-0", CertDir: "/etc/tollgate/id"}, wantNode: "orders-0", wantURI: "127.0.0.1:18000",
			wantCreds: grpcChannelCred{Type: "tls", Config: files},
			wantProv:  map[string]grpcCertProvider{"tollgate": {PluginName: "file_watcher", Config: *files}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := GRPC(tc.in)
			require.NoError(t, err)
			var got grpcBootstrap
			require.NoError(t, json.Unmarshal(out, &got))
			require.Equal(t, grpcBootstrap{
				XDSServers:           []grpcXDSServer{{ServerURI: tc.wantURI, ChannelCreds: []grpcChannelCred{tc.wantCreds}, ServerFeatures: []string{"xds_v3"}}},
				Node:                 grpcNode{ID: tc.wantNode, Cluster: tc.in.Gateway},
				CertificateProviders: tc.wantProv,
				ServerListenerName:   "grpc/server?xds.resource.listening_address=%s",
			}, got)
		})
	}
}

// TestGRPCBootstrapDrivesGRPCGo gives grpc-go's own xDS client the
// generated bootstrap and checks, at a stand-in ADS server, that grpc-go
// parsed it: it dialled the server_uri and identified itself with the node
// id and the gateway as node.cluster.
func TestGRPCBootstrapDrivesGRPCGo(t *testing.T) {
	t.Parallel()
	addr, first := startADSRecorder(t)
	out, err := GRPC(Options{Gateway: "grpc-clients", NodeID: "orders-client-0", XDSAddress: addr})
	require.NoError(t, err)
	node := dialWithBootstrap(t, out, first, "orders.internal")
	require.Equal(t, "orders-client-0", node.GetId())
	require.Equal(t, "grpc-clients", node.GetCluster())
}

// checkGRPC checks a bootstrap file for the gateway by handing it to
// grpc-go, with server_uri redirected to a local stand-in ADS server.
func checkGRPC(t *testing.T, data []byte, gateway string) {
	t.Helper()
	var b grpcBootstrap
	require.NoError(t, json.Unmarshal(data, &b))
	require.Equal(t, gateway, b.Node.Cluster)
	addr, first := startADSRecorder(t)
	b.XDSServers[0].ServerURI = addr
	// The stand-in speaks plaintext; the TLS channel is exercised against
	// the real control plane (internal/app's security tests).
	b.XDSServers[0].ChannelCreds = []grpcChannelCred{{Type: "insecure"}}
	redirected, err := json.Marshal(b)
	require.NoError(t, err)
	node := dialWithBootstrap(t, redirected, first, "example.internal")
	require.Equal(t, gateway, node.GetCluster())
	require.Equal(t, b.Node.ID, node.GetId())
}

// dialWithBootstrap starts a grpc-go client on xds:///target configured
// only by bootstrapJSON and returns the node it sent to the ADS server.
func dialWithBootstrap(t *testing.T, bootstrapJSON []byte, first <-chan *discoveryv3.DiscoveryRequest, target string) *corev3.Node {
	t.Helper()
	resolver, err := xds.NewXDSResolverWithConfigForTesting(bootstrapJSON)
	require.NoError(t, err)
	cc, err := grpc.NewClient("xds:///"+target,
		grpc.WithResolvers(resolver),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// Parsing the bootstrap and opening the ADS stream happen when the
	// channel leaves idle, which an RPC triggers. With a good bootstrap the
	// RPC waits for routing the stand-in never sends; with a bad one it
	// fails at once with grpc-go's reason.
	rpcErr := make(chan error, 1)
	go func() { rpcErr <- cc.Invoke(ctx, "/test.Service/Method", &emptypb.Empty{}, &emptypb.Empty{}) }()
	select {
	case req := <-first:
		require.Contains(t, req.GetResourceNames(), target, "grpc-go subscribes to the target's listener")
		return req.GetNode()
	case err := <-rpcErr:
		t.Fatalf("grpc-go rejected the bootstrap: %v", err)
	case <-ctx.Done():
		t.Fatalf("grpc-go never opened an ADS stream to the bootstrap's server_uri")
	}
	return nil
}

// adsRecorder is a stand-in ADS server that reports the first request of
// each stream and then holds the stream open without answering.
type adsRecorder struct {
	discoveryv3.UnimplementedAggregatedDiscoveryServiceServer
	first chan *discoveryv3.DiscoveryRequest
}

func (r *adsRecorder) StreamAggregatedResources(s discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	req, err := s.Recv()
	if err != nil {
		return err
	}
	select {
	case r.first <- req:
	default:
	}
	<-s.Context().Done()
	return nil
}

// startADSRecorder serves an adsRecorder on 127.0.0.1:0.
func startADSRecorder(t *testing.T) (string, <-chan *discoveryv3.DiscoveryRequest) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	rec := &adsRecorder{first: make(chan *discoveryv3.DiscoveryRequest, 1)}
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(srv, rec)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String(), rec.first
}
