// An external test package: the end-to-end run needs the in-process
// control plane (internal/app), which the layering table keeps out of
// internal/loadgen itself.
package loadgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/config"
	"tollgate.dev/tollgate/internal/loadgen"
)

// startApp runs the control plane in-process on free ports; it stops when
// the test ends.
func startApp(t *testing.T) *app.App {
	t.Helper()
	cfg, err := config.Defaults()
	require.NoError(t, err)
	cfg.DataDir = t.TempDir()
	cfg.Admin.Address, cfg.XDS.Address = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Security.Insecure = true // simulated proxies have no certificates
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Wait(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return a
}

// TestRunEndToEnd runs a small load against the in-process control plane
// in both xDS variants and checks that every edit reached every proxy and
// that the report is filled in. Timing goals live in benchmarks, not here.
func TestRunEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name          string
		delta         bool
		proxies       int
		slow, nacking int
	}{
		{"sotw", false, 3, 0, 0},
		{"delta", true, 3, 0, 0},
		{"sotw/slow+nacking", false, 4, 1, 1},
		{"delta/slow+nacking", true, 4, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := startApp(t)
			const apis, edits = 20, 3
			rep, err := loadgen.Run(t.Context(), loadgen.Options{
				AdminURL: a.AdminURL(), XDSAddress: a.XDSAddress(),
				APIs: apis, Proxies: tc.proxies, Edits: edits, Seed: 5, Delta: tc.delta,
				Slow: tc.slow, NACKing: tc.nacking, SlowDelay: 20 * time.Millisecond,
				Idle: 50 * time.Millisecond, Wait: 30 * time.Second,
			})
			require.NoError(t, err)
			checkReport(t, rep, apis, tc.proxies, tc.slow+tc.nacking, edits)
			requireAccepted(t, a, apis)
		})
	}
}

func checkReport(t *testing.T, rep *loadgen.Report, apis, proxies, abnormal, edits int) {
	t.Helper()
	require.Len(t, rep.EditResults, edits)
	for i, e := range rep.EditResults {
		assert.Equal(t, i, e.Index)
		assert.Equal(t, proxies, e.Observed, "edit %d reached every proxy", i)
		assert.Len(t, e.Bytes, proxies-abnormal, "edit %d: bytes of every normal proxy", i)
		for _, b := range e.Bytes {
			assert.Positive(t, b, "edit %d: the response carrying it has bytes", i)
		}
		assert.Positive(t, e.ACKed)
		assert.GreaterOrEqual(t, e.AllSeen, e.ACKed)
		assert.GreaterOrEqual(t, e.CPU, time.Duration(0))
	}
	assert.Equal(t, proxies, rep.Storm.N)
	assert.Positive(t, rep.Storm.Max)
	assert.Positive(t, rep.FirstConfig)
	assert.Equal(t, edits, rep.ACKed.N)
	assert.LessOrEqual(t, rep.ACKed.P50, rep.ACKed.Max)
	assert.Equal(t, edits*(proxies-abnormal), rep.BytesPerProxy.N)
	assert.Positive(t, rep.BundleBytes)
	assert.Positive(t, rep.RSSConnected, "RSS read from /proc/self")
	assert.Contains(t, rep.ProcSource, "/proc/self")
	assert.Zero(t, rep.Inconsistencies)

	var out bytes.Buffer
	require.NoError(t, rep.WriteText(&out))
	for _, want := range []string{"connect storm", "POST → all normal ACKed", "server CPU", "RSS per API", fmt.Sprintf("N=%d APIs", apis)} {
		assert.Contains(t, out.String(), want)
	}
}

// requireAccepted checks that the control plane accepted every generated
// API, edits included: a generator producing APIs the translator drops
// would measure less than it claims.
func requireAccepted(t *testing.T, a *app.App, apis int) {
	t.Helper()
	for i := range apis {
		resp, err := http.Get(a.AdminURL() + "/v1/apis/" + loadgen.APIName(i) + "/status")
		require.NoError(t, err)
		var st struct {
			Accepted bool `json:"accepted"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		require.NoError(t, errors.Join(err, resp.Body.Close()))
		require.True(t, st.Accepted, "API %s accepted", loadgen.APIName(i))
	}
}

// TestRunRejectsBadOptions: a run needs somewhere to connect and at least
// one normal proxy to time.
func TestRunRejectsBadOptions(t *testing.T) {
	for _, o := range []loadgen.Options{
		{APIs: 1, Proxies: 1},
		{AdminURL: "http://x", XDSAddress: "x:1", APIs: 0, Proxies: 1},
		{AdminURL: "http://x", XDSAddress: "x:1", APIs: 1, Proxies: 2, Slow: 1, NACKing: 1},
	} {
		_, err := loadgen.Run(t.Context(), o)
		require.Error(t, err)
	}
}
