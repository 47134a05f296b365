package admin

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestApplyViolations(t *testing.T) {
	const hdr = "apiVersion: tollgate.dev/v1\n"
	tests := []struct {
		name string
		in   string
		want []model.Violation // Path exact, Message a substring
	}{
		{
			name: "path prefix must start with a slash",
			in: hdr + `kind: API
metadata: {name: bad}
spec:
  gateways: [edge]
  routes:
  - {name: a, match: {pathPrefix: /ok}, backends: [{service: orders}]}
  - {name: b, match: {pathPrefix: /ok2}, backends: [{service: orders}]}
  - {name: c, match: {pathPrefix: nope}, backends: [{service: orders}]}
`,
			want: []model.Violation{{Object: "API/bad", Path: "spec.routes[2].match.pathPrefix", Message: `must start with "/"`}},
		},
		{
			name: "unknown field with suggestion",
			in:   hdr + "kind: API\nmetadata: {name: x}\nspec: {gateways: [edge], base_path: /x, routes: [{name: a, backends: [{service: orders}]}]}\n",
			want: []model.Violation{{Path: "spec.base_path", Message: `unknown field; did you mean "basePath"?`}},
		},
		{
			name: "name is a DNS-1123 label",
			in:   hdr + "kind: Service\nmetadata: {name: Bad_Name}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n",
			want: []model.Violation{{Path: "metadata.name", Message: "DNS-1123"}},
		},
		{
			name: "wrong type",
			in:   hdr + "kind: Gateway\nmetadata: {name: g}\nspec: {mode: ingress, listeners: [{name: h, port: eighty, protocol: HTTP}]}\n",
			want: []model.Violation{{Path: "spec.listeners[0].port", Message: "must be a whole number"}},
		},
		{
			name: "every violation at once",
			in: hdr + `kind: API
metadata: {name: many}
spec:
  gateways: [edge]
  routes:
  - {name: a, match: {pathPrefix: x, pathRegex: "(["}, backends: [{service: orders}]}
  - {name: a, match: {pathExact: /y}}
`,
			want: []model.Violation{
				{Path: "spec.routes[0].match", Message: "pathPrefix"},
				{Path: "spec.routes[1].name", Message: "a"},
				{Path: "spec.routes[1]", Message: "backends"},
			},
		},
		{
			name: "reference to a missing object names the referencing field",
			in:   hdr + "kind: API\nmetadata: {name: lost}\nspec: {gateways: [edge], routes: [{name: a, backends: [{service: nowhere}]}]}\n",
			want: []model.Violation{{Object: "API/lost", Path: "spec.routes[0].backends[0].service", Message: "not found"}},
		},
		{
			name: "regex must compile as RE2",
			in:   hdr + "kind: API\nmetadata: {name: re}\nspec: {gateways: [edge], routes: [{name: a, match: {pathRegex: \"/(?=x)\"}, backends: [{service: orders}]}]}\n",
			want: []model.Violation{{Path: "spec.routes[0].match.pathRegex", Message: ""}},
		},
		{
			name: "same object twice in one bundle",
			in:   hdr + "kind: Service\nmetadata: {name: twice}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n---\n" + hdr + "kind: Service\nmetadata: {name: twice}\nspec: {endpoints: [{address: 10.0.0.2, port: 80}]}\n",
			want: []model.Violation{{Object: "Service/twice", Path: "metadata.name", Message: "appears twice"}},
		},
		{
			name: "wrong apiVersion",
			in:   "apiVersion: v2\nkind: Service\nmetadata: {name: s}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n",
			want: []model.Violation{{Path: "apiVersion", Message: `must be "tollgate.dev/v1"`}},
		},
		{
			name: "not YAML at all",
			in:   "kind: [unclosed\n",
			want: []model.Violation{{Path: "", Message: "not valid YAML or JSON"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, Options{})
			env.apply(baseBundle)
			before := env.st.Revision()
			r := env.do(http.MethodPost, "/v1/apply", tc.in)
			require.Equal(t, http.StatusBadRequest, r.code, "%s", r.body)
			e := r.errorBody(t)
			require.Equal(t, ReasonInvalid, e.Reason)
			for _, want := range tc.want {
				require.True(t, hasViolation(e.Violations, want), "want %+v among:\n%s", want, e.Violations.Error())
			}
			require.Equal(t, before, env.st.Revision(), "a rejected bundle changes nothing")
		})
	}
}

