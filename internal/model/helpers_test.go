package model

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testNow is the clock every validation test runs at, so certificate
// expiry does not depend on the day the tests run.
var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// manifest renders one object of kind named "test" with spec, a YAML
// mapping written flush left.
func manifest(kind, spec string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: test\nspec:\n", APIVersion, kind)
	for _, line := range strings.Split(strings.Trim(spec, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	return b.String()
}

// validationCase is the shape of every per-kind table: a manifest and the
// violations it must produce, each as a substring of "path: message".
type validationCase struct {
	name string
	in   string
	want []string
}

// runValidation runs a table of validation cases.
func runValidation(t *testing.T, tests []validationCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireViolations(t, tt.in, tt.want)
		})
	}
}

// requireViolations decodes in (which must be schema-valid), validates it
// at testNow, and requires exactly the wanted violations: each want is a
// substring of a distinct "path: message", and nothing else is reported.
func requireViolations(t *testing.T, in string, want []string) {
	t.Helper()
	objs, vs := Decode([]byte(in))
	require.Empty(t, vs, "decode must succeed; the case is about validation")
	require.Len(t, objs, 1)
	got := render(ValidateAt(objs[0], testNow))
	requireMatch(t, got, want)
}

// render turns violations into "path: message" lines.
func render(vs Violations) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Path + ": " + v.Message
	}
	return out
}

// requireMatch pairs every want with a distinct got line containing it and
// requires that no line is left over.
func requireMatch(t *testing.T, got, want []string) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if !used[i] && strings.Contains(g, w) {
				used[i], found = true, true
				break
			}
		}
		require.True(t, found, "no violation matches %q; got:\n%s", w, strings.Join(got, "\n"))
	}
	require.Len(t, got, len(want), "unexpected violations; got:\n%s", strings.Join(got, "\n"))
}

// repeat renders n YAML list items from a format taking the 1-based index
// (as %[1]d, any number of times).
func repeat(n int, format string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, format, i+1)
	}
	return b.String()
}
