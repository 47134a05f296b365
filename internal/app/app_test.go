package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	grpcxds "google.golang.org/grpc/xds"

	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/bootstrap"
	"tollgate.dev/tollgate/internal/config"
)

// backend is a real gRPC server answering UnaryCall with its name.
type backend struct {
	testgrpc.UnimplementedTestServiceServer
	name string
}

func (b *backend) UnaryCall(context.Context, *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{Hostname: b.name}, nil
}

func startBackend(t *testing.T, name string) (host string, port int) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(g, &backend{name: name})
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	h, p, _ := net.SplitHostPort(lis.Addr().String())
	port, _ = strconv.Atoi(p)
	return h, port
}

// startBackends starts backends a, b and c.
func startBackends(t *testing.T) (hosts map[string]string, ports map[string]int) {
	t.Helper()
	hosts, ports = map[string]string{}, map[string]int{}
	for _, n := range []string{"a", "b", "c"} {
		hosts[n], ports[n] = startBackend(t, n)
	}
	return hosts, ports
}

// dialEcho is a grpc-go client of xds:///echo.test configured only by the
// control plane at xdsAddr, bootstrapped with what `controlplane bootstrap
// --grpc` generates.
func dialEcho(t *testing.T, xdsAddr string) testgrpc.TestServiceClient {
	t.Helper()
	bs, err := bootstrap.GRPC(bootstrap.Options{Gateway: "grpc-clients", NodeID: "client-1", XDSAddress: xdsAddr})
	require.NoError(t, err)
	resolver, err := grpcxds.NewXDSResolverWithConfigForTesting(bs)
	require.NoError(t, err)
	conn, err := grpc.NewClient("xds:///echo.test", grpc.WithResolvers(resolver),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return testgrpc.NewTestServiceClient(conn)
}

// startApp runs the whole control plane in-process on ephemeral ports.
func startApp(t *testing.T, dataDir string) *app.App {
	t.Helper()
	a, stop := startAppOn(t, dataDir, "127.0.0.1:0")
	t.Cleanup(stop)
	return a
}

// startAppOn runs the control plane with its xDS server on xdsAddr; stop
// shuts it down and checks it stopped cleanly (it may be called twice).
func startAppOn(t *testing.T, dataDir, xdsAddr string) (*app.App, func()) {
	t.Helper()
	cfg, err := config.Defaults()
	require.NoError(t, err)
	cfg.DataDir = dataDir
	cfg.Admin.Address = "127.0.0.1:0"
	cfg.XDS.Address = xdsAddr
	// These tests are about serving; security_test.go runs the same stack
	// secured.
	cfg.Security.Insecure = true
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Wait(ctx) }()
	var once sync.Once
	return a, func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
}

func send(t *testing.T, method, url, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/yaml")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, url, b)
	return b
}

func definitions(hosts map[string]string, ports map[string]int) string {
	var b strings.Builder
	b.WriteString("apiVersion: tollgate.dev/v1\nkind: Gateway\nmetadata: {name: grpc-clients}\nspec: {mode: proxyless}\n")
	for _, n := range []string{"a", "b", "c"} {
		fmt.Fprintf(&b, "---\napiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: echo-%s}\nspec: {protocol: GRPC, endpoints: [{address: %q, port: %d}]}\n", n, hosts[n], ports[n])
	}
	return b.String()
}

// echoAPI routes x-canary: yes to echo-c and splits the rest by weight.
func echoAPI(backends string) string {
	return `apiVersion: tollgate.dev/v1
kind: API
metadata: {name: echo}
spec:
  gateways: [grpc-clients]
  hostnames: [echo.test]
  routes:
  - name: canary
    match: {headers: [{name: x-canary, exact: "yes"}]}
    backends: [{service: echo-c}]
  - name: all
    backends: ` + backends + "\n"
}

func share(ctx context.Context, t *testing.T, c testgrpc.TestServiceClient, n int, md ...string) map[string]int {
	t.Helper()
	got, err := tryShare(ctx, c, n, md...)
	require.NoError(t, err)
	return got
}

