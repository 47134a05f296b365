package baseline

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"

	"tollgate.dev/tollgate/internal/translate"
)

// snapshotFeed keeps a SnapshotCache in ADS mode in step with the
// translations, the way Envoy Gateway and most other users of the cache do
// it: the cache is keyed by node id (cachev3.IDHash), every translation
// builds one snapshot per gateway with one version (the store revision),
// and that snapshot is set for every connected node of the gateway; a node
// that connects later gets its gateway's current snapshot from the stream
// callbacks before its first watch is created.
//
// Keying by node id rather than by a NodeHash that returns node.cluster is
// the idiomatic choice: the cache's status (GetStatusInfo, last request
// times, watches) stays per node, as its API intends, and a gateway's
// snapshot is still one shared object, so nothing is built twice. The
// price is the bookkeeping below, which is what its users write too.
type snapshotFeed struct {
	ctx   context.Context
	cache cachev3.SnapshotCache
	log   *slog.Logger

	// mu orders publish against nodes joining, so that a node never keeps
	// a snapshot older than its gateway's current one.
	mu sync.Mutex
	// current is the latest snapshot of each gateway; built is the
	// gateway configuration it was built from.
	current map[string]*cachev3.Snapshot
	built   map[string]*translate.GatewayConfig
	// gatewayOf is each connected node's gateway (node.cluster), streams
	// the node id of each open stream and open the open streams per node.
	gatewayOf map[string]string
	streams   map[int64]string
	open      map[string]int
}

func newSnapshotFeed(ctx context.Context, gcpLog logAdapter, log *slog.Logger) *snapshotFeed {
	return &snapshotFeed{
		ctx: ctx,
		// ADS mode: EDS and RDS requests are answered only when they name
		// every resource of the type in the snapshot, which is why each
		// snapshot must be consistent (see build).
		cache:     cachev3.NewSnapshotCache(true, cachev3.IDHash{}, gcpLog),
		log:       log,
		current:   map[string]*cachev3.Snapshot{},
		built:     map[string]*translate.GatewayConfig{},
		gatewayOf: map[string]string{},
		streams:   map[int64]string{},
		open:      map[string]int{},
	}
}

// callbacks learn which nodes are connected. The server calls the request
// callbacks before it creates the request's watch, so a joining node has
// its snapshot by the time the cache looks for one.
func (f *snapshotFeed) callbacks() serverv3.Callbacks {
	return serverv3.CallbackFuncs{
		StreamRequestFunc: func(id int64, r *discoveryv3.DiscoveryRequest) error {
			f.join(id, r.GetNode())
			return nil
		},
		StreamDeltaRequestFunc: func(id int64, r *discoveryv3.DeltaDiscoveryRequest) error {
			f.join(id, r.GetNode())
			return nil
		},
		StreamClosedFunc:      func(id int64, _ *corev3.Node) { f.leave(id) },
		DeltaStreamClosedFunc: func(id int64, _ *corev3.Node) { f.leave(id) },
	}
}

// join registers the node of stream id at its first request and sets its
// gateway's current snapshot for it. Later requests of the stream carry no
// node (the server fills in the first one) and change nothing.
func (f *snapshotFeed) join(id int64, node *corev3.Node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, known := f.streams[id]; known || node.GetId() == "" {
		return
	}
	nodeID, gw := node.GetId(), node.GetCluster()
	f.streams[id] = nodeID
	f.open[nodeID]++
	f.gatewayOf[nodeID] = gw
	if s := f.current[gw]; s != nil {
		f.set(nodeID, s)
	}
}

// leave forgets a closed stream, and its node once it has no stream left:
// ClearSnapshot drops the node's snapshot and status from the cache.
func (f *snapshotFeed) leave(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	nodeID, known := f.streams[id]
	if !known {
		return
	}
	delete(f.streams, id)
	if f.open[nodeID]--; f.open[nodeID] > 0 {
		return
	}
	delete(f.open, nodeID)
	delete(f.gatewayOf, nodeID)
	f.cache.ClearSnapshot(nodeID)
}

// publish builds a snapshot of every gateway whose configuration changed
// and sets it for the gateway's connected nodes. A gateway that cannot be
// built keeps its last snapshot; a gateway that disappeared keeps serving
// its last snapshot to the nodes still connected to it (the cache has no
// notion of "no configuration" short of closing their watches).
func (f *snapshotFeed) publish(out *translate.Output) {
	f.mu.Lock()
	defer f.mu.Unlock()
	version := strconv.FormatUint(out.Revision, 10)
	changed := map[string]*cachev3.Snapshot{}
	for name, gw := range out.Gateways {
		if f.built[name] == gw {
			continue // unchanged since the last translation: same snapshot
		}
		s, err := build(version, gw)
		if err != nil {
			f.log.Error("baseline snapshot: gateway keeps its last snapshot", slog.String("gateway", name),
				slog.Uint64("revision", out.Revision), slog.Any("error", err))
			continue
		}
		f.current[name], f.built[name], changed[name] = s, gw, s
	}
	for nodeID, gw := range f.gatewayOf {
		if s := changed[gw]; s != nil {
			f.set(nodeID, s)
		}
	}
}

func (f *snapshotFeed) set(nodeID string, s *cachev3.Snapshot) {
	if err := f.cache.SetSnapshot(f.ctx, nodeID, s); err != nil {
		f.log.Error("baseline snapshot: set snapshot", slog.String("node", nodeID), slog.Any("error", err))
	}
}

// build is one gateway's snapshot, every type present in the translation
// with the same version. The translation is consistent by construction
// (every EDS cluster has its ClusterLoadAssignment, every RDS name its
// RouteConfiguration, nothing unreferenced); Consistent checks it, because
// in ADS mode an inconsistent snapshot leaves EDS or RDS watches
// unanswered forever instead of failing.
func build(version string, gw *translate.GatewayConfig) (*cachev3.Snapshot, error) {
	res := make(map[string][]types.Resource, len(gw.Resources))
	for typeURL, list := range gw.Resources {
		msgs := make([]types.Resource, 0, len(list))
		for _, r := range list {
			msgs = append(msgs, r.Message)
		}
		res[typeURL] = msgs
	}
	s, err := cachev3.NewSnapshot(version, res)
	if err != nil {
		return nil, fmt.Errorf("gateway %q: snapshot %s: %w", gw.Name, version, err)
	}
	if err := s.Consistent(); err != nil {
		return nil, fmt.Errorf("gateway %q: snapshot %s is not consistent: %w", gw.Name, version, err)
	}
	return s, nil
}
