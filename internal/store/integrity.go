package store

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"tollgate.dev/tollgate/internal/model"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// checkIntegrity checks references on the state the bundle would produce,
// which the write transaction now holds. References from objects the bundle
// puts are the bundle's own problem: violations at the referencing field.
// References from objects outside the bundle to something the bundle deleted
// or changed are a conflict: the user must edit those objects first.
func (a *applier) checkIntegrity() error {
	var vs model.Violations
	for _, st := range a.steps {
		if st.action == ActionDeleted {
			continue
		}
		for _, ref := range model.References(st.put) {
			if problem, _ := a.checkRef(ref); problem != "" {
				vs = append(vs, model.Violation{Document: st.doc, Object: st.key.String(), Path: string(ref.Path), Message: problem})
			}
		}
	}
	if len(vs) > 0 {
		return vs
	}
	for _, st := range a.steps {
		if !mayBreakReferences(st) {
			continue
		}
		if err := a.checkReferrers(st.key); err != nil {
			return err
		}
	}
	return nil
}

// mayBreakReferences reports whether a step can invalidate references to its
// object: a deletion, a Secret changing type, or an API losing a route. A
// Gateway or Service is referenced by name only, so updating one never
// does, which spares re-checking the thousands of APIs on a gateway.
func mayBreakReferences(st *step) bool {
	switch {
	case st.action == ActionDeleted:
		return true
	case st.action != ActionUpdated:
		return false
	}
	switch old := st.old.(type) {
	case *tollgatev1.Secret:
		put, _ := st.put.(*tollgatev1.Secret)
		return old.GetSpec().GetType() != put.GetSpec().GetType()
	case *tollgatev1.API:
		put, _ := st.put.(*tollgatev1.API)
		kept := model.RouteNames(put)
		for _, r := range model.RouteNames(old) {
			if !slices.Contains(kept, r) {
				return true
			}
		}
	}
	return false
}

// checkRef reports what is wrong with one reference in the transaction's
// state, "" when nothing is. missing says the target does not exist at all
// (as opposed to existing with the wrong secret type or without the route).
func (a *applier) checkRef(ref model.Ref) (problem string, missing bool) {
	table, err := tableOf(ref.To.Kind)
	if err != nil {
		return err.Error(), true
	}
	raw, err := a.txn.First(table, indexID, ref.To.Name)
	if err != nil || raw == nil {
		return fmt.Sprintf("%s %q not found; create it first or in the same bundle", ref.To.Kind, ref.To.Name), true
	}
	switch t := raw.(type) {
	case *tollgatev1.Secret:
		if typ := t.GetSpec().GetType(); ref.SecretType != "" && typ != ref.SecretType {
			return fmt.Sprintf("Secret %q has type %q but this field needs a Secret of type %q", ref.To.Name, typ, ref.SecretType), false
		}
	case *tollgatev1.API:
		if names := model.RouteNames(t); ref.Route != "" && !slices.Contains(names, ref.Route) {
			return fmt.Sprintf("API %q has no route named %q (its routes: %s)", ref.To.Name, ref.Route, routeList(names)), false
		}
	}
	return "", false
}

func routeList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// checkReferrers finds, through the indexes, the objects outside the bundle
// that reference k and whose references no longer hold.
func (a *applier) checkReferrers(k model.Key) error {
	objs, err := (&Reader{txn: a.txn}).referringObjects(nil, k)
	if err != nil {
		return err
	}
	type broken struct {
		ref    Referrer
		detail string
	}
	var found []broken
	for _, o := range objs {
		ok := model.KeyOf(o)
		if a.inBundle[ok] {
			continue // checked as a put of the bundle
		}
		for _, ref := range model.References(o) {
			if ref.To != k {
				continue
			}
			if problem, missing := a.checkRef(ref); problem != "" {
				b := broken{ref: Referrer{Kind: ok.Kind, Name: ok.Name, Path: string(ref.Path)}}
				if !missing {
					b.detail = problem
				}
				found = append(found, b)
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	slices.SortStableFunc(found, func(x, y broken) int {
		return cmp.Or(cmp.Compare(kindRank(x.ref.Kind), kindRank(y.ref.Kind)), cmp.Compare(x.ref.Name, y.ref.Name))
	})
	refs, details := make([]Referrer, len(found)), make([]string, len(found))
	for i, b := range found {
		refs[i], details[i] = b.ref, b.detail
	}
	return referencedError(k, refs, details)
}
