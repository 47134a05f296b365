package xdsclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"math"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// NACKFunc decides whether to reject a response of typeURL: res is what
// the client would hold after applying it, by resource name. A non-empty
// result is sent as the NACK's error_detail message and the response is
// not applied, as Envoy does.
type NACKFunc func(typeURL string, res map[string]*anypb.Any) string

// Options configure a Client.
type Options struct {
	// Delta selects incremental xDS (DeltaAggregatedResources) instead of
	// State of the World (StreamAggregatedResources).
	Delta bool
	// NACK, when set, may reject responses; nil ACKs everything.
	NACK NACKFunc
	// Intern shares identical resources with the other interning clients
	// of the process (intern.go): for load tests holding many proxies.
	Intern bool
	// TLS, when set, dials with TLS (the proxy's certificate, the
	// control plane's CA); plaintext otherwise.
	TLS *tls.Config
}

// Response is one response the client received, as logged.
type Response struct {
	// TypeURL is the response's resource type.
	TypeURL string
	// Version is version_info (SotW) or system_version_info (delta).
	Version string
	// Names are the resources the response carried: sorted for SotW, in
	// arrival order for delta.
	Names []string
	// Removed are a delta response's removed_resources.
	Removed []string
}

// typeView is what the client holds of one type.
type typeView struct {
	names   []string            // subscribed names; nil for wildcard
	nameSet map[string]struct{} // names as a set (nil for wildcard): lists reach 10k names
	version string              // SotW: last ACKed version_info
	nonce   string              // last response nonce
	res     map[string]*anypb.Any
	vers    map[string]string // delta: resource versions
}

// Client is one simulated proxy on one ADS stream. It is driven by one
// goroutine: state changes only inside Next, WaitFor and the subscription
// methods.
type Client struct {
	delta  bool
	tls    *tls.Config
	node   *corev3.Node
	conn   *grpc.ClientConn
	cancel context.CancelFunc
	sotw   discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	dstr   discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	in     chan any
	done   chan struct{}
	types  map[string]*typeView
	log    []Response
	nack   NACKFunc
	// internRes shares received resources with other clients (Options.Intern).
	internRes bool
	// noCheck turns off the route → cluster check.
	noCheck bool
	// routeRefs caches the clusters of each held route configuration for
	// Check; listenerRefs, clusterRefs and scopeRefs what each held
	// listener, cluster and scope references, for follow.
	routeRefs    decodeCache[[]string]
	listenerRefs decodeCache[resourceRefs]
	clusterRefs  decodeCache[resourceRefs]
	scopeRefs    decodeCache[string]
	// check is what the last Check found; routesTouched and clusterGen
	// say what changed since (see changed).
	check         checkState
	routesTouched map[string]struct{}
	clusterGen    uint64
	// holdACK keeps the answers to a type's responses until Release.
	holdACK  map[string]bool
	heldACKs map[string]proto.Message
}

// Dial opens an ADS stream to addr (plaintext gRPC) as node nodeID of
// gateway (node.cluster). It subscribes to nothing yet: call Start. ctx
// bounds the stream's life; Close ends it earlier.
func Dial(ctx context.Context, addr, nodeID, gateway string, opts Options) (*Client, error) {
	// No receive limit, like Envoy (max_receive_message_length 0): a first
	// configuration of 10,000 APIs is one response of several MiB, over
	// grpc-go's 4 MiB default.
	creds := insecure.NewCredentials()
	if opts.TLS != nil {
		creds = credentials.NewTLS(opts.TLS)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)))
	if err != nil {
		return nil, fmt.Errorf("dial %q: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &Client{
		delta: opts.Delta, tls: opts.TLS, conn: conn, cancel: cancel, nack: opts.NACK, internRes: opts.Intern,
		in: make(chan any, 64), done: make(chan struct{}),
		node:  &corev3.Node{Id: nodeID, Cluster: gateway},
		types: map[string]*typeView{},

		routeRefs:    decodeCache[[]string]{},
		listenerRefs: decodeCache[resourceRefs]{},
		clusterRefs:  decodeCache[resourceRefs]{},
		scopeRefs:    decodeCache[string]{},

		routesTouched: map[string]struct{}{},
	}
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	if opts.Delta {
		c.dstr, err = ads.DeltaAggregatedResources(ctx)
	} else {
		c.sotw, err = ads.StreamAggregatedResources(ctx)
	}
	if err != nil {
		cancel()
		_ = conn.Close()
		return nil, fmt.Errorf("node %q: open ADS stream: %w", nodeID, err)
	}
	go c.recvLoop(ctx)
	return c, nil
}

