package admin

import (
	"net/http"
	"strings"
)

// selector is a parsed label selector in Kubernetes syntax: comma-separated
// requirements, all of which must hold. Supported: `k=v`, `k==v`, `k!=v`,
// `k` (exists), `!k` (absent), `k in (a,b)`, `k notin (a,b)`.
type selector []requirement

type requirement struct {
	key    string
	op     selectorOp
	values []string
}

type selectorOp int

const (
	opEquals selectorOp = iota
	opNotEquals
	opExists
	opAbsent
	opIn
	opNotIn
)

// maxSelectorLen bounds the work a selector can ask for.
const maxSelectorLen = 4096

func parseSelector(s string) (selector, error) {
	if len(s) > maxSelectorLen {
		return nil, newError(http.StatusBadRequest, ReasonBadRequest, "labelSelector is %d bytes; the limit is %d", len(s), maxSelectorLen)
	}
	var sel selector
	for _, part := range splitSelector(s) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		req, ok := parseRequirement(part)
		if !ok {
			return nil, newError(http.StatusBadRequest, ReasonBadRequest,
				"labelSelector requirement %q is not understood; use key=value, key!=value, key, !key, key in (a,b) or key notin (a,b)", part)
		}
		sel = append(sel, req)
	}
	return sel, nil
}

// splitSelector splits on commas outside parentheses.
func splitSelector(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

func parseRequirement(p string) (requirement, bool) {
	if k, ok := strings.CutPrefix(p, "!"); ok {
		return requirement{key: strings.TrimSpace(k), op: opAbsent}, validKey(strings.TrimSpace(k))
	}
	for _, c := range []struct {
		sep string
		op  selectorOp
	}{{"!=", opNotEquals}, {"==", opEquals}, {"=", opEquals}} {
		if k, v, ok := strings.Cut(p, c.sep); ok {
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			return requirement{key: k, op: c.op, values: []string{v}}, validKey(k) && !strings.ContainsAny(v, "=!() ")
		}
	}
	for _, c := range []struct {
		word string
		op   selectorOp
	}{{" notin ", opNotIn}, {" in ", opIn}} {
		if k, rest, ok := strings.Cut(p, c.word); ok {
			rest = strings.TrimSpace(rest)
			if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
				return requirement{}, false
			}
			var vals []string
			for _, v := range strings.Split(rest[1:len(rest)-1], ",") {
				vals = append(vals, strings.TrimSpace(v))
			}
			k = strings.TrimSpace(k)
			return requirement{key: k, op: c.op, values: vals}, validKey(k)
		}
	}
	return requirement{key: p, op: opExists}, validKey(p)
}

func validKey(k string) bool {
	return k != "" && !strings.ContainsAny(k, " =!(),")
}

func (sel selector) matches(labels map[string]string) bool {
	for _, r := range sel {
		v, has := labels[r.key]
		switch r.op {
		case opEquals:
			if !has || v != r.values[0] {
				return false
			}
		case opNotEquals:
			if has && v == r.values[0] {
				return false
			}
		case opExists:
			if !has {
				return false
			}
		case opAbsent:
			if has {
				return false
			}
		case opIn:
			if !has || !contains(r.values, v) {
				return false
			}
		case opNotIn:
			if has && contains(r.values, v) {
				return false
			}
		}
	}
	return true
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
