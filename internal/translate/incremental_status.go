package translate

import (
	"slices"

	"tollgate.dev/tollgate/internal/model"
)

// unit is one piece of an incremental translation that is recomputed as a
// whole (a host of a listener, an API's attachment to a gateway, a
// gateway's listeners, or a whole gateway), with the status reports it
// made. A definition's Status is the union of the reports of every unit
// that mentions it, so when a unit is recomputed only the definitions its
// old and new reports mention need their Status recomputed.
type unit struct {
	st   *statuses
	keys []model.Key // every definition st mentions, set by seal
}

func newUnit() *unit { return &unit{st: emptyStatuses()} }

// seal records which definitions the unit's reports mention; the unit is
// not changed afterwards.
func (u *unit) seal() *unit {
	u.keys = u.keys[:0]
	for k := range u.st.m {
		u.keys = append(u.keys, k)
	}
	add := func(kind model.Kind, counts map[string]int) {
		for name := range counts {
			u.keys = append(u.keys, model.Key{Kind: kind, Name: name})
		}
	}
	add(model.KindAPI, u.st.routesOut)
	add(model.KindAPI, u.st.routesDropped)
	add(model.KindService, u.st.servicesOut)
	add(model.KindService, u.st.servicesDropped)
	return u
}

// statusBook indexes units by the definitions they report on.
type statusBook struct {
	by map[model.Key]map[*unit]struct{}
	// dirty are the definitions whose Status must be recomputed.
	dirty map[model.Key]struct{}
}

func newStatusBook() *statusBook {
	return &statusBook{by: map[model.Key]map[*unit]struct{}{}, dirty: map[model.Key]struct{}{}}
}

// replace swaps unit old (nil when new) for unit now (nil when gone).
func (b *statusBook) replace(old, now *unit) {
	if old != nil {
		for _, k := range old.keys {
			if set := b.by[k]; set != nil {
				delete(set, old)
				if len(set) == 0 {
					delete(b.by, k)
				}
			}
			b.dirty[k] = struct{}{}
		}
	}
	if now != nil {
		for _, k := range now.keys {
			set := b.by[k]
			if set == nil {
				set = map[*unit]struct{}{}
				b.by[k] = set
			}
			set[now] = struct{}{}
			b.dirty[k] = struct{}{}
		}
	}
}

// touch marks k's Status for recomputation (k was created or deleted).
func (b *statusBook) touch(k model.Key) { b.dirty[k] = struct{}{} }

// status merges the reports on k as a full translation would: identical
// reports from two units count once, an API with routes left out and none
// served is not Accepted, and so is a Service no gateway could use.
func (b *statusBook) status(k model.Key) *Status {
	s := &Status{Accepted: true}
	var out, dropped int
	for u := range b.by[k] {
		if c := u.st.m[k]; c != nil {
			s.Problems = appendNew(s.Problems, c.Problems)
			s.Warnings = appendNew(s.Warnings, c.Warnings)
		}
		switch k.Kind {
		case model.KindAPI:
			out, dropped = out+u.st.routesOut[k.Name], dropped+u.st.routesDropped[k.Name]
		case model.KindService:
			out, dropped = out+u.st.servicesOut[k.Name], dropped+u.st.servicesDropped[k.Name]
		}
	}
	if k.Kind == model.KindPolicy {
		s.Warnings = appendNew(s.Warnings, model.Violations{{Object: k.String(), Path: "spec", Message: policyNotEnforced}})
	}
	if dropped > 0 && out == 0 {
		s.Accepted = false
	}
	sortViolations(s.Problems)
	sortViolations(s.Warnings)
	return s
}

func appendNew(to, from model.Violations) model.Violations {
	for _, v := range from {
		if !slices.Contains(to, v) {
			to = append(to, v)
		}
	}
	return to
}
