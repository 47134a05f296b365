package store

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/hashicorp/go-memdb"

	"tollgate.dev/tollgate/internal/model"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Reader reads one consistent snapshot of the store. Every method takes a
// memdb.WatchSet first: the channels of everything read are added to it, so
// ws.WatchCtx returns once any of it may have changed. A nil WatchSet is
// allowed when the caller does not watch.
//
// Objects returned are shared with the store and every other reader and must
// be treated as immutable: proto.Clone one before changing it.
type Reader struct {
	txn *memdb.Txn
}

// Revision is the revision of this snapshot.
func (r *Reader) Revision() uint64 {
	rev, err := revisionOf(r.txn)
	if err != nil {
		return 0 // unreachable: Open always writes the revision row
	}
	return rev
}

// WatchRevision returns the revision of this snapshot and adds to ws a
// channel that closes at the next committed change of anything, which is
// what a consumer of whole snapshots (the translator loop) waits on.
func (r *Reader) WatchRevision(ws memdb.WatchSet) uint64 {
	ch, raw, err := r.txn.FirstWatch(tableMeta, indexID, metaRevision)
	if err != nil {
		return 0 // unreachable: the meta table and its id index always exist
	}
	if ws != nil {
		ws.Add(ch)
	}
	if row, ok := raw.(*metaRow); ok {
		return row.Revision
	}
	return 0
}

// Get returns the object with key k, or (nil, nil) when there is none. The
// object is shared: clone it before changing it.
func (r *Reader) Get(ws memdb.WatchSet, k model.Key) (model.Object, error) {
	table, err := tableOf(k.Kind)
	if err != nil {
		return nil, err
	}
	ch, raw, err := r.txn.FirstWatch(table, indexID, k.Name)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", k, err)
	}
	ws.Add(ch)
	if raw == nil {
		return nil, nil
	}
	return raw.(model.Object), nil
}

// List returns every object of kind k, sorted by name. The objects are
// shared: clone one before changing it.
func (r *Reader) List(ws memdb.WatchSet, k model.Kind) ([]model.Object, error) {
	table, err := tableOf(k)
	if err != nil {
		return nil, err
	}
	return r.query(ws, table, indexID)
}

// query runs an index lookup; with no args it lists the whole table in index
// order, which for the id index is name order.
func (r *Reader) query(ws memdb.WatchSet, table, index string, args ...any) ([]model.Object, error) {
	it, err := r.txn.Get(table, index, args...)
	if err != nil {
		return nil, fmt.Errorf("query %s by %s: %w", table, index, err)
	}
	ws.Add(it.WatchCh())
	var objs []model.Object
	for raw := it.Next(); raw != nil; raw = it.Next() {
		objs = append(objs, raw.(model.Object))
	}
	return objs, nil
}

// Gateway returns the named Gateway, or nil. It is shared: clone before changing.
func (r *Reader) Gateway(ws memdb.WatchSet, name string) (*tollgatev1.Gateway, error) {
	return getAs[*tollgatev1.Gateway](r, ws, model.KindGateway, name)
}

// Gateways returns every Gateway by name. They are shared: clone before changing.
func (r *Reader) Gateways(ws memdb.WatchSet) ([]*tollgatev1.Gateway, error) {
	return listAs[*tollgatev1.Gateway](r.List(ws, model.KindGateway))
}

// Service returns the named Service, or nil. It is shared: clone before changing.
func (r *Reader) Service(ws memdb.WatchSet, name string) (*tollgatev1.Service, error) {
	return getAs[*tollgatev1.Service](r, ws, model.KindService, name)
}

// Services returns every Service by name. They are shared: clone before changing.
func (r *Reader) Services(ws memdb.WatchSet) ([]*tollgatev1.Service, error) {
	return listAs[*tollgatev1.Service](r.List(ws, model.KindService))
}

// API returns the named API, or nil. It is shared: clone before changing.
func (r *Reader) API(ws memdb.WatchSet, name string) (*tollgatev1.API, error) {
	return getAs[*tollgatev1.API](r, ws, model.KindAPI, name)
}

// APIs returns every API by name. They are shared: clone before changing.
func (r *Reader) APIs(ws memdb.WatchSet) ([]*tollgatev1.API, error) {
	return listAs[*tollgatev1.API](r.List(ws, model.KindAPI))
}

// Policy returns the named Policy, or nil. It is shared: clone before changing.
func (r *Reader) Policy(ws memdb.WatchSet, name string) (*tollgatev1.Policy, error) {
	return getAs[*tollgatev1.Policy](r, ws, model.KindPolicy, name)
}

// Policies returns every Policy by name. They are shared: clone before changing.
func (r *Reader) Policies(ws memdb.WatchSet) ([]*tollgatev1.Policy, error) {
	return listAs[*tollgatev1.Policy](r.List(ws, model.KindPolicy))
}

