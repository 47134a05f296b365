package localdir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

func TestStoreFollowsDirectory(t *testing.T) {
	t.Parallel()
	dir, st := t.TempDir(), openStore(t)
	write(t, dir, "service.yaml", serviceYAML)
	w := start(t, dir, st)
	require.Equal(t, []string{"Service/orders"}, keys(t, st), "the first load is applied before Loaded")

	// Create: files, one in a directory made after the watch started.
	write(t, dir, "gateways/edge.yaml", gatewayYAML)
	write(t, dir, "apis/shop.json", yamlToJSON(t, apiYAML))
	waitFor(t, "new files to be applied", hasKeys(t, st, "Service/orders", "Gateway/edge", "API/shop"))
	s := w.Status()
	require.Nil(t, s.LastError)
	require.Equal(t, []string{"apis/shop.json", "gateways/edge.yaml", "service.yaml"}, s.Files)
	require.Equal(t, st.Revision(), s.LastAppliedRevision)
	require.NotNil(t, s.LastAppliedAt)
	require.Contains(t, s.InForce, "the directory as loaded at")

	// Change.
	write(t, dir, "service.yaml", strings.Replace(serviceYAML, "8080", "9090", 1))
	waitFor(t, "the change to be applied", func() bool {
		svc, err := st.Read().Service(nil, "orders")
		return err == nil && svc.GetSpec().GetEndpoints()[0].GetPort() == 9090
	})

	// Delete: the objects of a removed file are deleted, whole directories too.
	require.NoError(t, os.Remove(filepath.Join(dir, "apis", "shop.json")))
	waitFor(t, "the API to be deleted", hasKeys(t, st, "Service/orders", "Gateway/edge"))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "gateways")))
	waitFor(t, "the gateway to be deleted", hasKeys(t, st, "Service/orders"))
}

func TestBrokenFileKeepsLastGoodSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		broken string
		path   string // the violation's field path
		msg    string // part of its message
	}{
		{name: "bad YAML", broken: "kind: Service\nmetadata: [\n", msg: "not valid YAML"},
		{
			name:   "schema violation",
			broken: strings.Replace(serviceYAML, "port: 8080", "port: \"eighty\"", 1),
			path:   "spec.endpoints[0].port",
			msg:    "must be a whole number",
		},
		{
			name:   "unknown field",
			broken: strings.Replace(serviceYAML, "endpoints:", "endpoint:", 1),
			path:   "spec.endpoint",
			msg:    "unknown field",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, st := t.TempDir(), openStore(t)
			write(t, dir, "a-service.yaml", serviceYAML)
			write(t, dir, "b-gateway.yaml", gatewayYAML)
			w := start(t, dir, st)
			require.Equal(t, []string{"Gateway/edge", "Service/orders"}, keys(t, st))
			good := w.Status()
			rev := st.Revision()

			// Break one file and add a valid one: nothing at all is applied.
			write(t, dir, "a-service.yaml", tt.broken)
			write(t, dir, "c-api.yaml", apiYAML)
			waitFor(t, "the error to be reported", func() bool {
				s := w.Status()
				return s.LastError != nil && len(s.Files) == 2 && strings.Contains(s.LastError.Violations[0].Message, tt.msg)
			})
			s := w.Status()
			require.Equal(t, rev, st.Revision(), "the store must not change")
			require.Equal(t, []string{"Gateway/edge", "Service/orders"}, keys(t, st))
			v := s.LastError.Violations[0]
			require.Equal(t, "a-service.yaml", v.File)
			require.Equal(t, tt.path, v.Path)
			require.Equal(t, good.LastAppliedRevision, s.LastAppliedRevision)
			require.Equal(t, good.Files, s.Files)
			require.Contains(t, s.InForce, "last good set from")
			raw, err := json.Marshal(s)
			require.NoError(t, err)
			require.Contains(t, string(raw), `"file":"a-service.yaml"`)

			// Fix it: the whole directory is applied and the error cleared.
			write(t, dir, "a-service.yaml", serviceYAML)
			waitFor(t, "the fixed directory to be applied", hasKeys(t, st, "Gateway/edge", "Service/orders", "API/shop"))
			waitFor(t, "the error to be cleared", func() bool { return w.Status().LastError == nil })
			require.Len(t, w.Status().Files, 3)
		})
	}
}

func TestDanglingReferenceKeepsLastGoodSet(t *testing.T) {
	t.Parallel()
	dir, st := t.TempDir(), openStore(t)
	write(t, dir, "service.yaml", serviceYAML)
	write(t, dir, "gateway.yaml", gatewayYAML)
	write(t, dir, "api.yaml", apiYAML)
	w := start(t, dir, st)
	require.Len(t, keys(t, st), 3)
	rev := st.Revision()

	// Deleting the Service file leaves the API pointing at nothing.
	require.NoError(t, os.Remove(filepath.Join(dir, "service.yaml")))
	waitFor(t, "the rejection to be reported", func() bool { return w.Status().LastError != nil })
	require.Equal(t, rev, st.Revision())
	require.Len(t, keys(t, st), 3, "the last good set stays in force")
	e := w.Status().LastError
	require.Contains(t, e.Message, "the store rejected the set")
	require.NotEmpty(t, e.Violations)
	require.Equal(t, "api.yaml", e.Violations[0].File)
	require.Equal(t, "spec.routes[0].backends[0].service", e.Violations[0].Path)

	write(t, dir, "service.yaml", serviceYAML)
	waitFor(t, "the error to be cleared", func() bool { return w.Status().LastError == nil })
	require.Equal(t, rev, st.Revision(), "restoring the same set changes nothing")
}

func TestBrokenAtStartup(t *testing.T) {
	t.Parallel()
	dir, st := t.TempDir(), openStore(t)
	write(t, dir, "service.yaml", "kind: Service\nspec: {endpoints: 1}\n")
	w := start(t, dir, st)
	s := w.Status()
	require.NotNil(t, s.LastError)
	require.Nil(t, s.LastAppliedAt)
	require.Contains(t, s.InForce, "none")
	require.Empty(t, keys(t, st))
}

func yamlToJSON(t *testing.T, y string) string {
	t.Helper()
	objs, vs := Parse([]File{{Name: "x.yaml", Data: []byte(y)}})
	require.Empty(t, vs)
	require.Len(t, objs, 1)
	api, ok := objs[0].Object.(*tollgatev1.API)
	require.True(t, ok)
	b, err := json.Marshal(map[string]any{
		"apiVersion": api.GetApiVersion(), "kind": api.GetKind(), "metadata": map[string]any{"name": api.GetMetadata().GetName()},
		"spec": map[string]any{"gateways": api.GetSpec().GetGateways(), "routes": []any{map[string]any{
			"name": "orders", "match": map[string]any{"pathPrefix": "/orders"}, "backends": []any{map[string]any{"service": "orders"}},
		}}},
	})
	require.NoError(t, err)
	return string(b)
}
