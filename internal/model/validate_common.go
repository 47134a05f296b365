package model

import (
	"strings"
	"time"
)

// span bounds a duration field. A zero span.min means "greater than 0".
type span struct {
	min, max time.Duration
	// zeroOK accepts "0s", which the field documents as "disabled".
	zeroOK bool
}

// checkDuration parses s as a Go duration and checks it against b. An empty
// s is "not set" and is not reported; ok is true only for a set, valid value.
func checkDuration(e *Errs, p Path, s string, b span) (d time.Duration, ok bool) {
	if s == "" {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		e.Add(p, "must be a duration such as \"250ms\", \"5s\" or \"1m\", got %q", truncate(s))
	case d == 0 && b.zeroOK:
		return 0, true
	case d < 0 && b.zeroOK:
		e.Add(p, "must be 0s (disabled) or positive, got %q", truncate(s))
	case d <= 0:
		e.Add(p, "must be greater than 0, got %q", truncate(s))
	case d < b.min:
		e.Add(p, "must be at least %s, got %q", fmtDuration(b.min), truncate(s))
	case d > b.max:
		e.Add(p, "must be at most %s, got %q", fmtDuration(b.max), truncate(s))
	default:
		return d, true
	}
	return 0, false
}

// fmtDuration renders d without Go's trailing zero units: 1h, 5m, 1m30s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// checkRef reports a name that references another object unless it is a
// valid object name. An empty name is reported as required.
func checkRef(e *Errs, p Path, name string) {
	if msg := ValidateName(name); msg != "" {
		e.Add(p, "%s", msg)
	}
}

// checkOptionalName is checkRef for a name that may be empty.
func checkOptionalName(e *Errs, p Path, name string) {
	if name != "" {
		checkRef(e, p, name)
	}
}

// checkCount reports a list longer than limit. It returns false when it did.
func checkCount(e *Errs, p Path, n, limit int, what string) bool {
	if n > limit {
		e.Add(p, "at most %d %s, got %d", limit, what, n)
		return false
	}
	return true
}

// checkRequired reports an empty required list.
func checkRequired(e *Errs, p Path, n int, what string) bool {
	if n == 0 {
		e.Add(p, "required: at least one %s", what)
		return false
	}
	return true
}

// checkLen reports a string longer than limit bytes.
func checkLen(e *Errs, p Path, s string, limit int) bool {
	if len(s) > limit {
		e.Add(p, "must be at most %d bytes, got %d", limit, len(s))
		return false
	}
	return true
}

// checkText checks a free-text value that reaches the proxies: bounded,
// and without the characters that would split a header or a log line.
func checkText(e *Errs, p Path, s string, limit int) {
	if checkLen(e, p, s, limit) && hasCRLFNUL(s) {
		e.Add(p, "must not contain CR, LF or NUL characters")
	}
}

// firstSeen remembers where each value was first seen, so that a duplicate
// names its twin.
type firstSeen map[string]Path

// dup records v at p and reports it when it was seen before.
func (f firstSeen) dup(e *Errs, p Path, v, what string) bool {
	if first, ok := f[v]; ok {
		e.Add(p, "duplicate %s %q: already at %s; remove one", what, truncate(v), first)
		return true
	}
	f[v] = p
	return false
}

func hasCRLFNUL(s string) bool { return strings.ContainsAny(s, "\r\n\x00") }

// mustEncode is the message for a path with bytes that requests only ever
// carry percent-encoded, so a route spelling them raw could never match.
const mustEncode = "must not contain spaces, control characters or non-ASCII characters; percent-encode them"

// needsEncoding reports spaces, control characters and non-ASCII bytes.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return true
		}
	}
	return false
}

// setNames lists the names of the set entries, for messages such as
// "got pathExact and pathRegex".
func setNames(names []string, set []bool) []string {
	var out []string
	for i, ok := range set {
		if ok {
			out = append(out, names[i])
		}
	}
	return out
}

// joinAnd renders a, b and c.
func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
