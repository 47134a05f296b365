package baseline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"tollgate.dev/tollgate/internal/translate"
)

// Cache names the go-control-plane cache a Server is built on.
type Cache string

const (
	// Snapshot is cachev3.SnapshotCache in ADS mode: one snapshot per
	// gateway with one version for all of it.
	Snapshot Cache = "snapshot"
	// Linear is one cachev3.LinearCache per type URL in a cachev3.MuxCache:
	// one version per resource.
	Linear Cache = "linear"
)

// Validate says whether c names a baseline.
func (c Cache) Validate() error {
	switch c {
	case Snapshot, Linear:
		return nil
	}
	return fmt.Errorf("baseline cache %q: must be %q or %q", string(c), Snapshot, Linear)
}

// Describe is the one-line description the load report prints.
func (c Cache) Describe() string {
	switch c {
	case Snapshot:
		return "go-control-plane SnapshotCache (ADS; one snapshot and one version per gateway, set per node)"
	case Linear:
		return "go-control-plane LinearCache per type URL in a MuxCache (one version per resource; one gateway)"
	}
	return string(c)
}

// Options configure a Server.
type Options struct {
	// Cache selects the baseline. Required.
	Cache Cache
	// Gateway is the one gateway a Linear server serves: a LinearCache
	// holds one set of resources per type for every client, so it cannot
	// tell the nodes of two gateways apart without one cache set per
	// gateway (which go-control-plane leaves to its user). The load tool
	// generates a single gateway, so one set is enough. Required for
	// Linear, ignored by Snapshot.
	Gateway string
	// Logger receives go-control-plane's own log lines and publish
	// failures; nil discards them.
	Logger *slog.Logger
}

// publisher is how a baseline takes a new translation into its caches.
type publisher interface {
	publish(out *translate.Output)
}

// Server serves translations through go-control-plane's server and one of
// its caches. Publish is the reconcile loop's publish callback.
type Server struct {
	xds  serverv3.Server
	feed publisher
}

// New builds a Server whose streams end when ctx does.
func New(ctx context.Context, opts Options) (*Server, error) {
	if err := opts.Cache.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	gcpLog := logAdapter{opts.Logger}
	// Ordered ADS makes the SotW server send queued responses in
	// go-control-plane's type order (CDS, EDS, LDS, RDS, …), the order
	// Envoy's ADS documentation asks for; without it responses that are
	// ready together leave in random order and a route can arrive before
	// the cluster it names. The delta server always sends in queue order.
	switch opts.Cache {
	case Snapshot:
		f := newSnapshotFeed(ctx, gcpLog, opts.Logger)
		return &Server{feed: f, xds: serverv3.NewServer(ctx, f.cache, f.callbacks(), sotw.WithOrderedADS(), sotw.WithLogger(gcpLog))}, nil
	default:
		if opts.Gateway == "" {
			return nil, errors.New("baseline linear: Options.Gateway is required (a LinearCache set serves one gateway)")
		}
		f := newLinearFeed(opts.Gateway, gcpLog, opts.Logger)
		return &Server{feed: f, xds: serverv3.NewServer(ctx, f.mux, nil, sotw.WithOrderedADS(), sotw.WithLogger(gcpLog))}, nil
	}
}

// Register adds the aggregated discovery service (SotW and delta ADS) to
// g; proxies connect to it as to our own xDS server.
func (s *Server) Register(g *grpc.Server) {
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, s.xds)
}

// Publish hands a translation to the cache. It is called from one
// goroutine, in revision order (reconcile.Options.Publish).
func (s *Server) Publish(out *translate.Output) { s.feed.publish(out) }

// typeOrder sorts type URLs in go-control-plane's ADS response order
// (cachev3.GetResponseType: CDS, EDS, LDS, RDS, SRDS, VHDS, SDS, …), type
// URLs it does not know last by name, so that caches are fed in the order
// their responses should reach a proxy.
func typeOrder(a, b string) int {
	return cmp.Or(cmp.Compare(cachev3.GetResponseType(a), cachev3.GetResponseType(b)), cmp.Compare(a, b))
}

// sortedTypes returns the type URLs of res in typeOrder.
func sortedTypes[V any](res map[string]V) []string {
	out := make([]string, 0, len(res))
	for t := range res {
		out = append(out, t)
	}
	slices.SortFunc(out, typeOrder)
	return out
}

// logAdapter passes go-control-plane's log lines (pkg/log.Logger) to slog.
// It formats only lines the handler keeps: the caches log at debug for every
// response, and formatting those would bill the baseline for our logging.
type logAdapter struct{ log *slog.Logger }

func (l logAdapter) logf(level slog.Level, format string, args []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, args...), slog.String("from", "go-control-plane"))
}

func (l logAdapter) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args) }

// Infof logs at debug: go-control-plane reports every opened watch at
// info, which is debug detail for a load run.
func (l logAdapter) Infof(format string, args ...any) { l.logf(slog.LevelDebug, format, args) }

func (l logAdapter) Warnf(format string, args ...any) { l.logf(slog.LevelWarn, format, args) }

func (l logAdapter) Errorf(format string, args ...any) { l.logf(slog.LevelError, format, args) }
