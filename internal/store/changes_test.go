package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
)

func key(kind model.Kind, name string) model.Key { return model.Key{Kind: kind, Name: name} }

func TestChangesSince(t *testing.T) {
	st, _ := newStore(t)
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{})                                           // 1
	mustApply(t, st, puts(tweak(service("orders"))), ApplyOptions{})                                   // 2
	mustApply(t, st, puts(api("more", []string{"edge"}, "orders"), service("orders")), ApplyOptions{}) // 3
	mustApply(t, st, []Change{del(model.KindAPI, "more")}, ApplyOptions{})                             // 4
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{})                                           // unchanged: no revision
	r := st.Read()
	require.Equal(t, uint64(4), r.Revision())

	tests := []struct {
		name   string
		rev    uint64
		want   []model.Key
		wantOK bool
	}{
		{"up to date", 4, nil, true},
		{"a deletion", 3, []model.Key{key(model.KindAPI, "more")}, true},
		{"each key once, in commit order", 1, []model.Key{key(model.KindService, "orders"), key(model.KindAPI, "more")}, true},
		{"everything", 0, []model.Key{
			key(model.KindGateway, "edge"), key(model.KindService, "orders"), key(model.KindAPI, "shop"), key(model.KindAPI, "more"),
		}, true},
		{"newer than the snapshot", 5, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.ChangesSince(tt.rev)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestChangesSinceReplaceRecordsImpliedDeletions(t *testing.T) {
	st, _ := newStore(t)
	mustApply(t, st, puts(append(baseObjects(), service("spare"))...), ApplyOptions{})
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{Replace: true})
	got, ok := st.Read().ChangesSince(1)
	require.True(t, ok)
	require.Equal(t, []model.Key{key(model.KindService, "spare")}, got)
}

// TestChangesSinceIsAtomicWithCommits: a rejected or failed Apply records
// nothing, and a snapshot never sees the log row of a later revision.
func TestChangesSinceIsAtomicWithCommits(t *testing.T) {
	b, err := OpenBolt(t.TempDir() + "/store.db")
	require.NoError(t, err)
	fb := &failingBackend{Backend: b}
	st, err := Open(fb)
	require.NoError(t, err)
	defer st.Close()
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
	before := st.Read()

	// Rejected: a dangling reference.
	_, err = st.Apply(context.Background(), puts(api("bad", []string{"nope"}, "orders")), ApplyOptions{})
	require.Error(t, err)
	// Failed: the durable commit fails.
	fb.fail = true
	_, err = st.Apply(context.Background(), puts(api("more", []string{"edge"}, "orders")), ApplyOptions{})
	require.Error(t, err)
	fb.fail = false
	// Dry run.
	_, err = st.Apply(context.Background(), puts(api("dry", []string{"edge"}, "orders")), ApplyOptions{DryRun: true})
	require.NoError(t, err)
	got, ok := st.Read().ChangesSince(1)
	require.True(t, ok)
	require.Empty(t, got)

	mustApply(t, st, puts(api("more", []string{"edge"}, "orders")), ApplyOptions{})
	got, ok = before.ChangesSince(1)
	require.True(t, ok, "an older snapshot still answers for its own revision")
	require.Empty(t, got)
	got, ok = st.Read().ChangesSince(1)
	require.True(t, ok)
	require.Equal(t, []model.Key{key(model.KindAPI, "more")}, got)
}

func TestChangesSinceWindow(t *testing.T) {
	st, err := Open(NewMemoryBackend())
	require.NoError(t, err)
	defer st.Close()
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
	for range changeLogSize + 5 {
		s := tweak(service("orders"))
		if st.Revision()%2 == 0 {
			s = service("orders")
		}
		mustApply(t, st, puts(s), ApplyOptions{})
	}
	r := st.Read()
	cur := r.Revision()
	_, ok := r.ChangesSince(cur - changeLogSize)
	require.True(t, ok, "the last changeLogSize commits are kept")
	_, ok = r.ChangesSince(cur - changeLogSize - 1)
	require.False(t, ok, "older ones are pruned")
	_, ok = r.ChangesSince(0)
	require.False(t, ok)
}

// TestChangesSinceAfterReopen: a reopened store has no log of what came
// before, so consumers behind its revision start from a full read.
func TestChangesSinceAfterReopen(t *testing.T) {
	st, path := newStore(t)
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
	mustApply(t, st, puts(tweak(service("orders"))), ApplyOptions{})
	require.NoError(t, st.Close())
	r := openStore(t, path).Read()
	_, ok := r.ChangesSince(1)
	require.False(t, ok)
	got, ok := r.ChangesSince(2)
	require.True(t, ok)
	require.Empty(t, got)
}
