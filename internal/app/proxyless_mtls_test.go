package app_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	xdscreds "google.golang.org/grpc/credentials/xds"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/status"
	grpcxds "google.golang.org/grpc/xds"

	"tollgate.dev/tollgate/internal/bootstrap"
	"tollgate.dev/tollgate/internal/pki"
)

// certRefresh is how often the test's grpc-go re-reads its identity files.
const certRefresh = 100 * time.Millisecond

// identityFiles has the control plane's CA sign a fresh key for gateway
// and writes the identity where grpc-go's file_watcher reads it, as
// `controlplane certs issue --out dir` does.
func (s *secureApp) identityFiles(gateway, dir string) *x509.Certificate {
	s.t.Helper()
	certPEM, keyPEM, caPEM := s.issue(gateway)
	require.NoError(s.t, pki.WriteFiles(dir, certPEM, keyPEM, caPEM))
	cert, err := pki.ParseCertPEM(certPEM)
	require.NoError(s.t, err)
	return cert
}

// grpcBootstrap is what `controlplane bootstrap --grpc --cert-dir dir`
// prints for a proxy of gateway.
func (s *secureApp) grpcBootstrap(gateway, node, dir string) []byte {
	s.t.Helper()
	bs, err := bootstrap.GRPC(bootstrap.Options{Gateway: gateway, NodeID: node, XDSAddress: s.XDSAddress(), CertDir: dir, CertRefresh: certRefresh})
	require.NoError(s.t, err)
	return bs
}

// whoami answers with the SPIFFE ID of the client certificate the call
// came with, as the xDS-configured server's TLS verified it.
type whoami struct {
	testgrpc.UnimplementedTestServiceServer
}

func (whoami) UnaryCall(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	p, _ := peer.FromContext(ctx)
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return &testgrpc.SimpleResponse{Hostname: "anonymous"}, nil
	}
	id, _ := pki.SPIFFEID(info.State.PeerCertificates[0])
	return &testgrpc.SimpleResponse{Hostname: id}, nil
}

// TestProxylessMTLS runs an xDS-enabled grpc-go server and grpc-go
// clients, configured only by the control plane (TLS from the
// certificate_provider_instance, identity rules as RBAC), with
// certificates from its built-in CA: the allowed identity gets through,
// another identity of the same CA is denied by RBAC, a certificate from
// another CA fails the handshake, and rotating the certificates keeps the
// open connection working while new handshakes use the new ones.
func TestProxylessMTLS(t *testing.T) {
	s := startSecureApp(t, filepath.Join(t.TempDir(), "data"))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := lis.Addr().(*net.TCPAddr).Port
	s.mustCall(http.MethodPost, "/v1/apply", "application/yaml", proxylessMTLSDefinitions(s.TrustDomain(), port))

	dirs := map[string]string{}
	for _, gw := range []string{"grpc-servers", "grpc-clients", "intruders"} {
		dirs[gw] = filepath.Join(t.TempDir(), gw)
		s.identityFiles(gw, dirs[gw])
	}
	s.serveXDS(t, lis, "grpc-servers", dirs["grpc-servers"])

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := s.dialXDS(t, "grpc-clients", dirs["grpc-clients"])
	var who *testgrpc.SimpleResponse
	require.Eventually(t, func() bool {
		who, err = client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "the allowed client gets through: %v", err)
	require.Equal(t, "spiffe://"+s.TrustDomain()+"/gateway/grpc-clients", who.GetHostname(), "mutual TLS: the server saw the client's identity")

	t.Run("another identity of the same CA is denied by the identity rule", func(t *testing.T) {
		intruder := s.dialXDS(t, "intruders", dirs["intruders"])
		require.Eventually(t, func() bool {
			_, err = intruder.UnaryCall(ctx, &testgrpc.SimpleRequest{})
			return status.Code(err) == codes.PermissionDenied
		}, 30*time.Second, 50*time.Millisecond, "RBAC denies spiffe://…/gateway/intruders: %v", err)
	})
	t.Run("a certificate from another CA fails the handshake", func(t *testing.T) {
		forged := filepath.Join(t.TempDir(), "forged")
		other, err := pki.NewCA(s.TrustDomain(), time.Now(), time.Hour)
		require.NoError(t, err)
		certPEM, keyPEM, err := other.Issue("spiffe://"+s.TrustDomain()+"/gateway/grpc-clients", nil, nil, time.Now(), time.Hour)
		require.NoError(t, err)
		// The forger gets its configuration with a real identity (the xDS
		// server would refuse the forged one first) and presents the
		// forged certificate, claiming grpc-clients, to the server.
		require.NoError(t, pki.WriteFiles(forged, certPEM, keyPEM, s.CABundle()))
		forger := s.dialXDSWith(t, "grpc-clients", dirs["grpc-clients"], forged)
		callCtx, cancelCall := context.WithTimeout(ctx, 5*time.Second)
		defer cancelCall()
		_, err = forger.UnaryCall(callCtx, &testgrpc.SimpleRequest{}, grpc.WaitForReady(false))
		require.Error(t, err, "a certificate from another CA must not get through")
		require.Contains(t, []codes.Code{codes.Unavailable, codes.DeadlineExceeded}, status.Code(err), "%v", err)
	})

	t.Run("rotation", func(t *testing.T) {
		var before peer.Peer
		_, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.Peer(&before))
		require.NoError(t, err)
		oldServer := serverCert(t, &before)
		newServer := s.identityFiles("grpc-servers", dirs["grpc-servers"])
		s.identityFiles("grpc-clients", dirs["grpc-clients"])
		require.NotEqual(t, oldServer.SerialNumber, newServer.SerialNumber)

		// The open connection keeps working across the rotation.
		for range 20 {
			_, err := client.UnaryCall(ctx, &testgrpc.SimpleRequest{})
			require.NoError(t, err)
			time.Sleep(certRefresh / 4)
		}
		// A new connection's handshake presents the new certificate.
		fresh := s.dialXDS(t, "grpc-clients", dirs["grpc-clients"])
		var after peer.Peer
		require.Eventually(t, func() bool {
			_, err := fresh.UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.Peer(&after))
			return err == nil && serverCert(t, &after).SerialNumber.Cmp(newServer.SerialNumber) == 0
		}, 20*time.Second, 50*time.Millisecond, "the next handshake uses the rotated certificate")
	})
}

