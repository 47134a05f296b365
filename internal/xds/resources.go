package xds

import (
	"crypto/sha256"
	"encoding/binary"
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
	// h is the entry's share of a set version: see setHash.
	h       uint64
	msg     proto.Message
	any     *anypb.Any // nil when only the version is known (a proxy's claim)
	sources []model.Key
}

// gatewayState is the served configuration of one gateway. It is
// immutable once installed; streams share its maps and slices.
type gatewayState struct {
	name string
	// resources by type URL, then by resource name.
	resources map[string]map[string]*entry
	// hashes is the set hash of each type (see setHash); versions is its
	// text, the version a proxy holding exactly the type's resources has.
	hashes   map[string]uint64
	versions map[string]string
	// anys caches, per type, every resource's encoding sorted by name: the
	// body of a full-state SotW response to a wildcard subscriber, built
	// once per gateway state and shared by every such stream.
	anys map[string][]*anypb.Any
	// entries is anys' entries, in the same order.
	entries map[string][]*entry
}

// sorted returns the type's entries sorted by name (shared, read-only).
func (gs *gatewayState) sorted(typeURL string) []*entry { return gs.entries[typeURL] }

// marshalOpts makes the encoding, and therefore every version, depend only
// on the content: a restarted control plane computes the same versions.
var marshalOpts = proto.MarshalOptions{Deterministic: true}

// newEntry encodes r once. prev is the previous entry of the same name, if
// any: when the translator handed over the very same message (unchanged
// resources keep their pointer) its encoding is reused without marshalling
// again.
func newEntry(typeURL string, r translate.Resource, prev *entry) (*entry, error) {
	if prev != nil && prev.msg == r.Message && slices.Equal(prev.sources, r.Sources) {
		return prev, nil
	}
	b, err := marshalOpts.Marshal(r.Message)
	if err != nil {
		return nil, fmt.Errorf("resource %q: encode: %w", r.Name, err)
	}
	sum := sha256.Sum256(b)
	version := hex.EncodeToString(sum[:8])
	if prev != nil && prev.version == version && slices.Equal(prev.sources, r.Sources) {
		return prev, nil // same content: keep sharing the old bytes
	}
	return &entry{
		name:    r.Name,
		version: version,
		h:       entryHash(r.Name, version),
		msg:     r.Message,
		any:     &anypb.Any{TypeUrl: typeURL, Value: b},
		sources: slices.Clone(r.Sources),
	}, nil
}

// versionOnly is an entry known only by name and version: what a
// reconnecting proxy says it holds.
func versionOnly(name, version string) *entry {
	return &entry{name: name, version: version, h: entryHash(name, version)}
}

// buildGateway encodes cfg, reusing prev's entries where possible.
func buildGateway(cfg *translate.GatewayConfig, prev *gatewayState) (*gatewayState, error) {
	gs := &gatewayState{
		name:      cfg.Name,
		resources: make(map[string]map[string]*entry, len(cfg.Resources)),
		hashes:    make(map[string]uint64, len(cfg.Resources)),
		versions:  make(map[string]string, len(cfg.Resources)),
		anys:      make(map[string][]*anypb.Any, len(cfg.Resources)),
		entries:   make(map[string][]*entry, len(cfg.Resources)),
	}
	for typeURL, list := range cfg.Resources {
		byName := make(map[string]*entry, len(list))
		anys := make([]*anypb.Any, 0, len(list))
		entries := make([]*entry, 0, len(list))
		var h uint64
		for _, r := range list { // sorted by name (translate.GatewayConfig)
			var old *entry
			if prev != nil {
				old = prev.resources[typeURL][r.Name]
			}
			e, err := newEntry(typeURL, r, old)
			if err != nil {
				return nil, fmt.Errorf("gateway %q: %w", cfg.Name, err)
			}
			byName[r.Name] = e
			anys = append(anys, e.any)
			entries = append(entries, e)
			h ^= e.h
		}
		gs.resources[typeURL] = byName
		gs.hashes[typeURL] = h
		gs.versions[typeURL] = hashVersion(h)
		gs.anys[typeURL] = anys
		gs.entries[typeURL] = entries
	}
	return gs, nil
}

// gatewayDiff is, per type, what changed between two states of a gateway.
type gatewayDiff struct {
	// changed are the names whose entry differs (added, changed, removed).
	changed []string
	// added are the names the older state did not have at all.
	added []string
}

// diffGateway lists, per type, the names whose entry differs between a and
// b. It runs once per gateway per update, so each stream of the gateway
// then does work in proportion to the change, not to the configuration.
func diffGateway(a, b *gatewayState) map[string]gatewayDiff {
	out := map[string]gatewayDiff{}
	for _, t := range addOrder {
		var ra, rb map[string]*entry
		if a != nil {
			ra = a.resources[t]
		}
		if b != nil {
			rb = b.resources[t]
		}
		if a != nil && b != nil && a.hashes[t] == b.hashes[t] && len(ra) == len(rb) {
			continue
		}
		var d gatewayDiff
		for n, e := range rb {
			o := ra[n]
			if o == nil {
				d.added = append(d.added, n)
			}
			if o == nil || o.version != e.version {
				d.changed = append(d.changed, n)
			}
		}
		for n := range ra {
			if rb[n] == nil {
				d.changed = append(d.changed, n)
			}
		}
		if len(d.changed) > 0 {
			out[t] = d
		}
	}
	return out
}

// entryHash is an entry's share of a set hash: 64 bits of SHA-256 over its
// name and version.
func entryHash(name, version string) uint64 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(version))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// setHash is the version of a set of entries: the XOR of their entry
// hashes. It depends only on the (name, version) pairs, not on order, so a
// restarted control plane computes the same one, and it is updated in
// O(1) per added or removed entry, so a stream's version never costs a pass
// over everything it holds.
func setHash(set map[string]*entry) uint64 {
	var h uint64
	for _, e := range set {
		h ^= e.h
	}
	return h
}

// hashVersion is the text form of a set hash: the SotW version_info of a
// response leaving the proxy holding that set, so a proxy that reconnects
// with the version of what it holds can be told "nothing changed" by
// comparing strings.
func hashVersion(h uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h)
	return hex.EncodeToString(b[:])
}

// versionOf is the version of a set of entries.
func versionOf(set map[string]*entry) string { return hashVersion(setHash(set)) }

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
