package localdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

func TestFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{
		"b.yaml", "a.yml", "c.JSON", "sub/d.yaml", "sub/deeper/e.json",
		// never loaded:
		"notes.txt", ".hidden.yaml", "backup.yaml~", "#auto.yaml#", ".#lock.yaml", "4913",
		".git/config.yaml", "sub/.cache/x.yaml",
	} {
		write(t, dir, name, "# empty\n")
	}
	require.NoError(t, os.Symlink(filepath.Join(dir, "b.yaml"), filepath.Join(dir, "link.yaml")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "missing.yaml"), filepath.Join(dir, "dangling.yaml")))
	got, err := Files(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"a.yml", "b.yaml", "c.JSON", "link.yaml", "sub/d.yaml", "sub/deeper/e.json"}, got)

	_, err = Files(filepath.Join(dir, "b.yaml"))
	require.ErrorContains(t, err, "not a directory")
	_, err = Files(filepath.Join(dir, "nope"))
	require.Error(t, err)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "a.yaml", serviceYAML+"---\n"+gatewayYAML)
	// A resourceVersion left by `get -o yaml` must not become a precondition.
	write(t, dir, "b.yaml", strings.Replace(apiYAML, "name: shop\n", "name: shop\n  resourceVersion: \"42\"\n", 1))
	changes, vs, err := Load(dir)
	require.NoError(t, err)
	require.Empty(t, vs)
	require.Len(t, changes, 3)
	var got []string
	for i, c := range changes {
		require.Equal(t, store.OpPut, c.Op)
		require.Equal(t, i+1, c.Document)
		require.Empty(t, c.Object.GetMetadata().GetResourceVersion())
		got = append(got, c.Key.String())
	}
	require.Equal(t, []string{"Service/orders", "Gateway/edge", "API/shop"}, got)
}

func TestLoadViolations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, dir, "a.yaml", serviceYAML)
	write(t, dir, "b.yaml", gatewayYAML+"---\n"+serviceYAML)              // Service/orders again
	write(t, dir, "c.yaml", "kind: Service\nmetadata: {name: x}\n---\n[") // schema, then syntax
	_, vs, err := Load(dir)
	require.NoError(t, err)
	var lines []string
	for _, v := range vs {
		lines = append(lines, v.String())
	}
	all := strings.Join(lines, "\n")
	require.Contains(t, all, "b.yaml: document 2: Service/orders: metadata.name: Service/orders is also defined in a.yaml")
	require.Contains(t, all, "c.yaml: document 1: Service/x: apiVersion: must be")
	require.Contains(t, all, "c.yaml: document 2: not valid YAML or JSON")
}

func TestExplainStoreErrors(t *testing.T) {
	t.Parallel()
	s := &set{
		changes: []store.Change{{Key: model.Key{Kind: model.KindService, Name: "a"}}, {Key: model.Key{Kind: model.KindAPI, Name: "shop"}}},
		origin: map[model.Key]location{
			{Kind: model.KindService, Name: "a"}: {file: "a.yaml", doc: 1},
			{Kind: model.KindAPI, Name: "shop"}:  {file: "apis/shop.yaml", doc: 3},
		},
	}
	msg, vs := s.explain(model.Violations{
		{Document: 2, Object: "API/shop", Path: "spec.gateways[0]", Message: "Gateway \"edge\" not found"},
		{Object: "Service/a", Path: "spec.tls.caSecret", Message: "not found"},
	})
	require.Equal(t, "the store rejected the set: 2 problems", msg)
	require.Equal(t, "apis/shop.yaml: document 3: API/shop: spec.gateways[0]: Gateway \"edge\" not found", vs[0].String())
	require.Equal(t, "a.yaml: document 1: Service/a: spec.tls.caSecret: not found", vs[1].String())

	msg, vs = s.explain(&store.ConflictError{
		Reason: store.ReasonReferenced, Message: "Secret/ca is still referenced",
		Referrers: []store.Referrer{{Kind: model.KindService, Name: "a", Path: "spec.tls.caSecret"}},
	})
	require.Equal(t, "the store rejected the set: Secret/ca is still referenced", msg)
	require.Equal(t, "a.yaml", vs[0].File)
}