// Secret returns the named Secret, or nil, private key included: redact
// before showing it to anyone. It is shared: clone before changing.
func (r *Reader) Secret(ws memdb.WatchSet, name string) (*tollgatev1.Secret, error) {
	return getAs[*tollgatev1.Secret](r, ws, model.KindSecret, name)
}

// Secrets returns every Secret by name, private keys included. They are
// shared: clone before changing.
func (r *Reader) Secrets(ws memdb.WatchSet) ([]*tollgatev1.Secret, error) {
	return listAs[*tollgatev1.Secret](r.List(ws, model.KindSecret))
}

// APIsByGateway returns the APIs exposed on a gateway, by name: what the
// translator needs to build that gateway's routes. They are shared: clone
// before changing.
func (r *Reader) APIsByGateway(ws memdb.WatchSet, gateway string) ([]*tollgatev1.API, error) {
	return listAs[*tollgatev1.API](r.query(ws, tableAPIs, indexGateway, gateway))
}

// APIsByService returns the APIs with a route to a service, by name. They
// are shared: clone before changing.
func (r *Reader) APIsByService(ws memdb.WatchSet, service string) ([]*tollgatev1.API, error) {
	return listAs[*tollgatev1.API](r.query(ws, tableAPIs, indexService, service))
}

// PoliciesByTarget returns the policies attached to an object (kind Gateway,
// API or Service), by name, including those narrowed to one route of an API.
// They are shared: clone before changing.
func (r *Reader) PoliciesByTarget(ws memdb.WatchSet, kind model.Kind, name string) ([]*tollgatev1.Policy, error) {
	key := model.Key{Kind: kind, Name: name}
	return listAs[*tollgatev1.Policy](r.query(ws, tablePolicies, indexTarget, key.String()))
}

// SecretReferrers returns the gateways and services that use a secret, one
// entry per referencing field: what must be re-pushed when it rotates.
func (r *Reader) SecretReferrers(ws memdb.WatchSet, secret string) ([]Referrer, error) {
	return r.Referrers(ws, model.Key{Kind: model.KindSecret, Name: secret})
}

// referrerIndexes says, per referenced kind, which table indexes find its
// referrers and whether the index value is the qualified "Kind/name".
var referrerIndexes = map[model.Kind][]struct {
	table, index string
	qualified    bool
}{
	model.KindSecret:  {{tableGateways, indexSecret, false}, {tableServices, indexSecret, false}},
	model.KindService: {{tableGateways, indexService, false}, {tableAPIs, indexService, false}, {tablePolicies, indexTarget, true}},
	model.KindGateway: {{tableAPIs, indexGateway, false}, {tablePolicies, indexTarget, true}},
	model.KindAPI:     {{tablePolicies, indexTarget, true}},
}

// Referrers returns everyone referencing k, one entry per referencing field,
// sorted by kind (model.Kinds order) and name, then in field order. They are
// found through the indexes, not by scanning, so the cost follows the number
// of referrers, not the size of the store.
func (r *Reader) Referrers(ws memdb.WatchSet, k model.Key) ([]Referrer, error) {
	objs, err := r.referringObjects(ws, k)
	if err != nil {
		return nil, err
	}
	var out []Referrer
	for _, o := range objs {
		for _, ref := range model.References(o) {
			if ref.To == k {
				out = append(out, Referrer{Kind: model.KindOf(o), Name: o.GetMetadata().GetName(), Path: string(ref.Path)})
			}
		}
	}
	sortReferrers(out)
	return out, nil
}

// referringObjects returns the objects with at least one reference to k.
func (r *Reader) referringObjects(ws memdb.WatchSet, k model.Key) ([]model.Object, error) {
	if err := k.Kind.Validate(); err != nil {
		return nil, err
	}
	var objs []model.Object
	for _, ix := range referrerIndexes[k.Kind] {
		arg := k.Name
		if ix.qualified {
			arg = k.String()
		}
		found, err := r.query(ws, ix.table, ix.index, arg)
		if err != nil {
			return nil, err
		}
		objs = append(objs, found...)
	}
	return objs, nil
}

func sortReferrers(refs []Referrer) {
	slices.SortStableFunc(refs, func(a, b Referrer) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Name, b.Name))
	})
}

// kindRank is the position of k in model.Kinds.
func kindRank(k model.Kind) int { return slices.Index(model.Kinds, k) }

func getAs[T model.Object](r *Reader, ws memdb.WatchSet, k model.Kind, name string) (T, error) {
	var zero T
	o, err := r.Get(ws, model.Key{Kind: k, Name: name})
	if err != nil || o == nil {
		return zero, err
	}
	t, ok := o.(T)
	if !ok {
		return zero, fmt.Errorf("get %s/%s: stored object is %T", k, name, o)
	}
	return t, nil
}

func listAs[T model.Object](objs []model.Object, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		t, ok := o.(T)
		if !ok {
			return nil, fmt.Errorf("list: stored object %s is %T", model.KeyOf(o), o)
		}
		out = append(out, t)
	}
	return out, nil
}
