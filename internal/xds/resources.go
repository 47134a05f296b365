package xds

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate"
)

// addOrder is the order in which additions and changes are sent on a stream:
// a listener or cluster must never reach a proxy before the secret it
// names, a route never before the cluster it names, and endpoints follow
// their clusters (Envoy warms a cluster until its endpoints arrive).
// Scopes (SRDS) come between listeners and routes: a listener routing by
// host makes Envoy subscribe to scopes, and each scope to its route
// configuration, which Envoy asks for only once it holds the scope.
// Removals go in removeOrder.
var addOrder = []string{
	resourcev3.SecretType,
	resourcev3.ClusterType,
	resourcev3.EndpointType,
	resourcev3.ListenerType,
	resourcev3.ScopedRouteType,
	resourcev3.RouteType,
}

// removeOrder is the order in which removals are sent: referrers before
// what they refer to (listeners name scopes and routes, scopes name routes,
// routes name clusters, clusters name endpoints and secrets), so nothing
// left on the proxy ever names a resource already gone.
var removeOrder = []string{
	resourcev3.ListenerType,
	resourcev3.ScopedRouteType,
	resourcev3.RouteType,
	resourcev3.ClusterType,
	resourcev3.EndpointType,
	resourcev3.SecretType,
}

// entry is one version of one resource, encoded once and shared by every
// stream that is sent it. It is immutable.
type entry struct {
	name    string
	version string // hash of the deterministic encoding
	msg     proto.Message
	any     *anypb.Any // nil when only the version is known (a proxy's claim)
	sources []model.Key
}

// gatewayState is the served configuration of one gateway.
type gatewayState struct {
	name string
	// resources by type URL, then by resource name.
	resources map[string]map[string]*entry
	// versions is the content version of each type: a hash over its sorted
	// (name, version) pairs.
	versions map[string]string
}

// marshalOpts makes the encoding, and therefore every version, depend only
// on the content: a restarted control plane computes the same versions.
var marshalOpts = proto.MarshalOptions{Deterministic: true}

// newEntry encodes r once. prev is the previous entry of the same name, if
// any: when the translator handed over the very same message (Outputs are
// immutable) its encoding is reused without marshalling again.
func newEntry(typeURL string, r translate.Resource, prev *entry) (*entry, error) {
	if prev != nil && prev.msg == r.Message && slices.Equal(prev.sources, r.Sources) {
		return prev, nil
	}
	b, err := marshalOpts.Marshal(r.Message)
	if err != nil {
		return nil, fmt.Errorf("resource %q: encode: %w", r.Name, err)
	}
	sum := sha256.Sum256(b)
	e := &entry{
		name:    r.Name,
		version: hex.EncodeToString(sum[:8]),
		msg:     r.Message,
		any:     &anypb.Any{TypeUrl: typeURL, Value: b},
		sources: slices.Clone(r.Sources),
	}
	if prev != nil && prev.version == e.version && slices.Equal(prev.sources, e.sources) {
		return prev, nil // same content: keep sharing the old bytes
	}
	return e, nil
}

// buildGateway encodes cfg, reusing prev's entries where possible.
func buildGateway(cfg *translate.GatewayConfig, prev *gatewayState) (*gatewayState, error) {
	gs := &gatewayState{
		name:      cfg.Name,
		resources: make(map[string]map[string]*entry, len(cfg.Resources)),
		versions:  make(map[string]string, len(cfg.Resources)),
	}
	for typeURL, list := range cfg.Resources {
		byName := make(map[string]*entry, len(list))
		for _, r := range list {
			var old *entry
			if prev != nil {
				old = prev.resources[typeURL][r.Name]
			}
			e, err := newEntry(typeURL, r, old)
			if err != nil {
				return nil, fmt.Errorf("gateway %q: %w", cfg.Name, err)
			}
			byName[r.Name] = e
		}
		gs.resources[typeURL] = byName
		gs.versions[typeURL] = versionOf(byName)
	}
	return gs, nil
}

// changedTypes lists the types whose content differs between a and b.
func changedTypes(a, b *gatewayState) []string {
	var out []string
	for _, t := range addOrder {
		var va, vb string
		if a != nil {
			va = a.versions[t]
		}
		if b != nil {
			vb = b.versions[t]
		}
		if va != vb {
			out = append(out, t)
		}
	}
	return out
}

// versionOf hashes the sorted (name, version) pairs of a set of entries. It
// is the SotW version_info of a response carrying exactly that set, so a
// proxy that reconnects with the version of what it holds can be told
// "nothing changed" by comparing strings.
func versionOf(set map[string]*entry) string {
	pairs := make(map[string]string, len(set))
	for n, e := range set {
		pairs[n] = e.version
	}
	return versionOfPairs(pairs)
}

// versionOfPairs is versionOf over a name → version map.
func versionOfPairs(pairs map[string]string) string {
	names := make([]string, 0, len(pairs))
	for n := range pairs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		// Length-prefix-free but unambiguous: names and versions hold no NUL.
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(pairs[n]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// sameVersions reports whether two sets hold the same names at the same
// versions.
func sameVersions(a, b map[string]*entry) bool {
	if len(a) != len(b) {
		return false
	}
	for n, e := range a {
		o, ok := b[n]
		if !ok || o.version != e.version {
			return false
		}
	}
	return true
}

// sortedNames returns the keys of set in order, so responses are
// deterministic.
func sortedNames(set map[string]*entry) []string {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
