package localdir

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDocuments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Document
		err  bool
	}{
		{name: "empty", in: "# nothing\n"},
		{
			name: "documents, empty ones included",
			in:   "kind: Service\nmetadata: {name: a}\n---\n---\nkind: API\n",
			want: []Document{{1, 1, "Service/a"}, {2, 3, ""}, {3, 4, "API/"}},
		},
		{
			name: "list items",
			in:   "- kind: Secret\n  metadata: {name: s}\n- {kind: Policy, metadata: {name: p}}\n",
			want: []Document{{1, 1, "Secret/s"}, {2, 3, "Policy/p"}},
		},
		{
			name: "aliases",
			in:   "kind: &k Gateway\nmetadata: {name: *k}\n",
			want: []Document{{1, 1, "Gateway/Gateway"}},
		},
		{name: "syntax error keeps what came before", in: "kind: API\n---\n[", want: []Document{{1, 1, "API/"}}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Documents([]byte(tt.in))
			require.Equal(t, tt.err, err != nil, "%v", err)
			require.Equal(t, tt.want, got)
		})
	}
}
