package translate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// editor makes random but mostly valid edits to a store, of every kind the
// incremental translator distinguishes. Edits the store rejects (deleting
// a Service in use, a Gateway with APIs) are part of the mix: they must
// change nothing.
type editor struct {
	rnd *rand.Rand
	st  *store.Store
	n   int // edits made, for fresh names
}

// edit is one random change; it reports the keys it tried to change.
func (e *editor) edit() (desc string, keys []model.Key, applied bool) {
	e.n++
	var changes []store.Change
	switch p := e.rnd.IntN(100); {
	case p < 30:
		changes = e.putAPI(e.existingOrNew(model.KindAPI, "api-r"))
	case p < 45:
		changes = e.putAPI(fmt.Sprintf("api-r%d", e.n))
	case p < 55:
		changes = e.deleteOne(model.KindAPI)
	case p < 68:
		changes = e.putService(e.existingOrNew(model.KindService, "svc-r"))
	case p < 73:
		changes = e.deleteOne(model.KindService)
	case p < 76:
		changes = e.swapSecret()
	case p < 80:
		changes = e.toggleIdentitySecret()
	case p < 87:
		changes = e.editGateway()
	case p < 90:
		changes = e.deleteOne(model.KindPolicy)
	default:
		changes = append(e.putAPI(fmt.Sprintf("api-r%d", e.n)), e.putService(fmt.Sprintf("svc-r%d", e.n))...)
	}
	for _, c := range changes {
		k := c.Key
		if c.Op == store.OpPut {
			k = model.KeyOf(c.Object)
		}
		keys = append(keys, k)
		desc += fmt.Sprintf("%v %s; ", c.Op, k)
	}
	if len(changes) == 0 {
		return "nothing", nil, false
	}
	res, err := e.st.Apply(context.Background(), changes, store.ApplyOptions{})
	return desc, keys, err == nil && res.Changed
}

func (e *editor) names(k model.Kind) []string {
	objs, _ := e.st.Read().List(nil, k)
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetMetadata().GetName())
	}
	return out
}

func (e *editor) pick(s []string) string { return s[e.rnd.IntN(len(s))] }

func (e *editor) existingOrNew(k model.Kind, prefix string) string {
	if names := e.names(k); len(names) > 0 && e.rnd.IntN(4) > 0 {
		return e.pick(names)
	}
	return fmt.Sprintf("%s%d", prefix, e.n)
}

func (e *editor) deleteOne(k model.Kind) []store.Change {
	names := e.names(k)
	if len(names) == 0 {
		return nil
	}
	return []store.Change{{Op: store.OpDelete, Key: model.Key{Kind: k, Name: e.pick(names)}}}
}

func (e *editor) parse(doc string) []store.Change {
	docs, vs := model.ValidateBundle([]byte(doc))
	if len(vs) > 0 {
		panic(fmt.Sprintf("editor made an invalid definition: %v\n%s", vs, doc))
	}
	var out []store.Change
	for _, d := range docs {
		out = append(out, store.Change{Op: store.OpPut, Object: d.Object})
	}
	return out
}

// A few hosts and matches, so that APIs share hosts, conflict and shadow
// each other, and gateways switch between routing by host and not.
var (
	editHosts   = []string{"shop.example.com", "orders.example.com", "api-1.example.com", "a.example.net", "*.example.net", "*.example.com"}
	editMatches = []string{
		`{}`, `{pathPrefix: /x}`, `{pathExact: /x, methods: [GET]}`, `{pathPrefix: /, headers: [{name: x-beta, exact: "yes"}]}`,
		`{pathRegex: "^/r/[0-9]+$"}`, `{methods: [GET, POST]}`, `{pathPrefix: /x, queryParams: [{name: q, present: true}]}`,
	}
)

func (e *editor) putAPI(name string) []store.Change {
	gws := e.names(model.KindGateway)
	if len(gws) == 0 {
		return nil
	}
	svcs := e.names(model.KindService)
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: tollgate.dev/v1\nkind: API\nmetadata: {name: %s}\nspec:\n", name)
	e.rnd.Shuffle(len(gws), func(i, j int) { gws[i], gws[j] = gws[j], gws[i] })
	fmt.Fprintf(&b, "  gateways: [%s]\n", strings.Join(gws[:1+e.rnd.IntN(len(gws))], ", "))
	if h := e.rnd.IntN(3); h > 0 {
		hosts := slices.Clone(editHosts)
		e.rnd.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
		fmt.Fprintf(&b, "  hostnames: [\"%s\"]\n", strings.Join(hosts[:h], `", "`))
	}
	if e.rnd.IntN(2) == 0 {
		b.WriteString("  basePath: /v1\n")
	}
	b.WriteString("  routes:\n")
	for i := range 1 + e.rnd.IntN(3) {
		fmt.Fprintf(&b, "  - name: r%d\n    match: %s\n", i, e.pick(editMatches))
		switch a := e.rnd.IntN(10); {
		case a == 0 || len(svcs) == 0:
			b.WriteString("    redirect: {host: example.org}\n")
		case a == 1:
			b.WriteString("    directResponse: {status: 204}\n")
		default:
			first := e.pick(svcs)
			fmt.Fprintf(&b, "    backends: [{service: %s, weight: 3}", first)
			if second := e.pick(svcs); second != first && e.rnd.IntN(3) == 0 {
				fmt.Fprintf(&b, ", {service: %s}", second)
			}
			b.WriteString("]\n")
		}
	}
	return e.parse(b.String())
}

