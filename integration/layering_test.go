package integration

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// layers lists, for every package of the module, the module packages it may
// import (STYLE.md: imports point one way). A new package must be added
// here, which is the moment to decide where it sits.
var layers = map[string][]string{
	"proto/tollgate/v1":     {},
	"internal/model":        {"proto/tollgate/v1"},
	"internal/store":        {"internal/model", "proto/tollgate/v1"},
	"internal/translate/ir": {},
	"internal/translate":    {"internal/translate/ir", "internal/store", "internal/model", "proto/tollgate/v1"},
	"internal/xds":          {"internal/translate", "internal/translate/ir", "internal/store", "internal/model", "proto/tollgate/v1"},
	"internal/xdsclient":    {},
	"internal/admin":        {"internal/audit", "internal/ca", "internal/pki", "internal/xds", "internal/translate", "internal/store", "internal/model", "proto/tollgate/v1"},
	"internal/reconcile":    {"internal/translate", "internal/store", "internal/model", "proto/tollgate/v1"},
	"internal/localdir":     {"internal/store", "internal/model", "proto/tollgate/v1"},
	"internal/client":       {"internal/pki", "internal/admin", "internal/xds", "internal/store", "internal/model", "proto/tollgate/v1"},
	"internal/config":       {},
	"internal/pki":          {},
	"internal/audit":        {},
	"internal/ca":           {"internal/pki", "internal/store", "internal/model", "proto/tollgate/v1"},
	"internal/app":          {"internal/audit", "internal/ca", "internal/pki", "internal/admin", "internal/bootstrap", "internal/config", "internal/localdir", "internal/reconcile", "internal/store", "internal/translate", "internal/xds", "internal/model", "proto/tollgate/v1"},
	"internal/bootstrap":    {"internal/pki", "internal/model", "proto/tollgate/v1"},
	"cmd/controlplane":      {"*"},
	"cmd/xdsload":           {"*"},
	"internal/loadgen":      {"internal/xdsclient", "internal/model", "proto/tollgate/v1"},
	"internal/baseline":     {"internal/translate"},
	"integration":           {"*"},
}

// forbiddenExternal are imports a package must not have whatever it uses
// from the module: the IR stays free of Envoy and proto types, and nothing
// below the admin API speaks HTTP or reads settings.
var forbiddenExternal = map[string][]string{
	"internal/translate/ir": {"github.com/envoyproxy/", "google.golang.org/protobuf"},
	"internal/model":        {"net/http", "github.com/spf13/", "github.com/hashicorp/go-memdb", "github.com/envoyproxy/"},
	"internal/store":        {"net/http", "github.com/spf13/", "github.com/envoyproxy/"},
	"internal/translate":    {"net/http", "github.com/spf13/", "github.com/hashicorp/go-memdb"},
}

func TestImportLayering(t *testing.T) {
	const module = "tollgate.dev/tollgate/"
	out, err := exec.Command("go", "list", "-test", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", "../...").Output()
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		pkg = strings.TrimPrefix(pkg, module)
		if i := strings.IndexAny(pkg, " ["); i >= 0 {
			pkg = pkg[:i] // test variants: "internal/store [internal/store.test]"
		}
		if strings.HasSuffix(pkg, ".test") || strings.HasSuffix(pkg, "_test") {
			continue
		}
		allowed, known := layers[pkg]
		require.True(t, known, "package %q is not placed in the layering table of %s", pkg, "integration/layering_test.go")
		for _, imp := range strings.Fields(imports) {
			for _, bad := range forbiddenExternal[pkg] {
				require.False(t, strings.HasPrefix(imp, bad), "%s must not import %s", pkg, imp)
			}
			dep, internal := strings.CutPrefix(imp, module)
			if !internal || dep == pkg || (len(allowed) == 1 && allowed[0] == "*") {
				continue
			}
			require.Contains(t, allowed, dep, "%s may not import %s (STYLE.md: imports flow one way)", pkg, dep)
		}
	}
}
