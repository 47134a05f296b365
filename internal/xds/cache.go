package xds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"tollgate.dev/tollgate/internal/translate"
)

// cache is the cachev3.Cache behind the go-control-plane ADS server.
//
// It replaces go-control-plane's SnapshotCache, which does not fit: it
// marshals every resource once per client (the serving budget needs once per
// version, shared by every stream); in ADS mode it serves resources nobody
// asked for, which stalls grpc-go (it always subscribes by name); it has one
// version per snapshot rather than one per resource, so unchanged resources
// are re-sent; and it knows nothing of response ordering across types.
//
// Streams are identified by the ids the server passes to its callbacks: the
// server calls OnStreamRequest and then CreateWatch with the same request
// pointer on the same goroutine, which is how a watch finds its stream.
//
// One mutex guards everything. Pushing a response is a non-blocking send
// on the stream's own channel (go-control-plane's per-stream queue), so the
// lock is never held across network I/O; splitting it per stream is left to
// the serving-layer issue.
type cache struct {
	log *slog.Logger

	// updateMu serialises Update, which encodes outside mu.
	updateMu sync.Mutex

	mu sync.Mutex
	// loaded is false until the first Update: until then every watch stays
	// open, so a restarting control plane never answers with empty state.
	loaded   bool
	gateways map[string]*gatewayState
	streams  map[streamKey]*streamState
	// pending maps a request pointer to its stream between the server's
	// request callback and its CreateWatch call.
	pending map[any]streamKey
}

// streamKey identifies a stream: the SotW and delta servers number their
// streams independently.
type streamKey struct {
	delta bool
	id    int64
}

// streamState is one ADS stream: one proxy connection.
type streamState struct {
	key       streamKey
	nodeID    string
	gateway   string // node.cluster of the first request
	connected time.Time
	types     map[string]*typeState
	// pendingReq is the stream's request awaiting CreateWatch, if any (the
	// SotW server skips requests with a stale nonce).
	pendingReq any
}

// typeState is what one stream knows about one resource type.
type typeState struct {
	// Serving.
	open       bool                         // a watch is open: the proxy may be sent a response
	sotwCh     chan<- cachev3.Response      // the open watch's channel (shared by all
	deltaCh    chan<- cachev3.DeltaResponse // types of a stream in ordered ADS)
	watchID    uint64                       // the open watch; a late cancel of an older one is ignored
	sotwReq    *discoveryv3.DiscoveryRequest
	deltaReq   *discoveryv3.DeltaDiscoveryRequest
	watched    bool   // CreateWatch has been called at least once
	synced     bool   // the proxy was sent this type, or proved it holds it
	pushed     bool   // a response of this type was queued on this stream
	claimed    string // SotW version_info the proxy sent before it was synced
	wildcard   bool
	subscribed map[string]struct{}
	have       map[string]*entry // what the proxy holds, or will once it reads its queue
	prevHave   map[string]*entry // have before the last push, to resolve dropped responses
	held       map[string]*entry // SotW: the last ACKed set, what a NACKing proxy still runs

	// Status.
	inflight    any        // the last response pushed, to recognise it in the send callback
	inflightRec sentRecord // what that response carried
	sent        sentRecord // the last response actually sent
	answered    bool       // the proxy has ACKed or NACKed sent.nonce
	acked       string     // version of the last ACKed response
	lastNACK    *NACK
	nacked      bool // the last answered response was NACKed
}

// sentRecord describes one response for status and NACK attribution.
type sentRecord struct {
	nonce     string
	version   string
	resources []*entry // every resource the response carried
	changed   []*entry // those the proxy did not hold at that version
}

func newCache(log *slog.Logger) *cache {
	return &cache{
		log:     log,
		streams: make(map[streamKey]*streamState),
		pending: make(map[any]streamKey),
	}
}

var _ cachev3.Cache = (*cache)(nil)

// errNoStream means CreateWatch was called without the request callback,
// i.e. the cache was wired to a server without its callbacks.
var errNoStream = errors.New("xds: watch for a request not seen by the stream callbacks")

// CreateWatch opens a state-of-the-world watch. It is called for every
// request of a stream (ACKs, NACKs and subscription changes alike) after the
// previous watch of the type was cancelled.
func (c *cache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.takeStream(req)
	if err != nil {
		return nil, err
	}
	ts := st.typeState(req.GetTypeUrl())
	ts.sotwCh = ch
	c.openWatch(st, ts, req.GetTypeUrl(), sub)
	ts.sotwReq = req
	if !ts.synced {
		// A proxy reconnecting (typically to a restarted control plane)
		// says which version it holds; step compares it with what it would
		// be sent once the configuration is loaded.
		ts.claimed = req.GetVersionInfo()
	}
	c.deliver(st)
	return c.cancelFunc(st.key, req.GetTypeUrl(), ts.watchID), nil
}

// CreateDeltaWatch opens a delta watch; see CreateWatch.
func (c *cache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, ch chan cachev3.DeltaResponse) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.takeStream(req)
	if err != nil {
		return nil, err
	}
	ts := st.typeState(req.GetTypeUrl())
	ts.deltaCh = ch
	if !ts.watched && len(req.GetInitialResourceVersions()) > 0 {
		ts.synced = true // a reconnecting proxy: send only differences
	}
	c.openWatch(st, ts, req.GetTypeUrl(), sub)
	ts.deltaReq = req
	c.deliver(st)
	return c.cancelFunc(st.key, req.GetTypeUrl(), ts.watchID), nil
}

