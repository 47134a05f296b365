package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc"

	"tollgate.dev/tollgate/internal/admin"
	"tollgate.dev/tollgate/internal/baseline"
	"tollgate.dev/tollgate/internal/config"
	"tollgate.dev/tollgate/internal/loadgen"
	"tollgate.dev/tollgate/internal/reconcile"
	"tollgate.dev/tollgate/internal/store"
	"tollgate.dev/tollgate/internal/translate"
)

// startBaseline runs the control plane in-process like startInProcess, but
// with go-control-plane's server and the given cache in place of our xDS
// server: the same bolt store, admin API, reconcile loop and translator
// (as internal/app wires them), so an edit takes exactly the same path up
// to the cache and only the cache and the server behind it differ.
func startBaseline(ctx context.Context, c baseline.Cache, opts *loadgen.Options, log *slog.Logger, stderr io.Writer) (stop func(), err error) {
	cfg, dir, err := tempConfig()
	if err != nil {
		return nil, err
	}
	appLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(ctx)
	s, err := newBaselineStack(ctx, c, cfg, appLog)
	if err != nil {
		cancel()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s baseline: %w", c, err)
	}
	s.serve(ctx)
	opts.AdminURL, opts.XDSAddress = "http://"+s.adminLn.Addr().String(), s.xdsLn.Addr().String()
	opts.Cache = c.Describe()
	log.Info("baseline control plane started in-process", slog.String("cache", string(c)),
		slog.String("admin", opts.AdminURL), slog.String("xds", opts.XDSAddress))
	return func() {
		cancel()
		if err := s.stop(); err != nil {
			log.Error("baseline control plane stopped with an error", slog.Any("error", err))
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("removing the data directory", slog.String("dir", dir), slog.Any("error", err))
		}
	}, nil
}

// baselineStack is the store, admin API and reconcile loop of internal/app
// in front of a baseline.Server.
type baselineStack struct {
	st      *store.Store
	loop    *reconcile.Loop
	http    *http.Server
	grpc    *grpc.Server
	adminLn net.Listener
	xdsLn   net.Listener
	wg      sync.WaitGroup
	errs    chan error
}

func newBaselineStack(ctx context.Context, c baseline.Cache, cfg config.Config, log *slog.Logger) (*baselineStack, error) {
	b, err := store.OpenBolt(cfg.StorePath())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	st, err := store.Open(b)
	if err != nil {
		return nil, fmt.Errorf("load store: %w", err) // Open closed the backend
	}
	srv, err := baseline.New(ctx, baseline.Options{Cache: c, Gateway: loadgen.GatewayName, Logger: log})
	if err != nil {
		return nil, errors.Join(err, st.Close())
	}
	s := &baselineStack{st: st, errs: make(chan error, 3)}
	if s.xdsLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, errors.Join(fmt.Errorf("xDS server: %w", err), st.Close())
	}
	if s.adminLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, errors.Join(fmt.Errorf("admin API: %w", err), s.xdsLn.Close(), st.Close())
	}
	s.loop = reconcile.New(st, reconcile.Options{Translate: translate.Translate, Publish: srv.Publish, Logger: log})
	s.grpc = grpc.NewServer(grpc.MaxConcurrentStreams(64))
	srv.Register(s.grpc)
	ready := func() bool {
		select {
		case <-s.loop.Ready():
			return true
		default:
			return false
		}
	}
	s.http = &http.Server{
		// The baselines compare serving, like --insecure runs of ours: an
		// open admin API on loopback, for the load generator only.
		Handler: admin.New(st, admin.Options{
			Logger: log, MaxBodyBytes: cfg.Admin.MaxBodyBytes, Translation: s.loop.Last, Ready: ready,
			Auth: admin.AllowAnonymous(admin.RoleAdmin),
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return s, nil
}

// serve starts the reconcile loop and both servers until ctx ends.
func (s *baselineStack) serve(ctx context.Context) {
	s.wg.Go(func() {
		if err := s.loop.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.errs <- fmt.Errorf("reconcile loop: %w", err)
		}
	})
	s.wg.Go(func() {
		if err := s.grpc.Serve(s.xdsLn); err != nil {
			s.errs <- fmt.Errorf("xDS server: %w", err)
		}
	})
	s.wg.Go(func() {
		if err := s.http.Serve(s.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errs <- fmt.Errorf("admin API: %w", err)
		}
	})
}

// stop ends the servers (the caller has cancelled the loop's context) and
// closes the store last. It returns what failed while serving or closing.
func (s *baselineStack) stop() error {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := []error{s.http.Shutdown(sctx)}
	s.grpc.Stop() // the load is over: no stream needs a graceful end
	s.wg.Wait()
	close(s.errs)
	for err := range s.errs {
		errs = append(errs, err)
	}
	errs = append(errs, s.st.Close())
	return errors.Join(errs...)
}
