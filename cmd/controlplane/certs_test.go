package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/bootstrap"
	"tollgate.dev/tollgate/internal/pki"
)

// TestCertsCommands walks a proxy's identity through the CLI against a
// control plane run with its defaults: an admin issues one directly, or
// makes a join token that a new host (which has neither the admin token
// nor the CA) spends once, trusting the control plane by fingerprint.
func TestCertsCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := startServe(t, nil, "--data-dir", data, "--admin-address", "127.0.0.1:0")
	admin := cli{t: t, server: s.url}.withVars(dataDirEnv, data)
	admin.ok("", "apply", "-f", "testdata/shop")

	issued := filepath.Join(t.TempDir(), "edge")
	require.Contains(t, admin.ok("", "certs", "issue", "--gateway", "edge", "--out", issued), `identity of gateway "edge" written to`)
	requireIdentity(t, issued, "edge")
	require.Contains(t, admin.fail("", "certs", "issue", "--gateway", "nope", "--out", t.TempDir()), "nope")

	// Renewal authenticates with the identity itself: no token at all.
	before := serial(t, issued)
	require.Contains(t, cli{t: t, server: s.url}.ok("", "certs", "renew", "--dir", issued), `"edge"`)
	requireIdentity(t, issued, "edge")
	require.NotEqual(t, before, serial(t, issued), "renewed")

	r := admin.run("", "certs", "join-token", "--gateway", "edge", "--ttl", "10m")
	require.Equal(t, 0, r.code, r.stderr)
	token := strings.TrimSpace(r.stdout)
	pin := regexp.MustCompile(`--ca-sha256 ([0-9a-f]{64})`).FindStringSubmatch(r.stderr)
	require.NotNil(t, pin, r.stderr)

	stranger := cli{t: t, server: s.url} // another host: no data directory
	joined := filepath.Join(t.TempDir(), "joined")
	require.Contains(t, stranger.fail("", "certs", "join", "--join-token", token, "--ca-sha256", strings.Repeat("ab", 32), "--out", joined),
		"refusing to send the token")
	require.Contains(t, stranger.ok("", "certs", "join", "--join-token", token, "--ca-sha256", pin[1], "--out", joined), `"edge"`)
	requireIdentity(t, joined, "edge")
	require.Contains(t, stranger.fail("", "certs", "join", "--join-token", token, "--ca-sha256", pin[1], "--out", t.TempDir()),
		"InvalidJoinToken", "a join token works once")

	// A CA rotation: what `certs renew --watch` does on each wake-up
	// (renewOnce, not forced) follows it.
	conn := &connFlags{server: s.url}
	var stdout, stderr syncBuffer
	e := stranger.env("", &stdout, &stderr)
	before = serial(t, joined)
	_, err := renewOnce(t.Context(), e, conn, joined, false)
	require.NoError(t, err)
	require.Equal(t, before, serial(t, joined), "nothing due, nothing renewed")
	require.Contains(t, admin.ok("", "ca", "rotate", "--phase", "prepare"), "holds 2 CA certificate(s)")
	_, err = renewOnce(t.Context(), e, conn, joined, false)
	require.NoError(t, err)
	_, _, caPEM, err := pki.ReadFiles(joined)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(caPEM), "BEGIN CERTIFICATE"), "the new CA is trusted before it signs")
	require.Equal(t, before, serial(t, joined), "preparing renews nothing")
	admin.ok("", "ca", "rotate", "--phase", "activate")
	_, err = renewOnce(t.Context(), e, conn, joined, false)
	require.NoError(t, err)
	require.NotEqual(t, before, serial(t, joined), "an identity from the old signer is renewed at once")
	requireIdentity(t, joined, "edge")
	require.Contains(t, admin.fail("", "ca", "rotate", "--phase", "activate"), "no new CA is prepared")
}

// requireIdentity checks the files `certs` writes for gateway's identity.
func requireIdentity(t *testing.T, dir, gateway string) {
	t.Helper()
	certPEM, keyPEM, caPEM, err := pki.ReadFiles(dir)
	require.NoError(t, err)
	require.NotEmpty(t, keyPEM)
	require.NotEmpty(t, caPEM)
	cert, err := pki.ParseCertPEM(certPEM)
	require.NoError(t, err)
	gw, err := pki.GatewayOf(cert, "tollgate.local")
	require.NoError(t, err)
	require.Equal(t, gateway, gw)
	info, err := os.Stat(filepath.Join(dir, pki.KeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	for _, f := range []string{bootstrap.EnvoySDSCertFile, bootstrap.EnvoySDSCAFile} {
		require.FileExists(t, filepath.Join(dir, f))
	}
}

func serial(t *testing.T, dir string) string {
	t.Helper()
	certPEM, _, _, err := pki.ReadFiles(dir)
	require.NoError(t, err)
	cert, err := pki.ParseCertPEM(certPEM)
	require.NoError(t, err)
	return cert.SerialNumber.String()
}

func TestTokenCreate(t *testing.T) {
	t.Parallel()
	r := cli{t: t}.run("", "token", "create", "--name", "ci", "--role", "editor")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `^tgt_[A-Za-z0-9_-]{43}\n$`, r.stdout)
	require.Regexp(t, `- \{name: ci, role: editor, sha256: [0-9a-f]{64}\}`, r.stderr)
	require.Contains(t, cli{t: t}.fail("", "token", "create", "--name", "x", "--role", "root"), "--role")
	r = cli{t: t}.run("", "token", "create", "--name", "contractor", "--role", "viewer", "--ttl", "720h")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `- \{name: contractor, role: viewer, sha256: [0-9a-f]{64}, expires: 20[0-9-]+T[0-9:]+Z\}`, r.stderr)
}
