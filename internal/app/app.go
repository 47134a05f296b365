package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"tollgate.dev/tollgate/internal/admin"
	"tollgate.dev/tollgate/internal/config"
	"tollgate.dev/tollgate/internal/localdir"
	"tollgate.dev/tollgate/internal/reconcile"
	"tollgate.dev/tollgate/internal/store"
	"tollgate.dev/tollgate/internal/translate"
	"tollgate.dev/tollgate/internal/xds"
)

// shutdownTimeout bounds how long in-flight admin requests and xDS streams
// may take to finish on shutdown before they are cut.
const shutdownTimeout = 10 * time.Second

// App is a running control plane.
type App struct {
	cfg  config.Config
	log  *slog.Logger
	st   *store.Store
	xds  *xds.Server
	loop *reconcile.Loop
	dir  *localdir.Watcher
	sec  *security
	inc  *translate.Incremental

	metrics *appMetrics

	adminLn, xdsLn net.Listener
	http           *http.Server
	grpc           *grpc.Server

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errc   chan error
}

// Start opens the store and starts every server. The listeners are bound
// when it returns, so AdminURL and XDSAddress are usable at once; proxies
// that connect before the first translation is published are held (never
// answered with empty state).
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	st, err := openStore(cfg.StorePath())
	if err != nil {
		return nil, err
	}
	log.Info("store loaded", slog.String("path", cfg.StorePath()), slog.Uint64("revision", st.Revision()))
	a := &App{cfg: cfg, log: log, st: st, errc: make(chan error, 4)}
	a.ctx, a.cancel = context.WithCancel(ctx)
	if err := a.start(); err != nil {
		a.cancel()
		a.closeListeners()
		_ = st.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) start() error {
	var err error
	if a.xdsLn, err = net.Listen("tcp", a.cfg.XDS.Address); err != nil {
		return fmt.Errorf("xDS server: %w", err)
	}
	if a.adminLn, err = net.Listen("tcp", a.cfg.Admin.Address); err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	if a.sec, err = a.setupSecurity(); err != nil {
		return err
	}
	a.metrics = newAppMetrics()
	a.xds = xds.NewServer(xds.Options{Logger: a.log, MaxConcurrentSyncs: int(a.cfg.XDS.MaxConcurrentSyncs)})
	a.inc = translate.NewIncremental()
	a.loop = reconcile.New(a.st, reconcile.Options{Translate: a.inc.Update, Publish: a.publish, Logger: a.log})
	a.grpc = newGRPCServer(a.sec.grpcOptions(a.log, a.metrics.refusedStream)...)
	a.xds.Register(a.grpc)
	opts, err := a.adminOptions()
	if err != nil {
		return err
	}
	a.http = newHTTPServer(admin.New(a.st, opts), a.log)
	a.http.TLSConfig = a.sec.adminTLS()
	a.goRun("reconcile loop", func() error { return ignoreCanceled(a.loop.Run(a.ctx)) })
	a.goRun("gateway identities", func() error { return ignoreCanceled(a.sec.ca.RunIdentities(a.ctx)) })
	a.goRun("CA bundle file", func() error { return a.followBundle(a.ctx) })
	a.goRun("xDS server", func() error { return a.grpc.Serve(a.xdsLn) })
	a.goRun("admin API", func() error {
		if a.http.TLSConfig != nil {
			return ignoreClosed(a.http.ServeTLS(a.adminLn, "", ""))
		}
		return ignoreClosed(a.http.Serve(a.adminLn))
	})
	if a.dir != nil {
		a.goRun("definitions directory", func() error { return ignoreCanceled(a.dir.Run(a.ctx)) })
	}
	return nil
}

// publish hands a translation to the xDS server. A gateway it cannot encode
// keeps its last good configuration; the error is logged.
func (a *App) publish(out *translate.Output) {
	if err := a.xds.Update(out); err != nil {
		a.log.Error("xDS update incomplete; affected gateways keep their last good configuration",
			slog.Uint64("revision", out.Revision), slog.Any("error", err))
	}
}

