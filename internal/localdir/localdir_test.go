package localdir

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

const (
	serviceYAML = `apiVersion: tollgate.dev/v1
kind: Service
metadata:
  name: orders
spec:
  endpoints:
  - address: 10.0.0.7
    port: 8080
`
	gatewayYAML = `apiVersion: tollgate.dev/v1
kind: Gateway
metadata:
  name: edge
spec:
  mode: ingress
  listeners:
  - name: http
    port: 8080
    protocol: HTTP
`
	apiYAML = `apiVersion: tollgate.dev/v1
kind: API
metadata:
  name: shop
spec:
  gateways: [edge]
  routes:
  - name: orders
    match:
      pathPrefix: /orders
    backends:
    - service: orders
`
)

// waitFor polls cond until it holds or the deadline passes. Reloads are
// asynchronous (fsnotify, then the debounce), so tests wait on the outcome
// rather than sleeping.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	b, err := store.OpenBolt(filepath.Join(t.TempDir(), "store.db"))
	require.NoError(t, err)
	st, err := store.Open(b)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

// start runs a Watcher over dir until the test ends.
func start(t *testing.T, dir string, st *store.Store) *Watcher {
	t.Helper()
	w := New(dir, st, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { require.NoError(t, w.Run(ctx)) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor(t, "the first load", w.Loaded)
	return w
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o750))
	// Write to a temporary name and rename, as editors and git do, so the
	// watcher never reads a half-written file.
	tmp := filepath.Join(filepath.Dir(p), ".tmp-"+filepath.Base(p))
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, p))
}

// keys lists the store's objects as sorted "Kind/name" strings.
func keys(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	r := st.Read()
	for _, k := range model.Kinds {
		objs, err := r.List(nil, k)
		require.NoError(t, err)
		for _, o := range objs {
			out = append(out, model.KeyOf(o).String())
		}
	}
	sort.Strings(out)
	return out
}

func hasKeys(t *testing.T, st *store.Store, want ...string) func() bool {
	sort.Strings(want)
	return func() bool {
		got := keys(t, st)
		return strings.Join(got, " ") == strings.Join(want, " ")
	}
}