func hasViolation(vs model.Violations, want model.Violation) bool {
	for _, v := range vs {
		if v.Path == want.Path && strings.Contains(v.Message, want.Message) && (want.Object == "" || v.Object == want.Object) {
			return true
		}
	}
	return false
}

func TestBodyTooLarge(t *testing.T) {
	env := newEnv(t, Options{})
	t.Run("declared length refused before reading", func(t *testing.T) {
		body := &countingReader{r: strings.NewReader(strings.Repeat("a", 2<<20))}
		req := httptest.NewRequest(http.MethodPost, "/v1/apply", body)
		req.Header.Set("Content-Type", "application/yaml")
		req.ContentLength = 2 << 20
		rec := httptest.NewRecorder()
		env.srv.ServeHTTP(rec, env.authorize(req))
		require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		require.Zero(t, body.n, "no byte of an oversized declared body is read")
		require.Equal(t, ReasonTooLarge, response{code: rec.Code, body: rec.Body.Bytes()}.errorBody(t).Reason)
	})
	t.Run("undeclared length cut at the limit", func(t *testing.T) {
		body := &countingReader{r: io.LimitReader(neverEnding('a'), 64<<20)}
		req := httptest.NewRequest(http.MethodPut, "/v1/services/big", body)
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = -1
		rec := httptest.NewRecorder()
		env.srv.ServeHTTP(rec, env.authorize(req))
		require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		require.LessOrEqual(t, body.n, int64(DefaultMaxBodyBytes+64<<10), "reading stops near the limit")
	})
	t.Run("over real HTTP", func(t *testing.T) {
		ts := httptest.NewServer(env.srv)
		defer ts.Close()
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/v1/apply", bytes.NewReader(make([]byte, DefaultMaxBodyBytes+1)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/yaml")
		resp, err := http.DefaultClient.Do(env.authorize(req))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	})
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestIdempotentApply(t *testing.T) {
	env := newEnv(t, Options{})
	first := env.apply(baseBundle)
	require.True(t, first.Changed)
	for _, o := range first.Objects {
		require.Equal(t, store.ActionCreated, o.Action)
	}
	second := env.apply(baseBundle)
	require.False(t, second.Changed)
	require.Equal(t, first.Revision, second.Revision, "re-applying bumps no revision")
	for _, o := range second.Objects {
		require.Equal(t, store.ActionUnchanged, o.Action, "%s/%s", o.Kind, o.Name)
	}
	// Applying what GET returned (resourceVersion included) is also a no-op.
	r := env.do(http.MethodGet, "/v1/apis/shop", "")
	require.Equal(t, http.StatusOK, r.code)
	third := env.apply(string(r.body))
	require.False(t, third.Changed)
}

func TestOptimisticConcurrency(t *testing.T) {
	env := newEnv(t, Options{})
	env.apply(baseBundle)
	get := env.do(http.MethodGet, "/v1/services/orders", "")
	require.Equal(t, http.StatusOK, get.code)
	etag := get.header.Get("ETag")
	require.NotEmpty(t, etag)

	changed := strings.Replace(string(get.body), "10.0.0.1", "10.0.0.2", 1)
	r := env.do(http.MethodPut, "/v1/services/orders", changed, "If-Match", etag)
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)

	// The same If-Match is now stale.
	again := strings.Replace(string(get.body), "10.0.0.1", "10.0.0.3", 1)
	r = env.do(http.MethodPut, "/v1/services/orders", again, "If-Match", etag)
	require.Equal(t, http.StatusConflict, r.code, "%s", r.body)
	require.Equal(t, ReasonStale, r.errorBody(t).Reason)

	// A stale metadata.resourceVersion in an applied bundle, too.
	r = env.do(http.MethodPost, "/v1/apply", again)
	require.Equal(t, http.StatusConflict, r.code, "%s", r.body)
	require.Equal(t, ReasonStale, r.errorBody(t).Reason)

	// And on delete.
	r = env.do(http.MethodDelete, "/v1/services/orders", "", "If-Match", etag)
	require.Equal(t, http.StatusConflict, r.code)

	r = env.do(http.MethodPut, "/v1/services/orders", again, "If-Match", "not-a-version")
	require.Equal(t, http.StatusBadRequest, r.code)
}

