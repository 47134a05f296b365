package ir

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func validGateway() *Gateway {
	return &Gateway{
		Name: "g",
		Listeners: []Listener{{
			Name: "http", Port: 80, Protocol: ProtocolHTTP,
			FilterChains: []FilterChain{{Name: "http/default", RouteConfig: "http"}},
		}},
		RouteConfigs: []RouteConfig{{Name: "http", VirtualHosts: []VirtualHost{{
			Name: "*", Domains: []string{"*"},
			Routes: []Route{{Name: "a/r", Match: Match{PathKind: PathPrefix, Path: "/"}, Backends: []Backend{{Cluster: "svc/a", Weight: 1}}}},
		}}}},
		Clusters: []Cluster{{Name: "svc/a", Discovery: DiscoveryEDS, ConnectTimeout: 5 * time.Second}},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(g *Gateway)
		want   string
	}{
		{name: "valid", mutate: func(*Gateway) {}},
		{name: "missing cluster", mutate: func(g *Gateway) { g.Clusters = nil }, want: `cluster "svc/a" is missing`},
		{name: "missing route config", mutate: func(g *Gateway) { g.RouteConfigs = nil }, want: `route configuration "http" is missing`},
		{name: "two actions", mutate: func(g *Gateway) {
			g.RouteConfigs[0].VirtualHosts[0].Routes[0].DirectResponse = &DirectResponse{Status: 200}
		}, want: "2 actions"},
		{name: "unsorted clusters", mutate: func(g *Gateway) {
			g.Clusters = append(g.Clusters, Cluster{Name: "svc/0", Discovery: DiscoveryEDS, ConnectTimeout: time.Second})
		}, want: "not sorted"},
		{name: "TLS without secret", mutate: func(g *Gateway) {
			g.Clusters[0].TLS = &UpstreamTLS{CASecret: "secret/ca", SubjectAltNames: []string{"a"}}
		}, want: `CA secret "secret/ca" is missing`},
		{name: "TLS without SAN", mutate: func(g *Gateway) {
			g.Clusters[0].TLS = &UpstreamTLS{SystemRoots: true}
		}, want: "subject alt name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := validGateway()
			tt.mutate(g)
			err := g.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// TestNoEnvoyOrProtoImports keeps the IR free of Envoy and input types
// (STYLE.md: the IR is the seam).
func TestNoEnvoyOrProtoImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/envoyproxy/", "google.golang.org/protobuf", "tollgate.dev/tollgate/proto", "tollgate.dev/tollgate/internal/model"} {
			require.False(t, strings.HasPrefix(dep, bad), "the IR depends on %s", dep)
		}
	}
}