// Fetch serves REST xDS, which Tollgate does not offer.
func (c *cache) Fetch(context.Context, *cachev3.Request) (cachev3.Response, error) {
	return nil, errFetch
}

// takeStream finds the stream a request belongs to. Callers hold mu.
func (c *cache) takeStream(req any) (*streamState, error) {
	key, ok := c.pending[req]
	if !ok {
		return nil, errNoStream
	}
	delete(c.pending, req)
	st, ok := c.streams[key]
	if !ok {
		return nil, fmt.Errorf("xds: stream %d: %w", key.id, errNoStream)
	}
	st.pendingReq = nil
	return st, nil
}

// openWatch copies the subscription: the server mutates it on its own
// goroutine after CreateWatch returns, so it must not be read later.
func (c *cache) openWatch(st *streamState, ts *typeState, typeURL string, sub cachev3.Subscription) {
	ts.watched = true
	ts.open = true
	ts.watchID++
	ts.wildcard = sub.IsWildcard()
	ts.subscribed = maps.Clone(sub.SubscribedResources())
	if st.key.delta || ts.pushed {
		ts.have = c.reconcile(st, ts, typeURL, sub.ReturnedResources())
	}
	// Otherwise a SotW server knows nothing the proxy holds (its map is
	// empty) while have may hold what the proxy proved by its version.
}

// reconcile returns the entries matching what the server says the proxy was
// returned. They differ from ts.have when the server dropped a queued
// response (SotW does when a newer request of the type arrives) or on a
// delta stream's first request (initial_resource_versions). An entry whose
// bytes are unknown keeps only its version.
func (c *cache) reconcile(st *streamState, ts *typeState, typeURL string, returned map[string]string) map[string]*entry {
	if len(returned) == len(ts.have) {
		same := true
		for n, v := range returned {
			if e, ok := ts.have[n]; !ok || e.version != v {
				same = false
				break
			}
		}
		if same {
			return ts.have
		}
	}
	var cur map[string]*entry
	if gs := c.gateways[st.gateway]; gs != nil {
		cur = gs.resources[typeURL]
	}
	out := make(map[string]*entry, len(returned))
	for n, v := range returned {
		switch {
		case ts.have[n] != nil && ts.have[n].version == v:
			out[n] = ts.have[n]
		case ts.prevHave[n] != nil && ts.prevHave[n].version == v:
			out[n] = ts.prevHave[n]
		case cur[n] != nil && cur[n].version == v:
			out[n] = cur[n]
		default:
			out[n] = &entry{name: n, version: v}
		}
	}
	return out
}

// cancelFunc closes one watch. go-control-plane cancels a watch before
// opening the next one of the type and when the stream ends (and then
// closes the channel), so after cancel nothing may be sent on it.
func (c *cache) cancelFunc(key streamKey, typeURL string, id uint64) func() {
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		st := c.streams[key]
		if st == nil {
			return
		}
		if ts := st.types[typeURL]; ts != nil && ts.watchID == id {
			ts.open = false
		}
	}
}

// typeState returns the state of typeURL, creating it.
func (st *streamState) typeState(typeURL string) *typeState {
	ts := st.types[typeURL]
	if ts == nil {
		ts = &typeState{}
		st.types[typeURL] = ts
	}
	return ts
}

// subscribes reports whether the proxy asked for name.
func (ts *typeState) subscribes(name string) bool {
	if ts.wildcard {
		return true
	}
	_, ok := ts.subscribed[name]
	return ok
}

// current is the gateway's content of typeURL that the proxy subscribes to,
// or nil when the stream's gateway has no configuration (unknown, or
// nothing loaded yet).
func (c *cache) current(st *streamState, ts *typeState, typeURL string) map[string]*entry {
	if !c.loaded {
		return nil
	}
	gs := c.gateways[st.gateway]
	if gs == nil {
		return nil
	}
	all := gs.resources[typeURL]
	out := make(map[string]*entry, len(all))
	if ts.wildcard {
		maps.Copy(out, all)
		return out
	}
	for n := range ts.subscribed {
		if e := all[n]; e != nil {
			out[n] = e
		}
	}
	return out
}

// update installs a new translation and pushes to the streams of the
// gateways it changed. See Server.Update for the keep/remove rules.
func (c *cache) update(out *translate.Output) error {
	c.updateMu.Lock()
	defer c.updateMu.Unlock()
	c.mu.Lock()
	old := c.gateways
	c.mu.Unlock()

	next := make(map[string]*gatewayState, len(out.Gateways))
	var errs []error
	for name, cfg := range out.Gateways {
		prev := old[name]
		if cfg == nil { // translation failed: keep the last good config
			if prev != nil {
				next[name] = prev
			}
			continue
		}
		named := *cfg
		named.Name = name
		gs, err := buildGateway(&named, prev)
		if err != nil {
			errs = append(errs, err)
			if prev != nil {
				next[name] = prev
			}
			continue
		}
		next[name] = gs
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	firstLoad := !c.loaded
	c.loaded = true
	c.gateways = next
	for _, st := range c.streams {
		if firstLoad || len(changedTypes(old[st.gateway], next[st.gateway])) > 0 {
			c.deliver(st)
		}
	}
	return errors.Join(errs...)
}