func TestDeleteReferenced(t *testing.T) {
	env := newEnv(t, Options{})
	env.apply(baseBundle)
	before := env.st.Revision()
	r := env.do(http.MethodDelete, "/v1/services/orders", "")
	require.Equal(t, http.StatusConflict, r.code, "%s", r.body)
	e := r.errorBody(t)
	require.Equal(t, ReasonReferenced, e.Reason)
	require.Contains(t, e.Message, "API/shop")
	require.Equal(t, []store.Referrer{{Kind: model.KindAPI, Name: "shop", Path: "spec.routes[0].backends[0].service"}}, e.Referrers)
	require.Equal(t, before, env.st.Revision())

	// Once the referrer is gone the delete goes through.
	r = env.do(http.MethodDelete, "/v1/apis/shop", "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	r = env.do(http.MethodDelete, "/v1/services/orders", "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	r = env.do(http.MethodGet, "/v1/services/orders", "")
	require.Equal(t, http.StatusNotFound, r.code)
	require.Equal(t, ReasonNotFound, r.errorBody(t).Reason)
	r = env.do(http.MethodDelete, "/v1/services/orders", "")
	require.Equal(t, http.StatusNotFound, r.code)
}

func TestDryRunChangesNothing(t *testing.T) {
	env := newEnv(t, Options{})
	r := env.do(http.MethodPost, "/v1/apply?dryRun=true", baseBundle)
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	var res store.Result
	r.json(t, &res)
	require.True(t, res.DryRun)
	require.Len(t, res.Objects, 3)
	require.Zero(t, env.st.Revision())
	require.Equal(t, http.StatusNotFound, env.do(http.MethodGet, "/v1/apis/shop", "").code)

	env.apply(baseBundle)
	rev := env.st.Revision()
	svc := "apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: orders}\nspec: {endpoints: [{address: 10.9.9.9, port: 80}]}\n"
	r = env.do(http.MethodPut, "/v1/services/orders?dryRun=true", svc)
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	require.Contains(t, string(r.body), "10.9.9.9", "dry run shows what would be stored")
	r = env.do(http.MethodPut, "/v1/services/extra?dryRun=true", strings.Replace(svc, "orders", "extra", 1))
	require.Equal(t, http.StatusCreated, r.code, "%s", r.body)
	r = env.do(http.MethodDelete, "/v1/apis/shop?dryRun=true", "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	require.Equal(t, rev, env.st.Revision())
	get := env.do(http.MethodGet, "/v1/services/orders", "")
	require.Contains(t, string(get.body), "10.0.0.1")
	require.Equal(t, http.StatusOK, env.do(http.MethodGet, "/v1/apis/shop", "").code)
	require.Equal(t, http.StatusNotFound, env.do(http.MethodGet, "/v1/services/extra", "").code)
	require.Equal(t, http.StatusBadRequest, env.do(http.MethodPost, "/v1/apply?dryRun=maybe", baseBundle).code)
}

func TestPrivateKeysNeverReturned(t *testing.T) {
	env := newEnv(t, Options{})
	cert, key := selfSigned(t, "shop.example.com", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	secret := fmt.Sprintf("apiVersion: tollgate.dev/v1\nkind: Secret\nmetadata: {name: shop-tls}\nspec:\n  type: tls\n  certificate: |\n%s\n  privateKey: |\n%s\n",
		indent(cert, "    "), indent(key, "    "))
	policy := `apiVersion: tollgate.dev/v1
kind: Policy
metadata: {name: keys}
spec:
  targetRef: {kind: API, name: shop}
  apiKey:
    consumers: [{name: team-a, key: very-secret-key-0123456789}]
`
	env.apply(baseBundle + "---\n" + secret + "---\n" + policy)
	keyBody := strings.Split(strings.TrimSpace(key), "\n")[1] // a line of base64 key material
	var responses []response
	responses = append(responses,
		env.do(http.MethodGet, "/v1/secrets/shop-tls", ""),
		env.do(http.MethodGet, "/v1/secrets", ""),
		env.do(http.MethodGet, "/v1/policies/keys", ""),
		env.do(http.MethodGet, "/v1/policies", ""),
		env.do(http.MethodPut, "/v1/secrets/shop-tls", secret),
		env.do(http.MethodPut, "/v1/secrets/shop-tls?dryRun=true", secret),
		env.do(http.MethodPost, "/v1/apply", secret),
		env.do(http.MethodGet, "/metrics", ""),
	)
	for i, r := range responses {
		require.Less(t, r.code, 300, "response %d: %s", i, r.body)
		require.NotContains(t, string(r.body), keyBody, "response %d leaks the private key", i)
		require.NotContains(t, string(r.body), "very-secret-key", "response %d leaks an API key", i)
		require.NotContains(t, string(r.body), "PRIVATE KEY", "response %d", i)
	}
	require.Contains(t, string(responses[0].body), "BEGIN CERTIFICATE", "the certificate itself is readable")
	// The stored object keeps the key: the proxies need it.
	o, err := env.st.Read().Get(nil, model.Key{Kind: model.KindSecret, Name: "shop-tls"})
	require.NoError(t, err)
	require.Contains(t, o.(*tollgatev1.Secret).GetSpec().GetPrivateKey(), "PRIVATE KEY")
}

func TestListLabelSelector(t *testing.T) {
	env := newEnv(t, Options{})
	env.apply(baseBundle)
	tests := []struct {
		sel  string
		want []string
	}{
		{"", []string{"shop"}},
		{"team=shop", []string{"shop"}},
		{"team!=shop", nil},
		{"tier in (public,internal)", []string{"shop"}},
		{"tier notin (public)", nil},
		{"team", []string{"shop"}},
		{"!team", nil},
		{"team==shop,tier=public", []string{"shop"}},
	}
	for _, tc := range tests {
		t.Run(tc.sel, func(t *testing.T) {
			r := env.do(http.MethodGet, "/v1/apis?labelSelector="+urlQuery(tc.sel), "")
			require.Equal(t, http.StatusOK, r.code, "%s", r.body)
			var lb struct {
				Kind  string
				Items []struct{ Metadata struct{ Name string } }
			}
			r.json(t, &lb)
			require.Equal(t, "APIList", lb.Kind)
			var got []string
			for _, it := range lb.Items {
				got = append(got, it.Metadata.Name)
			}
			require.Equal(t, tc.want, got)
		})
	}
	r := env.do(http.MethodGet, "/v1/apis?labelSelector="+urlQuery("a in b"), "")
	require.Equal(t, http.StatusBadRequest, r.code)
	r.errorBody(t)
}

func urlQuery(s string) string {
	return strings.NewReplacer(" ", "%20", "!", "%21", "(", "%28", ")", "%29", ",", "%2C", "=", "%3D").Replace(s)
}

func TestErrorShapes(t *testing.T) {
	env := newEnv(t, Options{})
	tests := []struct {
		method, path, body string
		hdr                []string
		code               int
		reason             Reason
	}{
		{"GET", "/v1/nothings", "", nil, 404, ReasonNotFound},
		{"GET", "/v2/apis", "", nil, 404, ReasonNotFound},
		{"GET", "/v1/apis/Bad_Name", "", nil, 400, ReasonInvalid},
		{"GET", "/v1/apis/missing", "", nil, 404, ReasonNotFound},
		{"PATCH", "/v1/apis/x", "", nil, 405, ReasonMethodNotAllowed},
		{"GET", "/v1/apply", "", nil, 405, ReasonMethodNotAllowed},
		{"POST", "/v1/apply", "", []string{"Content-Type", "application/yaml"}, 400, ReasonBadRequest},
		{"POST", "/v1/apply", "---\n", nil, 400, ReasonBadRequest},
		{"POST", "/v1/apply", "a: b", []string{"Content-Type", "image/png"}, 415, ReasonUnsupportedMedia},
		// CORS-safelisted types a browser sends cross-origin without a preflight.
		{"POST", "/v1/apply", baseBundle, []string{"Content-Type", "text/plain;charset=UTF-8"}, 415, ReasonUnsupportedMedia},
		{"POST", "/v1/apply", baseBundle, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, ReasonUnsupportedMedia},
		{"PUT", "/v1/services/x", baseBundle, []string{"Content-Type", "multipart/form-data; boundary=x"}, 415, ReasonUnsupportedMedia},
		{"POST", "/v1/apply", baseBundle, []string{"Content-Type", ""}, 415, ReasonUnsupportedMedia},
		{"POST", "/v1/apply", "a: b", []string{"Content-Encoding", "gzip"}, 415, ReasonUnsupportedMedia},
		{"PUT", "/v1/apis/x", "apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: x}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}", nil, 400, ReasonInvalid},
		{"PUT", "/v1/services/x", "apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: y}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}", nil, 400, ReasonInvalid},
		{"PUT", "/v1/services/x", baseBundle, nil, 400, ReasonBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := env.do(tc.method, tc.path, tc.body, tc.hdr...)
			require.Equal(t, tc.code, r.code, "%s", r.body)
			require.Equal(t, tc.reason, r.errorBody(t).Reason)
			require.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
		})
	}
}

func TestPutCreatesThenUpdates(t *testing.T) {
	env := newEnv(t, Options{})
	svc := "apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: s}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n"
	r := env.do(http.MethodPut, "/v1/services/s", svc)
	require.Equal(t, http.StatusCreated, r.code, "%s", r.body)
	require.Equal(t, `"1"`, r.header.Get("ETag"))
	r = env.do(http.MethodPut, "/v1/services/s", strings.Replace(svc, "port: 80", "port: 81", 1))
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	require.Equal(t, `"2"`, r.header.Get("ETag"))
	// A JSON body works the same, and a name left out is taken from the URL.
	r = env.do(http.MethodPut, "/v1/services/s", `{"apiVersion":"tollgate.dev/v1","kind":"Service","metadata":{},"spec":{"endpoints":[{"address":"10.0.0.1","port":82}]}}`,
		"Content-Type", "application/json")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	require.Equal(t, `"3"`, r.header.Get("ETag"))
}

func TestReadOnlyMode(t *testing.T) {
	env := newEnv(t, Options{ReadOnly: "definitions are managed from the directory /etc/tollgate", Status: func() any { return map[string]string{"dir": "/etc/tollgate"} }})
	for _, req := range [][2]string{{"POST", "/v1/apply"}, {"PUT", "/v1/services/s"}, {"DELETE", "/v1/services/s"}} {
		r := env.do(req[0], req[1], baseBundle)
		require.Equal(t, http.StatusConflict, r.code)
		e := r.errorBody(t)
		require.Equal(t, ReasonReadOnly, e.Reason)
		require.Contains(t, e.Message, "/etc/tollgate")
	}
	require.Equal(t, http.StatusOK, env.do("GET", "/v1/apis", "").code)
	r := env.do("GET", "/v1/status", "")
	require.Equal(t, http.StatusOK, r.code)
	var sb statusBody
	r.json(t, &sb)
	require.Equal(t, "directory", sb.Mode)
	require.NotEmpty(t, sb.ReadOnly)
	require.NotNil(t, sb.ConfigDir)
}

func TestHealthReadyMetrics(t *testing.T) {
	ready := false
	env := newEnv(t, Options{Ready: func() bool { return ready }})
	require.Equal(t, http.StatusOK, env.do("GET", "/healthz", "").code)
	r := env.do("GET", "/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, r.code)
	require.Equal(t, ReasonNotReady, r.errorBody(t).Reason)
	ready = true
	require.Equal(t, http.StatusOK, env.do("GET", "/readyz", "").code)

	env.apply(baseBundle)
	m := env.do("GET", "/metrics", "")
	require.Equal(t, http.StatusOK, m.code)
	for _, want := range []string{
		`tollgate_store_revision 1`,
		`tollgate_store_objects{kind="API"} 1`,
		`tollgate_admin_requests_total{code="200",method="POST",route="apply"} 1`,
		`tollgate_admin_request_duration_seconds_bucket{method="POST",route="apply"`,
	} {
		require.Contains(t, string(m.body), want)
	}
}

func TestOpenAPIDocument(t *testing.T) {
	env := newEnv(t, Options{})
	r := env.do("GET", "/openapi.json", "")
	require.Equal(t, http.StatusOK, r.code)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	r.json(t, &doc)
	require.Equal(t, "3.1.0", doc.OpenAPI)
	for _, p := range []string{"/v1/apply", "/v1/apis", "/v1/apis/{name}", "/v1/secrets/{name}", "/healthz", "/readyz", "/v1/status"} {
		require.Contains(t, doc.Paths, p)
	}
	require.Contains(t, doc.Paths["/v1/gateways/{name}"], "put")
	require.Contains(t, doc.Paths["/v1/gateways/{name}"], "delete")

	golden := filepath.Join("..", "..", "docs", "openapi.json")
	if *update {
		old, _ := os.ReadFile(golden)
		if !bytes.Equal(old, r.body) {
			require.NoError(t, os.WriteFile(golden, r.body, 0o644))
		}
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run: go test ./internal/admin -run TestOpenAPIDocument -update")
	require.Equal(t, string(want), string(r.body), "docs/openapi.json is stale: run make generate")
	require.True(t, json.Valid(want))
}
