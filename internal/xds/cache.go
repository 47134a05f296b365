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
// lock is never held across network I/O, and every critical section does
// work in proportion to a change, not to the configuration.
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
	// Admission (admission.go): streams being sent their first
	// configuration, at most maxSyncs, and those waiting, in order.
	maxSyncs int
	syncing  map[streamKey]struct{}
	waiting  []streamKey
	// expired counts admission slots taken back (a metric); the warning
	// about them is logged at most once per expiryLogEvery, with the count
	// since the last one, so a connect storm does not flood the log.
	expired       uint64
	expiredLogged uint64
	expiryLogAt   time.Time
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
	// admitted: the stream holds a sync slot (its admission-th);
	// queued: it waits for one; slotExpired: it held one too long and is
	// served without one from then on.
	admitted, queued, slotExpired bool
	// graceTimer is set while a delivery waits out removalGrace.
	graceTimer bool
	admission  uint64
}

// typeState is what one stream knows about one resource type.
//
// Work per update is in proportion to what changed: update marks the
// changed names dirty on each stream of the gateway, and a push looks only
// at dirty names (or at everything when all is set: a first watch, a
// reconnect, a dropped response).
type typeState struct {
	// Serving.
	open     bool                         // a watch is open: the proxy may be sent a response
	sotwCh   chan<- cachev3.Response      // the open watch's channel (shared by all
	deltaCh  chan<- cachev3.DeltaResponse // types of a stream in ordered ADS)
	watchID  uint64                       // the open watch; a late cancel of an older one is ignored
	sotwReq  *discoveryv3.DiscoveryRequest
	deltaReq *discoveryv3.DeltaDiscoveryRequest
	watched  bool   // CreateWatch has been called at least once
	synced   bool   // the proxy was sent this type, or proved it holds it
	pushed   bool   // a response of this type was queued on this stream
	claimed  string // SotW version_info the proxy sent before it was synced
	wildcard bool
	// subscribed is the stream's own copy of the subscribed names (the
	// server mutates its copy).
	subscribed map[string]struct{}
	// have is what the proxy holds, or will once it reads its queue, and
	// haveHash its set hash. For full-state SotW types have is replaced
	// on every push (and may be a gateway's own map); otherwise it is
	// updated in place.
	have     map[string]*entry
	haveHash uint64
	owned    bool // have is the stream's own map, safe to update in place
	// dirty names may differ between have and the gateway; all means
	// every name may.
	dirty map[string]struct{}
	all   bool
	// undo restores have if the server drops the last push (SotW does
	// when a newer request of the type arrives before it is sent).
	undo undoRecord
	held map[string]*entry // SotW full-state: the last ACKed set, what a NACKing proxy still runs

	// Status.
	inflight     any        // the last response pushed, to recognise it in the send callback
	inflightRec  sentRecord // what that response carried
	sent         sentRecord // the last response actually sent
	answered     bool       // the proxy has ACKed or NACKed sent.nonce
	everAnswered bool       // it has answered some response of the type
	answeredAt   time.Time  // when it last answered
	acked        string     // version of the last ACKed response
	lastNACK     *NACK
	nacked       bool // the last answered response was NACKed
}

// undoRecord is how to take back the last push: the previous have map
// (full-state pushes replace it) or the previous entries of the names the
// push changed (nil: the proxy did not hold the name).
type undoRecord struct {
	valid    bool
	have     map[string]*entry
	haveHash uint64
	owned    bool // have is the stream's own map, safe to update in place
	prev     map[string]*entry
}

// sentRecord describes one response for status and NACK attribution.
type sentRecord struct {
	nonce     string
	version   string
	resources []*entry // every resource the response carried
	changed   []*entry // those the proxy did not hold at that version
	// set is the whole set a full-state SotW response left the proxy
	// holding: what it runs once it ACKs (held).
	set map[string]*entry
}

