package translate

import (
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
)

// Output is the translation of one consistent store snapshot: the complete
// Envoy configuration of every gateway, and the status of every definition.
// It is immutable once returned; the xDS server shares it between streams.
type Output struct {
	// Revision is the store revision that was translated.
	Revision uint64
	// Gateways holds each gateway's configuration, by gateway name. Every
	// Gateway object has an entry, even when nothing attaches to it.
	Gateways map[string]*GatewayConfig
	// Status has one entry per definition in the snapshot.
	Status map[model.Key]*Status
}

// GatewayConfig is the complete Envoy configuration of one gateway.
type GatewayConfig struct {
	// Name is the Gateway's name; proxies present it as node.cluster.
	Name string
	// Mode is the Gateway's mode (model.GatewayMode*).
	Mode string
	// Resources are grouped by xDS type URL (resourcev3.ListenerType,
	// RouteType, ClusterType, EndpointType, SecretType), each list sorted by
	// name, names unique within a type. Only secrets this gateway's
	// listeners or clusters reference appear here.
	Resources map[string][]Resource
}

// Resource is one Envoy resource and where it came from.
type Resource struct {
	// Name is the xDS resource name (see names.go).
	Name string
	// Message is the Envoy resource (a listenerv3.Listener, a
	// routev3.RouteConfiguration, …). It passed ValidateAll.
	Message proto.Message
	// Sources are the definitions this resource was built from, sorted, so
	// a NACK of the resource can be shown on exactly those definitions.
	Sources []model.Key
}

// Status is how translation judged one definition.
type Status struct {
	// Accepted is false when the definition was left out of the output.
	Accepted bool
	// Problems say why it was rejected, each at its field path.
	Problems model.Violations
	// Warnings are accepted but suspicious things (a shadowed route).
	Warnings model.Violations
}