// Close ends the stream and the connection and waits for the receiving
// goroutine to stop.
func (c *Client) Close() error {
	c.cancel()
	err := c.conn.Close()
	<-c.done
	return err
}

// NodeID returns node.id.
func (c *Client) NodeID() string { return c.node.GetId() }

// Gateway returns node.cluster.
func (c *Client) Gateway() string { return c.node.GetCluster() }

// Delta reports whether the client speaks incremental xDS.
func (c *Client) Delta() bool { return c.delta }

// SetNACK replaces the NACK hook (nil: ACK everything).
func (c *Client) SetNACK(f NACKFunc) { c.nack = f }

// SetCheckConsistency turns the route → cluster check after every response
// on (the default) or off, for the documented case where it cannot hold: a
// SotW proxy reconnecting with state the server never saw.
func (c *Client) SetCheckConsistency(on bool) { c.noCheck = !on }

// HoldACKs makes the client keep its answers to responses of typeURL
// instead of sending them, as a slow proxy would, until Release; hold false
// stops holding later answers.
func (c *Client) HoldACKs(typeURL string, hold bool) {
	if c.holdACK == nil {
		c.holdACK = map[string]bool{}
	}
	c.holdACK[typeURL] = hold
}

// Release sends the held answer for typeURL, if any.
func (c *Client) Release(typeURL string) error {
	m := c.heldACKs[typeURL]
	if m == nil {
		return nil
	}
	delete(c.heldACKs, typeURL)
	return c.send(m)
}

