package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"tollgate.dev/tollgate/internal/xdsclient"
)

// Options configure a Run.
type Options struct {
	// AdminURL is the control plane's admin API base URL.
	AdminURL string
	// XDSAddress is the control plane's ADS host:port.
	XDSAddress string
	// Cache says which xDS cache serves the run (ours or a go-control-plane
	// baseline), for the report: runs are only comparable side by side
	// when each says what it measured. Empty reads "not stated".
	Cache string
	// APIs is N, the number of generated APIs.
	APIs int
	// Proxies is K, the number of simulated proxies, slow and NACKing
	// included.
	Proxies int
	// Edits is the number of one-API edits timed one after the other.
	Edits int
	// Seed makes the bundle and the edits reproducible.
	Seed int64
	// Delta selects incremental xDS instead of State of the World.
	Delta bool
	// Slow and NACKing are how many of the proxies are slow or NACKing; at
	// least one proxy must be normal.
	Slow, NACKing int
	// SlowDelay is how long a slow proxy holds each ACK.
	SlowDelay time.Duration
	// Proc is the server process whose CPU and RSS are read.
	Proc Proc
	// Wait bounds every wait (first configuration, each edit): a deadline
	// against hangs, not a goal.
	Wait time.Duration
	// Idle is how long idle CPU is measured with every proxy connected.
	Idle time.Duration
	// EditsStart and EditsEnd, when set, are called just before the first
	// timed edit and just after the last one, with every proxy still
	// connected: they bracket exactly the phase whose server CPU the
	// report attributes to edits (xdsload profiles the server there). An
	// error ends the run.
	EditsStart, EditsEnd func(context.Context) error
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

func (o *Options) check() error {
	switch {
	case o.AdminURL == "" || o.XDSAddress == "":
		return errors.New("options: the admin URL and the xDS address are required")
	case o.APIs < 1 || o.Proxies < 1 || o.Edits < 0:
		return fmt.Errorf("options: need at least 1 API and 1 proxy and no negative edits (got %d, %d, %d)", o.APIs, o.Proxies, o.Edits)
	case o.Slow < 0 || o.NACKing < 0 || o.Slow+o.NACKing >= o.Proxies:
		return fmt.Errorf("options: %d slow + %d NACKing proxies must leave at least one normal proxy of %d", o.Slow, o.NACKing, o.Proxies)
	}
	if o.SlowDelay <= 0 {
		o.SlowDelay = 200 * time.Millisecond
	}
	if o.Wait <= 0 {
		o.Wait = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Run loads Generate(Seed, APIs) into the control plane, waits until one
// proxy holds it, connects Proxies proxies at once, measures idle CPU, then
// times Edits one-API edits, each until every proxy has seen it. The
// proxies are closed when it returns.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	rep := newReport(o)
	hc := &http.Client{Timeout: o.Wait}
	base, err := sample(o.Proc)
	if err != nil {
		return nil, err
	}
	if err := rep.load(ctx, hc, o); err != nil {
		return nil, err
	}
	loaded, err := sample(o.Proc)
	if err != nil {
		return nil, err
	}
	o.Logger.Info("bundle loaded", slog.Int("apis", o.APIs), slog.Duration("firstConfig", rep.FirstConfig))
	f, storm, err := connect(ctx, o, o.Edits)
	if err != nil {
		return nil, err
	}
	defer f.close()
	rep.Storm = summarize(storm)
	o.Logger.Info("fleet connected", slog.Int("proxies", o.Proxies), slog.Duration("max", rep.Storm.Max))
	connected, err := sample(o.Proc)
	if err != nil {
		return nil, err
	}
	rep.memory(base, loaded, connected, o)
	if rep.IdleCPU, err = idleCPU(ctx, o); err != nil {
		return nil, err
	}
	if o.EditsStart != nil {
		if err := o.EditsStart(ctx); err != nil {
			return nil, fmt.Errorf("before the edits: %w", err)
		}
	}
	for i := range o.Edits {
		res, err := f.edit(ctx, hc, o, i)
		if err != nil {
			return nil, err
		}
		rep.EditResults = append(rep.EditResults, res)
	}
	if o.EditsEnd != nil {
		if err := o.EditsEnd(ctx); err != nil {
			return nil, fmt.Errorf("after the edits: %w", err)
		}
	}
	rep.Inconsistencies = int(f.inconsist.Load())
	rep.summarizeEdits()
	return rep, nil
}

// load applies the bundle and waits until a probe proxy holds it, so that
// memory is read after translation and the storm starts from a ready
// server.
func (r *Report) load(ctx context.Context, hc *http.Client, o Options) error {
	bundle := Generate(o.Seed, o.APIs)
	r.BundleBytes = len(bundle)
	start := time.Now()
	if err := applyAll(ctx, hc, o.AdminURL, bundle); err != nil {
		return err
	}
	r.Apply = time.Since(start)
	c, err := xdsclient.Dial(ctx, o.XDSAddress, "xdsload-probe", GatewayName, xdsclient.Options{Delta: o.Delta})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if err := c.Start(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	if err := c.WaitFor(wctx, func() bool { return hasFullConfig(c, o.APIs) }); err != nil {
		return fmt.Errorf("probe proxy: first full configuration: %w", err)
	}
	r.FirstConfig = time.Since(start)
	return nil
}

// idleCPU is the server CPU used over o.Idle with every proxy connected
// and nothing changing, per second.
func idleCPU(ctx context.Context, o Options) (time.Duration, error) {
	if o.Idle <= 0 {
		return 0, nil
	}
	before, err := o.Proc.CPU()
	if err != nil {
		return 0, err
	}
	select {
	case <-time.After(o.Idle):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	after, err := o.Proc.CPU()
	if err != nil {
		return 0, err
	}
	return time.Duration(float64(after-before) * float64(time.Second) / float64(o.Idle)), nil
}
