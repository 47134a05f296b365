package app_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/pki"
	"tollgate.dev/tollgate/internal/xdsclient"
)

// TestRotationBySDSAlone: rotating a Secret through the admin API, and
// rotating a gateway identity the CA keeps, each reach the proxies as one
// SDS update: no listener or cluster is rebuilt.
func TestRotationBySDSAlone(t *testing.T) {
	s := startSecureApp(t, filepath.Join(t.TempDir(), "data"))
	userCA, err := pki.NewCA("users.test", time.Now().Add(-time.Minute), 48*time.Hour)
	require.NoError(t, err)
	secret, _ := serverSecret(t, userCA, "web-cert", "web.example.com")
	s.mustCall(http.MethodPost, "/v1/apply", "application/yaml", secret+`---
apiVersion: tollgate.dev/v1
kind: Service
metadata: {name: web}
spec: {endpoints: [{address: 10.0.0.1, port: 8080}]}
---
apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: edge}
spec:
  mode: ingress
  listeners:
  - name: https
    port: 8443
    protocol: HTTPS
    tls:
      certificates: [{secret: web-cert}, {identity: true, serverNames: [edge.mesh.internal]}]
      clientValidation: {mode: optional, identityCa: true}
---
apiVersion: tollgate.dev/v1
kind: API
metadata: {name: web}
spec: {gateways: [edge], hostnames: [web.example.com], routes: [{name: all, backends: [{service: web}]}]}
`)
	id := s.identity("edge")
	for i, delta := range []bool{true, false} {
		t.Run(map[bool]string{true: "delta", false: "sotw"}[delta], func(t *testing.T) {
			c := xdsclient.DialTest(t, s.XDSAddress(), "edge-"+strconv.Itoa(i), "edge", xdsclient.Options{Delta: delta, TLS: s.proxyTLS(&id)})
			c.Start()
			want := []string{"secret/tollgate-ca", "secret/tollgate-id-edge", "secret/web-cert"}
			c.WaitFor("the listener with both certificates and the CA", func() bool {
				return slices.Equal(c.Has(resourcev3.SecretType), want) && len(c.Has(resourcev3.ListenerType)) == 1 &&
					slices.Equal(c.Has(resourcev3.RouteType), []string{"host/web.example.com"}) &&
					slices.Equal(c.Has(resourcev3.EndpointType), []string{"svc/web"})
			})
			rotated := func(name string, rotate func()) {
				before := string(c.Resource(resourcev3.SecretType, name).GetValue())
				mark := c.Received()
				rotate()
				c.WaitFor(name+" rotated", func() bool {
					return string(c.Resource(resourcev3.SecretType, name).GetValue()) != before
				})
				for _, r := range c.LogSince(mark) {
					require.Equal(t, resourcev3.SecretType, r.TypeURL, "a rotation is an SDS update alone: %+v", c.LogSince(mark))
					require.Equal(t, []string{name}, r.Names, "only the rotated secret is sent")
				}
			}
			rotated("secret/web-cert", func() {
				next, _ := serverSecret(t, userCA, "web-cert", "web.example.com")
				s.mustCall(http.MethodPut, "/v1/secrets/web-cert", "application/yaml", next)
			})
			rotated("secret/tollgate-id-edge", func() {
				s.mustCall(http.MethodPost, "/v1/gateways/edge/rotate-identity", "", "")
			})
		})
	}
}
