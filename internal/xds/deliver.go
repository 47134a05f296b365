package xds

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// deliver sends a stream whatever it is owed, in an order that never lets a
// proxy hold a reference to a resource it does not have. Callers hold mu.
//
// The guarantee, per stream (ADS responses on one stream are applied in
// the order they arrive):
//
//  1. Additions and changes go in addOrder (secrets, clusters, endpoints,
//     listeners, scopes, routes). A type is sent only when no earlier type has an
//     unsent change; when an earlier type's watch is closed (its last
//     response not yet ACKed or NACKed), later types wait for it. A NACK
//     reopens the watch, so a rejecting proxy is not stuck; a proxy that
//     never answers holds up only itself.
//  2. Removals go afterwards in removeOrder (listeners, scopes, routes, clusters,
//     endpoints, secrets: referrers first), only when no type has an unsent
//     addition or change, under the same open-watch rule, and only once the
//     proxy has subscribed to every type that could still name the removed
//     resources (referrersWatched) and has answered their last responses
//     (referrersSettled). On SotW the additions phase therefore
//     sends the new resources together with those about to go, and the
//     removals phase sends the final set; on delta the removals phase sends
//     removed_resources.
//
// The order on the wire is the order of pushes here because the server is
// built with sotwv3.WithOrderedADS: go-control-plane (v0.14) then queues all
// types of a SotW stream on one FIFO channel; without it, it selects among
// per-type channels at random. Its delta server always uses one channel.
//
// A SotW proxy that reconnects claiming a version this process cannot
// resolve (typically after a restart with definitions deleted meanwhile)
// does not say what it holds. When it subscribes by name (grpc-go) to
// resources that no longer exist, its answer for that type would remove
// them, so it is sent in the removals phase, after the routes
// (removalOnReconnect); new resources are not delayed by this, because a
// proxy asks for them by name only once the new routes name them.
// Not covered: a wildcard SotW subscriber (Envoy's CDS) in that situation
// is sent the current set in addOrder, so its CDS response can drop deleted
// clusters one response before its RDS response replaces the routes that
// named them. Delta proxies say what they hold (initial_resource_versions),
// so they keep the guarantee.
func (c *cache) deliver(st *streamState) {
	if !c.loaded || c.gateways[st.gateway] == nil || !c.admitted(st) {
		return
	}
	for _, t := range addOrder {
		ts := st.types[t]
		if ts == nil || !ts.watched || c.removalOnReconnect(st, ts, t) {
			continue
		}
		if !c.step(st, ts, t, false) {
			return
		}
	}
	for _, t := range removeOrder {
		if !c.referrersWatched(st, t) || !referrersSettled(st, t) {
			return
		}
		if ts := st.types[t]; ts != nil && ts.watched && !c.step(st, ts, t, true) {
			return
		}
	}
}

// removalOnReconnect reports whether a SotW by-name subscriber that
// reconnected with an unresolvable version subscribes to names the gateway
// no longer has: its first answer for the type removes them, which belongs
// in the removals phase.
func (c *cache) removalOnReconnect(st *streamState, ts *typeState, typeURL string) bool {
	if st.key.delta || !fullStateSotw[typeURL] || ts.synced || ts.wildcard || ts.claimed == "" || len(referrers[typeURL]) == 0 {
		return false
	}
	cur := c.current(st, ts, typeURL)
	if versionOf(cur) == ts.claimed {
		return false // it holds exactly the current set: step resolves it
	}
	return len(cur) < len(ts.subscribed)
}

// referrers lists, for each type, the types whose resources name it.
var referrers = map[string][]string{
	resourcev3.ScopedRouteType: {resourcev3.ListenerType},
	resourcev3.RouteType:       {resourcev3.ListenerType, resourcev3.ScopedRouteType},
	resourcev3.ClusterType:     {resourcev3.ListenerType, resourcev3.RouteType},
	resourcev3.EndpointType:    {resourcev3.ClusterType},
	resourcev3.SecretType:      {resourcev3.ListenerType, resourcev3.ClusterType},
}

