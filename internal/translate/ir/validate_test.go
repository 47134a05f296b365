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
			Name: "http", Address: "0.0.0.0", Port: 80, Protocol: ProtocolHTTP,
			FilterChains: []FilterChain{{Name: "http/default", RouteConfig: "http"}},
		}},
		RouteConfigs: []RouteConfig{{Name: "http", VirtualHosts: []VirtualHost{{
			Name: "*", Domains: []string{"*"},
			Routes: []Route{{Name: "a/r", Match: Match{PathKind: PathPrefix, Path: "/"}, Backends: []Backend{{Cluster: "svc/a", Weight: 1}}}},
		}}}},
		Clusters: []Cluster{{Name: "svc/a", Discovery: DiscoveryEDS, ConnectTimeout: 5 * time.Second}},
	}
}

// grpcListener is a valid gRPC server listener with mTLS and RBAC, named
// to sort after "http".
func grpcListener() Listener {
	return Listener{
		Name: "z-grpc", Address: "0.0.0.0", Port: 50051, Protocol: ProtocolGRPC,
		FilterChains: []FilterChain{{
			Name:              "grpc/default",
			TLS:               &DownstreamTLS{CertProvider: "tollgate", ClientCert: ClientCertRequired, CAProvider: "tollgate"},
			AllowedPrincipals: []string{"spiffe://t/gateway/a"},
		}},
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
		{name: "TLS with two trust anchors", mutate: func(g *Gateway) {
			g.Clusters[0].TLS = &UpstreamTLS{SystemRoots: true, CAProvider: "tollgate", SubjectAltNames: []string{"a"}}
		}, want: "exactly one of a CA secret, system roots and a CA provider"},
		{name: "provider TLS", mutate: func(g *Gateway) {
			g.Clusters[0].TLS = &UpstreamTLS{CAProvider: "tollgate", CertProvider: "tollgate", SubjectAltNames: []string{"spiffe://t/gateway/a"}}
		}},
		{name: "GRPC server listener", mutate: func(g *Gateway) { g.Listeners = append(g.Listeners, grpcListener()) }},
		{name: "GRPC principals need client certificates", mutate: func(g *Gateway) {
			l := grpcListener()
			l.FilterChains[0].TLS.ClientCert = ClientCertNone
			g.Listeners = append(g.Listeners, l)
		}, want: "allowed principals need client certificates"},
		{name: "GRPC chain with a secret", mutate: func(g *Gateway) {
			l := grpcListener()
			l.FilterChains[0].TLS.CertSecret = "secret/x"
			g.Listeners = append(g.Listeners, l)
		}, want: "certificate provider"},
		{name: "provider CA with SANs", mutate: func(g *Gateway) {
			l := grpcListener()
			l.FilterChains[0].TLS.SubjectAltNames = []string{"a"}
			g.Listeners = append(g.Listeners, l)
		}, want: "grpc-go servers reject them"},
		{name: "principals on HTTP", mutate: func(g *Gateway) {
			g.Listeners[0].FilterChains[0].AllowedPrincipals = []string{"a"}
		}, want: "only for GRPC chains"},
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
