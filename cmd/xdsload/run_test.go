package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/baseline"
	"tollgate.dev/tollgate/internal/config"
)

// TestMain makes the test binary serve as xdsload's server child when
// run re-executes it (os.Executable is the test binary here) with
// --serve-child: the child then runs exactly the code of the real one.
func TestMain(m *testing.M) {
	if slices.Contains(os.Args[1:], "--"+serveChildFlag) {
		main() // returns once the parent closes stdin; exits 1 on failure
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestParse: flags decode into the options; contradictions are refused
// before anything starts.
func TestParse(t *testing.T) {
	f, err := parse(strings.Fields("--apis 200 --proxies 20 --mode delta --edits 5 --seed 9 --slow 2 --nacking 1"), io.Discard)
	require.NoError(t, err)
	require.Equal(t, 200, f.opts.APIs)
	require.Equal(t, 20, f.opts.Proxies)
	require.True(t, f.opts.Delta)
	require.Equal(t, 5, f.opts.Edits)
	require.Equal(t, int64(9), f.opts.Seed)
	require.Equal(t, 2, f.opts.Slow)
	require.Equal(t, 1, f.opts.NACKing)

	require.Equal(t, ours, f.cache, "our own cache by default")
	require.False(t, f.inProcess, "a child process by default")
	f, err = parse(strings.Fields("--cache linear"), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "linear", f.cache)

	for _, bad := range []string{
		"--mode grpc", "--server http://127.0.0.1:1", "--xds 127.0.0.1:1", "--apis x",
		"--cache mux", "--cache snapshot --server http://127.0.0.1:1 --xds 127.0.0.1:2",
		"--in-process --server http://127.0.0.1:1 --xds 127.0.0.1:2",
		"--server-cpuprofile cpu.pprof --server http://127.0.0.1:1 --xds 127.0.0.1:2",
		"--server-memprofile mem.pprof --server http://127.0.0.1:1 --xds 127.0.0.1:2",
	} {
		_, err := parse(strings.Fields(bad), io.Discard)
		require.Error(t, err, bad)
	}
}

// TestRunInProcess runs the command end to end against an in-process
// control plane and checks that it prints the report and writes the
// profiles of this process.
func TestRunInProcess(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	var out bytes.Buffer
	args := append(strings.Fields("--in-process --apis 20 --proxies 3 --edits 2 --mode delta --idle 0"),
		"--server-cpuprofile", cpu, "--server-memprofile", mem)
	require.NoError(t, run(t.Context(), args, &out, io.Discard))
	require.Contains(t, out.String(), "delta, N=20 APIs, K=3 proxies")
	require.Contains(t, out.String(), "POST → all normal ACKed")
	require.Contains(t, out.String(), "ours (internal/xds)")
	require.Contains(t, out.String(), "/proc/self (in-process server")
	requireProfile(t, cpu)
	requireProfile(t, mem)
}

// TestRunChildProcess runs the default mode: the control plane in a child
// process (this test binary, see TestMain), whose pid the report measures
// and which writes the server profiles and exits with the run.
func TestRunChildProcess(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	var out, logs bytes.Buffer // run serializes its writes to logs
	args := append(strings.Fields("--apis 20 --proxies 3 --edits 2 --mode delta --idle 0 --wait 20s"),
		"--server-cpuprofile", cpu, "--server-memprofile", mem)
	require.NoError(t, run(t.Context(), args, &out, &logs))
	report := out.String()
	require.Regexp(t, `POST → all normal ACKed\s+p50 .*\(n=2\)`, report, "both edits reached every proxy")
	require.Contains(t, report, "ours (internal/xds)")

	m := regexp.MustCompile(`/proc/(\d+) \(server process\)`).FindStringSubmatch(report)
	require.NotNil(t, m, "the report measures a server process:\n%s", report)
	pid, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.NotEqual(t, os.Getpid(), pid, "the server process is not xdsload's own")
	require.Contains(t, logs.String(), fmt.Sprintf("control plane started in a child process\" pid=%d ", pid),
		"the measured pid is the child's")
	require.NotContains(t, logs.String(), "level=ERROR", "the child stopped cleanly")
	_, err = os.Stat(fmt.Sprintf("/proc/%d", pid))
	require.ErrorIs(t, err, fs.ErrNotExist, "the child does not outlive the run")
	requireProfile(t, cpu)
	requireProfile(t, mem)
}

// requireProfile checks that a profile was written: a gzipped pprof file.
func requireProfile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(data, []byte{0x1f, 0x8b}), "%s is a gzipped profile", path)
}

// TestRunBaselines runs a tiny load against each go-control-plane baseline
// in both xDS variants: every proxy must see every edit (Run fails
// otherwise), nothing inconsistent may reach a proxy, and the report must
// say which cache served it.
func TestRunBaselines(t *testing.T) {
	for _, c := range []baseline.Cache{baseline.Snapshot, baseline.Linear} {
		for _, mode := range []string{"sotw", "delta"} {
			t.Run(string(c)+"/"+mode, func(t *testing.T) {
				t.Parallel()
				var out bytes.Buffer
				args := fmt.Sprintf("--in-process --apis 20 --proxies 3 --edits 2 --idle 0 --wait 20s --mode %s --cache %s", mode, c)
				require.NoError(t, run(t.Context(), strings.Fields(args), &out, io.Discard))
				report := out.String()
				require.Contains(t, report, mode+", N=20 APIs, K=3 proxies")
				require.Contains(t, report, c.Describe())
				require.Regexp(t, `POST → all normal ACKed\s+p50 .*\(n=2\)`, report, "both edits reached every proxy")
				require.Regexp(t, `inconsistent responses \(route → missing cluster\)\s+0\n`, report)
			})
		}
	}
}

// TestRunExternal drives a control plane started elsewhere (here in the
// test process, whose pid stands in for the server's) through --server,
// --xds and --server-pid.
func TestRunExternal(t *testing.T) {
	cfg, err := config.Defaults()
	require.NoError(t, err)
	cfg.DataDir = t.TempDir()
	cfg.Admin.Address, cfg.XDS.Address = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Security.Insecure = true // simulated proxies have no certificates
	ctx, cancel := context.WithCancel(t.Context())
	a, err := app.Start(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Wait(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	var out bytes.Buffer
	args := []string{
		"--apis", "20", "--proxies", "2", "--edits", "2", "--idle", "0",
		"--server", a.AdminURL(), "--xds", a.XDSAddress(), "--server-pid", strconv.Itoa(os.Getpid()),
	}
	require.NoError(t, run(t.Context(), args, &out, io.Discard))
	require.Contains(t, out.String(), fmt.Sprintf("/proc/%d (server process)", os.Getpid()))
}
