package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
)

func TestMemoryBackendKeepsCommits(t *testing.T) {
	b := NewMemoryBackend()
	s, err := Open(b)
	require.NoError(t, err)
	_, err = s.Apply(context.Background(), []Change{{Op: OpPut, Object: gateway("a")}, {Op: OpPut, Object: gateway("b")}}, ApplyOptions{})
	require.NoError(t, err)
	_, err = s.Apply(context.Background(), []Change{{Op: OpDelete, Key: model.Key{Kind: model.KindGateway, Name: "a"}}}, ApplyOptions{})
	require.NoError(t, err)

	rev, recs, err := b.Load()
	require.NoError(t, err)
	require.Equal(t, uint64(2), rev)
	require.Len(t, recs, 1)
	require.Equal(t, "b", recs[0].Name)

	// A store reopened on the same backend sees the same state.
	s2, err := Open(b)
	require.NoError(t, err)
	got, err := s2.Read().Gateways(nil)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, uint64(2), s2.Revision())
}
