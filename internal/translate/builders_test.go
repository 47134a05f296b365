package translate

import (
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"tollgate.dev/tollgate/internal/translate/ir"
)

func TestBuildRouteMatch(t *testing.T) {
	tests := []struct {
		name string
		in   ir.Match
		want *routev3.RouteMatch
	}{
		{
			name: "prefix",
			in:   ir.Match{PathKind: ir.PathPrefix, Path: "/v1"},
			want: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/v1"}},
		},
		{
			name: "exact with one method",
			in:   ir.Match{PathKind: ir.PathExact, Path: "/ping", Methods: []string{"GET"}},
			want: &routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_Path{Path: "/ping"},
				Headers:       []*routev3.HeaderMatcher{headerMatcher(":method", exact("GET"), false)},
			},
		},
		{
			name: "regex with methods, headers and query",
			in: ir.Match{
				PathKind: ir.PathRegex, Path: "/a/[0-9]+", Methods: []string{"GET", "HEAD"},
				Headers:     []ir.HeaderMatch{{Name: "x-a", Present: true, Invert: true}, {Name: "x-b", Prefix: "p"}},
				QueryParams: []ir.QueryMatch{{Name: "q", Regex: "[a-z]+"}, {Name: "v", Present: true}},
			},
			want: &routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: regex("/a/[0-9]+")},
				Headers: []*routev3.HeaderMatcher{
					headerMatcher(":method", &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: regex("GET|HEAD")}}, false),
					{Name: "x-a", HeaderMatchSpecifier: &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}, InvertMatch: true},
					headerMatcher("x-b", &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "p"}}, false),
				},
				QueryParameters: []*routev3.QueryParameterMatcher{
					{Name: "q", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: regex("[a-z]+")},
					}}},
					{Name: "v", QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buildRouteMatch(&tt.in)
			require.NoError(t, got.ValidateAll())
			if d := cmp.Diff(tt.want, got, protocmp.Transform()); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestBuildRouteAction(t *testing.T) {
	zero := time.Duration(0)
	tests := []struct {
		name string
		in   ir.Route
		want *routev3.RouteAction
	}{
		{
			name: "one backend, timeout disabled",
			in:   ir.Route{Backends: []ir.Backend{{Cluster: "svc/a", Weight: 1}}, Timeout: &zero},
			want: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "svc/a"}, Timeout: durationpb.New(0)},
		},
		{
			name: "weighted, rewrites, retries",
			in: ir.Route{
				Backends:      []ir.Backend{{Cluster: "svc/a", Weight: 9}, {Cluster: "svc/b", Weight: 1}},
				PrefixRewrite: "/v2", HostRewrite: "b.internal",
				Retry: &ir.Retry{Attempts: 2, Conditions: []string{"5xx", "retriable-status-codes"}, PerTryTimeout: time.Second, StatusCodes: []uint32{503}},
			},
			want: &routev3.RouteAction{
				ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
					{Name: "svc/a", Weight: wrapperspb.UInt32(9)}, {Name: "svc/b", Weight: wrapperspb.UInt32(1)},
				}}},
				PrefixRewrite:        "/v2",
				HostRewriteSpecifier: &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: "b.internal"},
				RetryPolicy: &routev3.RetryPolicy{
					RetryOn: "5xx,retriable-status-codes", NumRetries: wrapperspb.UInt32(2),
					PerTryTimeout: durationpb.New(time.Second), RetriableStatusCodes: []uint32{503},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buildRouteAction(&tt.in)
			require.NoError(t, got.ValidateAll())
			if d := cmp.Diff(tt.want, got, protocmp.Transform()); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestBuildUpstreamTLS(t *testing.T) {
	san := sanMatchers([]string{"a.example.com", "spiffe://td/ns/a"})
	tests := []struct {
		name string
		in   ir.UpstreamTLS
		want *tlsv3.UpstreamTlsContext
	}{
		{
			name: "system roots: a file path, names still verified",
			in:   ir.UpstreamTLS{SNI: "a.example.com", SystemRoots: true, SubjectAltNames: []string{"a.example.com", "spiffe://td/ns/a"}, MinVersion: ir.TLSv12},
			want: &tlsv3.UpstreamTlsContext{Sni: "a.example.com", CommonTlsContext: &tlsv3.CommonTlsContext{
				TlsParams: &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_2},
				ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
					TrustedCa:                 &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: systemRootsFile}},
					MatchTypedSubjectAltNames: san,
				}},
			}},
		},
		{
			name: "CA and client certificate over SDS",
			in:   ir.UpstreamTLS{CASecret: "secret/ca", ClientCertSecret: "secret/client", SubjectAltNames: []string{"a.example.com", "spiffe://td/ns/a"}, MinVersion: ir.TLSv13},
			want: &tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
				TlsParams:                      &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3},
				TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sdsSecret("secret/client")},
				ValidationContextType: &tlsv3.CommonTlsContext_CombinedValidationContext{CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
					DefaultValidationContext:         &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: san},
					ValidationContextSdsSecretConfig: sdsSecret("secret/ca"),
				}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buildUpstreamTLS(&tt.in)
			require.NoError(t, got.ValidateAll())
			if d := cmp.Diff(tt.want, got, protocmp.Transform()); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestBuildLoadAssignment(t *testing.T) {
	in := &ir.Cluster{Name: "svc/a", Localities: []ir.Locality{
		{Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 80, Weight: 1}}},
		{Region: "r", Zone: "z", Endpoints: []ir.Endpoint{{Address: "10.0.0.2", Port: 80, Weight: 5}}},
	}}
	// Every group has a Locality (empty when none is given) and a weight:
	// grpc-go rejects or drops groups without them.
	want := &endpointv3.ClusterLoadAssignment{ClusterName: "svc/a", Endpoints: []*endpointv3.LocalityLbEndpoints{
		{Locality: &corev3.Locality{}, LbEndpoints: []*endpointv3.LbEndpoint{lbEndpoint("10.0.0.1", 80, 1)}, LoadBalancingWeight: wrapperspb.UInt32(1)},
		{Locality: &corev3.Locality{Region: "r", Zone: "z"}, LbEndpoints: []*endpointv3.LbEndpoint{lbEndpoint("10.0.0.2", 80, 5)}, LoadBalancingWeight: wrapperspb.UInt32(5)},
	}}
	got := buildLoadAssignment(in)
	require.NoError(t, got.ValidateAll())
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestFitHostnames(t *testing.T) {
	tests := []struct {
		name          string
		listener, api []string
		want          []string
	}{
		{name: "both any", want: []string{"*"}},
		{name: "listener any", api: []string{"b.com", "a.com"}, want: []string{"a.com", "b.com"}},
		{name: "api any", listener: []string{"a.com"}, want: []string{"a.com"}},
		{name: "exact", listener: []string{"a.com"}, api: []string{"a.com", "b.com"}, want: []string{"a.com"}},
		{name: "listener wildcard", listener: []string{"*.a.com"}, api: []string{"x.a.com", "a.com", "x.y.a.com"}, want: []string{"x.a.com", "x.y.a.com"}},
		{name: "api wildcard narrows to listener", listener: []string{"x.a.com"}, api: []string{"*.a.com"}, want: []string{"x.a.com"}},
		{name: "same wildcard", listener: []string{"*.a.com"}, api: []string{"*.a.com"}, want: []string{"*.a.com"}},
		{name: "no fit", listener: []string{"a.com"}, api: []string{"b.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, fitHostnames(tt.listener, tt.api))
		})
	}
}

