package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/admin"
	"tollgate.dev/tollgate/internal/config"
	"tollgate.dev/tollgate/internal/localdir"
	"tollgate.dev/tollgate/internal/store"
)

// shutdownTimeout bounds how long in-flight admin requests may take to
// finish after SIGINT/SIGTERM before the store is closed under them.
const shutdownTimeout = 10 * time.Second

func newServeCmd(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the control plane",
		Long: "Run the control plane: the admin API on --admin-address, with definitions stored in --data-dir.\n" +
			"With --config-dir the definitions come from a directory of files instead, and the admin API is read-only.\n\n" +
			"Settings come from (lowest to highest precedence) built-in defaults, --config FILE, CONTROLPLANE_*\n" +
			"environment variables and flags.",
		Args: cobra.NoArgs,
	}
	bindErr := config.BindFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if bindErr != nil {
			return bindErr
		}
		cfg, err := config.Load(config.Options{Flags: cmd.Flags(), LookupEnv: e.lookupEnv})
		if err != nil {
			return err
		}
		if ps := cfg.Validate(); len(ps) > 0 {
			return settingsError(ps)
		}
		return serve(cmd.Context(), cfg, cfg.Log.Logger(e.stderr))
	}
	return cmd
}

// settingsError lists every settings problem, one per line.
func settingsError(ps config.Problems) error {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  " + p.String()
	}
	return fmt.Errorf("%s with the settings:\n%s", plural(len(ps), "problem"), strings.Join(lines, "\n"))
}

// serve runs the control plane until ctx ends, then shuts down in reverse
// order: stop taking requests, stop the directory watcher, close the store.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	st, err := openStore(cfg.StorePath())
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the store", "error", err)
		}
	}()
	log.Info("store loaded", "path", cfg.StorePath(), "revision", st.Revision())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts, dir, err := adminOptions(cfg, st, log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Admin.Address)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	srv := newHTTPServer(admin.New(st, opts), log)
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("admin API: %w", err)
		}
	})
	if dir != nil {
		wg.Go(func() {
			if err := dir.Run(ctx); err != nil {
				errc <- fmt.Errorf("definitions directory: %w", err)
			}
		})
	}
	log.Info("admin API listening on http://"+ln.Addr().String(), "address", ln.Addr().String())
	log.Info("xDS server not served yet; its address is validated and reserved", "address", cfg.XDS.Address)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-errc:
		log.Error("stopping after a fatal error", "error", err)
	}
	shutdownCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer stop()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		log.Warn("admin API did not shut down cleanly", "error", serr)
	}
	cancel()
	wg.Wait()
	return err
}

// adminOptions wires the admin API, and in directory mode the watcher
// whose status it serves and whose first load gates readiness.
func adminOptions(cfg config.Config, st *store.Store, log *slog.Logger) (admin.Options, *localdir.Watcher, error) {
	reg, err := newRegistry()
	if err != nil {
		return admin.Options{}, nil, err
	}
	opts := admin.Options{Registry: reg, Logger: log, MaxBodyBytes: cfg.Admin.MaxBodyBytes}
	if cfg.ConfigDir == "" {
		return opts, nil, nil // the store is loaded already: ready at once
	}
	dir := localdir.New(cfg.ConfigDir, st, log)
	opts.ReadOnly = fmt.Sprintf("definitions are managed from the directory %s (serve --config-dir); change the files instead", cfg.ConfigDir)
	opts.Status = func() any { return dir.Status() }
	opts.Ready = dir.Loaded
	return opts, dir, nil
}

// openStore opens the bolt file and loads it. A damaged file is a start-up
// error naming it: starting empty would make proxies delete everything.
func openStore(path string) (*store.Store, error) {
	b, err := store.OpenBolt(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err) // the store's errors name the file
	}
	st, err := store.Open(b)
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("load store: %w", err)
	}
	return st, nil
}

// newRegistry is the /metrics registry: the admin API's own metrics plus
// the Go runtime and process collectors every operator dashboard expects.
func newRegistry() (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return reg, nil
}

// newHTTPServer sets every timeout: without them one slow client (slowloris)
// holds a connection and a goroutine forever.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
