package xdsclient

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	// Registered so that responses of every xDS type decode.
	_ "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// InconsistencyError says that a route the client holds names a cluster it
// does not hold: Envoy would answer requests on that route with 503s.
type InconsistencyError struct {
	// NodeID is the client's node.id.
	NodeID string
	// Route is the route configuration's name.
	Route string
	// Cluster is the missing cluster.
	Cluster string
}

func (e *InconsistencyError) Error() string {
	return fmt.Sprintf("node %q: route %q names cluster %q it does not have", e.NodeID, e.Route, e.Cluster)
}

// Check returns an *InconsistencyError (joined, one per missing cluster)
// when a held route names a cluster the client does not hold.
func (c *Client) Check() error {
	clusters := c.held(resourcev3.ClusterType)
	var errs []error
	for _, name := range c.Has(resourcev3.RouteType) {
		rc := &routev3.RouteConfiguration{}
		if err := c.held(resourcev3.RouteType)[name].UnmarshalTo(rc); err != nil {
			return fmt.Errorf("node %q: route %q: %w", c.node.GetId(), name, err)
		}
		for _, cl := range routeClusters(rc) {
			if _, ok := clusters[cl]; !ok {
				errs = append(errs, &InconsistencyError{NodeID: c.node.GetId(), Route: name, Cluster: cl})
			}
		}
	}
	return errors.Join(errs...)
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

// Has returns the sorted names the client holds of a type.
func (c *Client) Has(typeURL string) []string { return sortedKeys(c.held(typeURL)) }

// held is what the client holds of a type, without creating its view (a
// view's existence means "subscribed").
func (c *Client) held(typeURL string) map[string]*anypb.Any {
	if v := c.types[typeURL]; v != nil {
		return v.res
	}
	return nil
}

// Resource returns the held resource typeURL/name, or nil.
func (c *Client) Resource(typeURL, name string) *anypb.Any {
	return c.held(typeURL)[name]
}

// Subscribed returns the names the client subscribes to of a type; nil
// means wildcard (or not subscribed).
func (c *Client) Subscribed(typeURL string) []string {
	if v := c.types[typeURL]; v != nil {
		return slices.Clone(v.names)
	}
	return nil
}

// Log returns a copy of every response received so far, in order.
func (c *Client) Log() []Response { return slices.Clone(c.log) }

// Received returns how many responses the client has received: a mark to
// pass to LastIndex, Removed or LogSince.
func (c *Client) Received() int { return len(c.log) }

// LogSince returns a copy of the responses received since mark.
func (c *Client) LogSince(mark int) []Response { return slices.Clone(c.log[mark:]) }

// LastIndex is the log index of the last response of typeURL since mark,
// or -1.
func (c *Client) LastIndex(mark int, typeURL string) int {
	for i := len(c.log) - 1; i >= mark; i-- {
		if c.log[i].TypeURL == typeURL {
			return i
		}
	}
	return -1
}

// ReceivedSince reports whether a response of typeURL arrived since mark.
func (c *Client) ReceivedSince(mark int, typeURL string) bool { return c.LastIndex(mark, typeURL) >= 0 }

// Removed reports whether name was in a delta response's
// removed_resources of typeURL since mark.
func (c *Client) Removed(mark int, typeURL, name string) bool {
	for _, r := range c.log[mark:] {
		if r.TypeURL == typeURL && slices.Contains(r.Removed, name) {
			return true
		}
	}
	return false
}

// RouteClusters returns the clusters the held routes name, sorted and
// deduplicated.
func (c *Client) RouteClusters() ([]string, error) {
	set := map[string]bool{}
	for name, a := range c.held(resourcev3.RouteType) {
		rc := &routev3.RouteConfiguration{}
		if err := a.UnmarshalTo(rc); err != nil {
			return nil, fmt.Errorf("node %q: route %q: %w", c.node.GetId(), name, err)
		}
		for _, cl := range routeClusters(rc) {
			set[cl] = true
		}
	}
	return sortedKeys(set), nil
}

// RouteWeights returns cluster → weight over the weighted clusters of the
// held routes.
func (c *Client) RouteWeights() (map[string]uint32, error) {
	out := map[string]uint32{}
	for name, a := range c.held(resourcev3.RouteType) {
		rc := &routev3.RouteConfiguration{}
		if err := a.UnmarshalTo(rc); err != nil {
			return nil, fmt.Errorf("node %q: route %q: %w", c.node.GetId(), name, err)
		}
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				for _, w := range r.GetRoute().GetWeightedClusters().GetClusters() {
					out[w.GetName()] = w.GetWeight().GetValue()
				}
			}
		}
	}
	return out, nil
}

// refs are the names held listeners, clusters and scopes make Envoy
// subscribe to.
type refs struct {
	routes  map[string]bool // RDS route_config_name of every HCM and held scope
	secrets map[string]bool // SdsSecretConfig names served over ADS
	scoped  bool            // an HCM routes by scope with SRDS over ADS
}

// references walks every held listener and cluster, including the typed
// configs packed in Any fields, for RDS and SDS names.
func (c *Client) references() (refs, error) {
	r := refs{routes: map[string]bool{}, secrets: map[string]bool{}}
	for _, typeURL := range []string{resourcev3.ListenerType, resourcev3.ClusterType} {
		v := c.types[typeURL]
		if v == nil {
			continue
		}
		for name, a := range v.res {
			m, err := a.UnmarshalNew()
			if err != nil {
				return r, fmt.Errorf("%s %q: %w", typeURL, name, err)
			}
			walk(m.ProtoReflect(), func(m proto.Message) {
				switch m := m.(type) {
				case *hcmv3.Rds:
					if n := m.GetRouteConfigName(); n != "" {
						r.routes[n] = true
					}
				case *hcmv3.ScopedRds:
					if m.GetScopedRdsConfigSource().GetAds() != nil {
						r.scoped = true
					}
				case *tlsv3.SdsSecretConfig:
					// Without an ADS config source the name refers to a
					// static secret of the bootstrap.
					if m.GetSdsConfig().GetAds() != nil {
						r.secrets[m.GetName()] = true
					}
				}
			})
		}
	}
	if !r.scoped {
		return r, nil // scopes no listener uses route nothing
	}
	for name, a := range c.held(resourcev3.ScopedRouteType) {
		sc := &routev3.ScopedRouteConfiguration{}
		if err := a.UnmarshalTo(sc); err != nil {
			return r, fmt.Errorf("%s %q: %w", resourcev3.ScopedRouteType, name, err)
		}
		r.routes[sc.GetRouteConfigurationName()] = true
	}
	return r, nil
}

// walk calls visit on m and every message under it, unpacking Any values
// of registered types (an unregistered typed config is an extension the
// client knows nothing of and cannot reference RDS or SDS that it knows).
func walk(m protoreflect.Message, visit func(proto.Message)) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err == nil {
			walk(inner.ProtoReflect(), visit)
		}
		return
	}
	visit(m.Interface())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := range l.Len() {
				walk(l.Get(i).Message(), visit)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				walk(mv.Message(), visit)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			walk(v.Message(), visit)
		}
		return true
	})
}

func resourceName(a *anypb.Any) (string, error) {
	m, err := a.UnmarshalNew()
	if err != nil {
		return "", fmt.Errorf("resource of type %q: %w", a.GetTypeUrl(), err)
	}
	switch m := m.(type) {
	case *endpointv3.ClusterLoadAssignment:
		return m.GetClusterName(), nil
	case interface{ GetName() string }:
		return m.GetName(), nil
	}
	return "", fmt.Errorf("resource %T has no name", m)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
