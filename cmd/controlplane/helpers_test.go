package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/admin"
	"tollgate.dev/tollgate/internal/store"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads (serve logs from several goroutines).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// result is what one in-process command run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs command lines in-process against one environment.
type cli struct {
	t      *testing.T
	server string // --server default, via CONTROLPLANE_SERVER
	vars   map[string]string
}

// withVars returns c with more environment variables.
func (c cli) withVars(kv ...string) cli {
	vars := map[string]string{}
	for k, v := range c.vars {
		vars[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		vars[kv[i]] = kv[i+1]
	}
	c.vars = vars
	return c
}

func (c cli) env(stdin string, stdout, stderr *syncBuffer) env {
	// An empty data directory unless the test names one: the CLI's default
	// token and CA must come from the test, not from the working directory.
	vars := map[string]string{serverEnv: c.server, dataDirEnv: c.t.TempDir()}
	for k, v := range c.vars {
		vars[k] = v
	}
	return env{
		stdin:  strings.NewReader(stdin),
		stdout: stdout,
		stderr: stderr,
		lookupEnv: func(k string) (string, bool) {
			v, ok := vars[k]
			return v, ok
		},
		http: &http.Client{Timeout: clientTimeout},
	}
}

func (c cli) run(stdin string, args ...string) result {
	c.t.Helper()
	var stdout, stderr syncBuffer
	code := run(context.Background(), args, c.env(stdin, &stdout, &stderr))
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// ok runs a command that must succeed and returns its stdout.
func (c cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	require.Equal(c.t, 0, r.code, "%v failed:\n%s", args, r.stderr)
	return r.stdout
}

// fail runs a command that must fail and returns its stderr.
func (c cli) fail(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	require.Equal(c.t, 1, r.code, "%v should have failed; stdout:\n%s", args, r.stdout)
	return r.stderr
}

// newServer starts an admin API over a fresh bolt store and returns a cli
// pointed at it, holding an admin token (CONTROLPLANE_TOKEN).
func newServer(t *testing.T, opts admin.Options) (cli, *store.Store) {
	t.Helper()
	b, err := store.OpenBolt(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	st, err := store.Open(b)
	require.NoError(t, err)
	token, err := admin.NewToken()
	require.NoError(t, err)
	if opts.Auth == nil {
		opts.Auth, err = admin.NewTokenAuthenticator([]admin.Token{{Name: "test-admin", Role: admin.RoleAdmin, SHA256: admin.HashToken(token)}})
		require.NoError(t, err)
	}
	srv := httptest.NewServer(admin.New(st, opts))
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, st.Close())
	})
	return cli{t: t, server: srv.URL, vars: map[string]string{tokenEnv: token}}, st
}