func (c *Client) recvLoop(ctx context.Context) {
	defer close(c.done)
	for {
		var m any
		var err error
		if c.delta {
			m, err = c.dstr.Recv()
		} else {
			m, err = c.sotw.Recv()
		}
		if err != nil {
			m = err
		}
		select {
		case c.in <- m:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// Start subscribes like a starting Envoy: CDS and LDS wildcards. The rest
// follows from what they carry.
func (c *Client) Start() error {
	if err := c.Subscribe(resourcev3.ClusterType, nil); err != nil {
		return err
	}
	return c.Subscribe(resourcev3.ListenerType, nil)
}

func (c *Client) view(typeURL string) *typeView {
	v := c.types[typeURL]
	if v == nil {
		v = &typeView{res: map[string]*anypb.Any{}, vers: map[string]string{}}
		c.types[typeURL] = v
	}
	return v
}

// setNames sets the subscribed names (nil: wildcard) and their set.
func (v *typeView) setNames(names []string) {
	v.names, v.nameSet = names, nil
	if names != nil {
		v.nameSet = make(map[string]struct{}, len(names))
		for _, n := range names {
			v.nameSet[n] = struct{}{}
		}
	}
}

// wants reports whether the subscription asks for name.
func (v *typeView) wants(name string) bool {
	if v.names == nil {
		return true
	}
	_, ok := v.nameSet[name]
	return ok
}

// Subscribe sets the names of a type (nil: wildcard) and tells the server,
// unless the subscription is unchanged (Envoy sends nothing then).
func (c *Client) Subscribe(typeURL string, names []string) error {
	_, existed := c.types[typeURL]
	v := c.view(typeURL)
	old, oldSet := v.names, v.nameSet
	if existed && slices.Equal(old, names) && (names != nil || old != nil) {
		v.names = names // the same names: the set still holds
		return nil
	}
	v.setNames(names)
	if names != nil {
		// Like Envoy, forget what it no longer subscribes to (both
		// protocols): the server sends no removal for it.
		var forgotten []string
		for _, n := range old {
			if !v.wants(n) {
				delete(v.res, n)
				delete(v.vers, n)
				forgotten = append(forgotten, n)
			}
		}
		c.changed(typeURL, forgotten, false)
	}
	if !c.delta {
		return c.send(&discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: typeURL, ResourceNames: names, VersionInfo: v.version, ResponseNonce: v.nonce})
	}
	req := &discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: typeURL}
	for _, n := range names {
		if _, was := oldSet[n]; !was {
			req.ResourceNamesSubscribe = append(req.ResourceNamesSubscribe, n)
		}
	}
	for _, n := range old {
		if _, is := v.nameSet[n]; !is {
			req.ResourceNamesUnsubscribe = append(req.ResourceNamesUnsubscribe, n)
		}
	}
	if existed && len(req.ResourceNamesSubscribe)+len(req.ResourceNamesUnsubscribe) == 0 {
		return nil
	}
	return c.send(req)
}

func (c *Client) send(m proto.Message) error {
	var err error
	if c.delta {
		err = c.dstr.Send(m.(*discoveryv3.DeltaDiscoveryRequest))
	} else {
		err = c.sotw.Send(m.(*discoveryv3.DiscoveryRequest))
	}
	if err != nil {
		return fmt.Errorf("node %q: send: %w", c.node.GetId(), err)
	}
	return nil
}

// answer sends (or holds) the ACK or NACK of a response.
func (c *Client) answer(typeURL string, m proto.Message) error {
	if c.holdACK[typeURL] {
		if c.heldACKs == nil {
			c.heldACKs = map[string]proto.Message{}
		}
		c.heldACKs[typeURL] = m
		return nil
	}
	return c.send(m)
}

// Next waits for the next response, applies it unless the NACK hook
// rejects it, answers it, follows what it references and checks
// consistency. A *InconsistencyError means the response was handled in
// full and left the client holding a route to a missing cluster; any other
// error (stream ended, ctx done, undecodable response) ends the client's
// usefulness.
func (c *Client) Next(ctx context.Context) (Response, error) {
	var m any
	select {
	case m = <-c.in:
	case <-ctx.Done():
		return Response{}, fmt.Errorf("node %q: waiting for a response: %w", c.node.GetId(), ctx.Err())
	case <-c.done:
		// The stream's context ended; what it received before still counts.
		select {
		case m = <-c.in:
		default:
			return Response{}, fmt.Errorf("node %q: stream closed", c.node.GetId())
		}
	}
	if err, ok := m.(error); ok {
		return Response{}, fmt.Errorf("node %q: stream ended: %w", c.node.GetId(), err)
	}
	n := len(c.log)
	var err error
	if c.delta {
		err = c.handleDelta(m.(*discoveryv3.DeltaDiscoveryResponse))
	} else {
		err = c.handleSotw(m.(*discoveryv3.DiscoveryResponse))
	}
	var r Response
	if len(c.log) > n {
		r = c.log[n]
	}
	if err != nil {
		return r, err
	}
	if c.noCheck {
		return r, nil
	}
	return r, c.Check()
}

// WaitFor handles responses until cond holds (it is checked first). It
// returns the first error of Next, including an *InconsistencyError; call
// it again to continue after one.
func (c *Client) WaitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		if _, err := c.Next(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) handleSotw(r *discoveryv3.DiscoveryResponse) error {
	v := c.view(r.GetTypeUrl())
	var res map[string]*anypb.Any
	if !FullStateSotw(r.GetTypeUrl()) {
		// Pseudo-delta: a response carries what changed; the rest stays
		// until unsubscribed (Envoy ignores an update that lacks a
		// subscribed route configuration, endpoints or secret). Clone, not
		// Copy into a new map: it copies the table without rehashing.
		res = maps.Clone(v.res)
	}
	if res == nil {
		res = make(map[string]*anypb.Any, len(r.GetResources()))
	}
	var carried []string
	for _, a := range r.GetResources() {
		name, err := resourceName(a)
		if err != nil {
			return fmt.Errorf("node %q: %w", c.node.GetId(), err)
		}
		// Like Envoy's watch map, drop what no subscription asks for: a
		// response sent before an unsubscribe arrived must not bring an
		// unsubscribed resource back.
		if v.wants(name) {
			if c.internRes {
				a = intern(a)
			}
			res[name] = a
			carried = append(carried, name)
		}
	}
	slices.Sort(carried)
	c.log = append(c.log, Response{TypeURL: r.GetTypeUrl(), Version: r.GetVersionInfo(), Names: carried})
	v.nonce = r.GetNonce()
	req := &discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: r.GetTypeUrl(), ResourceNames: v.names, ResponseNonce: v.nonce}
	if msg := c.rejects(r.GetTypeUrl(), res); msg != "" {
		req.VersionInfo = v.version
		req.ErrorDetail = &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: msg}
		return c.send(req)
	}
	v.res, v.version = res, r.GetVersionInfo()
	c.changed(r.GetTypeUrl(), carried, FullStateSotw(r.GetTypeUrl()))
	req.VersionInfo = v.version
	if err := c.answer(r.GetTypeUrl(), req); err != nil {
		return err
	}
	return c.follow(r.GetTypeUrl())
}

