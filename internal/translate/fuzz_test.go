package translate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzTranslate: any bundle that decodes, validates and applies must
// translate without panicking, and every resource produced must pass
// ValidateAll with every Any resolvable. Seeded with the golden inputs and
// the examples.
func FuzzTranslate(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	require.NoError(f, err)
	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	require.NoError(f, err)
	for _, p := range append(seeds, examples...) {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := storeFromBundle(data)
		if err != nil {
			return // not a valid bundle: nothing to translate
		}
		checkOutput(t, Translate(s.Read()))
	})
}

// TestExamplesTranslate translates every example bundle: they are what
// users start from, so they must produce valid configuration.
func TestExamplesTranslate(t *testing.T) {
	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, p := range examples {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			out := Translate(loadStore(t, data).Read())
			checkOutput(t, out)
			for k, st := range out.Status {
				if k.Kind != "Policy" {
					require.Empty(t, st.Problems, "%s", k)
				}
			}
		})
	}
}
