package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"

	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/baseline"
	"tollgate.dev/tollgate/internal/config"
	"tollgate.dev/tollgate/internal/loadgen"
)

// flags are the command line, decoded once into loadgen.Options.
type flags struct {
	opts      loadgen.Options
	mode      string
	cache     string
	serverPID int
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
	fs.StringVar(&f.cache, "cache", ours, "xDS cache of the in-process control plane: ours, or go-control-plane's snapshot or linear as baselines")
	fs.IntVar(&f.opts.Edits, "edits", 10, "one-API edits to time, one after the other")
	fs.Int64Var(&f.opts.Seed, "seed", 1, "seed of the generated bundle and edits")
	fs.IntVar(&f.opts.Slow, "slow", 0, "proxies that hold every ACK for --slow-delay")
	fs.IntVar(&f.opts.NACKing, "nacking", 0, "proxies that NACK every edit")
	fs.DurationVar(&f.opts.SlowDelay, "slow-delay", 200*time.Millisecond, "how long a slow proxy holds each ACK")
	fs.StringVar(&f.opts.AdminURL, "server", "", "admin API URL of an external control plane (default: start one in-process)")
	fs.StringVar(&f.opts.XDSAddress, "xds", "", "ADS host:port of the external control plane (with --server)")
	fs.IntVar(&f.serverPID, "server-pid", 0, "pid of the external control plane, to read its CPU and RSS from /proc")
	fs.DurationVar(&f.opts.Wait, "wait", time.Minute, "deadline of every wait (first configuration, each edit)")
	fs.DurationVar(&f.opts.Idle, "idle", time.Second, "how long to measure idle CPU with every proxy connected (0: skip)")
	if err := fs.Parse(args); err != nil {
		return f, err
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
	return f, nil
}

// run parses args, starts the control plane in-process (with our xDS
// server or, with --cache, a go-control-plane baseline) unless --server is
// given, runs the load and prints the report to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parse(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f.opts.Logger = log
	if f.opts.AdminURL == "" {
		var stop func()
		if f.cache == ours {
			stop, err = startInProcess(ctx, &f.opts, log, stderr)
		} else {
			stop, err = startBaseline(ctx, baseline.Cache(f.cache), &f.opts, log, stderr)
		}
		if err != nil {
			return err
		}
		defer stop()
	} else {
		f.opts.Cache = "external control plane (--server)"
		f.opts.Proc = loadgen.Proc{PID: f.serverPID}
		if f.serverPID == 0 {
			f.opts.Proc.PID = -1
		}
	}
	rep, err := loadgen.Run(ctx, f.opts)
	if err != nil {
		return err
	}
	return rep.WriteText(stdout)
}

// startInProcess runs the control plane on free ports over a temporary
// data directory and points opts at it; stop shuts it down and removes the
// directory. Its own log is kept to warnings so it does not drown the
// report.
func startInProcess(ctx context.Context, opts *loadgen.Options, log *slog.Logger, stderr io.Writer) (stop func(), err error) {
	cfg, err := config.Defaults()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "xdsload-")
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	cfg.DataDir = dir
	cfg.Admin.Address, cfg.XDS.Address = "127.0.0.1:0", "127.0.0.1:0"
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
