package xds

import (
	"maps"
	"slices"
	"sort"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/anypb"
)

// checkConsistent fails the test when a route names a cluster the client
// does not hold.
func (c *adsClient) checkConsistent() {
	if c.inconsistentOK {
		return
	}
	clusters := c.view(resourcev3.ClusterType).res
	for name, a := range c.view(resourcev3.RouteType).res {
		rc := &routev3.RouteConfiguration{}
		require.NoError(c.t, a.UnmarshalTo(rc))
		for _, cl := range routeClusters(rc) {
			if _, ok := clusters[cl]; !ok {
				c.t.Errorf("%s: route %q names cluster %q it does not have (log %+v)", c.node.GetId(), name, cl, c.log)
			}
		}
	}
}

func routeClusters(rc *routev3.RouteConfiguration) []string {
	var out []string
	for _, vh := range rc.GetVirtualHosts() {
		for _, r := range vh.GetRoutes() {
			ra := r.GetRoute()
			if cl := ra.GetCluster(); cl != "" {
				out = append(out, cl)
			}
			for _, w := range ra.GetWeightedClusters().GetClusters() {
				out = append(out, w.GetName())
			}
		}
	}
	return out
}

func rdsName(t *testing.T, a *anypb.Any) string {
	l := &listenerv3.Listener{}
	require.NoError(t, a.UnmarshalTo(l))
	var cfgs []*anypb.Any
	if al := l.GetApiListener().GetApiListener(); al != nil {
		cfgs = append(cfgs, al)
	}
	for _, fc := range l.GetFilterChains() {
		for _, f := range fc.GetFilters() {
			cfgs = append(cfgs, f.GetTypedConfig())
		}
	}
	for _, cfg := range cfgs {
		h := &hcmv3.HttpConnectionManager{}
		if cfg.UnmarshalTo(h) == nil && h.GetRds() != nil {
			return h.GetRds().GetRouteConfigName()
		}
	}
	return ""
}

func resourceName(t *testing.T, a *anypb.Any) string {
	m, err := a.UnmarshalNew()
	require.NoError(t, err)
	type named interface{ GetName() string }
	if cla, ok := m.(interface{ GetClusterName() string }); ok {
		return cla.GetClusterName()
	}
	n, ok := m.(named)
	require.True(t, ok, "resource %T has no name", m)
	return n.GetName()
}

// has returns the names the client holds of a type.
func (c *adsClient) has(typeURL string) []string { return sortedKeys(c.view(typeURL).res) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// routeWeights returns cluster → weight over the held routes.
func (c *adsClient) routeWeights() map[string]uint32 {
	out := map[string]uint32{}
	for _, a := range c.view(resourcev3.RouteType).res {
		rc := &routev3.RouteConfiguration{}
		require.NoError(c.t, a.UnmarshalTo(rc))
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				for _, w := range r.GetRoute().GetWeightedClusters().GetClusters() {
					out[w.GetName()] = w.GetWeight().GetValue()
				}
			}
		}
	}
	return out
}

// logHas reports whether a response of typeURL arrived since mark.
func (c *adsClient) logHas(mark int, typeURL string) bool { return c.typeIndex(mark, typeURL) >= 0 }

// typeIndex is the index of the last response of typeURL since mark, or -1.
func (c *adsClient) typeIndex(mark int, typeURL string) int {
	for i := len(c.log) - 1; i >= mark; i-- {
		if c.log[i].typeURL == typeURL {
			return i
		}
	}
	return -1
}

// removedIn reports whether name was in a delta removal since mark.
func (c *adsClient) removedIn(mark int, typeURL, name string) bool {
	for _, r := range c.log[mark:] {
		if r.typeURL == typeURL && slices.Contains(r.removed, name) {
			return true
		}
	}
	return false
}

// reconnect opens a new stream to addr that resumes c's state the way Envoy
// does: SotW requests carry the last ACKed version_info and the names,
// delta requests carry initial_resource_versions.
func (c *adsClient) reconnect(addr string) *adsClient {
	c.t.Helper()
	n := dialADS(c.t, addr, c.node.GetId(), c.node.GetCluster(), c.delta)
	for _, typeURL := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.EndpointType, resourcev3.RouteType, resourcev3.SecretType} {
		v := c.types[typeURL]
		if v == nil {
			continue
		}
		nv := n.view(typeURL)
		nv.names, nv.version, nv.res, nv.vers = v.names, v.version, maps.Clone(v.res), maps.Clone(v.vers)
		if c.delta {
			n.send(&discoveryv3.DeltaDiscoveryRequest{
				Node: n.node, TypeUrl: typeURL, ResourceNamesSubscribe: v.names, InitialResourceVersions: v.vers,
			})
		} else {
			n.send(&discoveryv3.DiscoveryRequest{Node: n.node, TypeUrl: typeURL, ResourceNames: v.names, VersionInfo: v.version})
		}
	}
	return n
}
