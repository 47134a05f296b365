package translate

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync/atomic"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Incremental translates the store after each change by recomputing only
// what the changed definitions affect, so that a one-API edit costs the
// same at 10 APIs as at 10,000 (PERFORMANCE.md: ≤ 1 ms). Its Output is
// always exactly what Translate would return for the same snapshot (the
// property tests hold it to that), and every resource an edit does not
// affect keeps its Message pointer, so the xDS server does not re-encode
// it.
//
// What is cached, per proxied gateway: its listeners; per host (domain)
// and HTTP listener, the virtual host of the APIs serving that host and
// what translating it reported; per API, the hosts it attaches to; per
// Service it uses, its cluster; per Secret, its SDS resource. A route
// conflict, a shadowed route and an API's Accepted depend only on the
// APIs on the same host, so an API edit recomputes the hosts the API is
// or was on, then the route configurations holding them (that host's when
// the gateway routes by host, else the listener's), the clusters whose use
// started or stopped, and the statuses those pieces reported on. A
// Service edit rebuilds its cluster where used; a Secret edit its SDS
// resource.
//
// Coarser on purpose: a Gateway edit re-translates that gateway; so does
// an edit that switches a gateway between routing by host and by listener
// (it re-sends the listeners anyway). A proxyless gateway, a proxied one
// whose translation reported an internal error, and one that uses a
// gateway identity or the CA bundle (Secrets the control plane writes,
// which may be missing, so what the gateway can serve depends on them) or
// cannot use a Service, is translated as a whole whenever an API on it,
// or a Service or Secret it looked up (found or not), changes; resources
// that come out equal keep their Message pointer.
// Policy edits only change the Policy's status. Everything is translated
// from scratch on the first Update, when the store's change log no longer
// reaches back to the last translated revision, and after any internal
// failure (a panic included), which is counted in Fallbacks.
//
// An Incremental is not safe for concurrent use: one reconcile loop owns it.
type Incremental struct {
	s *incState // nil until the first Update, and after a failure
	// fallbacks counts updates that had to start from scratch although
	// an earlier one had succeeded.
	fallbacks atomic.Uint64
}

// NewIncremental returns an Incremental that has translated nothing yet.
func NewIncremental() *Incremental { return &Incremental{} }

// Fallbacks counts the updates that could not be incremental (a change
// log gap or an internal failure) and translated everything instead.
func (x *Incremental) Fallbacks() uint64 { return x.fallbacks.Load() }

// Update returns the translation of r's snapshot, computed from the
// changes since the last Update when it can be.
func (x *Incremental) Update(r *store.Reader) *Output {
	if x.s != nil {
		if out, ok := x.tryIncremental(r); ok {
			return out
		}
		x.fallbacks.Add(1)
	}
	return x.full(r)
}

// tryIncremental applies the changes since the last output; on any failure
// the caches are dropped, since a half-applied update leaves them
// inconsistent.
func (x *Incremental) tryIncremental(r *store.Reader) (out *Output, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			x.s, out, ok = nil, nil, false
		}
	}()
	if r.Revision() == x.s.out.Revision {
		return x.s.out, true
	}
	keys, covered := r.ChangesSince(x.s.out.Revision)
	if !covered {
		x.s = nil
		return nil, false
	}
	if err := x.s.update(r, keys); err != nil {
		x.s = nil
		return nil, false
	}
	return x.s.out, true
}

// full builds the caches from scratch. Should that itself fail, the
// reference Translate still answers, and the next Update tries again.
func (x *Incremental) full(r *store.Reader) (out *Output) {
	defer func() {
		if p := recover(); p != nil {
			x.s, out = nil, Translate(r)
		}
	}()
	x.s = newIncState(r)
	return x.s.out
}

// errRebuild asks for a gateway to be translated again from scratch.
var errRebuild = errors.New("the gateway must be rebuilt")

// incState is everything an incremental update starts from.
type incState struct {
	out      *Output
	gateways map[string]*tollgatev1.Gateway
	apis     map[string]*tollgatev1.API
	services map[string]*tollgatev1.Service
	secrets  map[string]*tollgatev1.Secret
	policies map[string]*tollgatev1.Policy
	gws      map[string]gatewayState
	book     *statusBook
}

// gatewayState is the cached translation of one gateway.
type gatewayState interface {
	// config is the gateway's current configuration.
	config() *GatewayConfig
	// update brings the gateway up to date with ch, keeping s.book in
	// step; errRebuild asks for it to be translated from scratch.
	update(s *incState, ch *changeSet) error
	// drop removes the gateway's units from b.
	drop(b *statusBook)
}

// changeSet is what changed since the last update.
type changeSet struct {
	// apis maps every changed API to its previous version (nil if new).
	apis map[string]*tollgatev1.API
	// services and secrets are the changed ones, by name.
	services, secrets map[string]bool
}

func newIncState(r *store.Reader) *incState {
	snap := readSnapshot(r)
	s := &incState{
		gateways: map[string]*tollgatev1.Gateway{}, apis: map[string]*tollgatev1.API{},
		services: snap.services, secrets: snap.secrets, policies: map[string]*tollgatev1.Policy{},
		gws: map[string]gatewayState{}, book: newStatusBook(),
	}
	for _, g := range snap.gateways {
		s.gateways[g.GetMetadata().GetName()] = g
	}
	for _, a := range snap.apis {
		s.apis[a.GetMetadata().GetName()] = a
	}
	for _, p := range snap.policies {
		s.policies[p.GetMetadata().GetName()] = p
	}
	out := &Output{Revision: snap.revision, Gateways: map[string]*GatewayConfig{}, Status: map[model.Key]*Status{}}
	for _, g := range snap.gateways {
		st := s.initGateway(g)
		s.gws[g.GetMetadata().GetName()] = st
		out.Gateways[g.GetMetadata().GetName()] = st.config()
	}
	for _, o := range s.objects() {
		k := model.KeyOf(o)
		out.Status[k] = s.book.status(k)
	}
	clear(s.book.dirty)
	s.out = out
	return s
}