func (a *App) adminOptions() (admin.Options, error) {
	reg, err := newRegistry()
	if err != nil {
		return admin.Options{}, err
	}
	if err := a.registerMetrics(reg); err != nil {
		return admin.Options{}, fmt.Errorf("register metrics: %w", err)
	}
	opts := admin.Options{
		Registry: reg, Logger: a.log, MaxBodyBytes: a.cfg.Admin.MaxBodyBytes,
		Fleet: a.xds, Translation: a.loop.Last, Ready: a.ready,
		Auth: a.sec.auth, Audit: a.sec.audit, CA: a.sec.ca,
	}
	if a.cfg.ConfigDir != "" {
		a.dir = localdir.New(a.cfg.ConfigDir, a.st, a.log)
		opts.ReadOnly = fmt.Sprintf("definitions are managed from the directory %s (serve --config-dir); change the files instead", a.cfg.ConfigDir)
		opts.Status = func() any { return a.dir.Status() }
	}
	return opts, nil
}

// ready is true once a translation is published (and, in directory mode,
// the directory was loaded once): before that proxies are held.
func (a *App) ready() bool {
	select {
	case <-a.loop.Ready():
	default:
		return false
	}
	return a.dir == nil || a.dir.Loaded()
}

func (a *App) goRun(what string, run func() error) {
	a.wg.Go(func() {
		if err := run(); err != nil {
			a.errc <- fmt.Errorf("%s: %w", what, err)
		}
	})
}

// AdminURL is the admin API's base URL, with the bound port.
func (a *App) AdminURL() string {
	if a.sec.insecure {
		return "http://" + a.adminLn.Addr().String()
	}
	return "https://" + a.adminLn.Addr().String()
}

// CABundle is the PEM bundle of the CA that signs the control plane's
// certificates and the proxies'.
func (a *App) CABundle() []byte { return a.sec.ca.Bundle() }

// TrustDomain is the SPIFFE trust domain of the identities issued.
func (a *App) TrustDomain() string { return a.sec.ca.TrustDomain() }

// XDSAddress is the xDS server's host:port, with the bound port.
func (a *App) XDSAddress() string { return a.xdsLn.Addr().String() }

// Translation returns the configuration last published to the xDS server,
// nil before the first.
func (a *App) Translation() *translate.Output { return a.loop.Last() }

// Revision is the store's current revision.
func (a *App) Revision() uint64 { return a.st.Revision() }

// Ready is closed once the first configuration is published to the xDS
// server.
func (a *App) Ready() <-chan struct{} { return a.loop.Ready() }

// Wait blocks until ctx ends or a server fails, then shuts everything down
// in reverse order and closes the store last. It returns the failure, or
// nil after a requested stop.
func (a *App) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
		a.log.Info("shutting down")
	case <-a.ctx.Done():
		a.log.Info("shutting down")
	case err = <-a.errc:
		a.log.Error("stopping after a fatal error", slog.Any("error", err))
	}
	a.shutdown()
	return err
}

func (a *App) shutdown() {
	sctx, stop := context.WithTimeout(context.WithoutCancel(a.ctx), shutdownTimeout)
	defer stop()
	if err := a.http.Shutdown(sctx); err != nil {
		a.log.Warn("admin API did not shut down cleanly", slog.Any("error", err))
	}
	a.xds.Close()
	stopped := make(chan struct{})
	go func() { a.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-sctx.Done():
		a.grpc.Stop()
	}
	a.cancel()
	a.wg.Wait()
	if a.sec != nil {
		if err := a.sec.audit.Close(); err != nil {
			a.log.Error("closing the audit log", slog.Any("error", err))
		}
	}
	if err := a.st.Close(); err != nil {
		a.log.Error("closing the store", slog.Any("error", err))
	}
}

func (a *App) closeListeners() {
	for _, ln := range []net.Listener{a.xdsLn, a.adminLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// openStore opens the bolt file and loads it. A damaged file is a start-up
// error naming it: starting empty would make proxies delete everything.
func openStore(path string) (*store.Store, error) {
	b, err := store.OpenBolt(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	st, err := store.Open(b)
	if err != nil {
		return nil, fmt.Errorf("load store: %w", err) // Open closed the backend
	}
	return st, nil
}

// newGRPCServer allows Envoy's keepalive pings (every 30 s or more often
// with HTTP/2 pings configured in the bootstrap) without closing streams,
// and caps concurrent streams per connection (one ADS stream is the norm).
func newGRPCServer(extra ...grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append([]grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.MaxConcurrentStreams(64),
	}, extra...)...)
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

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
