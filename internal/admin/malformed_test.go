package admin

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMalformedBodies posts thousands of mutated bundles (RELIABILITY.md:
// ≥ 10,000 generated malformed bodies): none may get a 5xx, every rejection
// has the stable error shape, and a rejected body changes nothing.
func TestMalformedBodies(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 1_000
		t.Logf("short mode: %d generated bodies instead of 10,000", n)
	}
	env := newEnv(t, Options{})
	env.apply(baseBundle)
	seeds := seedBodies(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var rejected, accepted int
	for i := 0; i < n; i++ {
		body := mutate(rng, seeds[rng.IntN(len(seeds))])
		path, method := "/v1/apply", http.MethodPost
		if rng.IntN(4) == 0 {
			path, method = "/v1/services/orders", http.MethodPut
		}
		before := env.st.Revision()
		r := env.do(method, path, body)
		require.Less(t, r.code, 500, "body %d got %d:\n%s\n---\n%s", i, r.code, r.body, body)
		if r.code >= 400 {
			rejected++
			e := r.errorBody(t)
			require.Equal(t, before, env.st.Revision(), "a rejected body must change nothing")
			for _, v := range e.Violations {
				require.NotEmpty(t, v.Message)
				require.True(t, v.Path != "" || v.Document > 0, "a violation names a field or at least its document: %+v", v)
			}
			continue
		}
		accepted++
	}
	t.Logf("%d bodies: %d rejected, %d accepted", n, rejected, accepted)
	require.Greater(t, rejected, n/2, "the mutator should mostly produce invalid bodies")
}

// FuzzAdminApply feeds arbitrary bodies to POST /v1/apply and PUT: no 5xx,
// no panic, rejected bodies change nothing.
func FuzzAdminApply(f *testing.F) {
	for _, s := range seedBodies(f) {
		f.Add(s)
	}
	env := newEnv(f, Options{})
	f.Fuzz(func(t *testing.T, body string) {
		before := env.st.Revision()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/apply", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/yaml")
		env.srv.ServeHTTP(rec, env.authorize(req))
		if rec.Code >= 500 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		r := response{code: rec.Code}
		if r.code >= 400 && env.st.Revision() != before {
			t.Fatalf("rejected body changed the store: %q", body)
		}
	})
}

func seedBodies(tb testing.TB) []string {
	seeds := []string{baseBundle}
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatalf("read %s: %v", f, err)
		}
		seeds = append(seeds, string(b))
	}
	return seeds
}

// mutate applies one to three random edits that tend to break structure,
// types and values while keeping most of the document recognisable.
func mutate(rng *rand.Rand, s string) string {
	for k := 1 + rng.IntN(3); k > 0; k-- {
		lines := strings.Split(s, "\n")
		i := rng.IntN(len(lines))
		switch rng.IntN(10) {
		case 0: // flip a byte
			if len(s) > 0 {
				b := []byte(s)
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
				s = string(b)
			}
		case 1: // truncate
			s = s[:rng.IntN(len(s)+1)]
		case 2: // delete a line
			s = strings.Join(append(lines[:i:i], lines[i+1:]...), "\n")
		case 3: // duplicate a line
			s = strings.Join(append(lines[:i+1:i+1], lines[i:]...), "\n")
		case 4: // replace a value with another type
			if k, _, ok := strings.Cut(lines[i], ":"); ok {
				vals := []string{"", " 99999999999", " -1", " true", " [a, b]", " {x: 1}", " \"\"", " null", " \"../../etc/passwd\"", " \"a\\u0000b\"", " \"x\\r\\ny\"", " !!binary AAAA", " *alias"}
				lines[i] = k + ":" + vals[rng.IntN(len(vals))]
				s = strings.Join(lines, "\n")
			}
		case 5: // rename a key
			lines[i] = strings.Replace(lines[i], ":", "x:", 1)
			s = strings.Join(lines, "\n")
		case 6: // break indentation
			lines[i] = strings.Repeat(" ", rng.IntN(7)) + strings.TrimLeft(lines[i], " ")
			s = strings.Join(lines, "\n")
		case 7: // deep nesting
			d := 1 + rng.IntN(2000)
			s += "\n---\n" + strings.Repeat("[", d) + strings.Repeat("]", d)
		case 8: // odd names
			names := []string{"../x", "%2e%2e", "UPPER", "a_b", strings.Repeat("a", 70), "x\x00y", "-lead", "ok"}
			s = strings.Replace(s, "name: ", fmt.Sprintf("name: %q #", names[rng.IntN(len(names))]), 1)
		case 9: // wrong kind / version
			s = strings.Replace(s, []string{"kind: API", "kind: Service", "apiVersion: tollgate.dev/v1"}[rng.IntN(3)], []string{"kind: Api", "kind: Widget", "apiVersion: v9"}[rng.IntN(3)], 1)
		}
	}
	return s
}
