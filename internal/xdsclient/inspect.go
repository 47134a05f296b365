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

// Check returns an *InconsistencyError (joined, one per missing cluster,
// in route name order) when a held route names a cluster the client does
// not hold.
//
// It runs after every response, so it does as little as it can: route
// configurations are decoded once per version (c.routeRefs), and while the
// held clusters are unchanged only the route configurations that changed
// since the last Check and those that were inconsistent then are looked
// at again; the others cannot have changed their verdict. Any change to
// the clusters takes a full pass over every held route.
func (c *Client) Check() error {
	s := &c.check
	if !s.valid || s.clusterGen != c.clusterGen {
		return c.checkAll()
	}
	if len(c.routesTouched) == 0 {
		return s.err
	}
	routes, clusters := c.held(resourcev3.RouteType), c.held(resourcev3.ClusterType)
	for name := range c.routesTouched {
		a, ok := routes[name]
		if !ok {
			delete(s.bad, name)
			continue
		}
		names, err := c.routeRefs.get(name, a, decodeRouteClusters)
		if err != nil {
			return c.checkAll() // reports the first undecodable route by name
		}
		if missing(names, clusters) {
			s.bad[name] = struct{}{}
		} else {
			delete(s.bad, name)
		}
	}
	return c.checked(routes, clusters)
}

// checkAll is Check from scratch.
func (c *Client) checkAll() error {
	s := &c.check
	s.valid = false
	routes, clusters := c.held(resourcev3.RouteType), c.held(resourcev3.ClusterType)
	bad := map[string]struct{}{}
	for name, a := range routes {
		names, err := c.routeRefs.get(name, a, decodeRouteClusters)
		if err != nil {
			// Report the first undecodable route in name order.
			for _, name := range sortedKeys(routes) {
				if _, err := c.routeRefs.get(name, routes[name], decodeRouteClusters); err != nil {
					return fmt.Errorf("node %q: route %q: %w", c.node.GetId(), name, err)
				}
			}
		}
		if missing(names, clusters) {
			bad[name] = struct{}{}
		}
	}
	s.bad, s.clusterGen, s.valid = bad, c.clusterGen, true
	return c.checked(routes, clusters)
}

// checked records the verdict of a complete Check over s.bad and returns
// it.
func (c *Client) checked(routes, clusters map[string]*anypb.Any) error {
	s := &c.check
	clear(c.routesTouched)
	c.routeRefs.prune(routes)
	var errs []error
	for _, name := range sortedKeys(s.bad) {
		names, _ := c.routeRefs.lookup(name, routes[name]) // decoded above
		for _, cl := range names {
			if _, ok := clusters[cl]; !ok {
				errs = append(errs, &InconsistencyError{NodeID: c.node.GetId(), Route: name, Cluster: cl})
			}
		}
	}
	s.err = errors.Join(errs...)
	return s.err
}

// checkState is the verdict of the last complete Check.
type checkState struct {
	// valid is false until a Check completed, and after a decoding error
	// or a State of the World response replacing every route.
	valid bool
	// clusterGen is Client.clusterGen at that Check.
	clusterGen uint64
	// bad are the routes that named a missing cluster.
	bad map[string]struct{}
	// err is what Check returned.
	err error
}

// missing reports whether any of names is not in clusters.
func missing(names []string, clusters map[string]*anypb.Any) bool {
	for _, cl := range names {
		if _, ok := clusters[cl]; !ok {
			return true
		}
	}
	return false
}

// decodeRouteClusters returns the clusters a RouteConfiguration names, in
// order, repeats included.
func decodeRouteClusters(a *anypb.Any) ([]string, error) {
	rc := &routev3.RouteConfiguration{}
	if err := a.UnmarshalTo(rc); err != nil {
		return nil, err
	}
	return routeClusters(rc), nil
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
		names, ok := c.routeRefs.lookup(name, a)
		if !ok {
			var err error
			if names, err = decodeRouteClusters(a); err != nil {
				return nil, fmt.Errorf("node %q: route %q: %w", c.node.GetId(), name, err)
			}
		}
		for _, cl := range names {
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

// resourceRefs is what one listener or cluster references.
type resourceRefs struct {
	routes, secrets []string
	scoped          bool
}

// references walks every held listener and cluster, including the typed
// configs packed in Any fields, for RDS and SDS names. Like Check it runs
// after every listener, cluster or scope response, so each resource's
// references are derived once per version (c.listenerRefs, c.clusterRefs,
// c.scopeRefs) and only merged here.
func (c *Client) references() (refs, error) {
	r := refs{routes: map[string]bool{}, secrets: map[string]bool{}}
	for _, t := range []struct {
		typeURL string
		cache   decodeCache[resourceRefs]
	}{{resourcev3.ListenerType, c.listenerRefs}, {resourcev3.ClusterType, c.clusterRefs}} {
		v := c.types[t.typeURL]
		if v == nil {
			continue
		}
		for name, a := range v.res {
			rr, err := t.cache.get(name, a, decodeResourceRefs)
			if err != nil {
				return r, fmt.Errorf("%s %q: %w", t.typeURL, name, err)
			}
			for _, n := range rr.routes {
				r.routes[n] = true
			}
			for _, n := range rr.secrets {
				r.secrets[n] = true
			}
			r.scoped = r.scoped || rr.scoped
		}
		t.cache.prune(v.res)
	}
	if !r.scoped {
		return r, nil // scopes no listener uses route nothing
	}
	scopes := c.held(resourcev3.ScopedRouteType)
	for name, a := range scopes {
		rc, err := c.scopeRefs.get(name, a, decodeScopeRoute)
		if err != nil {
			return r, fmt.Errorf("%s %q: %w", resourcev3.ScopedRouteType, name, err)
		}
		r.routes[rc] = true
	}
	c.scopeRefs.prune(scopes)
	return r, nil
}

// decodeResourceRefs walks one listener or cluster for what it references.
func decodeResourceRefs(a *anypb.Any) (resourceRefs, error) {
	var r resourceRefs
	m, err := a.UnmarshalNew()
	if err != nil {
		return r, err
	}
	walk(m.ProtoReflect(), func(m proto.Message) {
		switch m := m.(type) {
		case *hcmv3.Rds:
			if n := m.GetRouteConfigName(); n != "" {
				r.routes = append(r.routes, n)
			}
		case *hcmv3.ScopedRds:
			if m.GetScopedRdsConfigSource().GetAds() != nil {
				r.scoped = true
			}
		case *tlsv3.SdsSecretConfig:
			// Without an ADS config source the name refers to a static
			// secret of the bootstrap.
			if m.GetSdsConfig().GetAds() != nil {
				r.secrets = append(r.secrets, m.GetName())
			}
		}
	})
	return r, nil
}

// decodeScopeRoute returns the route configuration a scope routes to.
func decodeScopeRoute(a *anypb.Any) (string, error) {
	sc := &routev3.ScopedRouteConfiguration{}
	if err := a.UnmarshalTo(sc); err != nil {
		return "", err
	}
	return sc.GetRouteConfigurationName(), nil
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
