package xdsclient

import (
	"context"
	"errors"
	"maps"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// Reconnect opens a new stream to addr that resumes c's state the way Envoy
// does: SotW requests carry the last ACKed version_info and the names,
// delta requests carry initial_resource_versions. The new client has c's
// NACK hook and consistency setting; c is left as it is.
func (c *Client) Reconnect(ctx context.Context, addr string) (*Client, error) {
	n, err := Dial(ctx, addr, c.node.GetId(), c.node.GetCluster(), Options{Delta: c.delta, NACK: c.nack, TLS: c.tls})
	if err != nil {
		return nil, err
	}
	n.noCheck = c.noCheck
	for _, typeURL := range resumeOrder {
		v := c.types[typeURL]
		if v == nil {
			continue
		}
		nv := n.view(typeURL)
		nv.setNames(v.names)
		nv.version, nv.res, nv.vers = v.version, maps.Clone(v.res), maps.Clone(v.vers)
		if c.delta {
			err = n.send(&discoveryv3.DeltaDiscoveryRequest{
				Node: n.node, TypeUrl: typeURL, ResourceNamesSubscribe: v.names, InitialResourceVersions: v.vers,
			})
		} else {
			err = n.send(&discoveryv3.DiscoveryRequest{Node: n.node, TypeUrl: typeURL, ResourceNames: v.names, VersionInfo: v.version})
		}
		if err != nil {
			return nil, errors.Join(err, n.Close())
		}
	}
	return n, nil
}

// resumeOrder is the order in which a reconnecting client re-subscribes.
var resumeOrder = []string{
	resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.EndpointType,
	resourcev3.ScopedRouteType, resourcev3.RouteType, resourcev3.SecretType,
}
