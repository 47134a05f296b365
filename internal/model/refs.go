package model

import (
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Secret types, as SecretSpec.type spells them.
const (
	SecretTypeTLS = "tls"
	SecretTypeCA  = "ca"
)

// Ref is one reference from an object to another. The store keeps the
// referential integrity these describe: a write that would leave a Ref
// dangling is refused.
type Ref struct {
	// Path is the referencing field inside the referrer.
	Path Path
	// To is the referenced object.
	To Key
	// Route, for a Policy targeting one route of an API, names the route
	// that must exist in To.
	Route string
	// SecretType, for references to Secrets, is the type the Secret must
	// have (a listener certificate must be tls, a CA must be ca).
	SecretType string
}

// References lists every reference o makes, in field order. Empty names are
// skipped: a missing required name is a validation error, not a reference.
func References(o Object) []Ref {
	var refs []Ref
	add := func(p Path, k Kind, name string) *Ref {
		if name == "" {
			return nil
		}
		refs = append(refs, Ref{Path: p, To: Key{Kind: k, Name: name}})
		return &refs[len(refs)-1]
	}
	secret := func(p Path, name, typ string) {
		if r := add(p, KindSecret, name); r != nil {
			r.SecretType = typ
		}
	}
	switch o := o.(type) {
	case *tollgatev1.Gateway:
		for i, l := range o.GetSpec().GetListeners() {
			lp := Path("spec.listeners").Index(i)
			for j, c := range l.GetTls().GetCertificates() {
				secret(lp.Field("tls.certificates").Index(j).Field("secret"), c.GetSecret(), SecretTypeTLS)
			}
			secret(lp.Field("tls.clientValidation.caSecret"), l.GetTls().GetClientValidation().GetCaSecret(), SecretTypeCA)
			add(lp.Field("backend.service"), KindService, l.GetBackend().GetService())
		}
	case *tollgatev1.Service:
		tls := o.GetSpec().GetTls()
		secret("spec.tls.caSecret", tls.GetCaSecret(), SecretTypeCA)
		secret("spec.tls.clientCertificateSecret", tls.GetClientCertificateSecret(), SecretTypeTLS)
	case *tollgatev1.API:
		for i, g := range o.GetSpec().GetGateways() {
			add(Path("spec.gateways").Index(i), KindGateway, g)
		}
		for i, r := range o.GetSpec().GetRoutes() {
			for j, b := range r.GetBackends() {
				add(Path("spec.routes").Index(i).Field("backends").Index(j).Field("service"), KindService, b.GetService())
			}
		}
	case *tollgatev1.Policy:
		t := o.GetSpec().GetTargetRef()
		k, err := ParseKind(t.GetKind())
		if err != nil || k == KindPolicy || k == KindSecret {
			break // reported by validation
		}
		if r := add("spec.targetRef.name", k, t.GetName()); r != nil {
			r.Route = t.GetRoute()
		}
	}
	return refs
}

// RouteNames lists the route names of an API, for checking Policy targets.
func RouteNames(a *tollgatev1.API) []string {
	names := make([]string, 0, len(a.GetSpec().GetRoutes()))
	for _, r := range a.GetSpec().GetRoutes() {
		names = append(names, r.GetName())
	}
	return names
}
