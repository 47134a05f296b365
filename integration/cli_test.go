package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const quickstart = "../examples/quickstart.yaml"

// TestApplyRestartGet is the user's first session: start, apply the
// quickstart, read it back, restart on the same data, and read exactly the
// same thing, resourceVersions included.
func TestApplyRestartGet(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	srv := startServer(t, "--data-dir", data, "--admin-address", "127.0.0.1:0")

	out := ok(t, srv, "apply", "-f", quickstart)
	// The revision also counts the CA's own writes (the trust bundle and
	// gateway identity Secrets), so only its presence is checked.
	for _, line := range []string{"service/echo created", "gateway/edge created", "api/echo created", "policy/echo-rate-limit created"} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("apply output lacks %q:\n%s", line, out)
		}
	}
	if !regexp.MustCompile(`\nrevision [0-9]+\n`).MatchString(out) {
		t.Errorf("apply output lacks its revision:\n%s", out)
	}
	apisYAML := ok(t, srv, "get", "api", "-o", "yaml")
	gateways := ok(t, srv, "get", "gateways")
	if !strings.Contains(apisYAML, "name: echo") || !regexp.MustCompile(`resourceVersion: "[0-9]+"`).MatchString(apisYAML) {
		t.Fatalf("get api -o yaml:\n%s", apisYAML)
	}
	if !strings.HasPrefix(gateways, "NAME") || !strings.Contains(gateways, "edge") {
		t.Fatalf("get gateways:\n%s", gateways)
	}
	srv.stop()

	srv = startServer(t, "--data-dir", data, "--admin-address", "127.0.0.1:0")
	if got := ok(t, srv, "get", "api", "-o", "yaml"); got != apisYAML {
		t.Errorf("after restart get api -o yaml differs:\n--- before\n%s--- after\n%s", apisYAML, got)
	}
	if got := ok(t, srv, "get", "gateways"); got != gateways {
		t.Errorf("after restart get gateways differs:\n--- before\n%s--- after\n%s", gateways, got)
	}
	// Re-applying the quickstart is a no-op: nothing was lost or changed.
	if out := ok(t, srv, "apply", "-f", quickstart); !regexp.MustCompile(`revision [0-9]+ \(unchanged\)`).MatchString(out) {
		t.Errorf("re-apply after restart:\n%s", out)
	}
	srv.stop()
}

func TestValidateBrokenFile(t *testing.T) {
	t.Parallel()
	r := cli(t, nil, "", "validate", "-f", "testdata/broken.yaml")
	if r.code != 1 {
		t.Fatalf("validate exited %d, want 1; stdout:\n%s", r.code, r.stdout)
	}
	want := `testdata/broken.yaml: document 1: API/broken: spec.routes[0].match.pathPrefix: must start with "/"`
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if out := ok(t, nil, "validate", "-f", quickstart); out != "4 objects valid\n" {
		t.Errorf("validate quickstart: %q", out)
	}
}

func TestServeReportsEverySettingsProblem(t *testing.T) {
	t.Parallel()
	r := cli(t, nil, "", "serve", "--admin-address", "nonsense", "--log-level", "loud", "--data-dir", t.TempDir())
	if r.code != 1 {
		t.Fatalf("serve exited %d, want 1:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`admin.address (--admin-address, CONTROLPLANE_ADMIN_ADDRESS): must be host:port`, `log.level (--log-level, CONTROLPLANE_LOG_LEVEL): must be debug, info, warn or error, got "loud"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestLocalDirectoryMode drives serve --config-dir through files only.
func TestLocalDirectoryMode(t *testing.T) {
	t.Parallel()
	defs := t.TempDir()
	srv := startServer(t, "--config-dir", defs, "--data-dir", t.TempDir(), "--admin-address", "127.0.0.1:0")

	copyInto(t, defs, "testdata/service.yaml", "service.yaml")
	copyInto(t, defs, "testdata/gateway.yaml", "gateways/edge.yaml")
	eventually(t, "get to show the files", func() bool {
		r := cli(t, srv, "", "get", "services")
		g := cli(t, srv, "", "get", "gateways")
		return strings.Contains(r.stdout, "orders") && strings.Contains(g.stdout, "edge")
	})

	r := cli(t, srv, "", "apply", "-f", quickstart)
	if r.code != 1 || !strings.Contains(r.stderr, "(ReadOnly): ") ||
		!strings.Contains(r.stderr, "definitions are managed from the directory "+defs) {
		t.Errorf("apply in directory mode: exit %d\n%s", r.code, r.stderr)
	}

	// A broken file keeps the last good set and shows in /v1/status.
	copyInto(t, defs, "testdata/broken.yaml", "broken.yaml")
	var status statusBody
	eventually(t, "the broken file to show in /v1/status", func() bool {
		status = readStatus(t, srv)
		return status.ConfigDir.LastError != nil
	})
	if status.Mode != "directory" {
		t.Errorf("mode %q, want directory", status.Mode)
	}
	v := status.ConfigDir.LastError.Violations
	if len(v) == 0 || v[0].File != "broken.yaml" || v[0].Path != "spec.routes[0].match.pathPrefix" {
		t.Errorf("lastError violations: %+v", v)
	}
	if !strings.HasPrefix(status.ConfigDir.InForce, "last good set from") {
		t.Errorf("inForce: %q", status.ConfigDir.InForce)
	}
	if out := ok(t, srv, "get", "apis"); out != "" {
		t.Errorf("the broken API must not be applied; get apis printed:\n%s", out)
	}

	if err := os.Remove(filepath.Join(defs, "gateways", "edge.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(defs, "broken.yaml")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the gateway to be deleted and the error cleared", func() bool {
		g := cli(t, srv, "", "get", "gateways")
		return readStatus(t, srv).ConfigDir.LastError == nil && strings.Contains(g.stderr, "no gateways found")
	})
	srv.stop()
}

type statusBody struct {
	Mode      string `json:"mode"`
	ReadOnly  string `json:"readOnly"`
	ConfigDir struct {
		InForce   string `json:"inForce"`
		LastError *struct {
			Violations []struct {
				File string `json:"file"`
				Path string `json:"path"`
			} `json:"violations"`
		} `json:"lastError"`
	} `json:"configDir"`
}

func readStatus(t *testing.T, srv *server) statusBody {
	t.Helper()
	resp, err := srv.client().Do(srv.request(http.MethodGet, "/v1/status", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/status: %d %v\n%s", resp.StatusCode, err, body)
	}
	var s statusBody
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("GET /v1/status: %v\n%s", err, body)
	}
	return s
}

// copyInto writes a testdata file into dir under name through a rename, as
// editors and git do, so the watcher never sees half a file.
func copyInto(t *testing.T, dir, from, name string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(to), "."+filepath.Base(to)+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}
