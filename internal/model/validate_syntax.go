package model

import (
	"fmt"
	"net/netip"
	"regexp/syntax"
	"strings"
)

// The syntax of the values the model shares across kinds: host names,
// header and query names, paths, regexes, addresses and ports.

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
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
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
	case needsEncoding(s) || strings.ContainsAny(s, "&=#?"):
		return fmt.Sprintf("%q must be a query parameter name: ASCII without spaces, control characters, '&', '=', '#' or '?'", truncate(s))
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
	case needsEncoding(s):
		return mustEncode
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
