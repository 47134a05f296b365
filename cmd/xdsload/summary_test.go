package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/loadgen"
)

// TestSummarize: reports of one (N, K, mode) become one row per cache and
// a ratio row dividing ours by the best baseline, metric by metric.
func TestSummarize(t *testing.T) {
	dir := t.TempDir()
	write := func(name, cache string, p50 time.Duration, bytes int64) {
		r := loadgen.Report{Mode: "delta", Cache: cache, APIs: 1000, Proxies: 100}
		r.ACKed.P50, r.BytesPerProxy.P50 = p50, bytes
		b, err := json.Marshal(r)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".json"), b, 0o600))
	}
	write("a", "ours (internal/xds)", 50*time.Millisecond, 512)
	write("b", "go-control-plane SnapshotCache (ADS)", 400*time.Millisecond, 1024)
	write("c", "go-control-plane LinearCache per type URL in a MuxCache", 200*time.Millisecond, 512)

	var out bytes.Buffer
	require.NoError(t, summarize(dir, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2+3+1, out.String())
	require.Contains(t, lines[2], "| ours | 50.0 |")
	require.Contains(t, lines[3], "| SnapshotCache | 400.0 |")
	require.Contains(t, lines[4], "| LinearCache+MuxCache | 200.0 |")
	// 50 ms ÷ the best baseline's 200 ms; 0.5 KiB ÷ 0.5 KiB.
	require.Contains(t, lines[5], "| **0.25** |")
	require.Contains(t, lines[5], "| **1.00** |")

	require.Error(t, summarize(t.TempDir(), &out), "an empty directory is an error")
}