// referrersWatched holds removals of typeURL back until the proxy has
// asked for every type that could still name the removed resources and the
// gateway serves: a reconnecting proxy re-subscribes one type at a time,
// and removing a cluster before its RDS request has been answered would
// leave its old routes naming it. Late removals are harmless; early ones
// are not.
func (c *cache) referrersWatched(st *streamState, typeURL string) bool {
	gs := c.gateways[st.gateway]
	for _, r := range referrers[typeURL] {
		if len(gs.resources[r]) == 0 {
			continue
		}
		if ts := st.types[r]; ts == nil || !ts.watched {
			return false
		}
	}
	return true
}

// referrersSettled holds removals of typeURL back until the proxy has
// answered the last response of every type that could name the removed
// resources. Queued is not enough: go-control-plane's SotW ADS server
// drops a queued response of a type when a newer request of that type
// arrives (a by-name subscription change, frequent for RDS under scoped
// routing) and still sends the responses queued behind it, so a route
// update pushed just before a cluster removal could vanish while the
// removal goes out. Waiting for the answer costs the removal one round
// trip; a dropped update is then re-sent (reconcile) before anything it
// stopped naming is removed.
func referrersSettled(st *streamState, typeURL string) bool {
	for _, r := range referrers[typeURL] {
		if ts := st.types[r]; ts != nil && ts.watched && !ts.open {
			return false
		}
	}
	return true
}

// fullStateSotw lists the types whose state-of-the-world responses carry
// every resource the proxy should hold: the xDS protocol requires it of
// listeners and clusters, and Envoy treats a SotW scopes response as the
// complete set too (its SRDS subscription is one wildcard watch). Every
// other type is "pseudo-delta" (xDS protocol, "Resource updates"): a
// response carries only what changed, and a resource leaves the proxy when
// it unsubscribes, which Envoy and grpc-go do once nothing names it.
var fullStateSotw = map[string]bool{
	resourcev3.ListenerType:    true,
	resourcev3.ClusterType:     true,
	resourcev3.ScopedRouteType: true,
}

// removalGrace is how long a by-name SotW subscriber (grpc-go) keeps a
// resource after answering the responses that stopped naming it.
var removalGrace = time.Second

// graceOver holds back removals from a by-name state-of-the-world
// subscriber of a full-state type (grpc-go's clusters and listeners) until
// removalGrace after the proxy answered the referrers' last responses. A
// grpc-go client ACKs new routes before its channel switches to them, and
// an RPC already routed to the old cluster waits for that cluster; removing
// it at once leaves such an RPC stuck (with wait-for-ready) or failed.
// Within the grace the client usually drops its subscription itself. The
// delivery is retried when the grace ends.
func (c *cache) graceOver(st *streamState, typeURL string) bool {
	ts := st.types[typeURL]
	if st.key.delta || !fullStateSotw[typeURL] || ts == nil || ts.wildcard {
		return true
	}
	var last time.Time
	for _, r := range referrers[typeURL] {
		if rts := st.types[r]; rts != nil && rts.answeredAt.After(last) {
			last = rts.answeredAt
		}
	}
	wait := removalGrace - time.Since(last)
	if wait <= 0 {
		return true
	}
	if !st.graceTimer {
		st.graceTimer = true
		key := st.key
		time.AfterFunc(wait, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if st := c.streams[key]; st != nil {
				st.graceTimer = false
				c.deliver(st)
			}
		})
	}
	return false
}

