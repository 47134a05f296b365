package xds

import (
	"slices"
	"sort"
	"time"

	"tollgate.dev/tollgate/internal/model"
)

// NodeState says whether a connected proxy is being served.
type NodeState string

// Node states.
const (
	// NodeServing: the proxy's gateway is known and configuration is loaded.
	NodeServing NodeState = "serving"
	// NodeUnknownGateway: node.cluster names no gateway; the proxy is sent
	// nothing until such a gateway exists.
	NodeUnknownGateway NodeState = "unknown gateway"
	// NodeWaiting: no configuration has been loaded since start; the proxy
	// keeps what it has until then.
	NodeWaiting NodeState = "waiting for configuration"
)

// NodeStatus is one connected proxy (one ADS stream).
type NodeStatus struct {
	// NodeID is node.id from the proxy's first request.
	NodeID string `json:"nodeId"`
	// Gateway is node.cluster from the proxy's first request.
	Gateway string `json:"gateway"`
	// Stream identifies the stream among those of its protocol (IDs of SotW
	// and delta streams overlap).
	Stream int64 `json:"stream"`
	// Delta is true for incremental xDS streams.
	Delta bool `json:"delta"`
	// ConnectedSince is when the stream opened.
	ConnectedSince time.Time `json:"connectedSince"`
	// State says whether the proxy is being served.
	State NodeState `json:"state"`
	// Types has one entry per resource type URL the proxy asked for.
	Types map[string]TypeStatus `json:"types"`
	// InSync is true when the proxy holds, and has ACKed, exactly the
	// current version of every resource it subscribes to: it runs the
	// latest configuration ("Programmed").
	InSync bool `json:"inSync"`
}

// TypeStatus is what one proxy was sent and accepted of one type.
type TypeStatus struct {
	// SentVersion is the version of the last response sent: SotW
	// version_info, or for delta a hash of the full set the proxy then holds
	// (both are the same function of the proxy's resources).
	SentVersion string `json:"sentVersion"`
	// SentNonce is the nonce of that response.
	SentNonce string `json:"sentNonce"`
	// AckedVersion is the version of the last response the proxy accepted.
	AckedVersion string `json:"ackedVersion"`
	// NACKed is true while the latest answered response was rejected.
	NACKed bool `json:"nacked"`
	// LastNACK is the most recent rejection, kept after later ACKs.
	LastNACK *NACK `json:"lastNack,omitempty"`
}

// NACK is one rejected response.
type NACK struct {
	// At is when the rejection arrived.
	At time.Time `json:"at"`
	// Nonce and Version identify the rejected response.
	Nonce   string `json:"nonce"`
	Version string `json:"version"`
	// Message is the proxy's error_detail message.
	Message string `json:"message"`
	// Resources are the names of the blamed resources.
	Resources []string `json:"resources"`
	// Sources are the definitions those resources were built from.
	Sources []model.Key `json:"sources"`
}

// GatewayStatus is a gateway's served configuration and its proxies.
type GatewayStatus struct {
	// Name is the gateway's name.
	Name string `json:"name"`
	// Known is false when the control plane serves no such gateway.
	Known bool `json:"known"`
	// Versions is the content version of each type for the whole gateway
	// (equal to what a wildcard SotW proxy is sent).
	Versions map[string]string `json:"versions"`
	// Nodes are the connected proxies presenting this gateway.
	Nodes []NodeStatus `json:"nodes"`
}

// ProxyProblem is one proxy currently rejecting resources built from a
// definition.
type ProxyProblem struct {
	// NodeID and Gateway identify the proxy.
	NodeID  string `json:"nodeId"`
	Gateway string `json:"gateway"`
	// TypeURL is the rejected resources' type.
	TypeURL string `json:"typeUrl"`
	// Version is the rejected response's version.
	Version string `json:"version"`
	// Message is the proxy's error_detail message.
	Message string `json:"message"`
	// Resources are the blamed resources of the rejected response (built
	// from this definition and possibly others).
	Resources []string `json:"resources"`
}

