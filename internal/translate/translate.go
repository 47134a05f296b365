package translate

import (
	"cmp"
	"slices"
	"strconv"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// snapshot is every definition of one store revision, indexed by name.
type snapshot struct {
	revision uint64
	gateways []*tollgatev1.Gateway
	apis     []*tollgatev1.API
	policies []*tollgatev1.Policy
	services map[string]*tollgatev1.Service
	secrets  map[string]*tollgatev1.Secret
}

// readSnapshot reads everything in r's one read transaction. The reader's
// errors can only come from a broken schema; what could be read is used.
func readSnapshot(r *store.Reader) *snapshot {
	s := &snapshot{revision: r.Revision(), services: map[string]*tollgatev1.Service{}, secrets: map[string]*tollgatev1.Secret{}}
	s.gateways, _ = r.Gateways(nil)
	s.apis, _ = r.APIs(nil)
	s.policies, _ = r.Policies(nil)
	svcs, _ := r.Services(nil)
	for _, svc := range svcs {
		s.services[svc.GetMetadata().GetName()] = svc
	}
	secs, _ := r.Secrets(nil)
	for _, sec := range secs {
		s.secrets[sec.GetMetadata().GetName()] = sec
	}
	byName := func(a, b model.Object) int { return cmp.Compare(a.GetMetadata().GetName(), b.GetMetadata().GetName()) }
	slices.SortFunc(s.gateways, func(a, b *tollgatev1.Gateway) int { return byName(a, b) })
	slices.SortFunc(s.apis, func(a, b *tollgatev1.API) int { return byName(a, b) })
	slices.SortFunc(s.policies, func(a, b *tollgatev1.Policy) int { return byName(a, b) })
	return s
}

// Translate computes the Envoy configuration of every gateway and the
// status of every definition from one snapshot. It never fails as a whole:
// what cannot be translated is left out and reported on the Status of the
// definition it came from.
func Translate(r *store.Reader) *Output {
	s := readSnapshot(r)
	st := newStatuses(s)
	out := &Output{Revision: s.revision, Gateways: map[string]*GatewayConfig{}, Status: st.m}
	for _, p := range s.policies {
		st.warn(model.KeyOf(p), "spec", policyNotEnforced)
	}
	for _, g := range s.gateways {
		out.Gateways[g.GetMetadata().GetName()] = translateGateway(s, st, g)
	}
	st.finish()
	return out
}

// policyNotEnforced is every Policy's warning until policies are translated.
const policyNotEnforced = "policy translation is not implemented yet: this policy is stored but not enforced"

// statuses collects the Status of every definition.
type statuses struct {
	m map[model.Key]*Status
	// routesOut counts, per API, the routes that made it into some output;
	// an API with routes none of which did is not Accepted.
	routesOut map[string]int
	// routesDropped counts, per API, the routes left out somewhere.
	routesDropped map[string]int
	// servicesOut and servicesDropped count, per Service, the gateways
	// that use it and those that cannot: a Service is Accepted when some
	// gateway uses it or none tried.
	servicesOut, servicesDropped map[string]int
}

func newStatuses(s *snapshot) *statuses {
	st := emptyStatuses()
	add := func(o model.Object) { st.m[model.KeyOf(o)] = &Status{Accepted: true} }
	for _, g := range s.gateways {
		add(g)
	}
	for _, a := range s.apis {
		add(a)
	}
	for _, p := range s.policies {
		add(p)
	}
	for _, svc := range s.services {
		add(svc)
	}
	for _, sec := range s.secrets {
		add(sec)
	}
	return st
}

// emptyStatuses has no definition yet: the statuses of a full
// translation start from it, and so does each piece of an incremental one.
func emptyStatuses() *statuses {
	return &statuses{
		m:         map[model.Key]*Status{},
		routesOut: map[string]int{}, routesDropped: map[string]int{},
		servicesOut: map[string]int{}, servicesDropped: map[string]int{},
	}
}

func (st *statuses) get(k model.Key) *Status {
	s, ok := st.m[k]
	if !ok {
		s = &Status{Accepted: true}
		st.m[k] = s
	}
	return s
}

// problem records why (part of) k was left out. Only the first report of
// an identical problem is kept: a route left out of two gateways for the
// same reason is one problem.
func (st *statuses) problem(k model.Key, path, msg string) {
	s := st.get(k)
	v := model.Violation{Object: k.String(), Path: path, Message: msg}
	if !slices.Contains(s.Problems, v) {
		s.Problems = append(s.Problems, v)
	}
}

// warn records something accepted but suspicious, once.
func (st *statuses) warn(k model.Key, path, msg string) {
	s := st.get(k)
	v := model.Violation{Object: k.String(), Path: path, Message: msg}
	if !slices.Contains(s.Warnings, v) {
		s.Warnings = append(s.Warnings, v)
	}
}

// finish marks APIs whose every route was left out, and Services no
// gateway could use, as not Accepted, and sorts every list so the output is
// deterministic.
func (st *statuses) finish() {
	for api, n := range st.routesDropped {
		if n > 0 && st.routesOut[api] == 0 {
			st.get(model.Key{Kind: model.KindAPI, Name: api}).Accepted = false
		}
	}
	for svc, n := range st.servicesDropped {
		if n > 0 && st.servicesOut[svc] == 0 {
			st.get(model.Key{Kind: model.KindService, Name: svc}).Accepted = false
		}
	}
	for _, s := range st.m {
		sortViolations(s.Problems)
		sortViolations(s.Warnings)
	}
}

func sortViolations(vs model.Violations) {
	slices.SortFunc(vs, func(a, b model.Violation) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Message, b.Message))
	})
}

// resourceVersionOf is the numeric metadata.resourceVersion of o, 0 when
// unset: an older definition has a smaller one.
func resourceVersionOf(o model.Object) uint64 {
	v, _ := strconv.ParseUint(o.GetMetadata().GetResourceVersion(), 10, 64)
	return v
}