func (e *editor) putService(name string) []store.Change {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: %s}\nspec:\n", name)
	if e.rnd.IntN(5) == 0 {
		b.WriteString("  hostname: backend.internal\n  port: 443\n")
	} else {
		b.WriteString("  endpoints:\n")
		for i := range 1 + e.rnd.IntN(3) {
			fmt.Fprintf(&b, "  - {address: 10.9.%d.%d, port: 8080, locality: {zone: z%d}}\n", e.rnd.IntN(3), i, e.rnd.IntN(2))
		}
	}
	if e.rnd.IntN(2) == 0 {
		b.WriteString("  protocol: HTTP2\n")
	}
	if cas := e.secretsOfType("ca"); len(cas) > 0 && e.rnd.IntN(4) == 0 {
		fmt.Fprintf(&b, "  tls: {sni: backend.internal, caSecret: %s}\n", e.pick(cas))
	}
	return e.parse(b.String())
}

func (e *editor) secretsOfType(typ string) []string {
	secs, _ := e.st.Read().Secrets(nil)
	var out []string
	for _, s := range secs {
		if s.GetSpec().GetType() == typ {
			out = append(out, s.GetMetadata().GetName())
		}
	}
	return out
}

// swapSecret gives a Secret the content of another of its type: a
// rotation, as far as the translator can tell.
func (e *editor) swapSecret() []store.Change {
	secs, _ := e.st.Read().Secrets(nil)
	if len(secs) < 2 {
		return nil
	}
	a, b := secs[e.rnd.IntN(len(secs))], secs[e.rnd.IntN(len(secs))]
	if a.GetSpec().GetType() != b.GetSpec().GetType() || proto.Equal(a.GetSpec(), b.GetSpec()) {
		return nil
	}
	c := proto.Clone(a).(*tollgatev1.Secret)
	c.Spec = proto.Clone(b.GetSpec()).(*tollgatev1.SecretSpec)
	c.GetMetadata().ResourceVersion = ""
	return []store.Change{{Op: store.OpPut, Object: c}}
}

// toggleIdentitySecret deletes a Secret the control plane writes (a
// gateway identity, the CA bundle) or creates it from another Secret of
// its type: an identity being issued or revoked, which nothing references
// as far as the store knows.
func (e *editor) toggleIdentitySecret() []store.Change {
	r := e.st.Read()
	gws, _ := r.Gateways(nil)
	names := []string{model.IdentityCASecretName}
	for _, g := range gws {
		names = append(names, model.IdentitySecretName(g.GetMetadata().GetName()))
	}
	name := e.pick(names)
	typ := model.SecretTypeTLS
	if name == model.IdentityCASecretName {
		typ = model.SecretTypeCA
	}
	secs, _ := r.Secrets(nil)
	var donors []*tollgatev1.Secret
	for _, sec := range secs {
		if sec.GetMetadata().GetName() == name {
			return []store.Change{{Op: store.OpDelete, Key: model.KeyOf(sec)}}
		}
		if sec.GetSpec().GetType() == typ {
			donors = append(donors, sec)
		}
	}
	if len(donors) == 0 {
		return nil
	}
	c := proto.Clone(donors[e.rnd.IntN(len(donors))]).(*tollgatev1.Secret)
	c.Metadata = &tollgatev1.ObjectMeta{Name: name}
	return []store.Change{{Op: store.OpPut, Object: c}}
}

// editGateway changes the hostnames of one HTTP listener, or deletes a
// gateway (rejected while APIs use it).
func (e *editor) editGateway() []store.Change {
	gws, _ := e.st.Read().Gateways(nil)
	if len(gws) == 0 {
		return nil
	}
	g := proto.Clone(gws[e.rnd.IntN(len(gws))]).(*tollgatev1.Gateway)
	if e.rnd.IntN(4) == 0 {
		return []store.Change{{Op: store.OpDelete, Key: model.KeyOf(g)}}
	}
	g.GetMetadata().ResourceVersion = ""
	for _, l := range g.GetSpec().GetListeners() {
		if l.GetProtocol() == model.ListenerHTTP && e.rnd.IntN(2) == 0 {
			switch e.rnd.IntN(3) {
			case 0:
				l.Hostnames = nil
			case 1:
				l.Hostnames = []string{"shop.example.com"}
			default:
				l.Hostnames = []string{"*.example.com", "orders.example.com"}
			}
			break
		}
	}
	return []store.Change{{Op: store.OpPut, Object: g}}
}