// tryShare is share for use inside require.Eventually conditions (which
// run on another goroutine and must not fail the test): it stops at the
// first failed RPC and returns its error.
func tryShare(ctx context.Context, c testgrpc.TestServiceClient, n int, md ...string) (map[string]int, error) {
	if len(md) > 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, md...)
	}
	got := map[string]int{}
	for range n {
		resp, err := c.UnaryCall(ctx, &testgrpc.SimpleRequest{}, grpc.WaitForReady(true))
		if err != nil {
			return got, err
		}
		got[resp.GetHostname()]++
	}
	return got, nil
}

// shareIs reports whether n RPCs all succeed and satisfy ok.
func shareIs(ctx context.Context, c testgrpc.TestServiceClient, n int, ok func(map[string]int) bool) bool {
	got, err := tryShare(ctx, c, n)
	return err == nil && ok(got)
}

// TestProxylessTrafficThroughTheWholeStack is the end-to-end proof:
// definitions posted to the admin API are stored, translated and served
// over ADS, and grpc-go's own xDS client — bootstrapped with the JSON our
// bootstrap command generates — sends real RPCs where they say.
func TestProxylessTrafficThroughTheWholeStack(t *testing.T) {
	hosts, ports := startBackends(t)
	a := startApp(t, filepath.Join(t.TempDir(), "data"))
	send(t, http.MethodPost, a.AdminURL()+"/v1/apply", definitions(hosts, ports)+"---\n"+
		echoAPI("[{service: echo-a, weight: 90}, {service: echo-b, weight: 10}]"))

	client := dialEcho(t, a.XDSAddress())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	got := share(ctx, t, client, 200)
	require.Greater(t, got["a"], 140, "about 90%% to a: %v", got)
	require.Positive(t, got["b"], "some to b: %v", got)
	require.Zero(t, got["c"], "only the header route reaches c: %v", got)

	got = share(ctx, t, client, 20, "x-canary", "yes")
	require.Equal(t, map[string]int{"c": 20}, got, "the header-matched route has its own backend")

	// A weight change through the admin API shifts the observed share.
	send(t, http.MethodPut, a.AdminURL()+"/v1/apis/echo", echoAPI("[{service: echo-a, weight: 10}, {service: echo-b, weight: 90}]"))
	require.Eventually(t, func() bool { return shareIs(ctx, client, 100, func(g map[string]int) bool { return g["b"] > 70 }) }, 30*time.Second, 10*time.Millisecond,
		"traffic moves to b after the weight change")

	// Removing a backend moves all traffic off it.
	send(t, http.MethodPut, a.AdminURL()+"/v1/apis/echo", echoAPI("[{service: echo-a}]"))
	require.Eventually(t, func() bool { return shareIs(ctx, client, 50, func(g map[string]int) bool { return g["a"] == 50 }) }, 30*time.Second, 10*time.Millisecond,
		"all traffic on a after b is removed")

	checkStatus(t, a)
}

// checkStatus reads the fleet back through the admin API: the client is
// listed, in sync, and counted as programmed on the API.
func checkStatus(t *testing.T, a *app.App) {
	t.Helper()
	var st struct {
		Accepted   bool `json:"accepted"`
		Programmed struct {
			Proxies, InSync int
			Gateways        []string
		} `json:"programmed"`
	}
	require.Eventually(t, func() bool {
		require.NoError(t, json.Unmarshal(send(t, http.MethodGet, a.AdminURL()+"/v1/apis/echo/status", ""), &st))
		return st.Programmed.InSync == 1
	}, 30*time.Second, 10*time.Millisecond, "the API is programmed on the one client")
	require.True(t, st.Accepted)
	require.Equal(t, 1, st.Programmed.Proxies)
	require.Equal(t, []string{"grpc-clients"}, st.Programmed.Gateways)

	var nodes struct {
		Nodes []struct {
			NodeID, Gateway, State string
		} `json:"nodes"`
	}
	require.NoError(t, json.Unmarshal(send(t, http.MethodGet, a.AdminURL()+"/v1/nodes", ""), &nodes))
	require.Len(t, nodes.Nodes, 1)
	require.Equal(t, "client-1", nodes.Nodes[0].NodeID)
	require.Equal(t, "grpc-clients", nodes.Nodes[0].Gateway)
	require.Equal(t, "serving", nodes.Nodes[0].State)

	cfg := string(send(t, http.MethodGet, a.AdminURL()+"/v1/gateways/grpc-clients/config", ""))
	require.Contains(t, cfg, `"name": "echo.test"`)
	require.Contains(t, cfg, "api_listener")
}
