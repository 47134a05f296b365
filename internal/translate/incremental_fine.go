package translate

import (
	"errors"
	"reflect"
	"strings"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate/ir"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// fineGateway is a proxied gateway translated in pieces: its listeners
// once, then one virtual host per (HTTP listener, host), each recomputed
// only when an API on that host changes. Translation of a virtual host
// (routes, conflicts, shadowing) depends on nothing but the APIs serving
// that host on that listener, which is what makes the pieces independent.
type fineGateway struct {
	g    *tollgatev1.Gateway
	key  model.Key
	http []*tollgatev1.Listener // HTTP and HTTPS listeners, in spec order
	core *unit                  // what translating the listeners reported
	// attach holds, per API on the gateway, the hosts it serves on each
	// HTTP listener.
	attach map[string]*apiPlacement
	// hosts holds the virtual hosts of every host some API serves.
	hosts map[string]*hostState
	// svcUse counts, per Service, the virtual hosts and TCP listeners
	// that look it up: the gateway carries its cluster while positive.
	svcUse map[string]int
	// secUse counts, per Secret, the listeners and clusters using it.
	secUse map[string]int
	// clusters are the used Services' clusters, by cluster name.
	clusters map[string]*clusterEntry
	// sds maps the SDS names of used secrets to the Secrets' names.
	sds map[string]string
	// secrets are the Secrets whose SDS resource the gateway carries.
	secrets map[string]bool
	// scoped: the gateway routes by host (see scopeByHost), which holds
	// while inconsistent and wildcard are zero and routed positive.
	scoped                         bool
	inconsistent, wildcard, routed int
	// whole is set when a virtual host's translation rejected a Service
	// or looked up a Secret the control plane writes (the gateway
	// identity): its output then depends on more than the APIs of its
	// host, so the gateway must be translated as a whole.
	whole bool
	cfg   *GatewayConfig
}

// apiPlacement is where one API attaches on a gateway.
type apiPlacement struct {
	domains [][]string // per HTTP listener
	u       *unit      // the warning when it attaches nowhere, else nil
}

// hostState is one host of a gateway: the APIs serving it and their
// virtual host, per HTTP listener, and what it adds to the scoped check.
type hostState struct {
	apis []map[string]bool
	vhs  []*hostUnit // nil where no API serves the host on that listener
	// counted, consistent and routed are what the gateway's counters
	// include for this host.
	counted, consistent, routed bool
}

// hostUnit is the virtual host of one host on one listener.
type hostUnit struct {
	u        *unit
	vh       ir.VirtualHost
	srcs     []ir.Source // the APIs with routes in it
	services []string    // the Services its routes looked up
}

// clusterEntry is a used Service's cluster and the Secrets it uses.
type clusterEntry struct {
	c       *ir.Cluster
	service string
	secrets []string
}

// newFineGateway translates a proxied gateway in pieces. An error means
// it must be translated as a whole (a listener's backend rejected, or an
// invalid IR or Envoy resource, which the whole path reports).
func newFineGateway(s *incState, g *tollgatev1.Gateway) (_ *fineGateway, err error) {
	f := &fineGateway{
		g: g, key: model.KeyOf(g), attach: map[string]*apiPlacement{}, hosts: map[string]*hostState{},
		svcUse: map[string]int{}, secUse: map[string]int{}, clusters: map[string]*clusterEntry{}, sds: map[string]string{}, secrets: map[string]bool{},
		cfg: &GatewayConfig{Name: g.GetMetadata().GetName(), Mode: g.GetSpec().GetMode(), Resources: map[string][]Resource{}},
	}
	defer func() {
		if err != nil {
			f.drop(s.book)
		}
	}()
	core := newUnit()
	t := newGatewayTranslator(s.view(), core.st, g)
	listeners, _, _ := t.toIRListeners()
	f.core = core.seal()
	s.book.replace(nil, f.core)
	if len(t.rejected) > 0 {
		return nil, errors.New("a listener backend was rejected")
	}
	if len(t.implicit) > 0 {
		return nil, errors.New("a listener uses the gateway identity or the CA bundle")
	}
	for _, l := range g.GetSpec().GetListeners() {
		if l.GetProtocol() == model.ListenerHTTP || l.GetProtocol() == model.ListenerHTTPS {
			f.http = append(f.http, l)
		}
	}
	svcs, secs := map[string]bool{}, map[string]bool{}
	for _, c := range t.clusters {
		f.svcUse[c.Source.Name]++
		svcs[c.Source.Name] = true
	}
	for _, sec := range t.secrets {
		f.secUse[sec.Source.Name]++
		f.sds[sec.Name] = sec.Source.Name
		secs[sec.Source.Name] = true
	}
	hosts := map[string]bool{}
	for name, a := range s.apis {
		if onGateway(a, f.key.Name) {
			f.setAPI(s, name, a, hosts)
		}
	}
	p := patch{}
	f.recomputeHosts(s, hosts, svcs)
	if f.whole {
		return nil, errors.New("a virtual host depends on more than its APIs")
	}
	f.scoped = f.scopedNow()
	lis := map[int]bool{}
	for li := range f.http {
		lis[li] = true // each listener has a route configuration, empty or not
	}
	if err := f.buildPieces(s, p, pieces{svcs: svcs, secs: secs, hosts: hosts, lis: lis, listeners: f.scopedListeners(listeners)}); err != nil {
		return nil, err
	}
	f.cfg = p.apply(f.cfg)
	return f, nil
}

// scopedListeners switches the HTTP filter chains to scoped routes when
// the gateway routes by host, as toIRListeners does.
func (f *fineGateway) scopedListeners(ls []ir.Listener) []ir.Listener {
	if !f.scoped {
		return ls
	}
	for i := range ls {
		for j := range ls[i].FilterChains {
			if fc := &ls[i].FilterChains[j]; fc.RouteConfig != "" {
				fc.RouteConfig, fc.Scoped = "", true
			}
		}
	}
	return ls
}

func (f *fineGateway) config() *GatewayConfig { return f.cfg }

// update re-translates the hosts of the changed APIs, the clusters of the
// changed Services and the secrets of the changed Secrets, as far as this
// gateway uses them.
func (f *fineGateway) update(s *incState, ch *changeSet) error {
	hosts := map[string]bool{}
	for name, old := range ch.apis {
		if now := s.apis[name]; onGateway(old, f.key.Name) || onGateway(now, f.key.Name) {
			f.setAPI(s, name, now, hosts)
		}
	}
	svcs := map[string]bool{}
	lis := f.recomputeHosts(s, hosts, svcs)
	if f.whole || f.scopedNow() != f.scoped {
		return errRebuild
	}
	for name := range ch.services {
		if f.svcUse[name] > 0 {
			svcs[name] = true
		}
	}
	p := patch{}
	if err := f.buildPieces(s, p, pieces{svcs: svcs, changed: ch.services, secs: ch.secrets, secChanged: ch.secrets, hosts: hosts, lis: lis}); err != nil {
		return err
	}
	f.cfg = p.apply(f.cfg)
	return nil
}

// setAPI moves API name (a, nil when deleted or off the gateway) to the
// hosts it now serves, adding the hosts it leaves and joins to hosts.
func (f *fineGateway) setAPI(s *incState, name string, a *tollgatev1.API, hosts map[string]bool) {
	if old := f.attach[name]; old != nil {
		for li, ds := range old.domains {
			for _, d := range ds {
				delete(f.hosts[d].apis[li], name)
				hosts[d] = true
			}
		}
		s.book.replace(old.u, nil)
		delete(f.attach, name)
	}
	if !onGateway(a, f.key.Name) {
		return
	}
	at := &apiPlacement{domains: make([][]string, len(f.http))}
	attached := false
	for li, l := range f.http {
		at.domains[li] = fitHostnames(l.GetHostnames(), a.GetSpec().GetHostnames())
		for _, d := range at.domains[li] {
			f.host(d).apis[li][name] = true
			hosts[d] = true
			attached = true
		}
	}
	if !attached {
		u := newUnit()
		newGatewayTranslator(nil, u.st, f.g).warnUnattached(a)
		at.u = u.seal()
		s.book.replace(nil, at.u)
	}
	f.attach[name] = at
}

// host returns the state of host d, creating it.
func (f *fineGateway) host(d string) *hostState {
	hs := f.hosts[d]
	if hs == nil {
		hs = &hostState{apis: make([]map[string]bool, len(f.http)), vhs: make([]*hostUnit, len(f.http))}
		for i := range hs.apis {
			hs.apis[i] = map[string]bool{}
		}
		f.hosts[d] = hs
	}
	return hs
}

// recomputeHosts re-translates the virtual hosts of hosts on every HTTP
// listener, adds to svcs the Services whose use started or stopped, and
// returns the listeners whose virtual hosts changed; hosts whose virtual
// hosts came out the same are taken out of hosts, so that the route
// configurations holding them keep their messages (an API whose every
// route loses a conflict changes statuses, not routes).
func (f *fineGateway) recomputeHosts(s *incState, hosts, svcs map[string]bool) map[int]bool {
	lis := map[int]bool{}
	view := s.view()
	for d := range hosts {
		same := true
		hs := f.hosts[d]
		if hs == nil {
			continue
		}
		f.count(d, hs, -1)
		empty := true
		for li := range f.http {
			old := hs.vhs[li]
			var now *hostUnit
			if len(hs.apis[li]) > 0 {
				now = f.translateHost(s, view, d, hs.apis[li])
				empty = false
			}
			if old == nil && now == nil {
				continue
			}
			hs.vhs[li] = now
			if old == nil || now == nil || !reflect.DeepEqual(old.vh, now.vh) {
				lis[li], same = true, false
			}
			f.use(s, old, now, svcs)
		}
		if same {
			delete(hosts, d)
		}
		if empty {
			delete(f.hosts, d)
			continue
		}
		f.count(d, hs, +1)
	}
	return lis
}

// translateHost translates the virtual host of d from the APIs serving it.
func (f *fineGateway) translateHost(s *incState, view *snapshot, d string, apis map[string]bool) *hostUnit {
	u := newUnit()
	t := newGatewayTranslator(view, u.st, f.g)
	atts := make([]attachment, 0, len(apis))
	for _, name := range sortedKeys(apis) {
		atts = append(atts, attachment{api: s.apis[name], domains: []string{d}})
	}
	vhs, srcs := t.toIRVirtualHosts(atts)
	if len(t.rejected) > 0 || len(t.implicit) > 0 {
		f.whole = true // and the gateway is rebuilt before vhs is used
	}
	hu := &hostUnit{u: u.seal(), vh: vhs[0], srcs: srcs}
	for _, c := range t.clusters {
		hu.services = append(hu.services, c.Source.Name)
	}
	return hu
}

// use swaps a virtual host's units and Service uses from old to now.
func (f *fineGateway) use(s *incState, old, now *hostUnit, svcs map[string]bool) {
	var ou, nu *unit
	if old != nil {
		ou = old.u
		for _, svc := range old.services {
			if f.svcUse[svc]--; f.svcUse[svc] == 0 {
				delete(f.svcUse, svc)
				svcs[svc] = true
			}
		}
	}
	if now != nil {
		nu = now.u
		for _, svc := range now.services {
			if f.svcUse[svc]++; f.svcUse[svc] == 1 {
				svcs[svc] = true
			}
		}
	}
	s.book.replace(ou, nu)
}

// count adds (sign 1) or removes (-1) host d's part in the scoped check:
// scopeByHost needs every HTTP listener to serve the same virtual hosts,
// none a wildcard, and some with routes.
func (f *fineGateway) count(d string, hs *hostState, sign int) {
	if sign < 0 {
		if !hs.counted {
			return
		}
		hs.counted = false
	} else {
		hs.consistent = true
		for _, hu := range hs.vhs {
			if hu == nil || !reflect.DeepEqual(hu.vh, hs.vhs[0].vh) {
				hs.consistent = false
				break
			}
		}
		hs.routed = hs.consistent && len(hs.vhs[0].vh.Routes) > 0
		hs.counted = true
	}
	if !hs.consistent {
		f.inconsistent += sign
	}
	if strings.Contains(d, "*") {
		f.wildcard += sign
	}
	if hs.routed {
		f.routed += sign
	}
}

// scopedNow is scopeByHost's decision for the current hosts.
func (f *fineGateway) scopedNow() bool {
	return len(f.http) > 0 && len(f.hosts) > 0 && f.inconsistent == 0 && f.wildcard == 0 && f.routed > 0
}

func (f *fineGateway) drop(b *statusBook) {
	b.replace(f.core, nil)
	for _, at := range f.attach {
		b.replace(at.u, nil)
	}
	for _, hs := range f.hosts {
		for _, hu := range hs.vhs {
			if hu != nil {
				b.replace(hu.u, nil)
			}
		}
	}
}