// objects lists every definition of the snapshot.
func (s *incState) objects() []model.Object {
	var out []model.Object
	for _, g := range s.gateways {
		out = append(out, g)
	}
	for _, a := range s.apis {
		out = append(out, a)
	}
	for _, p := range s.policies {
		out = append(out, p)
	}
	for _, svc := range s.services {
		out = append(out, svc)
	}
	for _, sec := range s.secrets {
		out = append(out, sec)
	}
	return out
}

// initGateway translates one gateway from scratch, in pieces when it can.
func (s *incState) initGateway(g *tollgatev1.Gateway) gatewayState {
	if g.GetSpec().GetMode() != model.GatewayModeProxyless {
		if f, err := newFineGateway(s, g); err == nil {
			return f
		}
	}
	return newWholeGateway(s, g)
}

// view is the snapshot the gateway translators read Services and Secrets
// from; APIs are handed to them explicitly.
func (s *incState) view() *snapshot {
	return &snapshot{services: s.services, secrets: s.secrets}
}

// update applies the changed keys of r's snapshot and sets s.out.
func (s *incState) update(r *store.Reader, keys []model.Key) error {
	ch := &changeSet{apis: map[string]*tollgatev1.API{}, services: map[string]bool{}, secrets: map[string]bool{}}
	rebuild := map[string]bool{}
	for _, k := range keys {
		if err := s.read(r, k, ch, rebuild); err != nil {
			return err
		}
	}
	gws := maps.Clone(s.out.Gateways)
	for name, st := range s.gws {
		if rebuild[name] {
			continue
		}
		err := st.update(s, ch)
		if errors.Is(err, errRebuild) {
			rebuild[name] = true
			continue
		}
		if err != nil {
			return err
		}
		gws[name] = st.config()
	}
	for _, name := range sortedKeys(rebuild) {
		if st := s.gws[name]; st != nil {
			st.drop(s.book)
			delete(s.gws, name)
			delete(gws, name)
		}
		if g := s.gateways[name]; g != nil {
			st := s.initGateway(g)
			s.gws[name] = st
			gws[name] = st.config()
		}
	}
	s.out = &Output{Revision: r.Revision(), Gateways: gws, Status: s.statuses()}
	return nil
}

// statuses recomputes the dirty statuses. The previous map is shared when
// none of them changed, as after most edits of an API already accepted:
// copying 10,000 entries would cost more than the rest of the update.
func (s *incState) statuses() map[model.Key]*Status {
	prev := s.out.Status
	changed := map[model.Key]*Status{}
	for k := range s.book.dirty {
		var now *Status
		if s.exists(k) {
			now = s.book.status(k)
		}
		if old, ok := prev[k]; ok != (now != nil) || (ok && !reflect.DeepEqual(old, now)) {
			changed[k] = now
		}
	}
	clear(s.book.dirty)
	if len(changed) == 0 {
		return prev
	}
	status := maps.Clone(prev)
	for k, st := range changed {
		if st == nil {
			delete(status, k)
		} else {
			status[k] = st
		}
	}
	return status
}

// read brings the definition k up to date from r, noting what changed.
func (s *incState) read(r *store.Reader, k model.Key, ch *changeSet, rebuild map[string]bool) error {
	o, err := r.Get(nil, k)
	if err != nil {
		return err
	}
	s.book.touch(k)
	switch k.Kind {
	case model.KindGateway:
		rebuild[k.Name] = true
		setOrDelete(s.gateways, k.Name, o)
	case model.KindAPI:
		ch.apis[k.Name] = s.apis[k.Name]
		setOrDelete(s.apis, k.Name, o)
	case model.KindService:
		ch.services[k.Name] = true
		setOrDelete(s.services, k.Name, o)
	case model.KindSecret:
		ch.secrets[k.Name] = true
		setOrDelete(s.secrets, k.Name, o)
	case model.KindPolicy:
		setOrDelete(s.policies, k.Name, o)
	default:
		return fmt.Errorf("change log: unknown kind %q", k.Kind)
	}
	return nil
}

func setOrDelete[T model.Object](m map[string]T, name string, o model.Object) {
	if o == nil {
		delete(m, name)
		return
	}
	m[name] = o.(T)
}

// exists reports whether k is in the current snapshot.
func (s *incState) exists(k model.Key) bool {
	var ok bool
	switch k.Kind {
	case model.KindGateway:
		_, ok = s.gateways[k.Name]
	case model.KindAPI:
		_, ok = s.apis[k.Name]
	case model.KindService:
		_, ok = s.services[k.Name]
	case model.KindSecret:
		_, ok = s.secrets[k.Name]
	case model.KindPolicy:
		_, ok = s.policies[k.Name]
	}
	return ok
}

// onGateway reports whether API a (nil when absent) lists gateway g.
func onGateway(a *tollgatev1.API, g string) bool {
	return a != nil && slices.Contains(a.GetSpec().GetGateways(), g)
}
