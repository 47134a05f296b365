package loadgen

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
)

// TestGenerateIsValid checks that every generated object passes the
// model's validation, for several seeds and sizes, and that the mix
// contains what it promises.
func TestGenerateIsValid(t *testing.T) {
	for _, n := range []int{1, 10, 20, 200} {
		for _, seed := range []int64{0, 1, 42, 7777} {
			t.Run(fmt.Sprintf("n=%d/seed=%d", n, seed), func(t *testing.T) {
				docs, vs := model.ValidateBundle(Generate(seed, n))
				require.Empty(t, vs, "violations")
				require.Len(t, docs, 1+serviceCount(n)+n+countKind(docs, "Policy"))
			})
		}
	}
	bundle := string(Generate(1, 200))
	for _, want := range []string{
		"pathPrefix:", "pathExact:", "pathRegex:", "headers:", "weight:", "retries:", "timeout:",
		"rateLimit:", "jwt:", "cors:", "\n  headers:\n",
	} {
		require.Contains(t, bundle, want)
	}
	policies := strings.Count(bundle, "kind: Policy")
	require.InDelta(t, 60, policies, 25, "about 30%% of 200 APIs have a policy")
}

func countKind(docs []model.Document, kind string) int {
	n := 0
	for _, d := range docs {
		if string(model.KindOf(d.Object)) == kind {
			n++
		}
	}
	return n
}

// TestGenerateIsDeterministic: the same seed gives the same bundle, another
// seed another one.
func TestGenerateIsDeterministic(t *testing.T) {
	require.Equal(t, Generate(3, 50), Generate(3, 50))
	require.NotEqual(t, Generate(3, 50), Generate(4, 50))
	require.Equal(t, Edit(3, 50, 7), Edit(3, 50, 7))
}

// TestEditIsValidAndMarked: an edit is one valid API of the bundle, carrying
// its marker, and otherwise identical to the generated API.
func TestEditIsValidAndMarked(t *testing.T) {
	const seed, n = 9, 30
	bundle := string(Generate(seed, n))
	for i := range 20 {
		edit := Edit(seed, n, i)
		docs, vs := model.ValidateBundle(edit)
		require.Empty(t, vs, "edit %d: violations", i)
		require.Len(t, docs, 1)
		require.Contains(t, string(edit), "exact: "+Marker(i)+"}")
		unmarked := strings.Replace(string(edit), ", {name: x-edit, exact: "+Marker(i)+"}", "", 1)
		unmarked = strings.Replace(unmarked, "      headers: [{name: x-edit, exact: "+Marker(i)+"}]\n", "", 1)
		require.Contains(t, bundle, unmarked, "edit %d changes only the marker", i)
	}
}
