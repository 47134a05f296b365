package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// listening matches the line serve logs once the admin API accepts
// connections.
var listening = regexp.MustCompile(`admin API listening on (https?://[0-9.:\[\]]+)`)

// serving is a serve command running in-process.
type serving struct {
	url    string
	stderr *syncBuffer
	stop   func() int // cancels serve and returns its exit code
}

func startServe(t *testing.T, vars map[string]string, args ...string) serving {
	t.Helper()
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	e := cli{t: t, vars: vars}.env("", &stdout, &stderr)
	// An ephemeral xDS port: parallel tests must not share the default.
	go func() { done <- run(ctx, append([]string{"serve", "--xds-address", "127.0.0.1:0"}, args...), e) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			s := serving{url: m[1], stderr: &stderr}
			s.stop = func() int { cancel(); return <-done }
			t.Cleanup(func() { cancel() })
			return s
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d before listening:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not log its address in time:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// getJSON reads url unauthenticated, trusting the CA of the control plane
// whose data directory is data ("" for a plaintext server).
func getJSON(t *testing.T, data, url string, out any) int {
	t.Helper()
	return getJSONAs(t, data, url, "", out)
}

// getJSONAs is getJSON with a bearer token.
func getJSONAs(t *testing.T, data, url, token string, out any) int {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second}
	if data != "" {
		pool := x509.NewCertPool()
		ca, err := os.ReadFile(filepath.Join(data, "ca.pem"))
		require.NoError(t, err)
		require.True(t, pool.AppendCertsFromPEM(ca))
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

// TestServe runs serve with its defaults, which are secure: the admin API
// is HTTPS and needs a token, both of which the CLI finds in the data
// directory serve wrote them to.
func TestServe(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := startServe(t, map[string]string{"CONTROLPLANE_LOG_FORMAT": "json"}, "--data-dir", data, "--admin-address", "127.0.0.1:0")
	require.True(t, strings.HasPrefix(s.url, "https://"), s.url)
	require.Equal(t, http.StatusOK, getJSON(t, data, s.url+"/readyz", nil), "probes need no token")
	require.Equal(t, http.StatusUnauthorized, getJSON(t, data, s.url+"/v1/status", nil), "no privilege from being on localhost")

	c := cli{t: t, server: s.url}.withVars(dataDirEnv, data)
	// The revision counts the CA's own writes too (the trust bundle
	// Secret), so it is not 1.
	require.Regexp(t, `revision [0-9]+`, c.ok("", "apply", "-f", "testdata/shop"))
	stderr := cli{t: t, server: s.url}.fail("", "get", "services")
	require.Contains(t, stderr, "certificate signed by unknown authority", "the CLI verifies the server")
	stderr = cli{t: t, server: s.url}.withVars(caFileEnv, filepath.Join(data, "ca.pem")).fail("", "get", "services")
	require.Contains(t, stderr, "Unauthenticated", "without the data directory's token the CLI is refused")
	require.Equal(t, 0, s.stop(), s.stderr.String())
	require.FileExists(t, filepath.Join(data, "store.db"))
	logs := s.stderr.String()
	require.Regexp(t, `"msg":"xDS server listening on 127\.0\.0\.1:[0-9]+"`, logs, "the env var chose JSON logs")
	require.Contains(t, logs, `"msg":"shutting down"`)
}

func TestServeRejectsSettings(t *testing.T) {
	t.Parallel()
	c := cli{t: t}
	stderr := c.fail("", "serve", "--admin-address", "nonsense", "--log-level", "loud", "--data-dir", t.TempDir())
	require.Equal(t, "error: 2 problems with the settings:\n"+
		`  admin.address (--admin-address, CONTROLPLANE_ADMIN_ADDRESS): must be host:port such as 127.0.0.1:9400, got "nonsense"`+"\n"+
		`  log.level (--log-level, CONTROLPLANE_LOG_LEVEL): must be debug, info, warn or error, got "loud"`+"\n", stderr)

	file := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(file, []byte("admin:\n  adress: x\n"), 0o600))
	require.Contains(t, c.fail("", "serve", "--config", file), `unknown settings "admin.adress"`)
	require.Contains(t, c.fail("", "serve", "extra"), "unknown command")
}

func TestServeCorruptStore(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	db := filepath.Join(data, "store.db")
	require.NoError(t, os.WriteFile(db, []byte(strings.Repeat("not a bolt file ", 512)), 0o600))
	stderr := cli{t: t}.fail("", "serve", "--data-dir", data, "--admin-address", "127.0.0.1:0")
	require.Contains(t, stderr, db)
}

func TestServeAddressInUse(t *testing.T) {
	t.Parallel()
	s := startServe(t, nil, "--data-dir", t.TempDir(), "--admin-address", "127.0.0.1:0")
	addr := strings.TrimPrefix(s.url, "https://")
	stderr := cli{t: t}.fail("", "serve", "--data-dir", t.TempDir(), "--admin-address", addr, "--xds-address", "127.0.0.1:0")
	require.Contains(t, stderr, "address already in use")
}

func TestServeConfigDir(t *testing.T) {
	t.Parallel()
	defs := t.TempDir()
	copyFile(t, "testdata/shop/01-service.yaml", filepath.Join(defs, "service.yaml"))
	data := t.TempDir()
	s := startServe(t, map[string]string{"CONTROLPLANE_CONFIG_DIR": defs}, "--data-dir", data, "--admin-address", "127.0.0.1:0")
	// Readiness waits for the first load of the directory.
	deadline := time.Now().Add(10 * time.Second)
	for getJSON(t, data, s.url+"/readyz", nil) != http.StatusOK {
		require.True(t, time.Now().Before(deadline), "not ready in time")
		time.Sleep(10 * time.Millisecond)
	}
	c := cli{t: t, server: s.url}.withVars(dataDirEnv, data)
	require.Contains(t, c.ok("", "get", "services"), "orders")
	stderr := c.fail("", "apply", "-f", "testdata/shop")
	require.Contains(t, stderr, "error from server (ReadOnly): ")
	require.Contains(t, stderr, "definitions are managed from the directory "+defs+" (serve --config-dir); change the files instead")

	var status struct {
		Mode      string
		ConfigDir struct {
			Dir   string
			Files []string
		}
	}
	token, err := os.ReadFile(filepath.Join(data, "admin.token"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, getJSONAs(t, data, s.url+"/v1/status", strings.TrimSpace(string(token)), &status))
	require.Equal(t, "directory", status.Mode)
	require.Equal(t, defs, status.ConfigDir.Dir)
	require.Equal(t, []string{"service.yaml"}, status.ConfigDir.Files)
	require.Equal(t, 0, s.stop())
}
