package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/admin"
)

func TestApplyGetDelete(t *testing.T) {
	t.Parallel()
	c, _ := newServer(t, admin.Options{})

	require.Equal(t, "service/orders created\ngateway/edge created\napi/shop created\npolicy/shop-limit created\nrevision 1\n",
		c.ok("", "apply", "-f", "testdata/shop"))
	require.Equal(t, "service/orders unchanged\ngateway/edge unchanged\napi/shop unchanged\npolicy/shop-limit unchanged\nrevision 1 (unchanged)\n",
		c.ok("", "apply", "-f", "testdata/shop"), "re-applying changes nothing")

	require.Equal(t, ""+
		"NAME   GATEWAYS   HOSTNAMES          ROUTES   RESOURCEVERSION\n"+
		"shop   edge       shop.example.com   1        1\n",
		c.ok("", "get", "apis"))
	require.Equal(t, ""+
		"NAME   MODE      NETWORK   LISTENERS        RESOURCEVERSION\n"+
		"edge   ingress   dmz       http:8080/HTTP   1\n",
		c.ok("", "get", "gateway", "edge"))
	require.Equal(t, ""+
		"NAME     TARGET                        PROTOCOL   RESOURCEVERSION\n"+
		"orders   10.0.0.7:8080,10.0.0.8:8080   HTTP1      1\n",
		c.ok("", "get", "Service", "-l", "team=shop"))
	require.Equal(t, ""+
		"NAME         TARGET            TYPE        RESOURCEVERSION\n"+
		"shop-limit   API/shop#orders   rateLimit   1\n",
		c.ok("", "get", "policies"))
	r := c.run("", "get", "gateways", "-l", "team=nobody")
	require.Equal(t, result{stderr: "no gateways found\n"}, r)

	// YAML output is a stream apply takes back unchanged.
	yamlOut := c.ok("", "get", "apis", "-o", "yaml")
	require.Contains(t, yamlOut, "resourceVersion: \"1\"")
	require.Contains(t, c.ok(yamlOut, "apply", "-f", "-"), "api/shop unchanged")

	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(c.ok("", "get", "services", "-o", "json")), &list))
	require.Len(t, list, 1)
	var one map[string]any
	require.NoError(t, json.Unmarshal([]byte(c.ok("", "get", "service", "orders", "-o", "json")), &one))
	require.Equal(t, "Service", one["kind"])

	// Deleting a referenced object names the referrers.
	stderr := c.fail("", "delete", "service", "orders")
	require.Contains(t, stderr, "referenced by API/shop at spec.routes[0].backends[0].service")
	require.Equal(t, "policy/shop-limit deleted (dry run)\nrevision 2 (dry run: nothing was changed)\n",
		c.ok("", "delete", "policy", "shop-limit", "--dry-run"))
	require.Contains(t, c.fail("", "delete", "policy", "shop-limit", "--resource-version", "7"), "StaleResourceVersion")
	require.Equal(t, "policy/shop-limit deleted\nrevision 2\n", c.ok("", "delete", "policies", "shop-limit", "--resource-version", "1"))
	require.Contains(t, c.fail("", "get", "policy", "shop-limit"), "Policy/shop-limit not found")
}

func TestApplyErrorsNameFiles(t *testing.T) {
	t.Parallel()
	c, _ := newServer(t, admin.Options{})
	dir := t.TempDir()
	copyFile(t, "testdata/shop/01-service.yaml", filepath.Join(dir, "a.yaml"))
	// Two documents in b.yaml, the second broken, joined after a.yaml.
	gw, err := os.ReadFile("testdata/shop/02-gateway.yaml")
	require.NoError(t, err)
	broken, err := os.ReadFile("testdata/broken.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), append(append(gw, "---\n"...), broken...), 0o600))

	stderr := c.fail("", "apply", "-f", dir)
	require.Contains(t, stderr, filepath.Join(dir, "b.yaml")+`: document 2: API/broken: spec.routes[0].match.pathPrefix: must start with "/"`)
	require.Equal(t, result{stderr: "no services found\n"}, c.run("", "get", "services"), "nothing was applied")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o600))
}

