package translate

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"tollgate.dev/tollgate/internal/translate/ir"
)

// buildLoadAssignment is the EDS resource of a cluster with static
// endpoints, one group per locality. It is named by the cluster's EDS
// service name, which is the cluster name.
func buildLoadAssignment(c *ir.Cluster) *endpointv3.ClusterLoadAssignment {
	out := &endpointv3.ClusterLoadAssignment{ClusterName: c.Name}
	for _, l := range c.Localities {
		// Always a Locality, empty when none is given: grpc-go NACKs an EDS
		// response with "a locality without ID" otherwise.
		group := &endpointv3.LocalityLbEndpoints{Locality: &corev3.Locality{Region: l.Region, Zone: l.Zone, SubZone: l.SubZone}}
		var total uint32
		for _, e := range l.Endpoints {
			group.LbEndpoints = append(group.LbEndpoints, lbEndpoint(e.Address, e.Port, e.Weight))
			total += max(e.Weight, 1)
		}
		// The locality weight is the sum of its endpoints' weights. Envoy
		// uses it only with locality-weighted balancing, but grpc-go drops a
		// locality without one ("no targets to pick from").
		group.LoadBalancingWeight = wrapperspb.UInt32(total)
		out.Endpoints = append(out.Endpoints, group)
	}
	return out
}

// buildDNSLoadAssignment is the inline assignment of a DNS cluster: its one
// hostname, which Envoy resolves.
func buildDNSLoadAssignment(c *ir.Cluster) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{
		ClusterName: c.Name,
		Endpoints:   []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{lbEndpoint(c.Hostname, c.Port, 0)}}},
	}
}

func lbEndpoint(address string, port, weight uint32) *endpointv3.LbEndpoint {
	ep := &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
		Address: socketAddress(address, port),
	}}}
	if weight > 0 {
		ep.LoadBalancingWeight = wrapperspb.UInt32(weight)
	}
	return ep
}

func socketAddress(address string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       address,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}
