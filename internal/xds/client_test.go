package xds

import (
	"context"
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// waitFor bounds every wait on a condition; it is a deadline, not a
// timing assertion.
const waitFor = 20 * time.Second

// typeView is what the test proxy holds of one type.
type typeView struct {
	names   []string // subscribed names; nil for wildcard
	version string   // SotW: last ACKed version_info
	nonce   string   // last response nonce
	res     map[string]*anypb.Any
	vers    map[string]string // delta: resource versions
}

// received logs one response.
type received struct {
	typeURL string
	version string
	names   []string
	removed []string
}

// adsClient behaves like Envoy on one ADS stream (SotW or delta): it
// subscribes CDS and LDS as wildcards, then EDS, RDS and SDS by the names
// the clusters and listeners reference; it ACKs every response unless nack
// says to reject it; and it checks after every response that no route names
// a cluster it does not hold.
type adsClient struct {
	t     *testing.T
	delta bool
	node  *corev3.Node
	conn  *grpc.ClientConn
	sotw  discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	dstr  discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	in    chan any
	types map[string]*typeView
	log   []received
	// nack returns a non-empty message to reject a response with.
	nack func(typeURL string, res map[string]*anypb.Any) string
	// inconsistentOK turns off the route → cluster check, for the one
	// documented case where it cannot hold (a SotW proxy reconnecting with
	// state the server never saw).
	inconsistentOK bool
	// holdAck keeps the answers to a type's responses until release, as a
	// slow proxy would.
	holdAck map[string]bool
	held    map[string]proto.Message
}

// release sends the held answer for typeURL.
func (c *adsClient) release(typeURL string) {
	if m := c.held[typeURL]; m != nil {
		delete(c.held, typeURL)
		c.send(m)
	}
}

// answer sends (or holds) the ACK or NACK of a response.
func (c *adsClient) answer(typeURL string, m proto.Message) {
	if c.holdAck[typeURL] {
		if c.held == nil {
			c.held = map[string]proto.Message{}
		}
		c.held[typeURL] = m
		return
	}
	c.send(m)
}

func dialADS(t *testing.T, addr, nodeID, gateway string, delta bool) *adsClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	c := &adsClient{
		t: t, delta: delta, conn: conn, in: make(chan any, 64),
		node:  &corev3.Node{Id: nodeID, Cluster: gateway},
		types: map[string]*typeView{},
	}
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	if delta {
		c.dstr, err = ads.DeltaAggregatedResources(ctx)
	} else {
		c.sotw, err = ads.StreamAggregatedResources(ctx)
	}
	require.NoError(t, err)
	go c.recvLoop()
	t.Cleanup(func() { cancel(); _ = conn.Close() })
	return c
}

func (c *adsClient) recvLoop() {
	for {
		var m any
		var err error
		if c.delta {
			m, err = c.dstr.Recv()
		} else {
			m, err = c.sotw.Recv()
		}
		if err != nil {
			c.in <- err
			return
		}
		c.in <- m
	}
}

// start subscribes like a starting Envoy: CDS and LDS wildcards.
func (c *adsClient) start() {
	c.subscribe(resourcev3.ClusterType, nil)
	c.subscribe(resourcev3.ListenerType, nil)
}

func (c *adsClient) view(typeURL string) *typeView {
	v := c.types[typeURL]
	if v == nil {
		v = &typeView{res: map[string]*anypb.Any{}, vers: map[string]string{}}
		c.types[typeURL] = v
	}
	return v
}

// subscribe sets the names of a type (nil: wildcard) and tells the server.
func (c *adsClient) subscribe(typeURL string, names []string) {
	_, existed := c.types[typeURL]
	v := c.view(typeURL)
	old := v.names
	v.names = names
	if existed && slices.Equal(old, names) && (names != nil || old != nil) {
		return // Envoy sends nothing when its subscription is unchanged
	}
	if !c.delta {
		c.send(&discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: typeURL, ResourceNames: names, VersionInfo: v.version, ResponseNonce: v.nonce})
		return
	}
	req := &discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: typeURL}
	for _, n := range names {
		if !slices.Contains(old, n) {
			req.ResourceNamesSubscribe = append(req.ResourceNamesSubscribe, n)
		}
	}
	for _, n := range old {
		if !slices.Contains(names, n) {
			req.ResourceNamesUnsubscribe = append(req.ResourceNamesUnsubscribe, n)
		}
	}
	if existed && len(req.ResourceNamesSubscribe)+len(req.ResourceNamesUnsubscribe) == 0 {
		return
	}
	c.send(req)
}

