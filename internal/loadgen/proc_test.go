package loadgen

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProcReadsThisProcess: CPU and RSS of /proc/self and of our own pid
// are readable and plausible; an unavailable process reads as zero.
func TestProcReadsThisProcess(t *testing.T) {
	// Burn some CPU so that utime moves past its first tick.
	sum := 0
	for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); {
		sum++
	}
	require.Positive(t, sum)
	for _, p := range []Proc{{}, {PID: os.Getpid()}} {
		cpu, err := p.CPU()
		require.NoError(t, err)
		require.Positive(t, cpu, p.Source())
		rss, err := p.RSS()
		require.NoError(t, err)
		require.Greater(t, rss, int64(1<<20), p.Source())
	}
	cpu, err := Proc{PID: -1}.CPU()
	require.NoError(t, err)
	require.Zero(t, cpu)
}

// TestRank: nearest-rank percentiles.
func TestRank(t *testing.T) {
	s := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	require.Equal(t, 5, rank(s, 50))
	require.Equal(t, 10, rank(s, 99))
	require.Equal(t, 1, rank([]int{1}, 99))
	d := summarize([]time.Duration{3, 1, 2})
	require.Equal(t, Durations{N: 3, P50: 2, P99: 3, Max: 3, Min: 1, Mean: 2}, d)
}