func newCache(log *slog.Logger, maxSyncs int) *cache {
	if maxSyncs <= 0 {
		maxSyncs = DefaultMaxConcurrentSyncs
	}
	return &cache{
		log:      log,
		streams:  make(map[streamKey]*streamState),
		pending:  make(map[any]streamKey),
		maxSyncs: maxSyncs,
		syncing:  make(map[streamKey]struct{}),
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
	if ts.inflight != nil {
		// Pushed but never sent: the server dropped it to answer this
		// newer request (go-control-plane's ordered ADS does).
		ts.revert()
	}
	openWatch(ts, sub.IsWildcard())
	setSotwNames(ts, sub.IsWildcard(), req.GetResourceNames())
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

// CreateDeltaWatch opens a delta watch; see CreateWatch. The delta server
// never drops a queued response, and reports subscription changes as
// deltas, which are applied to the stream's own set.
func (c *cache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, ch chan cachev3.DeltaResponse) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.takeStream(req)
	if err != nil {
		return nil, err
	}
	ts := st.typeState(req.GetTypeUrl())
	ts.deltaCh = ch
	first := !ts.watched
	openWatch(ts, sub.IsWildcard())
	if first {
		// initial_resource_versions: a reconnecting proxy says what it
		// holds, so it is sent only differences.
		ts.setHave(c.resolve(st, req.GetTypeUrl(), sub.ReturnedResources()), true)
		if len(ts.have) > 0 {
			ts.synced = true
		}
		ts.subscribed = maps.Clone(sub.SubscribedResources())
	} else {
		for _, n := range req.GetResourceNamesSubscribe() {
			ts.subscribed[n] = struct{}{}
			ts.markDirty(n)
		}
		for _, n := range req.GetResourceNamesUnsubscribe() {
			delete(ts.subscribed, n)
			ts.forget(n) // Envoy drops what it unsubscribes from
		}
	}
	ts.deltaReq = req
	c.deliver(st)
	return c.cancelFunc(st.key, req.GetTypeUrl(), ts.watchID), nil
}

// openWatch marks the type's watch open. A change of wildcard-ness makes
// every name dirty.
func openWatch(ts *typeState, wildcard bool) {
	if !ts.watched || ts.wildcard != wildcard {
		ts.all = true
	}
	ts.watched = true
	ts.open = true
	ts.watchID++
	ts.wildcard = wildcard
}

// setSotwNames applies a SotW request's resource names: the request lists
// every subscribed name, so an unchanged list (every ACK) costs one lookup
// per name and no allocation, and a changed one a rebuild of the set.
func setSotwNames(ts *typeState, wildcard bool, names []string) {
	if wildcard || ts.subscribed != nil && sameNames(ts.subscribed, names) {
		return
	}
	next := make(map[string]struct{}, len(names))
	for _, n := range names {
		next[n] = struct{}{}
		if _, ok := ts.subscribed[n]; !ok {
			ts.markDirty(n)
		}
	}
	for n := range ts.subscribed {
		if _, ok := next[n]; !ok {
			ts.forget(n) // the proxy drops what it no longer asks for
		}
	}
	ts.subscribed = next
}

// sameNames reports whether names (without duplicates, as proxies send
// them) is exactly the set.
func sameNames(set map[string]struct{}, names []string) bool {
	if len(set) != len(names) {
		return false
	}
	for _, n := range names {
		if _, ok := set[n]; !ok {
			return false
		}
	}
	return true
}

// resolve turns what a proxy says it holds (name → version) into entries,
// sharing the gateway's when the versions match. An entry whose bytes are
// unknown keeps only its version.
func (c *cache) resolve(st *streamState, typeURL string, held map[string]string) map[string]*entry {
	var cur map[string]*entry
	if gs := c.gateways[st.gateway]; gs != nil {
		cur = gs.resources[typeURL]
	}
	out := make(map[string]*entry, len(held))
	for n, v := range held {
		if e := cur[n]; e != nil && e.version == v {
			out[n] = e
		} else {
			out[n] = versionOnly(n, v)
		}
	}
	return out
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

// markDirty notes that name may differ between have and the gateway.
func (ts *typeState) markDirty(name string) {
	if ts.all {
		return
	}
	if ts.dirty == nil {
		ts.dirty = make(map[string]struct{})
	}
	ts.dirty[name] = struct{}{}
}

// setHave replaces have; owned says whether the stream may update the
// map in place (a full-state push may install a gateway's own map).
func (ts *typeState) setHave(have map[string]*entry, owned bool) {
	ts.have, ts.haveHash, ts.owned = have, setHash(have), owned
}

// own gives the stream its own copy of have before an in-place update.
func (ts *typeState) own() {
	if ts.owned {
		return
	}
	ts.have = maps.Clone(ts.have)
	if ts.have == nil {
		ts.have = make(map[string]*entry)
	}
	ts.owned = true
}

// forget drops name from have: the proxy no longer holds it.
func (ts *typeState) forget(name string) {
	e := ts.have[name]
	if e == nil {
		return
	}
	ts.own()
	delete(ts.have, name)
	ts.haveHash ^= e.h
}

// revert takes back the last push, which the server dropped, and makes
// every name dirty so what is owed is recomputed.
func (ts *typeState) revert() {
	if u := ts.undo; u.valid {
		if u.prev == nil {
			ts.have, ts.haveHash, ts.owned = u.have, u.haveHash, u.owned
		} else {
			ts.own()
			for n, e := range u.prev {
				if old := ts.have[n]; old != nil {
					ts.haveHash ^= old.h
				}
				if e == nil {
					delete(ts.have, n)
				} else {
					ts.have[n] = e
					ts.haveHash ^= e.h
				}
			}
		}
	}
	ts.undo = undoRecord{}
	ts.inflight = nil
	ts.all = true
}

// current is the gateway's content of typeURL that the proxy subscribes to,
// or nil when the stream's gateway has no configuration (unknown, or
// nothing loaded yet). It costs a pass over the subscription; the serving
// path uses plan instead and calls it only for reconnects and full-state
// SotW responses to by-name subscribers.
func (c *cache) current(st *streamState, ts *typeState, typeURL string) map[string]*entry {
	if !c.loaded {
		return nil
	}
	gs := c.gateways[st.gateway]
	if gs == nil {
		return nil
	}
	all := gs.resources[typeURL]
	if ts.wildcard {
		return all // shared, never mutated
	}
	out := make(map[string]*entry, len(ts.subscribed))
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

	diffs := make(map[string]map[string]gatewayDiff, len(next))
	for name, gs := range next {
		if old[name] != gs {
			diffs[name] = diffGateway(old[name], gs)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	firstLoad := !c.loaded
	c.loaded = true
	c.gateways = next
	for _, st := range c.streams {
		switch {
		case firstLoad || (old[st.gateway] == nil) != (next[st.gateway] == nil):
			for _, ts := range st.types {
				ts.all = true
			}
		case len(diffs[st.gateway]) > 0:
			for t, d := range diffs[st.gateway] {
				ts := st.types[t]
				if ts == nil || !ts.watched || ts.all {
					continue
				}
				if !st.key.delta && !fullStateSotw[t] {
					// A SotW proxy drops a by-name resource once nothing
					// names it (its referrer was removed) and asks for it
					// again when a referrer comes back. Both requests can
					// pass unseen (the server skips a request whose nonce
					// is stale; the next one lists the name again), so a
					// resource the gateway did not have a moment ago may
					// be gone from the proxy although this record says it
					// holds it: send it again. At worst a duplicate.
					for _, n := range d.added {
						ts.forget(n)
					}
				}
				for _, n := range d.changed {
					if _, held := ts.have[n]; held || ts.subscribes(n) {
						ts.markDirty(n)
					}
				}
			}
		default:
			continue
		}
		c.deliver(st)
	}
	return errors.Join(errs...)
}
