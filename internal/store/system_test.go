package store

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSystemValues(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) (Backend, func() Backend){
		"bolt": func(t *testing.T) (Backend, func() Backend) {
			path := filepath.Join(t.TempDir(), "store.db")
			b, err := OpenBolt(path)
			require.NoError(t, err)
			return b, func() Backend {
				b, err := OpenBolt(path)
				require.NoError(t, err)
				return b
			}
		},
		"memory": func(*testing.T) (Backend, func() Backend) { return NewMemoryBackend(), nil },
	} {
		t.Run(name, func(t *testing.T) {
			b, reopen := open(t)
			st, err := Open(b)
			require.NoError(t, err)
			v, err := st.GetSystem("ca")
			require.NoError(t, err)
			require.Nil(t, v)

			require.NoError(t, st.UpdateSystem("ca", func(old []byte) ([]byte, error) {
				require.Nil(t, old)
				return []byte("one"), nil
			}))
			boom := errors.New("boom")
			require.ErrorIs(t, st.UpdateSystem("ca", func([]byte) ([]byte, error) { return []byte("x"), boom }), boom)
			v, err = st.GetSystem("ca")
			require.NoError(t, err)
			require.Equal(t, "one", string(v), "a failed update changes nothing")

			// Racing read-modify-writes never lose an update.
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					require.NoError(t, st.UpdateSystem("n", func(old []byte) ([]byte, error) { return append(old, 'x'), nil }))
				})
			}
			wg.Wait()
			v, err = st.GetSystem("n")
			require.NoError(t, err)
			require.Len(t, v, 20)

			require.NoError(t, st.UpdateSystem("n", func([]byte) ([]byte, error) { return nil, nil }))
			v, err = st.GetSystem("n")
			require.NoError(t, err)
			require.Nil(t, v, "nil deletes")
			require.NoError(t, st.Close())
			require.ErrorIs(t, st.UpdateSystem("ca", func(o []byte) ([]byte, error) { return o, nil }), ErrClosed)

			if reopen == nil {
				return
			}
			st, err = Open(reopen())
			require.NoError(t, err)
			defer st.Close()
			v, err = st.GetSystem("ca")
			require.NoError(t, err)
			require.Equal(t, "one", string(v), "system values survive a reopen")
		})
	}
}
