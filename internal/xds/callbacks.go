package xds

import (
	"context"
	"slices"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/genproto/googleapis/rpc/status"

	"tollgate.dev/tollgate/internal/model"
)

// callbacks feed the cache's stream table and status from the
// go-control-plane server. They run on the stream goroutines.
type callbacks struct {
	c   *cache
	now func() time.Time
}

var _ serverv3.Callbacks = (*callbacks)(nil)

func (cb *callbacks) OnStreamOpen(_ context.Context, id int64, _ string) error {
	cb.c.openStream(streamKey{id: id}, cb.now())
	return nil
}

func (cb *callbacks) OnDeltaStreamOpen(_ context.Context, id int64, _ string) error {
	cb.c.openStream(streamKey{delta: true, id: id}, cb.now())
	return nil
}

func (cb *callbacks) OnStreamClosed(id int64, _ *corev3.Node) {
	cb.c.closeStream(streamKey{id: id})
}

func (cb *callbacks) OnDeltaStreamClosed(id int64, _ *corev3.Node) {
	cb.c.closeStream(streamKey{delta: true, id: id})
}

func (cb *callbacks) OnStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	cb.c.observeRequest(streamKey{id: id}, req, request{
		node: req.GetNode(), typeURL: req.GetTypeUrl(),
		nonce: req.GetResponseNonce(), errorDetail: req.GetErrorDetail(),
	}, cb.now())
	return nil
}

func (cb *callbacks) OnStreamDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	cb.c.observeRequest(streamKey{delta: true, id: id}, req, request{
		node: req.GetNode(), typeURL: req.GetTypeUrl(),
		nonce: req.GetResponseNonce(), errorDetail: req.GetErrorDetail(),
	}, cb.now())
	return nil
}

func (cb *callbacks) OnStreamResponse(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	cb.c.observeResponse(streamKey{id: id}, resp.GetTypeUrl(), resp, resp.GetNonce())
}

func (cb *callbacks) OnStreamDeltaResponse(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	cb.c.observeResponse(streamKey{delta: true, id: id}, resp.GetTypeUrl(), resp, resp.GetNonce())
}

// OnFetchRequest refuses REST xDS.
func (cb *callbacks) OnFetchRequest(context.Context, *discoveryv3.DiscoveryRequest) error {
	return errFetch
}

func (cb *callbacks) OnFetchResponse(*discoveryv3.DiscoveryRequest, *discoveryv3.DiscoveryResponse) {}

// request is what status needs of a SotW or delta request.
type request struct {
	node        *corev3.Node
	typeURL     string
	nonce       string
	errorDetail *status.Status
}

func (c *cache) openStream(key streamKey, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.streams[key] = &streamState{key: key, connected: now, types: make(map[string]*typeState)}
}

func (c *cache) closeStream(key streamKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[key]
	if st == nil {
		return
	}
	delete(c.pending, st.pendingReq)
	delete(c.streams, key)
	st.queued = false
	c.release(st, true)
}

// observeRequest records the node and any ACK or NACK, and remembers which
// stream ptr belongs to for the CreateWatch call that follows.
//
// Only the first request echoing a response's nonce answers it; later ones
// with the same nonce are subscription changes (Envoy adds EDS names while
// its CDS ACK is still the latest answer).
func (c *cache) observeRequest(key streamKey, ptr any, r request, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[key]
	if st == nil {
		return
	}
	delete(c.pending, st.pendingReq)
	c.pending[ptr], st.pendingReq = key, ptr
	if st.gateway == "" && r.node != nil {
		st.nodeID, st.gateway = r.node.GetId(), r.node.GetCluster()
	}
	ts := st.typeState(r.typeURL)
	if r.nonce == "" || r.nonce != ts.sent.nonce || ts.answered {
		return
	}
	ts.answered, ts.everAnswered, ts.answeredAt = true, true, now
	defer c.release(st, false)
	if r.errorDetail == nil {
		ts.acked, ts.nacked = ts.sent.version, false
		if ts.sent.set != nil {
			ts.held = ts.sent.set
		}
		return
	}
	ts.nacked = true
	ts.lastNACK = newNACK(ts.sent, r.errorDetail.GetMessage(), now)
	c.log.Warn("xds: proxy rejected configuration",
		"node", st.nodeID, "gateway", st.gateway, "type", r.typeURL,
		"version", ts.sent.version, "error", r.errorDetail.GetMessage(),
		"definitions", ts.lastNACK.Sources)
}

// newNACK blames definitions for a rejected response. Proxies name the
// failing resource only in free text (Envoy: "Error adding/updating
// listener(s) NAME: …", grpc-go quotes the name), so: the resources whose
// names appear in the message; failing that, the resources this response
// changed; failing that, all it carried.
func newNACK(rec sentRecord, msg string, now time.Time) *NACK {
	n := &NACK{At: now, Nonce: rec.nonce, Version: rec.version, Message: msg}
	blamed := namedIn(rec.resources, msg)
	if len(blamed) == 0 {
		blamed = rec.changed
	}
	if len(blamed) == 0 {
		blamed = rec.resources
	}
	for _, e := range blamed {
		n.Resources = append(n.Resources, e.name)
		n.Sources = append(n.Sources, e.sources...)
	}
	slices.SortFunc(n.Sources, compareKeys)
	n.Sources = slices.Compact(n.Sources)
	return n
}

// namedIn returns the entries whose name occurs in msg as a whole name.
func namedIn(entries []*entry, msg string) []*entry {
	var out []*entry
	for _, e := range entries {
		if e.name != "" && mentions(msg, e.name) {
			out = append(out, e)
		}
	}
	return out
}

// mentions reports whether name occurs in msg delimited by characters that
// cannot be part of a resource name, so "svc/c1" is not blamed for an error
// about "svc/c10".
func mentions(msg, name string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if (start == 0 || !nameChar(msg[start-1])) && (end == len(msg) || !nameChar(msg[end])) {
			return true
		}
		i = start + 1
	}
}

// nameChar reports whether c can appear in a resource name built by
// translate/names.go (DNS labels, '/', '.', '_', '*').
func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '/' || c == '*'
}

func compareKeys(a, b model.Key) int {
	if a.Kind != b.Kind {
		if a.Kind < b.Kind {
			return -1
		}
		return 1
	}
	switch {
	case a.Name < b.Name:
		return -1
	case a.Name > b.Name:
		return 1
	}
	return 0
}

// observeResponse records that the response pushed last for the type was
// sent, under nonce.
func (c *cache) observeResponse(key streamKey, typeURL string, ptr any, nonce string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[key]
	if st == nil {
		return
	}
	ts := st.types[typeURL]
	if ts == nil || ts.inflight != ptr {
		return
	}
	ts.sent = ts.inflightRec
	ts.sent.nonce = nonce
	ts.answered = false
	ts.inflight = nil
}