// nodes snapshots every stream's status, sorted by node then stream.
func (c *cache) nodes(gateway string, all bool) []NodeStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]NodeStatus, 0, len(c.streams))
	for _, st := range c.streams {
		if all || st.gateway == gateway {
			out = append(out, c.nodeStatus(st))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].NodeID != out[j].NodeID {
			return out[i].NodeID < out[j].NodeID
		}
		if out[i].Delta != out[j].Delta {
			return !out[i].Delta
		}
		return out[i].Stream < out[j].Stream
	})
	return out
}

func (c *cache) nodeStatus(st *streamState) NodeStatus {
	ns := NodeStatus{
		NodeID: st.nodeID, Gateway: st.gateway, Stream: st.key.id, Delta: st.key.delta,
		ConnectedSince: st.connected, State: NodeServing,
		Types: make(map[string]TypeStatus, len(st.types)),
	}
	switch {
	case !c.loaded:
		ns.State = NodeWaiting
	case c.gateways[st.gateway] == nil:
		ns.State = NodeUnknownGateway
	}
	g := c.gateways[st.gateway]
	ns.InSync = ns.State == NodeServing && len(st.types) > 0
	for t, ts := range st.types {
		tstat := TypeStatus{
			SentVersion: ts.sent.version, SentNonce: ts.sent.nonce,
			AckedVersion: ts.acked, NACKed: ts.nacked, LastNACK: copyNACK(ts.lastNACK),
		}
		if provenHolding(ts) {
			// A reconnecting proxy showed it already holds this version, so
			// nothing was sent on this stream: that counts as its ACK.
			tstat.AckedVersion = hashVersion(ts.haveHash)
		}
		ns.Types[t] = tstat
		if ns.InSync && !typeInSync(g, t, ts) {
			ns.InSync = false
		}
	}
	return ns
}

// provenHolding reports whether the proxy proved what it holds of a type
// when it reconnected (SotW version_info or delta initial_resource_versions
// matching the served state) and was therefore sent nothing on this stream.
func provenHolding(ts *typeState) bool { return ts.synced && ts.sent.nonce == "" }

// typeInSync reports whether a stream's proxy has ACKed exactly what g
// currently serves for the names it subscribes to (all of them for a
// wildcard subscription).
func typeInSync(g *gatewayState, typeURL string, ts *typeState) bool {
	if g == nil || !ts.synced {
		return false
	}
	if !provenHolding(ts) && (!ts.answered || ts.nacked || ts.acked != ts.sent.version) {
		return false
	}
	current := g.resources[typeURL]
	want := 0
	for name, e := range current {
		if _, sub := ts.subscribed[name]; !ts.wildcard && !sub {
			continue
		}
		want++
		if have := ts.have[name]; have == nil || have.version != e.version {
			return false
		}
	}
	return len(ts.have) == want
}

func copyNACK(n *NACK) *NACK {
	if n == nil {
		return nil
	}
	cp := *n
	cp.Resources = slices.Clone(n.Resources)
	cp.Sources = slices.Clone(n.Sources)
	return &cp
}

// gatewayStatus reports one gateway.
func (c *cache) gatewayStatus(name string) GatewayStatus {
	gs := GatewayStatus{Name: name, Nodes: c.nodes(name, false)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if g := c.gateways[name]; g != nil {
		gs.Known = true
		gs.Versions = make(map[string]string, len(g.versions))
		for t, v := range g.versions {
			gs.Versions[t] = v
		}
	}
	return gs
}

// definitionStatus lists the proxies whose latest answer for a type is a
// NACK blaming key.
func (c *cache) definitionStatus(key model.Key) []ProxyProblem {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []ProxyProblem
	for _, st := range c.streams {
		for t, ts := range st.types {
			n := ts.lastNACK
			if !ts.nacked || n == nil || !slices.Contains(n.Sources, key) {
				continue
			}
			out = append(out, ProxyProblem{
				NodeID: st.nodeID, Gateway: st.gateway, TypeURL: t, Version: n.Version,
				Message: n.Message, Resources: slices.Clone(n.Resources),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].NodeID != out[j].NodeID {
			return out[i].NodeID < out[j].NodeID
		}
		return out[i].TypeURL < out[j].TypeURL
	})
	return out
}
