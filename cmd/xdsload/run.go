package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/baseline"
	"tollgate.dev/tollgate/internal/config"
	"tollgate.dev/tollgate/internal/loadgen"
)

// flags are the command line, decoded once into loadgen.Options.
type flags struct {
	opts       loadgen.Options
	mode       string
	cache      string
	serverPID  int
	inProcess  bool
	cpuProfile string
	memProfile string
	serveChild bool
	output     string
	summarize  string
}

// ours is the --cache value of our own xDS server; the others are
// go-control-plane baselines (internal/baseline).
const ours = "ours"

func parse(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := pflag.NewFlagSet("xdsload", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&f.opts.APIs, "apis", 100, "N: generated APIs")
	fs.IntVar(&f.opts.Proxies, "proxies", 10, "K: simulated proxies, slow and NACKing included")
	fs.StringVar(&f.mode, "mode", "sotw", "xDS variant: sotw or delta")
	fs.StringVar(&f.cache, "cache", ours, "xDS cache of the control plane xdsload starts: ours, or go-control-plane's snapshot or linear as baselines")
	fs.BoolVar(&f.inProcess, "in-process", false, "run the control plane in xdsload's own process (CPU and RSS then include the simulated proxies) instead of a child process")
	fs.StringVar(&f.cpuProfile, "server-cpuprofile", "", "write the server's CPU profile over the edits phase to this file")
	fs.StringVar(&f.memProfile, "server-memprofile", "", "write the server's heap profile after the last edit to this file")
	fs.BoolVar(&f.serveChild, serveChildFlag, false, "be the server child of another xdsload (internal)")
	fs.StringVarP(&f.output, "output", "o", "text", "report format: text or json")
	fs.StringVar(&f.summarize, "summarize", "", "instead of running, print a markdown table of the JSON reports in this directory (ours vs the baselines, per N, K and mode)")
	fs.IntVar(&f.opts.Edits, "edits", 10, "one-API edits to time, one after the other")
	fs.Int64Var(&f.opts.Seed, "seed", 1, "seed of the generated bundle and edits")
	fs.IntVar(&f.opts.Slow, "slow", 0, "proxies that hold every ACK for --slow-delay")
	fs.IntVar(&f.opts.NACKing, "nacking", 0, "proxies that NACK every edit")
	fs.DurationVar(&f.opts.SlowDelay, "slow-delay", 200*time.Millisecond, "how long a slow proxy holds each ACK")
	fs.StringVar(&f.opts.AdminURL, "server", "", "admin API URL of an external control plane (default: start one in a child process)")
	fs.StringVar(&f.opts.XDSAddress, "xds", "", "ADS host:port of the external control plane (with --server)")
	fs.IntVar(&f.serverPID, "server-pid", 0, "pid of the external control plane, to read its CPU and RSS from /proc")
	fs.DurationVar(&f.opts.Wait, "wait", time.Minute, "deadline of every wait (first configuration, each edit)")
	fs.DurationVar(&f.opts.Idle, "idle", time.Second, "how long to measure idle CPU with every proxy connected (0: skip)")
	if err := fs.MarkHidden(serveChildFlag); err != nil {
		return f, err
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.output != "text" && f.output != "json" {
		return f, fmt.Errorf("--output %q: must be text or json", f.output)
	}
	switch f.mode {
	case "sotw", "delta":
		f.opts.Delta = f.mode == "delta"
	default:
		return f, fmt.Errorf("--mode %q: must be sotw or delta", f.mode)
	}
	if (f.opts.AdminURL == "") != (f.opts.XDSAddress == "") {
		return f, errors.New("--server and --xds go together")
	}
	if f.cache != ours {
		if err := baseline.Cache(f.cache).Validate(); err != nil {
			return f, fmt.Errorf("--cache %q: must be %s, %s or %s", f.cache, ours, baseline.Snapshot, baseline.Linear)
		}
		if f.opts.AdminURL != "" {
			return f, fmt.Errorf("--cache %s starts its own control plane; it cannot be combined with --server", f.cache)
		}
	}
	if f.opts.AdminURL != "" {
		switch {
		case f.inProcess:
			return f, errors.New("--in-process starts a control plane; it cannot be combined with --server")
		case f.cpuProfile != "" || f.memProfile != "":
			return f, errors.New("--server-cpuprofile and --server-memprofile profile the control plane xdsload starts, not one given with --server")
		case f.serveChild:
			return f, errors.New("--serve-child cannot be combined with --server")
		}
	}
	return f, nil
}

// run parses args, starts the control plane (with our xDS server or, with
// --cache, a go-control-plane baseline) in a child process, or in this one
// with --in-process, unless --server is given, runs the load and prints
// the report to stdout. With --serve-child it is that child instead
// (serveChild), reading os.Stdin.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parse(args, stderr)
	if err != nil {
		return err
	}
	// The child's stderr, the in-process server's log and ours all go to
	// stderr from different goroutines.
	stderr = &lockedWriter{w: stderr}
	if f.serveChild {
		return serveChild(ctx, f, os.Stdin, stdout, stderr)
	}
	if f.summarize != "" {
		return summarize(f.summarize, stdout)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f.opts.Logger = log
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	switch {
	case f.opts.AdminURL != "":
		f.opts.Cache = "external control plane (--server)"
		f.opts.Proc = loadgen.Proc{PID: f.serverPID}
		if f.serverPID == 0 {
			f.opts.Proc.PID = -1
		}
	case f.inProcess:
		stop, err := startServer(ctx, f.cache, &f.opts, log, stderr)
		if err != nil {
			return err
		}
		prof := &profiler{cpuPath: f.cpuProfile, memPath: f.memProfile}
		if prof.enabled() {
			f.opts.EditsStart = func(context.Context) error { return prof.start() }
			f.opts.EditsEnd = func(context.Context) error { return prof.stop() }
		}
		defer func() {
			stop()
			if err := prof.stop(); err != nil {
				log.Error("writing the profiles", slog.Any("error", err))
			}
		}()
	default:
		stop, err := startChild(ctx, f, &f.opts, log, stderr, cancel)
		if err != nil {
			return err
		}
		defer stop()
	}
	rep, err := loadgen.Run(ctx, f.opts)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(err, cause) {
			return fmt.Errorf("%w (%w)", err, cause)
		}
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(stdout)
}

// startServer starts the control plane with the given --cache in this
// process and points opts at it.
func startServer(ctx context.Context, cache string, opts *loadgen.Options, log *slog.Logger, stderr io.Writer) (stop func(), err error) {
	if cache == ours {
		return startInProcess(ctx, opts, log, stderr)
	}
	return startBaseline(ctx, baseline.Cache(cache), opts, log, stderr)
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tempConfig is the default configuration over a fresh temporary data
// directory (the caller removes it), listening on free local ports.
func tempConfig() (cfg config.Config, dir string, err error) {
	cfg, err = config.Defaults()
	if err != nil {
		return cfg, "", err
	}
	dir, err = os.MkdirTemp("", "xdsload-")
	if err != nil {
		return cfg, "", fmt.Errorf("data directory: %w", err)
	}
	cfg.DataDir = dir
	cfg.Admin.Address, cfg.XDS.Address = "127.0.0.1:0", "127.0.0.1:0"
	// The simulated proxies hold no certificates: the load runs over
	// plaintext xDS. TLS costs one handshake per connection, not per edit.
	cfg.Security.Insecure = true
	return cfg, dir, nil
}

// startInProcess runs our control plane on free ports over a temporary
// data directory and points opts at it; stop shuts it down and removes the
// directory. Its own log is kept to warnings so it does not drown the
// report.
func startInProcess(ctx context.Context, opts *loadgen.Options, log *slog.Logger, stderr io.Writer) (stop func(), err error) {
	cfg, dir, err := tempConfig()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	appLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Start(ctx, cfg, appLog)
	if err != nil {
		cancel()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Wait(ctx) }()
	opts.AdminURL, opts.XDSAddress = a.AdminURL(), a.XDSAddress()
	opts.Cache = "ours (internal/xds)"
	log.Info("control plane started in-process", slog.String("admin", opts.AdminURL), slog.String("xds", opts.XDSAddress))
	return func() {
		cancel()
		if err := <-done; err != nil {
			log.Error("control plane stopped with an error", slog.Any("error", err))
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("removing the data directory", slog.String("dir", dir), slog.Any("error", err))
		}
	}, nil
}