func (c *adsClient) send(m proto.Message) {
	var err error
	if c.delta {
		err = c.dstr.Send(m.(*discoveryv3.DeltaDiscoveryRequest))
	} else {
		err = c.sotw.Send(m.(*discoveryv3.DiscoveryRequest))
	}
	require.NoError(c.t, err)
}

// pumpUntil handles responses until cond holds.
func (c *adsClient) pumpUntil(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.After(waitFor)
	for !cond() {
		select {
		case m := <-c.in:
			if err, ok := m.(error); ok {
				c.t.Fatalf("%s: waiting for %s: stream ended: %v", c.node.GetId(), what, err)
			}
			c.handle(m)
		case <-deadline:
			c.t.Fatalf("%s: no %s within %v; responses so far: %+v", c.node.GetId(), what, waitFor, c.log)
		}
	}
}

// next handles and returns the next response.
func (c *adsClient) next() received {
	c.t.Helper()
	n := len(c.log)
	c.pumpUntil("a response", func() bool { return len(c.log) > n })
	return c.log[n]
}

func (c *adsClient) handle(m any) {
	if c.delta {
		c.handleDelta(m.(*discoveryv3.DeltaDiscoveryResponse))
	} else {
		c.handleSotw(m.(*discoveryv3.DiscoveryResponse))
	}
	c.checkConsistent()
}

func (c *adsClient) handleSotw(r *discoveryv3.DiscoveryResponse) {
	v := c.view(r.GetTypeUrl())
	res := map[string]*anypb.Any{}
	for _, a := range r.GetResources() {
		res[resourceName(c.t, a)] = a
	}
	c.log = append(c.log, received{typeURL: r.GetTypeUrl(), version: r.GetVersionInfo(), names: sortedKeys(res)})
	v.nonce = r.GetNonce()
	req := &discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: r.GetTypeUrl(), ResourceNames: v.names, ResponseNonce: v.nonce}
	if msg := c.rejects(r.GetTypeUrl(), res); msg != "" {
		req.VersionInfo = v.version
		req.ErrorDetail = &rpcstatus.Status{Code: 3, Message: msg}
		c.send(req)
		return
	}
	v.res, v.version = res, r.GetVersionInfo()
	req.VersionInfo = v.version
	c.answer(r.GetTypeUrl(), req)
	c.follow(r.GetTypeUrl())
}

func (c *adsClient) handleDelta(r *discoveryv3.DeltaDiscoveryResponse) {
	v := c.view(r.GetTypeUrl())
	next := maps.Clone(v.res)
	for _, res := range r.GetResources() {
		next[res.GetName()] = res.GetResource()
	}
	for _, n := range r.GetRemovedResources() {
		delete(next, n)
	}
	var names []string
	for _, res := range r.GetResources() {
		names = append(names, res.GetName())
	}
	c.log = append(c.log, received{typeURL: r.GetTypeUrl(), version: r.GetSystemVersionInfo(), names: names, removed: r.GetRemovedResources()})
	v.nonce = r.GetNonce()
	req := &discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: r.GetTypeUrl(), ResponseNonce: v.nonce}
	if msg := c.rejects(r.GetTypeUrl(), next); msg != "" {
		req.ErrorDetail = &rpcstatus.Status{Code: 3, Message: msg}
		c.send(req)
		return
	}
	v.res = next
	for _, res := range r.GetResources() {
		v.vers[res.GetName()] = res.GetVersion()
	}
	for _, n := range r.GetRemovedResources() {
		delete(v.vers, n)
	}
	c.answer(r.GetTypeUrl(), req)
	c.follow(r.GetTypeUrl())
}

func (c *adsClient) rejects(typeURL string, res map[string]*anypb.Any) string {
	if c.nack == nil {
		return ""
	}
	return c.nack(typeURL, res)
}

// follow subscribes by name to what clusters and listeners reference, as
// Envoy does.
func (c *adsClient) follow(typeURL string) {
	switch typeURL {
	case resourcev3.ClusterType:
		c.subscribe(resourcev3.EndpointType, sortedKeys(c.types[typeURL].res))
	case resourcev3.ListenerType:
		var routes []string
		for _, a := range c.types[typeURL].res {
			if n := rdsName(c.t, a); n != "" && !slices.Contains(routes, n) {
				routes = append(routes, n)
			}
		}
		sort.Strings(routes)
		c.subscribe(resourcev3.RouteType, routes)
		if c.types[resourcev3.SecretType] == nil {
			c.subscribe(resourcev3.SecretType, []string{"s1"})
		}
	}
}