// FullStateSotw reports whether a state-of-the-world response of typeURL
// carries the complete set (listeners, clusters, and scopes as Envoy treats
// them) rather than only what changed (every other type, per the xDS
// protocol).
func FullStateSotw(typeURL string) bool {
	switch typeURL {
	case resourcev3.ListenerType, resourcev3.ClusterType, resourcev3.ScopedRouteType:
		return true
	}
	return false
}

func (c *Client) handleDelta(r *discoveryv3.DeltaDiscoveryResponse) error {
	v := c.view(r.GetTypeUrl())
	next := maps.Clone(v.res)
	var names []string
	for _, res := range r.GetResources() {
		a := res.GetResource()
		if c.internRes {
			a = intern(a)
		}
		next[res.GetName()] = a
		names = append(names, res.GetName())
	}
	for _, n := range r.GetRemovedResources() {
		delete(next, n)
	}
	c.log = append(c.log, Response{TypeURL: r.GetTypeUrl(), Version: r.GetSystemVersionInfo(), Names: names, Removed: r.GetRemovedResources()})
	v.nonce = r.GetNonce()
	req := &discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: r.GetTypeUrl(), ResponseNonce: v.nonce}
	if msg := c.rejects(r.GetTypeUrl(), next); msg != "" {
		req.ErrorDetail = &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: msg}
		return c.send(req)
	}
	v.res = next
	c.changed(r.GetTypeUrl(), names, false)
	c.changed(r.GetTypeUrl(), r.GetRemovedResources(), false)
	for _, res := range r.GetResources() {
		v.vers[res.GetName()] = res.GetVersion()
	}
	for _, n := range r.GetRemovedResources() {
		delete(v.vers, n)
	}
	if err := c.answer(r.GetTypeUrl(), req); err != nil {
		return err
	}
	return c.follow(r.GetTypeUrl())
}

// changed notes, for Check, that the held resources of typeURL named
// names were set or removed; all says that any of them may have changed
// (a State of the World response replacing the whole type).
func (c *Client) changed(typeURL string, names []string, all bool) {
	switch typeURL {
	case resourcev3.RouteType:
		if all {
			c.check.valid = false
		}
		for _, n := range names {
			c.routesTouched[n] = struct{}{}
		}
	case resourcev3.ClusterType:
		if all || len(names) > 0 {
			c.clusterGen++
		}
	}
}

func (c *Client) rejects(typeURL string, res map[string]*anypb.Any) string {
	if c.nack == nil {
		return ""
	}
	return c.nack(typeURL, res)
}

// follow subscribes to what clusters, listeners and scopes reference, as
// Envoy does: EDS after CDS, RDS after LDS, SDS after either; and when a
// listener routes by host, the SRDS wildcard after LDS and RDS after SRDS.
// A type is first subscribed when something names a resource of it.
func (c *Client) follow(typeURL string) error {
	switch typeURL {
	case resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.ScopedRouteType:
	default:
		return nil
	}
	refs, err := c.references()
	if err != nil {
		return fmt.Errorf("node %q: %w", c.node.GetId(), err)
	}
	if typeURL == resourcev3.ClusterType {
		if err := c.subscribeReferenced(resourcev3.EndpointType, sortedKeys(c.types[typeURL].res)); err != nil {
			return err
		}
		return c.subscribeReferenced(resourcev3.SecretType, sortedKeys(refs.secrets))
	}
	if _, subscribed := c.types[resourcev3.ScopedRouteType]; refs.scoped && !subscribed {
		if err := c.Subscribe(resourcev3.ScopedRouteType, nil); err != nil {
			return err
		}
	}
	if err := c.subscribeReferenced(resourcev3.RouteType, sortedKeys(refs.routes)); err != nil {
		return err
	}
	if typeURL == resourcev3.ScopedRouteType {
		return nil
	}
	return c.subscribeReferenced(resourcev3.SecretType, sortedKeys(refs.secrets))
}

// subscribeReferenced subscribes typeURL to names once anything is named;
// Envoy sends no request for a type nothing references.
func (c *Client) subscribeReferenced(typeURL string, names []string) error {
	if _, subscribed := c.types[typeURL]; !subscribed && len(names) == 0 {
		return nil
	}
	return c.Subscribe(typeURL, names)
}
