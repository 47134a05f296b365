package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// request is what a fake server saw.
type request struct {
	method, path, query, contentType, ifMatch, body string
}

// fake answers every request with one status and body and records it.
func fake(t *testing.T, code int, body string) (*Client, *request) {
	t.Helper()
	got := &request{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*got = request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("If-Match"), string(b)}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/", srv.Client())
	require.NoError(t, err)
	return c, got
}

func TestApply(t *testing.T) {
	t.Parallel()
	c, got := fake(t, 200, `{"revision":7,"changed":true,"dryRun":true,"objects":[{"kind":"API","name":"orders","action":"created","resourceVersion":"7"}]}`)
	res, err := c.Apply(context.Background(), []byte("kind: API\n"), true)
	require.NoError(t, err)
	require.Equal(t, store.Result{Revision: 7, Changed: true, DryRun: true, Objects: []store.ObjectResult{
		{Kind: model.KindAPI, Name: "orders", Action: "created", ResourceVersion: "7"},
	}}, res)
	require.Equal(t, request{method: "POST", path: "/v1/apply", query: "dryRun=true", contentType: "application/yaml", body: "kind: API\n"}, *got)
}

func TestGet(t *testing.T) {
	t.Parallel()
	c, got := fake(t, 200, `{"apiVersion":"tollgate.dev/v1","kind":"Gateway","metadata":{"name":"edge","resourceVersion":"3"},"spec":{"mode":"ingress","listeners":[{"name":"http","port":80,"protocol":"HTTP"}]}}`)
	o, err := c.Get(context.Background(), model.KindGateway, "edge")
	require.NoError(t, err)
	g, ok := o.(*tollgatev1.Gateway)
	require.True(t, ok)
	require.Equal(t, "3", g.GetMetadata().GetResourceVersion())
	require.Equal(t, uint32(80), g.GetSpec().GetListeners()[0].GetPort())
	require.Equal(t, "GET", got.method)
	require.Equal(t, "/v1/gateways/edge", got.path)
}

func TestGetRejectsUnknownFields(t *testing.T) {
	t.Parallel()
	c, _ := fake(t, 200, `{"kind":"Gateway","metadata":{"name":"edge"},"spec":{"fromTheFuture":1}}`)
	_, err := c.Get(context.Background(), model.KindGateway, "edge")
	require.ErrorContains(t, err, "fromTheFuture")
}

func TestList(t *testing.T) {
	t.Parallel()
	c, got := fake(t, 200, `{"kind":"APIList","revision":9,"items":[
		{"apiVersion":"tollgate.dev/v1","kind":"API","metadata":{"name":"a"},"spec":{"gateways":["edge"]}},
		{"apiVersion":"tollgate.dev/v1","kind":"API","metadata":{"name":"b"},"spec":{}}]}`)
	objs, rev, err := c.List(context.Background(), model.KindAPI, "team=pay,tier!=gold")
	require.NoError(t, err)
	require.Equal(t, uint64(9), rev)
	require.Len(t, objs, 2)
	require.Equal(t, "b", objs[1].GetMetadata().GetName())
	require.Equal(t, "/v1/apis", got.path)
	require.Equal(t, "labelSelector=team%3Dpay%2Ctier%21%3Dgold", got.query)
}

func TestDelete(t *testing.T) {
	t.Parallel()
	c, got := fake(t, 200, `{"revision":4,"changed":true,"dryRun":false,"objects":[{"kind":"Service","name":"orders","action":"deleted"}]}`)
	res, err := c.Delete(context.Background(), model.KindService, "orders", false, "3")
	require.NoError(t, err)
	require.Equal(t, store.Action("deleted"), res.Objects[0].Action)
	require.Equal(t, request{method: "DELETE", path: "/v1/services/orders", ifMatch: `"3"`}, *got)
}

func TestStatus(t *testing.T) {
	t.Parallel()
	c, _ := fake(t, 200, `{"revision":2,"mode":"directory","readOnly":"files rule","configDir":{"dir":"/defs"}}`)
	s, err := c.Status(context.Background())
	require.NoError(t, err)
	require.Equal(t, "directory", s.Mode)
	require.Equal(t, "files rule", s.ReadOnly)
	require.JSONEq(t, `{"dir":"/defs"}`, string(s.ConfigDir))
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code int
		body string
		want *APIError
		text string
	}{
		{
			name: "violations",
			code: 400,
			body: `{"error":{"code":400,"reason":"Invalid","message":"2 violations","violations":[
				{"document":1,"object":"API/x","path":"spec.routes[0].match.pathPrefix","message":"must start with \"/\""},
				{"document":2,"path":"kind","message":"required"}]}}`,
			want: &APIError{Code: 400, Reason: "Invalid", Message: "2 violations", Violations: model.Violations{
				{Document: 1, Object: "API/x", Path: "spec.routes[0].match.pathPrefix", Message: `must start with "/"`},
				{Document: 2, Path: "kind", Message: "required"},
			}},
			text: "2 violations\n  API/x: spec.routes[0].match.pathPrefix: must start with \"/\"\n  document 2: kind: required",
		},
		{
			name: "referrers",
			code: 409,
			body: `{"error":{"code":409,"reason":"Referenced","message":"Service/orders is still referenced","referrers":[{"kind":"API","name":"shop","path":"spec.routes[0].backends[0].service"}]}}`,
			want: &APIError{
				Code: 409, Reason: "Referenced", Message: "Service/orders is still referenced",
				Referrers: []Referrer{{Kind: "API", Name: "shop", Path: "spec.routes[0].backends[0].service"}},
			},
			text: "Service/orders is still referenced\n  referenced by API/shop at spec.routes[0].backends[0].service",
		},
		{
			name: "not the error shape",
			code: 502,
			body: `<html>bad gateway</html>`,
			want: &APIError{Code: 502, Reason: "Bad Gateway", Message: "the server answered 502 Bad Gateway: <html>bad gateway</html>"},
			text: "the server answered 502 Bad Gateway: <html>bad gateway</html>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := fake(t, tt.code, tt.body)
			_, err := c.Apply(context.Background(), []byte("x"), false)
			var ae *APIError
			require.True(t, errors.As(err, &ae), "%v", err)
			require.Equal(t, tt.want, ae)
			require.Equal(t, tt.text, err.Error())
		})
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(url, nil)
	require.NoError(t, err)
	_, err = c.Status(context.Background())
	require.ErrorContains(t, err, "cannot reach the control plane at "+url)
}

func TestNewRejectsBadURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "127.0.0.1:9400", "ftp://x", "http://"} {
		_, err := New(u, nil)
		require.Error(t, err, u)
	}
}