// step sends one type's pending additions (or removals) if its watch is
// open. It returns false when something is pending but cannot be sent yet.
func (c *cache) step(st *streamState, ts *typeState, typeURL string, removals bool) bool {
	if !st.key.delta && !ts.synced && ts.claimed != "" && len(ts.have) == 0 {
		// A reconnecting SotW proxy that holds exactly the current set
		// is sent nothing.
		if cur := c.current(st, ts, typeURL); versionOf(cur) == ts.claimed {
			ts.setHave(cur, false)
			ts.held, ts.synced, ts.all = cur, true, true
		}
	}
	if !st.key.delta && fullStateSotw[typeURL] {
		return c.stepFull(st, ts, typeURL, removals)
	}
	gres := c.gateways[st.gateway].resources[typeURL]
	ts.materialize(gres)
	changed, removed := ts.plan(gres)
	if removals {
		changed = nil
	} else {
		removed = nil
	}
	switch {
	case len(changed) == 0 && len(removed) == 0 && (ts.synced || removals):
		return true
	case st.key.delta:
		return ts.open && c.pushDelta(st, ts, typeURL, changed, removed)
	case removals:
		// Pseudo-delta SotW cannot say "removed": the proxy drops a
		// resource when it unsubscribes, which it does once nothing
		// names it. The record just follows.
		for _, n := range removed {
			ts.forget(n)
			delete(ts.dirty, n)
		}
		return true
	}
	return ts.open && c.pushSotwChanges(st, ts, typeURL, changed)
}

// stepFull is step for a full-state SotW type: every response carries the
// whole set. In the additions phase the set still includes what is about
// to be removed (keepRemoved); the removals phase sends the final set.
func (c *cache) stepFull(st *streamState, ts *typeState, typeURL string, removals bool) bool {
	gs := c.gateways[st.gateway]
	gres := gs.resources[typeURL]
	ts.materialize(gres)
	changed, removed := ts.plan(gres)
	switch {
	case removals && len(removed) == 0 && len(changed) == 0 && ts.synced, !removals && len(changed) == 0 && ts.synced:
		return true
	case !ts.open, removals && len(removed) > 0 && !c.graceOver(st, typeURL):
		return false
	}
	cur := c.current(st, ts, typeURL)
	want := cur
	if !removals {
		want = keepRemoved(ts, cur)
	}
	var (
		anys    []*anypb.Any
		entries []*entry
		hash    uint64
	)
	if ts.wildcard && len(want) == len(gres) {
		// Exactly the gateway's set: share its sorted encodings.
		anys, entries, hash = gs.anys[typeURL], gs.sorted(typeURL), gs.hashes[typeURL]
	} else {
		for _, n := range sortedNames(want) {
			anys = append(anys, want[n].any)
			entries = append(entries, want[n])
			hash ^= want[n].h
		}
	}
	rec := sentRecord{version: hashVersion(hash), resources: entries, changed: changed, set: want}
	out := &discoveryv3.DiscoveryResponse{VersionInfo: rec.version, Resources: anys, TypeUrl: typeURL}
	if !c.queueSotw(st, ts, typeURL, out) {
		return false
	}
	ts.undo = undoRecord{valid: true, have: ts.have, haveHash: ts.haveHash, owned: ts.owned}
	ts.have, ts.haveHash, ts.owned = want, hash, false
	for _, e := range changed {
		delete(ts.dirty, e.name)
	}
	if removals {
		for _, n := range removed {
			delete(ts.dirty, n)
		}
	}
	ts.inflight, ts.inflightRec = out, rec
	return true
}

// materialize turns "everything may differ" into the dirty names that do:
// one pass over what the proxy holds and what it subscribes to, after a
// first watch, a reconnect or a dropped response.
func (ts *typeState) materialize(gres map[string]*entry) {
	if !ts.all {
		return
	}
	ts.all = false
	ts.dirty = make(map[string]struct{})
	check := func(n string) {
		var cur *entry
		if ts.subscribes(n) {
			cur = gres[n]
		}
		if h := ts.have[n]; (cur == nil) != (h == nil) || cur != nil && cur.version != h.version {
			ts.dirty[n] = struct{}{}
		}
	}
	for n := range ts.have {
		check(n)
	}
	if ts.wildcard {
		for n := range gres {
			check(n)
		}
		return
	}
	for n := range ts.subscribed {
		check(n)
	}
}

