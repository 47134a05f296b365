package translate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/out")

// loadStore validates a bundle as the admin API would and applies it to a
// fresh in-memory store. It fails the test on any violation: golden inputs
// must be valid definitions.
func loadStore(t testing.TB, data []byte) *store.Store {
	t.Helper()
	s, err := storeFromBundle(data)
	require.NoError(t, err)
	return s
}

// storeFromBundle is loadStore for callers that expect failures (fuzzing).
func storeFromBundle(data []byte) (*store.Store, error) {
	docs, vs := model.ValidateBundle(data)
	if len(vs) > 0 {
		return nil, vs
	}
	changes := make([]store.Change, 0, len(docs))
	for _, d := range docs {
		changes = append(changes, store.Change{Op: store.OpPut, Object: d.Object, Document: d.Number})
	}
	s, err := store.Open(store.NewMemoryBackend())
	if err != nil {
		return nil, err
	}
	if _, err := s.Apply(context.Background(), changes, store.ApplyOptions{}); err != nil {
		return nil, err
	}
	return s, nil
}

// typeFiles maps the xDS types to golden file suffixes.
var typeFiles = []struct{ typ, suffix string }{
	{resourcev3.ListenerType, "listeners"},
	{resourcev3.RouteType, "routes"},
	{resourcev3.ClusterType, "clusters"},
	{resourcev3.EndpointType, "endpoints"},
	{resourcev3.SecretType, "secrets"},
	{resourcev3.ScopedRouteType, "scopes"},
}

// renderResources renders resources as a YAML list through protojson, so
// the golden files read like Envoy's config dump.
func renderResources(rs []Resource) ([]byte, error) {
	list := make([]any, 0, len(rs))
	for _, r := range rs {
		js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(r.Message)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		var v any
		if err := json.Unmarshal(js, &v); err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return toYAML(list)
}

func toYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// renderStatus renders every status that is not plainly Accepted.
func renderStatus(st map[model.Key]*Status) ([]byte, error) {
	type entry struct {
		Object   string           `yaml:"object"`
		Accepted bool             `yaml:"accepted"`
		Problems []map[string]any `yaml:"problems,omitempty"`
		Warnings []map[string]any `yaml:"warnings,omitempty"`
	}
	conv := func(vs model.Violations) []map[string]any {
		var out []map[string]any
		for _, v := range vs {
			out = append(out, map[string]any{"path": v.Path, "message": v.Message})
		}
		return out
	}
	var out []entry
	for k, s := range st {
		if s.Accepted && len(s.Problems) == 0 && len(s.Warnings) == 0 {
			continue
		}
		out = append(out, entry{Object: k.String(), Accepted: s.Accepted, Problems: conv(s.Problems), Warnings: conv(s.Warnings)})
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.Object, b.Object) })
	if len(out) == 0 {
		return nil, nil
	}
	return toYAML(out)
}

// goldenFiles renders one case's output into file name → content.
func goldenFiles(t testing.TB, name string, out *Output) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for gw, cfg := range out.Gateways {
		for _, tf := range typeFiles {
			rs := cfg.Resources[tf.typ]
			if len(rs) == 0 {
				continue
			}
			data, err := renderResources(rs)
			require.NoError(t, err)
			files[fmt.Sprintf("%s.%s.%s.yaml", name, gw, tf.suffix)] = data
		}
	}
	st, err := renderStatus(out.Status)
	require.NoError(t, err)
	if st != nil {
		files[name+".status.yaml"] = st
	}
	return files
}

// checkGolden compares files with testdata/out. With -update it writes the
// files that changed and deletes this case's stale ones.
func checkGolden(t *testing.T, name string, files map[string][]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "out")
	existing, err := filepath.Glob(filepath.Join(dir, name+".*.yaml"))
	require.NoError(t, err)
	for _, path := range existing {
		if _, ok := files[filepath.Base(path)]; ok {
			continue
		}
		if *update {
			require.NoError(t, os.Remove(path))
			continue
		}
		t.Errorf("%s is stale (this case no longer produces it); run go test -run Golden -update", path)
	}
	for base, want := range files {
		path := filepath.Join(dir, base)
		got, err := os.ReadFile(path)
		if *update {
			if err != nil || !bytes.Equal(got, want) {
				require.NoError(t, os.WriteFile(path, want, 0o644))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s is missing; run go test -run Golden -update", path)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the translation; run go test -run Golden -update and review the diff.\ngot:\n%s", path, want)
		}
	}
}

// goldenInputs lists the cases: testdata/in/<case>.yaml.
func goldenInputs(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "in", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	return paths
}

// checkStaleCases finds outputs of cases that no longer exist (their input
// was removed or renamed) and deletes them with -update.
func checkStaleCases(t *testing.T) {
	t.Helper()
	cases := map[string]bool{}
	for _, p := range goldenInputs(t) {
		cases[strings.TrimSuffix(filepath.Base(p), ".yaml")] = true
	}
	outs, err := filepath.Glob(filepath.Join("testdata", "out", "*.yaml"))
	require.NoError(t, err)
	for _, p := range outs {
		name, _, _ := strings.Cut(filepath.Base(p), ".")
		if cases[name] {
			continue
		}
		if *update {
			require.NoError(t, os.Remove(p))
			continue
		}
		t.Errorf("%s belongs to no case in testdata/in; run go test -run Golden -update", p)
	}
}