func TestCovers(t *testing.T) {
	prefix := func(p string) ir.Match { return ir.Match{PathKind: ir.PathPrefix, Path: p} }
	tests := []struct {
		name string
		a, b ir.Match
		want bool
	}{
		{name: "same prefix", a: prefix("/a"), b: prefix("/a"), want: true},
		{name: "shorter prefix covers longer", a: prefix("/a"), b: prefix("/a/b"), want: true},
		{name: "prefix covers exact", a: prefix("/a"), b: ir.Match{PathKind: ir.PathExact, Path: "/a/x"}, want: true},
		{name: "prefix does not cover regex", a: prefix("/"), b: ir.Match{PathKind: ir.PathRegex, Path: "/a"}},
		{name: "header constraint", a: ir.Match{PathKind: ir.PathPrefix, Path: "/", Headers: []ir.HeaderMatch{{Name: "x", Exact: "1"}}}, b: prefix("/a")},
		{name: "methods superset", a: ir.Match{PathKind: ir.PathPrefix, Path: "/", Methods: []string{"GET", "POST"}}, b: ir.Match{PathKind: ir.PathPrefix, Path: "/", Methods: []string{"GET"}}, want: true},
		{name: "methods vs any", a: ir.Match{PathKind: ir.PathPrefix, Path: "/", Methods: []string{"GET"}}, b: prefix("/")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, covers(&tt.a, &tt.b))
		})
	}
}
