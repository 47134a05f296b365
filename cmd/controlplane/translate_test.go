package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"go.yaml.in/yaml/v3"
	"tollgate.dev/tollgate/internal/translate"
)

func TestTranslateCommand(t *testing.T) {
	c := cli{t: t}
	example := filepath.Join("..", "..", "examples", "pattern-1b-mtls-ingress.yaml")

	t.Run("yaml, every gateway", func(t *testing.T) {
		r := c.run("", "translate", "-f", example)
		require.Equal(t, 0, r.code, r.stderr)
		dec := yaml.NewDecoder(stringsReader(r.stdout))
		var names []string
		for {
			var doc gatewayDoc
			if dec.Decode(&doc) != nil {
				break
			}
			names = append(names, doc.Gateway)
			require.NotEmpty(t, doc.Listeners, doc.Gateway)
		}
		require.Equal(t, []string{"egress-b", "ingress-a"}, names)
		require.NotContains(t, r.stdout, "PRIVATE KEY", "private keys are redacted")
		require.Contains(t, r.stdout, translate.Redacted)
		// The policy is stored but not enforced, and says so.
		require.Contains(t, r.stderr, "Policy/orders-from-network-b: accepted")
		require.Contains(t, r.stderr, "policy translation is not implemented yet")
	})

	t.Run("json, one gateway", func(t *testing.T) {
		out := c.ok("", "translate", "-f", example, "--gateway", "ingress-a", "-o", "json")
		var got struct{ Gateways []gatewayDoc }
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		require.Len(t, got.Gateways, 1)
		require.Equal(t, "ingress-a", got.Gateways[0].Gateway)
		require.NotEmpty(t, got.Gateways[0].Secrets)
	})

	t.Run("unknown gateway", func(t *testing.T) {
		r := c.run("", "translate", "-f", example, "--gateway", "nope")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, `no Gateway "nope"`)
		require.Contains(t, r.stderr, `"egress-b", "ingress-a"`)
	})

	t.Run("bad output format", func(t *testing.T) {
		r := c.run("", "translate", "-f", example, "-o", "xml")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "-o must be yaml or json")
	})

	t.Run("invalid definitions", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		require.NoError(t, os.WriteFile(bad, []byte("apiVersion: tollgate.dev/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {mode: Ingress}\n"), 0o600))
		r := c.run("", "translate", "-f", bad)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, `did you mean "ingress"?`)
		require.Empty(t, r.stdout)
	})

	t.Run("dangling reference", func(t *testing.T) {
		in := "apiVersion: tollgate.dev/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  mode: ingress\n" +
			"  listeners: [{name: db, port: 5432, protocol: TCP, backend: {service: missing}}]\n"
		r := c.run(in, "translate", "-f", "-")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, `Service "missing" not found`)
	})
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
