package admin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkAdminApplyOneAPI measures POST /v1/apply of one changed API
// through the handler: body read, decode, validation, store write and
// fsync, and the JSON answer.
func BenchmarkAdminApplyOneAPI(b *testing.B) {
	env := newEnv(b, Options{})
	env.apply(baseBundle)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		body := strings.Replace(baseBundle, "pathPrefix: /orders", fmt.Sprintf("pathPrefix: /orders/%d", i), 1)
		req := httptest.NewRequest(http.MethodPost, "/v1/apply", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/yaml")
		rec := httptest.NewRecorder()
		env.srv.ServeHTTP(rec, env.authorize(req))
		if rec.Code != http.StatusOK {
			b.Fatalf("%d: %s", rec.Code, rec.Body)
		}
		i++
	}
}
