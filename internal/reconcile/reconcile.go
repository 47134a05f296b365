package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/go-memdb"

	"tollgate.dev/tollgate/internal/store"
	"tollgate.dev/tollgate/internal/translate"
)

// DefaultDebounce is how long the loop waits after a change for more
// changes before translating. Milliseconds, not Istio's 100 ms: an admin
// edit should reach proxies in well under PERFORMANCE.md's 50 ms p50.
const DefaultDebounce = 2 * time.Millisecond

// TranslateFunc turns one snapshot into Envoy configuration.
type TranslateFunc func(r *store.Reader) *translate.Output

// Options configure a Loop.
type Options struct {
	// Translate is (*translate.Incremental).Update in production, which
	// recovers from its own failures by translating from scratch; tests
	// substitute their own (translate.Translate among them). A panic here
	// is still caught: the last good output stays published. Required.
	Translate TranslateFunc
	// Publish receives every new output, in revision order, from one
	// goroutine. Required.
	Publish func(*translate.Output)
	// Debounce defaults to DefaultDebounce.
	Debounce time.Duration
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Loop translates the store at every change.
type Loop struct {
	st   *store.Store
	opts Options

	mu       sync.Mutex
	last     *translate.Output // last good output
	failures uint64            // translations that failed
	ready    chan struct{}     // closed after the first publish
	once     sync.Once
}

// New returns a Loop over st; Run starts it.
func New(st *store.Store, opts Options) *Loop {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Loop{st: st, opts: opts, ready: make(chan struct{})}
}

// Run translates the current snapshot, publishes it, then does so again
// after every change until ctx ends. It returns ctx's error.
func (l *Loop) Run(ctx context.Context) error {
	if l.opts.Translate == nil || l.opts.Publish == nil {
		return errors.New("reconcile: Options.Translate and Options.Publish are required")
	}
	var published uint64
	first := true
	for {
		ws := memdb.NewWatchSet()
		r := l.st.Read()
		rev := r.WatchRevision(ws)
		if first || rev != published {
			if l.step(r) {
				published, first = rev, false
			}
		}
		if err := ws.WatchCtx(ctx); err != nil {
			return ctx.Err()
		}
		// Coalesce a burst of commits into one translation.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(l.opts.Debounce):
		}
	}
}

// step translates one snapshot and publishes it, reporting success. A
// translation that panics is logged and counted, and the last good output
// stays published.
func (l *Loop) step(r *store.Reader) (ok bool) {
	start := time.Now()
	out, err := l.translate(r)
	if err != nil {
		l.mu.Lock()
		l.failures++
		l.mu.Unlock()
		l.opts.Logger.Error("translation failed; keeping the last good configuration",
			slog.Uint64("revision", r.Revision()), slog.Any("error", err))
		return false
	}
	l.opts.Publish(out)
	l.mu.Lock()
	l.last = out
	l.mu.Unlock()
	l.once.Do(func() { close(l.ready) })
	l.opts.Logger.Debug("configuration published", slog.Uint64("revision", out.Revision),
		slog.Int("gateways", len(out.Gateways)), slog.Duration("took", time.Since(start)))
	return true
}

func (l *Loop) translate(r *store.Reader) (out *translate.Output, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("translator panic: %v", p)
		}
	}()
	out = l.opts.Translate(r)
	if out == nil {
		return nil, fmt.Errorf("translator returned no output for revision %d", r.Revision())
	}
	return out, nil
}

// Last returns the last published output, nil before the first.
func (l *Loop) Last() *translate.Output {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Failures counts translations that failed since start.
func (l *Loop) Failures() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures
}

// Ready is closed once the first output has been published: until then the
// xDS server must not answer proxies (it would send empty state).
func (l *Loop) Ready() <-chan struct{} { return l.ready }
