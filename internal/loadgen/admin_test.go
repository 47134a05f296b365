package loadgen

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestChunks: pieces stay under the limit, split only between documents,
// and join back to the bundle.
func TestChunks(t *testing.T) {
	bundle := Generate(1, 300)
	require.Greater(t, len(bundle), 64<<10)
	for _, limit := range []int{16 << 10, 64 << 10, len(bundle) + 1} {
		cs := chunks(bundle, limit)
		for _, c := range cs {
			require.LessOrEqual(t, len(c), limit)
			require.False(t, bytes.HasPrefix(c, []byte("---")), "a chunk starts with a whole document")
		}
		require.Equal(t, bundle, bytes.Join(cs, []byte("\n---\n")), "limit %d", limit)
	}
	require.Len(t, chunks(bundle, len(bundle)+1), 1)
}