// plan sorts the dirty names into what the proxy lacks or holds at an old
// version (changed) and what it holds but should not (removed), dropping
// the names that turned out equal.
func (ts *typeState) plan(gres map[string]*entry) (changed []*entry, removed []string) {
	for n := range ts.dirty {
		var cur *entry
		if ts.subscribes(n) {
			cur = gres[n]
		}
		h := ts.have[n]
		switch {
		case cur != nil && (h == nil || h.version != cur.version):
			changed = append(changed, cur)
		case cur == nil && h != nil:
			removed = append(removed, n)
		default:
			delete(ts.dirty, n)
		}
	}
	if len(ts.dirty) == 0 {
		ts.dirty = nil // a Go map never shrinks: drop the one a full pass grew
	}
	slices.SortFunc(changed, func(a, b *entry) int { return strings.Compare(a.name, b.name) })
	slices.Sort(removed)
	return changed, removed
}

// keepRemoved adds to cur the resources the proxy holds that cur no longer
// has, for the additions phase of a full-state SotW type. After a NACK the
// proxy holds its last ACKed set, not what it rejected, which is never sent
// again.
func keepRemoved(ts *typeState, cur map[string]*entry) map[string]*entry {
	holds := ts.have
	if ts.nacked {
		holds = ts.held
	}
	out := cur
	for n, e := range holds {
		if _, ok := cur[n]; ok || e.any == nil || !ts.subscribes(n) {
			continue
		}
		if len(out) == len(cur) {
			out = maps.Clone(cur)
		}
		out[n] = e
	}
	return out
}

// queueSotw hands a SotW response to the server's queue.
func (c *cache) queueSotw(st *streamState, ts *typeState, typeURL string, out *discoveryv3.DiscoveryResponse) bool {
	// The server keeps the returned map as the subscription's state and
	// mutates it; this cache tracks what the proxy holds itself, so each
	// response hands over a fresh empty one.
	r := &sotwResponse{req: ts.sotwReq, out: out, returned: map[string]string{}}
	select {
	case ts.sotwCh <- r:
	default:
		// Cannot happen: one response per type is in flight at most and
		// the channel holds one per type. Keep the state so it is retried.
		c.log.Error("xds: response queue full", "stream", st.key.id, "type", typeURL)
		return false
	}
	ts.open, ts.synced, ts.pushed = false, true, true
	return true
}

// pushSotwChanges queues a pseudo-delta SotW response carrying changed,
// and records it so a drop by the server can be taken back.
func (c *cache) pushSotwChanges(st *streamState, ts *typeState, typeURL string, changed []*entry) bool {
	anys := make([]*anypb.Any, 0, len(changed))
	for _, e := range changed {
		anys = append(anys, e.any)
	}
	rec := sentRecord{version: ts.versionAfter(changed, nil), resources: changed, changed: changed}
	out := &discoveryv3.DiscoveryResponse{VersionInfo: rec.version, Resources: anys, TypeUrl: typeURL}
	if !c.queueSotw(st, ts, typeURL, out) {
		return false
	}
	ts.undo = undoRecord{valid: true, prev: make(map[string]*entry, len(changed))}
	for _, e := range changed {
		ts.undo.prev[e.name] = ts.have[e.name]
	}
	ts.apply(changed, nil)
	ts.inflight, ts.inflightRec = out, rec
	return true
}

// versionAfter is the version of have once changed is applied and removed
// dropped, computed without touching have (a push is recorded only once
// queued).
func (ts *typeState) versionAfter(changed []*entry, removed []string) string {
	hash := ts.haveHash
	for _, e := range changed {
		if old := ts.have[e.name]; old != nil {
			hash ^= old.h
		}
		hash ^= e.h
	}
	for _, n := range removed {
		if old := ts.have[n]; old != nil {
			hash ^= old.h
		}
	}
	return hashVersion(hash)
}

