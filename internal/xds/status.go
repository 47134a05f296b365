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
	NodeID string
	// Gateway is node.cluster from the proxy's first request.
	Gateway string
	// Stream identifies the stream among those of its protocol (IDs of SotW
	// and delta streams overlap).
	Stream int64
	// Delta is true for incremental xDS streams.
	Delta bool
	// ConnectedSince is when the stream opened.
	ConnectedSince time.Time
	// State says whether the proxy is being served.
	State NodeState
	// Types has one entry per resource type URL the proxy asked for.
	Types map[string]TypeStatus
}

// TypeStatus is what one proxy was sent and accepted of one type.
type TypeStatus struct {
	// SentVersion is the version of the last response sent: SotW
	// version_info, or for delta a hash of the full set the proxy then holds
	// (both are the same function of the proxy's resources).
	SentVersion string
	// SentNonce is the nonce of that response.
	SentNonce string
	// AckedVersion is the version of the last response the proxy accepted.
	AckedVersion string
	// NACKed is true while the latest answered response was rejected.
	NACKed bool
	// LastNACK is the most recent rejection, kept after later ACKs.
	LastNACK *NACK
}

// NACK is one rejected response.
type NACK struct {
	// At is when the rejection arrived.
	At time.Time
	// Nonce and Version identify the rejected response.
	Nonce, Version string
	// Message is the proxy's error_detail message.
	Message string
	// Resources are the names of the blamed resources.
	Resources []string
	// Sources are the definitions those resources were built from.
	Sources []model.Key
}

// GatewayStatus is a gateway's served configuration and its proxies.
type GatewayStatus struct {
	// Name is the gateway's name.
	Name string
	// Known is false when the control plane serves no such gateway.
	Known bool
	// Versions is the content version of each type for the whole gateway
	// (equal to what a wildcard SotW proxy is sent).
	Versions map[string]string
	// Nodes are the connected proxies presenting this gateway.
	Nodes []NodeStatus
}

// ProxyProblem is one proxy currently rejecting resources built from a
// definition.
type ProxyProblem struct {
	// NodeID and Gateway identify the proxy.
	NodeID, Gateway string
	// TypeURL is the rejected resources' type.
	TypeURL string
	// Version is the rejected response's version.
	Version string
	// Message is the proxy's error_detail message.
	Message string
	// Resources are the blamed resources of the rejected response (built
	// from this definition and possibly others).
	Resources []string
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
	for t, ts := range st.types {
		ts := TypeStatus{
			SentVersion: ts.sent.version, SentNonce: ts.sent.nonce,
			AckedVersion: ts.acked, NACKed: ts.nacked, LastNACK: copyNACK(ts.lastNACK),
		}
		ns.Types[t] = ts
	}
	return ns
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