func TestApplyDanglingReferenceNamesFile(t *testing.T) {
	t.Parallel()
	c, _ := newServer(t, admin.Options{})
	stderr := c.fail("", "apply", "-f", "testdata/shop/01-service.yaml", "-f", "testdata/shop/03-api.json")
	require.Contains(t, stderr, "testdata/shop/03-api.json: document 1: API/shop: spec.gateways[0]: ")
}

func TestApplyInputErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("kind: API\nmetadata: [\n"), 0o600))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"syntax error names the file and line", []string{"-f", bad}, bad + ": not valid YAML or JSON: line 2"},
		{"missing file", []string{"-f", filepath.Join(dir, "nope.yaml")}, "no such file or directory"},
		{"empty directory", []string{"-f", t.TempDir()}, "no definition files"},
		{"no -f", nil, "no input"},
		{"stdin twice", []string{"-f", "-", "-f", "-"}, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := cli{t: t, server: "http://127.0.0.1:1"} // never reached
			require.Contains(t, c.fail("", append([]string{"apply"}, tt.args...)...), tt.want)
		})
	}
}

func TestClientCommandErrors(t *testing.T) {
	t.Parallel()
	c, _ := newServer(t, admin.Options{ReadOnly: "definitions come from files"})
	require.Contains(t, c.fail("", "apply", "-f", "testdata/shop"), "definitions come from files")
	require.Contains(t, c.fail("", "get", "widgets"), `unknown kind "widgets"`)
	require.Contains(t, c.fail("", "get", "apis", "-o", "xml"), `unknown output format "xml"`)
	require.Contains(t, c.fail("", "get", "apis", "x", "-l", "a=b"), "not both")
	require.Contains(t, c.fail("", "get", "apis", "--server", "nonsense"), `server URL "nonsense"`)
	require.Contains(t, c.fail("", "get", "apis", "--nope"), "unknown flag: --nope")
	unreachable := cli{t: t, server: "http://127.0.0.1:1"}
	require.Contains(t, unreachable.fail("", "get", "apis"), "cannot reach the control plane at http://127.0.0.1:1")
}

func TestValidate(t *testing.T) {
	t.Parallel()
	c := cli{t: t}
	out := c.ok("", "validate", "-f", "testdata/shop")
	require.Equal(t, "4 objects valid\n", out)

	r := c.run("", "validate", "-f", "testdata/shop/03-api.json")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "note: testdata/shop/03-api.json: document 1: API/shop: spec.gateways[0]: refers to Gateway/edge, which is not in these files")
	require.Contains(t, r.stdout, "1 object valid\n")

	stderr := c.fail("", "validate", "-f", "testdata/shop", "-f", "testdata/broken.yaml")
	require.Contains(t, stderr, `testdata/broken.yaml: document 1: API/broken: spec.routes[0].match.pathPrefix: must start with "/"`)
	require.Contains(t, stderr, "error: 1 problem found")

	policy := `apiVersion: tollgate.dev/v1
kind: Policy
metadata: {name: p}
spec:
  targetRef: {kind: API, name: shop, route: nope}
  rateLimit: {limits: [{requests: 1, window: 1s}], scope: local}
---
kind: Gateway
`
	stderr = c.fail(policy, "validate", "-f", "testdata/shop/03-api.json", "-f", "-")
	require.Contains(t, stderr, `<stdin>: document 1: Policy/p: spec.targetRef.route: API/shop has no route "nope"; its routes are "orders"`)
	require.Contains(t, stderr, "<stdin>: document 2: ")
	require.True(t, strings.HasSuffix(stderr, "fix them all, then validate again\n"), stderr)
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out := cli{t: t}.ok("", "version")
	require.True(t, strings.HasPrefix(out, "controlplane dev ("), out)
}