// apply records that the proxy now holds changed and no longer removed.
func (ts *typeState) apply(changed []*entry, removed []string) {
	ts.own()
	for _, e := range changed {
		if old := ts.have[e.name]; old != nil {
			ts.haveHash ^= old.h
		}
		ts.have[e.name] = e
		ts.haveHash ^= e.h
		delete(ts.dirty, e.name)
	}
	for _, n := range removed {
		ts.forget(n)
		delete(ts.dirty, n)
	}
}

// pushDelta queues a delta response. The delta server never drops one,
// so there is nothing to undo.
func (c *cache) pushDelta(st *streamState, ts *typeState, typeURL string, changed []*entry, removed []string) bool {
	res := make([]*discoveryv3.Resource, 0, len(changed))
	for _, e := range changed {
		res = append(res, &discoveryv3.Resource{Name: e.name, Version: e.version, Resource: e.any})
	}
	rec := sentRecord{version: ts.versionAfter(changed, removed), resources: changed, changed: changed}
	out := &discoveryv3.DeltaDiscoveryResponse{
		SystemVersionInfo: rec.version,
		Resources:         res,
		RemovedResources:  removed,
		TypeUrl:           typeURL,
	}
	// A fresh next-version map: the server keeps and mutates it, and this
	// cache tracks what the proxy holds itself.
	r := &deltaResponse{req: ts.deltaReq, out: out, next: map[string]string{}}
	select {
	case ts.deltaCh <- r:
	default:
		c.log.Error("xds: response queue full", "stream", st.key.id, "type", typeURL)
		return false
	}
	ts.open, ts.synced, ts.pushed = false, true, true
	ts.apply(changed, removed)
	ts.inflight, ts.inflightRec = out, rec
	return true
}

// sotwResponse is a SotW response built from shared, already encoded
// resources. The server sets the nonce on out, so out is never shared.
type sotwResponse struct {
	req      *discoveryv3.DiscoveryRequest
	out      *discoveryv3.DiscoveryResponse
	returned map[string]string // handed to the server, which may mutate it
}

var _ cachev3.Response = (*sotwResponse)(nil)

func (r *sotwResponse) GetDiscoveryResponse() (*discoveryv3.DiscoveryResponse, error) {
	return r.out, nil
}
func (r *sotwResponse) GetRequest() *discoveryv3.DiscoveryRequest { return r.req }
func (r *sotwResponse) GetVersion() (string, error)               { return r.out.GetVersionInfo(), nil }
func (r *sotwResponse) GetResponseVersion() string                { return r.out.GetVersionInfo() }
func (r *sotwResponse) GetReturnedResources() map[string]string   { return r.returned }
func (r *sotwResponse) GetContext() context.Context               { return context.Background() }

// deltaResponse is a delta response built from shared encoded resources.
type deltaResponse struct {
	req  *discoveryv3.DeltaDiscoveryRequest
	out  *discoveryv3.DeltaDiscoveryResponse
	next map[string]string
}

var _ cachev3.DeltaResponse = (*deltaResponse)(nil)

func (r *deltaResponse) GetDeltaDiscoveryResponse() (*discoveryv3.DeltaDiscoveryResponse, error) {
	return r.out, nil
}
func (r *deltaResponse) GetDeltaRequest() *discoveryv3.DeltaDiscoveryRequest { return r.req }
func (r *deltaResponse) GetSystemVersion() (string, error) {
	return r.out.GetSystemVersionInfo(), nil
}

func (r *deltaResponse) GetResponseVersion() string              { return r.out.GetSystemVersionInfo() }
func (r *deltaResponse) GetNextVersionMap() map[string]string    { return r.next }
func (r *deltaResponse) GetReturnedResources() map[string]string { return r.next }
func (r *deltaResponse) GetContext() context.Context             { return context.Background() }
