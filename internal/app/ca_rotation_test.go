package app_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/peer"
	grpcxds "google.golang.org/grpc/xds"

	"tollgate.dev/tollgate/internal/pki"
	"tollgate.dev/tollgate/internal/xdsclient"
)

// TestCARotationWithoutFailedHandshakes rotates the built-in CA under
// traffic: a grpc-go client calls an xDS-enabled grpc-go server over mTLS
// without pause, on one long-lived connection and on a new connection
// (a new handshake) per call, while the three rotation steps run and the
// proxies' files follow as `certs renew --watch` keeps them. No call may
// fail; afterwards the server presents a certificate from the new CA and
// a certificate from the retired CA is refused.
func TestCARotationWithoutFailedHandshakes(t *testing.T) {
	s := startSecureApp(t, filepath.Join(t.TempDir(), "data"))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.mustCall(http.MethodPost, "/v1/apply", "application/yaml", proxylessMTLSDefinitions(s.TrustDomain(), lis.Addr().(*net.TCPAddr).Port))
	dirs := map[string]string{}
	for _, gw := range []string{"grpc-servers", "grpc-clients"} {
		dirs[gw] = filepath.Join(t.TempDir(), gw)
		s.identityFiles(gw, dirs[gw])
	}
	oldIdentity := s.identity("grpc-clients") // for after the retirement
	s.serveXDS(t, lis, "grpc-servers", dirs["grpc-servers"])

	var bs map[string]any
	require.NoError(t, json.Unmarshal(s.grpcBootstrap("grpc-clients", "rotating-client", dirs["grpc-clients"]), &bs))
	raw, err := json.Marshal(bs)
	require.NoError(t, err)
	rb, err := grpcxds.NewXDSResolverWithConfigForTesting(raw)
	require.NoError(t, err)
	long := dialEchoWith(t, rb)
	t.Cleanup(func() { _ = long.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	require.Eventually(t, func() bool {
		_, err := testgrpc.NewTestServiceClient(long).UnaryCall(ctx, &testgrpc.SimpleRequest{})
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "traffic flows before the rotation")

	var calls, failures atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	call := func(conn *grpc.ClientConn) {
		callCtx, cancelCall := context.WithTimeout(ctx, 10*time.Second)
		defer cancelCall()
		_, err := testgrpc.NewTestServiceClient(conn).UnaryCall(callCtx, &testgrpc.SimpleRequest{}, grpc.WaitForReady(true))
		calls.Add(1)
		if err != nil {
			failures.Add(1)
			firstFailure.CompareAndSwap(nil, err.Error())
		}
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			call(long)
			fresh := dialEchoWith(t, rb)
			call(fresh)
			_ = fresh.Close()
		}
	})

	// follow is what `certs renew --watch` does for each proxy between
	// steps: take the new trust bundle and, once the signer changed, a new
	// identity; then the files are given time to be re-read.
	follow := func(reissue bool) {
		for gw, dir := range dirs {
			certPEM, keyPEM, _, err := pki.ReadFiles(dir)
			require.NoError(t, err)
			if reissue {
				s.identityFiles(gw, dir)
				continue
			}
			require.NoError(t, pki.WriteFiles(dir, certPEM, keyPEM, s.CABundle()))
		}
		// grpc-go re-reads the files every certRefresh; leave it several
		// periods, as the steps of a real rotation leave minutes.
		time.Sleep(10 * certRefresh)
	}
	rotate := func(phase string, certs int) {
		body := s.mustCall(http.MethodPost, "/v1/ca/rotate", "application/json", `{"phase":"`+phase+`"}`)
		var info struct{ CABundle string }
		require.NoError(t, json.Unmarshal(body, &info))
		require.Equal(t, certs, strings.Count(info.CABundle, "BEGIN CERTIFICATE"), phase)
	}
	// Traffic must flow through every step, not just around them.
	flowed := func(step string) {
		seen := calls.Load()
		require.Eventually(t, func() bool { return calls.Load() > seen+2 }, 30*time.Second, 10*time.Millisecond, "calls during %s", step)
	}
	rotate("prepare", 2)
	follow(false)
	flowed("prepare")
	rotate("activate", 2)
	follow(true)
	flowed("activate")
	rotate("retire", 1)
	follow(false)
	flowed("retire")
	close(stop)
	wg.Wait()
	require.Zero(t, failures.Load(), "calls failed during the rotation (of %d): first: %v", calls.Load(), firstFailure.Load())

	var p peer.Peer
	fresh := dialEchoWith(t, rb)
	defer fresh.Close()
	_, err = testgrpc.NewTestServiceClient(fresh).UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.Peer(&p))
	require.NoError(t, err)
	signer, err := pki.ParseCertPEM(s.CABundle())
	require.NoError(t, err)
	require.NoError(t, serverCert(t, &p).CheckSignatureFrom(signer), "the server presents a certificate from the new CA")

	c, err := xdsclient.Dial(context.Background(), s.XDSAddress(), "stale", "grpc-clients", xdsclient.Options{Delta: true, TLS: s.proxyTLS(&oldIdentity)})
	if err == nil {
		defer c.Close()
		require.NoError(t, c.Start())
		nctx, ncancel := context.WithTimeout(ctx, 10*time.Second)
		defer ncancel()
		_, err = c.Next(nctx)
	}
	require.Error(t, err, "a certificate from the retired CA is refused")
	require.NotErrorIs(t, err, context.DeadlineExceeded)
}
