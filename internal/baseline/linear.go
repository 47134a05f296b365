package baseline

import (
	"log/slog"
	"slices"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/translate"
)

// linearFeed keeps one LinearCache per type URL, combined in a MuxCache,
// in step with one gateway's translations. Each cache bumps its version at
// every update and stamps it on the resources updated, so a resource's
// version changes only when it does: feeding only what changed (rather than
// SetResources with everything, which marks every resource new) is what
// makes the linear cache worth using, and what its users do.
type linearFeed struct {
	gateway string
	log     *slog.Logger
	caches  map[string]*cachev3.LinearCache
	mux     *cachev3.MuxCache
	// last is what each cache was fed, by type URL and name; only the
	// publishing goroutine touches it.
	last map[string]map[string]proto.Message
}

// newLinearFeed creates one cache for every type URL go-control-plane
// knows. The set is fixed here because the MuxCache reads its map without a
// lock from every stream and fails a stream asking for a type it has no
// cache for: caches cannot be added when a new type first appears in a
// translation. A type outside this set cannot be served (publish logs it).
func newLinearFeed(gateway string, gcpLog logAdapter, log *slog.Logger) *linearFeed {
	f := &linearFeed{
		gateway: gateway, log: log,
		caches: map[string]*cachev3.LinearCache{},
		last:   map[string]map[string]proto.Message{},
	}
	for rt := range types.UnknownType {
		typeURL, err := cachev3.GetResponseTypeURL(rt)
		if err != nil {
			continue // a gap in go-control-plane's enum, not a type
		}
		f.caches[typeURL] = cachev3.NewLinearCache(typeURL, cachev3.WithLogger(gcpLog))
	}
	caches := make(map[string]cachev3.Cache, len(f.caches))
	for t, c := range f.caches {
		caches[t] = c
	}
	f.mux = &cachev3.MuxCache{
		Classify:      func(r *cachev3.Request) string { return r.GetTypeUrl() },
		ClassifyDelta: func(r *cachev3.DeltaRequest) string { return r.GetTypeUrl() },
		Caches:        caches,
	}
	return f
}

// change is what one type's cache must be told.
type change struct {
	typeURL string
	update  map[string]types.Resource
	remove  []string
}

// publish feeds the gateway's resources that changed since the last
// translation. Additions and updates go first, in ADS type order (CDS
// before EDS before LDS before RDS), then removals in the reverse order, so
// that a proxy receives a cluster before the route naming it and loses a
// route before the cluster it named, as far as independent caches allow.
func (f *linearFeed) publish(out *translate.Output) {
	var res map[string][]translate.Resource
	if gw := out.Gateways[f.gateway]; gw != nil {
		res = gw.Resources
	}
	var changes []change
	for _, typeURL := range sortedTypes(res) {
		if f.caches[typeURL] == nil {
			f.log.Error("baseline linear: no LinearCache for this type; its resources are not served",
				slog.String("type", typeURL), slog.Uint64("revision", out.Revision))
			continue
		}
		changes = append(changes, f.diff(typeURL, res[typeURL]))
	}
	for typeURL := range f.last {
		if _, present := res[typeURL]; !present {
			changes = append(changes, f.diff(typeURL, nil))
		}
	}
	slices.SortFunc(changes, func(a, b change) int { return typeOrder(a.typeURL, b.typeURL) })
	for _, c := range changes {
		if len(c.update) > 0 {
			f.apply(c.typeURL, c.update, nil, out.Revision)
		}
	}
	for _, c := range slices.Backward(changes) {
		if len(c.remove) > 0 {
			f.apply(c.typeURL, nil, c.remove, out.Revision)
		}
	}
}

// diff compares one type's new resources with what its cache holds and
// records the new state. A message the translator reused is unchanged
// without a look; others are compared with proto.Equal.
func (f *linearFeed) diff(typeURL string, list []translate.Resource) change {
	c := change{typeURL: typeURL, update: map[string]types.Resource{}}
	prev := f.last[typeURL]
	next := make(map[string]proto.Message, len(list))
	for _, r := range list {
		next[r.Name] = r.Message
		if old, ok := prev[r.Name]; ok && (old == r.Message || proto.Equal(old, r.Message)) {
			next[r.Name] = old
			continue
		}
		c.update[r.Name] = r.Message
	}
	for name := range prev {
		if _, ok := next[name]; !ok {
			c.remove = append(c.remove, name)
		}
	}
	if len(next) == 0 {
		delete(f.last, typeURL)
	} else {
		f.last[typeURL] = next
	}
	return c
}

func (f *linearFeed) apply(typeURL string, update map[string]types.Resource, remove []string, rev uint64) {
	if err := f.caches[typeURL].UpdateResources(update, remove); err != nil {
		f.log.Error("baseline linear: update cache", slog.String("type", typeURL),
			slog.Uint64("revision", rev), slog.Any("error", err))
	}
}
