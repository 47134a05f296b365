package model

import (
	"fmt"
	"net/netip"
	"regexp/syntax"
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

// checkCount reports a list longer than max. It returns false when it did.
func checkCount(e *Errs, p Path, n, max int, what string) bool {
	if n > max {
		e.Add(p, "at most %d %s, got %d", max, what, n)
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

// checkLen reports a string longer than max bytes.
func checkLen(e *Errs, p Path, s string, max int) bool {
	if len(s) > max {
		e.Add(p, "must be at most %d bytes, got %d", max, len(s))
		return false
	}
	return true
}

// checkText checks a free-text value that reaches the proxies: bounded,
// and without the characters that would split a header or a log line.
func checkText(e *Errs, p Path, s string, max int) {
	if checkLen(e, p, s, max) && hasCRLFNUL(s) {
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

// hasSpaceOrCtl reports ASCII spaces and control characters, which a path
// or URL must carry percent-encoded.
func hasSpaceOrCtl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
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

// hostnameProblem describes what is wrong with a DNS name, or returns "".
// A leading "*." wildcard label is accepted when wildcard is true.
func hostnameProblem(s string, wildcard bool) string {
	switch {
	case s == "":
		return "required"
	case len(s) > MaxHostnameLength:
		return fmt.Sprintf("must be at most %d characters, got %d", MaxHostnameLength, len(s))
	case strings.Contains(s, ":"):
		return fmt.Sprintf("%q must be a host name without a port or scheme", truncate(s))
	case s != strings.ToLower(s):
		return fmt.Sprintf("must be lower case: use %q", truncate(strings.ToLower(s)))
	case strings.HasSuffix(s, "."):
		return fmt.Sprintf("must not end with '.': use %q", truncate(strings.TrimSuffix(s, ".")))
	}
	name := s
	if strings.HasPrefix(s, "*.") {
		if !wildcard {
			return fmt.Sprintf("%q must be a host name, not a wildcard", truncate(s))
		}
		name = s[2:]
	}
	if strings.Contains(name, "*") {
		return fmt.Sprintf("%q: a wildcard is only allowed as the whole first label, as in \"*.example.com\"", truncate(s))
	}
	for _, label := range strings.Split(name, ".") {
		if !dnsLabelOK(label) {
			return fmt.Sprintf("%q is not a DNS name: each dot-separated label must be 1-63 lower-case letters, digits or '-', not starting or ending with '-'", truncate(s))
		}
	}
	return ""
}

func dnsLabelOK(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkHostname reports s at p unless it is a DNS name.
func checkHostname(e *Errs, p Path, s string, wildcard bool) {
	if msg := hostnameProblem(s, wildcard); msg != "" {
		e.Add(p, "%s", msg)
	}
}

// checkHostnames checks a list of hostnames: bounded, valid and unique.
func checkHostnames(e *Errs, p Path, names []string, wildcard bool) {
	if !checkCount(e, p, len(names), MaxHostnames, "hostnames") {
		return
	}
	seen := firstSeen{}
	for i, h := range names {
		hp := p.Index(i)
		if msg := hostnameProblem(h, wildcard); msg != "" {
			e.Add(hp, "%s", msg)
			continue
		}
		seen.dup(e, hp, h, "hostname")
	}
}

// checkRegex checks an RE2 regex: bounded in length and in compiled size.
// It returns the number of capture groups of a valid regex.
func checkRegex(e *Errs, p Path, s string) (groups int, ok bool) {
	if s == "" {
		e.Add(p, "required: an RE2 regular expression")
		return 0, false
	}
	if !checkLen(e, p, s, MaxRegexLength) {
		return 0, false
	}
	re, err := syntax.Parse(s, syntax.Perl)
	if err != nil {
		e.Add(p, "must be an RE2 regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return 0, false
	}
	// Compiling is the expensive step (a 1 KiB regex can compile to 250,000
	// instructions in a quarter of a second), so a cheap estimate screens
	// out the monsters first; the rest are compiled and counted exactly.
	n := regexSize(re, 2*MaxRegexProgramSize)
	if n <= 2*MaxRegexProgramSize {
		prog, err := syntax.Compile(re.Simplify())
		if err != nil {
			e.Add(p, "must be an RE2 regular expression: %s", err)
			return 0, false
		}
		n = len(prog.Inst)
	}
	const advice = "shorten repetitions or use a prefix match"
	switch {
	case n > 2*MaxRegexProgramSize:
		e.Add(p, "regex is too complex: it compiles to more than %d instructions, at most %d are allowed; %s", 2*MaxRegexProgramSize, MaxRegexProgramSize, advice)
	case n > MaxRegexProgramSize:
		e.Add(p, "regex is too complex: it compiles to %d instructions, at most %d are allowed; %s", n, MaxRegexProgramSize, advice)
	default:
		return re.MaxCap(), true
	}
	return 0, false
}

// regexSize estimates the instructions re compiles to, as regexp/syntax
// itself estimates them, saturating just above limit so that products of
// nested repetitions cannot overflow.
func regexSize(re *syntax.Regexp, limit int) int {
	sum := 0
	for _, sub := range re.Sub {
		sum += regexSize(sub, limit)
	}
	var size int
	switch re.Op {
	case syntax.OpLiteral:
		size = len(re.Rune)
	case syntax.OpCapture, syntax.OpStar:
		size = 2 + sum
	case syntax.OpPlus, syntax.OpQuest:
		size = 1 + sum
	case syntax.OpConcat:
		size = sum
	case syntax.OpAlternate:
		size = sum + len(re.Sub) - 1
	case syntax.OpRepeat:
		switch {
		case re.Max == -1 && re.Min == 0:
			size = 2 + sum
		case re.Max == -1:
			size = 1 + re.Min*sum
		default:
			size = re.Max*sum + (re.Max - re.Min)
		}
	default:
		size = 1
	}
	return min(size, limit+1)
}

// headerNameProblem describes what is wrong with an HTTP header name, or
// returns "". Names are RFC 7230 tokens in lower case (HTTP/2 requires it,
// and one spelling per header keeps merges and conflicts detectable).
func headerNameProblem(s string) string {
	switch {
	case s == "":
		return "required"
	case len(s) > MaxHeaderNameLength:
		return fmt.Sprintf("must be at most %d bytes, got %d", MaxHeaderNameLength, len(s))
	case strings.HasPrefix(s, ":"):
		return fmt.Sprintf("%q is an HTTP/2 pseudo-header; use a regular header name", truncate(s))
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return fmt.Sprintf("%q must be an HTTP header name: letters, digits and !#$%%&'*+-.^_`|~", truncate(s))
		}
	}
	if s != strings.ToLower(s) {
		return fmt.Sprintf("must be lower case: use %q", strings.ToLower(s))
	}
	return ""
}

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// checkHeaderName reports s at p unless it is a valid header name.
func checkHeaderName(e *Errs, p Path, s string) bool {
	if msg := headerNameProblem(s); msg != "" {
		e.Add(p, "%s", msg)
		return false
	}
	return true
}

// checkMutableHeader is checkHeaderName for headers the gateway writes:
// Envoy refuses to add, set or remove Host (use a route's rewrite.host).
func checkMutableHeader(e *Errs, p Path, s string) bool {
	if !checkHeaderName(e, p, s) {
		return false
	}
	if s == "host" {
		e.Add(p, "the host header cannot be added, set or removed; use a route's rewrite.host")
		return false
	}
	return true
}

// checkHeaderValue checks a value that ends up in a header.
func checkHeaderValue(e *Errs, p Path, s string) {
	checkText(e, p, s, MaxHeaderValueLength)
}

// queryNameProblem describes what is wrong with a query parameter name.
func queryNameProblem(s string) string {
	switch {
	case s == "":
		return "required"
	case len(s) > MaxHeaderNameLength:
		return fmt.Sprintf("must be at most %d bytes, got %d", MaxHeaderNameLength, len(s))
	case hasSpaceOrCtl(s) || strings.ContainsAny(s, "&=#?"):
		return fmt.Sprintf("%q must be a query parameter name, without spaces, control characters, '&', '=', '#' or '?'", truncate(s))
	}
	return ""
}

// pathProblem describes what is wrong with an absolute URL path, or
// returns "". Paths are matched after Envoy's normalisation, so a path
// that normalisation would change could never match.
func pathProblem(s string) string {
	switch {
	case !strings.HasPrefix(s, "/"):
		return `must start with "/"`
	case len(s) > MaxPathLength:
		return fmt.Sprintf("must be at most %d bytes, got %d", MaxPathLength, len(s))
	case hasSpaceOrCtl(s):
		return "must not contain spaces or control characters; percent-encode them"
	case strings.ContainsAny(s, "?#"):
		return `must not contain "?" or "#": it matches the path only (use queryParams for the query)`
	case strings.Contains(s, "//"):
		return `must not contain "//"`
	}
	for _, seg := range strings.Split(s, "/") {
		seg = strings.ReplaceAll(strings.ToLower(seg), "%2e", ".")
		if seg == "." || seg == ".." {
			return `must not contain "." or ".." segments`
		}
	}
	return ""
}

// checkPath reports s at p unless it is a valid path.
func checkPath(e *Errs, p Path, s string) {
	if msg := pathProblem(s); msg != "" {
		e.Add(p, "%s", msg)
	}
}

// checkAddrOrCIDR checks an IP policy entry: a CIDR with its host bits
// zero, or a bare address.
func checkAddrOrCIDR(e *Errs, p Path, s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			e.Add(p, "must be a CIDR such as \"10.0.0.0/8\" or an address such as \"192.0.2.7\", got %q", truncate(s))
			return netip.Prefix{}, false
		}
		if m := pfx.Masked(); m != pfx {
			e.Add(p, "host bits must be zero: use %q", m.String())
			return netip.Prefix{}, false
		}
		return pfx, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		e.Add(p, "must be a CIDR such as \"10.0.0.0/8\" or an address such as \"192.0.2.7\", got %q", truncate(s))
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// checkPort reports a port outside 1-65535; 0 is reported as required.
func checkPort(e *Errs, p Path, port uint32) bool {
	switch {
	case port == 0:
		e.Add(p, "required: a port between 1 and 65535")
	case port > 65535:
		e.Add(p, "must be between 1 and 65535, got %d", port)
	default:
		return true
	}
	return false
}
