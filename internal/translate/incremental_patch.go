package translate

import (
	"cmp"
	"maps"
	"slices"
)

// patch collects the resources of one gateway that an incremental update
// rebuilt or removed, by type then name; a nil Message removes.
type patch map[string]map[string]Resource

func (p patch) put(typ string, r Resource) {
	byName := p[typ]
	if byName == nil {
		byName = map[string]Resource{}
		p[typ] = byName
	}
	byName[r.Name] = r
}

func (p patch) remove(typ, name string) { p.put(typ, Resource{Name: name}) }

// apply returns a new configuration: old's lists with the patch merged in,
// still sorted by name. Every resource the patch does not name keeps its
// very Resource (and Message pointer), so the xDS server sees it as
// unchanged; old itself is left as it was, since it may be published.
func (p patch) apply(old *GatewayConfig) *GatewayConfig {
	if len(p) == 0 {
		return old
	}
	cfg := &GatewayConfig{Name: old.Name, Mode: old.Mode, Resources: maps.Clone(old.Resources)}
	for typ, byName := range p {
		rs := mergeSorted(old.Resources[typ], byName)
		if len(rs) == 0 {
			delete(cfg.Resources, typ)
			continue
		}
		cfg.Resources[typ] = rs
	}
	return cfg
}

// mergeSorted merges changes into the name-sorted list old, in one pass.
func mergeSorted(old []Resource, changes map[string]Resource) []Resource {
	names := make([]string, 0, len(changes))
	for n := range changes {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]Resource, 0, len(old)+len(names))
	i := 0
	for _, n := range names {
		j, found := slices.BinarySearchFunc(old[i:], n, func(r Resource, n string) int { return cmp.Compare(r.Name, n) })
		out = append(out, old[i:i+j]...)
		i += j
		if found {
			i++
		}
		if r := changes[n]; r.Message != nil {
			out = append(out, r)
		}
	}
	return append(out, old[i:]...)
}