// serveXDS runs an xDS-enabled grpc-go server of gateway on lis, with
// its identity in dir, answering whoami.
func (s *secureApp) serveXDS(t *testing.T, lis net.Listener, gateway, dir string) {
	t.Helper()
	serverCreds, err := xdscreds.NewServerCredentials(xdscreds.ServerOptions{FallbackCreds: insecure.NewCredentials()})
	require.NoError(t, err)
	srv, err := grpcxds.NewGRPCServer(grpc.Creds(serverCreds),
		grpcxds.BootstrapContentsForTesting(s.grpcBootstrap(gateway, gateway+"-0", dir)))
	require.NoError(t, err)
	testgrpc.RegisterTestServiceServer(srv, whoami{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
}

func serverCert(t *testing.T, p *peer.Peer) *x509.Certificate {
	t.Helper()
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	require.True(t, ok, "TLS peer info, got %T", p.AuthInfo)
	require.NotEmpty(t, info.State.PeerCertificates)
	return info.State.PeerCertificates[0]
}

// dialXDS is a grpc-go client of xds:///echo.test for gateway whose
// identity (xDS channel and data plane) is in dir.
func (s *secureApp) dialXDS(t *testing.T, gateway, dir string) testgrpc.TestServiceClient {
	return s.dialXDSWith(t, gateway, dir, dir)
}

// dialXDSWith uses the identity in channelDir on the xDS channel and the
// one in dataDir for calls.
func (s *secureApp) dialXDSWith(t *testing.T, gateway, channelDir, dataDir string) testgrpc.TestServiceClient {
	t.Helper()
	var bs map[string]any
	require.NoError(t, json.Unmarshal(s.grpcBootstrap(gateway, gateway+"-"+strconv.Itoa(int(time.Now().UnixNano()%1e6)), channelDir), &bs))
	if dataDir != channelDir {
		data := json.RawMessage(s.grpcBootstrap(gateway, "x", dataDir))
		var other map[string]any
		require.NoError(t, json.Unmarshal(data, &other))
		bs["certificate_providers"] = other["certificate_providers"]
	}
	raw, err := json.Marshal(bs)
	require.NoError(t, err)
	resolver, err := grpcxds.NewXDSResolverWithConfigForTesting(raw)
	require.NoError(t, err)
	conn := dialEchoWith(t, resolver)
	t.Cleanup(func() { _ = conn.Close() })
	return testgrpc.NewTestServiceClient(conn)
}

// dialEchoWith opens a channel to xds:///echo.test through resolver, with
// the TLS the control plane configures (xDS credentials).
func dialEchoWith(t *testing.T, rb resolver.Builder) *grpc.ClientConn {
	t.Helper()
	creds, err := xdscreds.NewClientCredentials(xdscreds.ClientOptions{FallbackCreds: insecure.NewCredentials()})
	require.NoError(t, err)
	conn, err := grpc.NewClient("xds:///echo.test", grpc.WithResolvers(rb), grpc.WithTransportCredentials(creds))
	require.NoError(t, err)
	return conn
}

// proxylessMTLSDefinitions: gateway grpc-servers is the inbound side of an
// xDS-enabled server on 127.0.0.1:port, requiring client certificates and
// admitting only grpc-clients; grpc-clients and intruders call it over
// identity mTLS, checking it is grpc-servers.
func proxylessMTLSDefinitions(td string, port int) string {
	return fmt.Sprintf(`apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: grpc-servers}
spec:
  mode: proxyless
  listeners:
  - name: echo
    port: %[2]d
    address: 127.0.0.1
    protocol: GRPC
    tls:
      certificates: [{identity: true}]
      clientValidation: {mode: required, identityCa: true, subjectAltNames: ["spiffe://%[1]s/gateway/grpc-clients"]}
---
apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: grpc-clients}
spec: {mode: proxyless}
---
apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: intruders}
spec: {mode: proxyless}
---
apiVersion: tollgate.dev/v1
kind: Service
metadata: {name: echo}
spec:
  endpoints: [{address: 127.0.0.1, port: %[2]d}]
  protocol: GRPC
  tls: {identity: true, identityCa: true, subjectAltNames: ["spiffe://%[1]s/gateway/grpc-servers"]}
---
apiVersion: tollgate.dev/v1
kind: API
metadata: {name: echo}
spec:
  gateways: [grpc-clients, intruders]
  hostnames: [echo.test]
  routes: [{name: all, backends: [{service: echo}]}]
`, td, port)
}
