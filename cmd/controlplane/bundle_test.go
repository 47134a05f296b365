package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/localdir"
	"tollgate.dev/tollgate/internal/model"
)

func TestBundle(t *testing.T) {
	t.Parallel()
	files := []localdir.File{
		// Ends with a separator, so it holds an empty second document.
		{Name: "a.yaml", Data: []byte("kind: Service\nmetadata: {name: a}\n---\n")},
		// Opens its own document after a comment: no separator is added.
		{Name: "b.yaml", Data: []byte("# b\n---\nkind: Gateway\nmetadata: {name: b}\n---\nkind: API\nmetadata: {name: b}")},
		// A JSON list: each item is a document.
		{Name: "c.json", Data: []byte(`[{"kind":"Policy","metadata":{"name":"c1"}},` + "\n" + `{"kind":"Policy","metadata":{"name":"c2"}}]`)},
	}
	b, err := newBundle(files)
	require.NoError(t, err)
	objs, _ := model.Decode(b.data)
	require.Len(t, objs, 5, "every object survives the join")
	require.Equal(t, []docLocation{
		{key: "Service/a", file: "a.yaml", doc: 1},
		{key: "", file: "a.yaml", doc: 2},
		{key: "Gateway/b", file: "b.yaml", doc: 1},
		{key: "API/b", file: "b.yaml", doc: 2},
		{key: "Policy/c1", file: "c.json", doc: 1},
		{key: "Policy/c2", file: "c.json", doc: 2},
	}, b.docs)

	tests := []struct {
		name string
		v    model.Violation
		want docLocation
		ok   bool
	}{
		{"by number", model.Violation{Document: 4, Object: "API/b"}, b.docs[3], true},
		{"number without object", model.Violation{Document: 5}, b.docs[4], true},
		{"object when the number counts objects", model.Violation{Document: 5, Object: "Policy/c2"}, b.docs[5], true},
		{"object without number", model.Violation{Object: "Gateway/b"}, b.docs[2], true},
		{"unknown", model.Violation{Document: 99}, docLocation{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := b.locate(tt.v)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestBundleSyntaxError(t *testing.T) {
	t.Parallel()
	_, err := newBundle([]localdir.File{
		{Name: "ok.yaml", Data: []byte("kind: Service\n")},
		{Name: "bad.yaml", Data: []byte("kind: API\nspec:\n  routes: [\n")},
	})
	require.ErrorContains(t, err, "bad.yaml: not valid YAML or JSON: line 3")
}
