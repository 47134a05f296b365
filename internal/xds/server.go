package xds

import (
	"context"
	"errors"
	"log/slog"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	sotwv3 "github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate"
)

// errFetch refuses REST xDS: proxies use ADS.
var errFetch = errors.New("xds: REST fetch is not supported; use ADS")

// Options configure a Server.
type Options struct {
	// Logger receives NACKs and internal errors; slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock for status timestamps; time.Now when nil.
	Now func() time.Time
	// MaxConcurrentSyncs bounds how many proxies are sent their first
	// configuration at once (admission control for connect storms);
	// DefaultMaxConcurrentSyncs when 0.
	MaxConcurrentSyncs int
}

// Server serves translated configuration over ADS (SotW and delta) and
// keeps the status of every connected proxy.
type Server struct {
	cache  *cache
	xds    serverv3.Server
	cancel context.CancelFunc
}

// NewServer returns a Server that serves nothing until its first Update:
// proxies connecting before then keep the configuration they have.
func NewServer(opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	c := newCache(log, opts.MaxConcurrentSyncs)
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cache: c,
		// Ordered ADS queues all types of a stream on one FIFO channel;
		// without it the SotW server selects among per-type channels at
		// random and no ordering could be guaranteed.
		xds:    serverv3.NewServer(ctx, c, &callbacks{c: c, now: now}, sotwv3.WithOrderedADS()),
		cancel: cancel,
	}
}

// Register adds the aggregated discovery service (both
// StreamAggregatedResources and DeltaAggregatedResources) to g.
func (s *Server) Register(g *grpc.Server) {
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, s.xds)
}

// Close ends every open stream. Stop the gRPC server as well; Close does not
// touch it.
func (s *Server) Close() {
	s.cancel()
}

// Update publishes a translation and pushes every affected proxy.
//
//   - nil: nothing changes (translation failed as a whole; keep the last
//     good configuration of every gateway).
//   - out.Gateways[name] == nil: that gateway's translation failed; it keeps
//     its last good configuration.
//   - a gateway absent from out.Gateways no longer exists: it is no longer
//     served and its proxies show as "unknown gateway". They are not sent an
//     empty configuration, so they keep serving what they had until they
//     are stopped or re-pointed: deleting a Gateway never blackholes traffic
//     by accident.
//
// Only gateways whose content changed are pushed, and on them only the
// types and resources that changed. An error reports gateways that could
// not be encoded; they keep their last good configuration and the others
// are updated regardless.
func (s *Server) Update(out *translate.Output) error {
	if out == nil {
		s.cache.log.Warn("xds: no translation; keeping the last good configuration")
		return nil
	}
	return s.cache.update(out)
}

// AdmissionExpirations counts the proxies whose admission slot was taken
// back because they did not answer their first configuration in time.
func (s *Server) AdmissionExpirations() uint64 {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	return s.cache.expired
}

// Nodes returns every connected proxy, sorted by node id.
func (s *Server) Nodes() []NodeStatus {
	return s.cache.nodes("", true)
}

// GatewayStatus returns a gateway's versions and connected proxies.
func (s *Server) GatewayStatus(name string) GatewayStatus {
	return s.cache.gatewayStatus(name)
}

// DefinitionStatus returns the connected proxies currently rejecting
// resources built from the definition key.
func (s *Server) DefinitionStatus(key model.Key) []ProxyProblem {
	return s.cache.definitionStatus(key)
}
