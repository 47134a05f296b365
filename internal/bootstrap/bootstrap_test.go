package bootstrap

import (
	"encoding/json"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	downstreamconnectionsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	valid := Options{Gateway: "edge"}
	tests := []struct {
		name   string
		modify func(o *Options)
		want   []string // "--field: message", in order
	}{
		{name: "defaults", modify: func(*Options) {}},
		{name: "everything set", modify: func(o *Options) {
			*o = Options{Gateway: "edge", NodeID: "edge-1", XDSAddress: "cp.example.com:18000", AdminPort: 65535, MaxConnections: 1, MaxHeapBytes: 64 << 20}
		}},
		{name: "IPv6 control plane", modify: func(o *Options) { o.XDSAddress = "[::1]:18000" }},
		{name: "empty gateway", modify: func(o *Options) { o.Gateway = "" }, want: []string{"--gateway: required"}},
		{
			name: "gateway not DNS-1123", modify: func(o *Options) { o.Gateway = "Edge_1" },
			want: []string{`--gateway: "Edge_1" must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`},
		},
		{name: "node with a space", modify: func(o *Options) { o.NodeID = "edge 1" }, want: []string{`--node: "edge 1" must not contain spaces or control characters`}},
		{name: "host name unfit for a node id", modify: func(o *Options) { o.Hostname = "a\tb" }, want: []string{`--node: "edge-a\tb" must not contain spaces or control characters`}},
		{name: "xds without port", modify: func(o *Options) { o.XDSAddress = "controlplane" }, want: []string{`--xds: must be host:port such as 127.0.0.1:18000, got "controlplane"`}},
		{name: "xds without host", modify: func(o *Options) { o.XDSAddress = ":18000" }, want: []string{`--xds: host is required in ":18000": the proxy must know where to connect`}},
		{name: "xds wildcard", modify: func(o *Options) { o.XDSAddress = "0.0.0.0:18000" }, want: []string{`--xds: host "0.0.0.0" is a wildcard address: give the control plane's own IP address or DNS name`}},
		{name: "xds port 0", modify: func(o *Options) { o.XDSAddress = "127.0.0.1:0" }, want: []string{`--xds: port must be a number between 1 and 65535, got "0"`}},
		{
			name: "xds bad host and port", modify: func(o *Options) { o.XDSAddress = "bad_host!:http" },
			want: []string{`--xds: host "bad_host!" must be an IP address or a DNS name`, `--xds: port must be a number between 1 and 65535, got "http"`},
		},
		{name: "admin port out of range", modify: func(o *Options) { o.AdminPort = 70000 }, want: []string{"--admin-port: must be between 1 and 65535, got 70000"}},
		{name: "too many connections", modify: func(o *Options) { o.MaxConnections = 1 << 63 }, want: []string{"--max-connections: must be at most 9223372036854775807, got 9223372036854775808"}},
		{name: "tiny heap", modify: func(o *Options) { o.MaxHeapBytes = 1024 }, want: []string{"--max-heap-bytes: must be at least 67108864 (64 MiB), got 1024: Envoy alone uses tens of MiB"}},
		{
			name: "every problem at once",
			modify: func(o *Options) {
				*o = Options{Gateway: "", XDSAddress: "nope", AdminPort: 70000, MaxHeapBytes: 1}
			},
			want: []string{
				"--gateway: required",
				`--xds: must be host:port such as 127.0.0.1:18000, got "nope"`,
				"--admin-port: must be between 1 and 65535, got 70000",
				"--max-heap-bytes: must be at least 67108864 (64 MiB), got 1: Envoy alone uses tens of MiB",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := valid
			tc.modify(&o)
			ps := o.Validate()
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			require.Equal(t, tc.want, got)
			if len(tc.want) == 0 {
				return
			}
			_, err := Envoy(o)
			require.EqualError(t, err, ps.Error(), "Envoy refuses invalid options with every problem")
			_, err = GRPC(o)
			require.EqualError(t, err, ps.Error(), "GRPC refuses invalid options with every problem")
		})
	}
}

func TestEnvoy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          Options
		wantNode    string
		wantType    clusterv3.Cluster_DiscoveryType
		wantAdmin   uint32
		wantMaxConn int64
		wantHeap    uint64
	}{
		{
			name: "defaults", in: Options{Gateway: "edge", Hostname: "vm-1"},
			wantNode: "edge-vm-1", wantType: clusterv3.Cluster_STATIC, wantAdmin: 9901, wantMaxConn: 50000, wantHeap: 1 << 30,
		},
		{
			name: "no host name", in: Options{Gateway: "edge"},
			wantNode: "edge", wantType: clusterv3.Cluster_STATIC, wantAdmin: 9901, wantMaxConn: 50000, wantHeap: 1 << 30,
		},
		{
			name: "DNS control plane and explicit limits",
			in: Options{
				Gateway: "inventory-sidecar", NodeID: "pod-1", Hostname: "ignored", XDSAddress: "controlplane:18000",
				AdminPort: 15000, MaxConnections: 1024, MaxHeapBytes: 256 << 20,
			},
			wantNode: "pod-1", wantType: clusterv3.Cluster_STRICT_DNS, wantAdmin: 15000, wantMaxConn: 1024, wantHeap: 256 << 20,
		},
		{
			name: "IPv6 control plane", in: Options{Gateway: "egress", NodeID: "e", XDSAddress: "[fd00::1]:18000"},
			wantNode: "e", wantType: clusterv3.Cluster_STATIC, wantAdmin: 9901, wantMaxConn: 50000, wantHeap: 1 << 30,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := Envoy(tc.in)
			require.NoError(t, err)

			yamlOut, err := YAML(b)
			require.NoError(t, err)
			fromYAML := checkEnvoyYAML(t, yamlOut)
			jsonOut, err := JSON(b)
			require.NoError(t, err)
			fromJSON := checkEnvoyJSON(t, jsonOut)
			require.Empty(t, cmp.Diff(b, fromYAML, protocmp.Transform()), "YAML round trip")
			require.Empty(t, cmp.Diff(b, fromJSON, protocmp.Transform()), "JSON round trip")

			require.Equal(t, tc.in.Gateway, b.GetNode().GetCluster(), "node.cluster is the gateway")
			require.Equal(t, tc.wantNode, b.GetNode().GetId())
			xds := b.GetStaticResources().GetClusters()
			require.Len(t, xds, 1)
			require.Equal(t, XDSCluster, xds[0].GetName())
			require.Equal(t, tc.wantType, xds[0].GetType())
			require.Equal(t, tc.wantAdmin, b.GetAdmin().GetAddress().GetSocketAddress().GetPortValue())
			require.Equal(t, tc.wantHeap, limits(t, b).heap)
			require.Equal(t, tc.wantMaxConn, limits(t, b).conns)
		})
	}
}

func TestEnvoyIsDeterministic(t *testing.T) {
	t.Parallel()
	o := Options{Gateway: "edge", NodeID: "n", XDSAddress: "controlplane:18000"}
	first, err := Envoy(o)
	require.NoError(t, err)
	a, err := YAML(first)
	require.NoError(t, err)
	for range 5 {
		b, err := Envoy(o)
		require.NoError(t, err)
		out, err := YAML(b)
		require.NoError(t, err)
		require.Equal(t, string(a), string(out))
	}
}

// checkEnvoyYAML decodes a YAML bootstrap as Envoy would read it and runs
// checkEnvoyJSON over it.
func checkEnvoyYAML(t *testing.T, data []byte) *bootstrapv3.Bootstrap {
	t.Helper()
	var doc any
	require.NoError(t, yaml.Unmarshal(data, &doc))
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	return checkEnvoyJSON(t, raw)
}

// checkEnvoyJSON decodes a bootstrap strictly (unknown fields rejected,
// every Any resolved), validates it against Envoy's proto constraints and
// checks the properties every Tollgate bootstrap must have.
func checkEnvoyJSON(t *testing.T, data []byte) *bootstrapv3.Bootstrap {
	t.Helper()
	b := &bootstrapv3.Bootstrap{}
	require.NoError(t, protojson.UnmarshalOptions{DiscardUnknown: false}.Unmarshal(data, b))
	require.NoError(t, b.ValidateAll())
	requireAnysResolve(t, b.ProtoReflect())
	require.Equal(t, "127.0.0.1", b.GetAdmin().GetAddress().GetSocketAddress().GetAddress(), "admin is loopback only")
	require.NotEmpty(t, b.GetNode().GetCluster(), "node.cluster names the gateway")
	ads := b.GetDynamicResources().GetAdsConfig()
	require.Equal(t, XDSCluster, ads.GetGrpcServices()[0].GetEnvoyGrpc().GetClusterName())
	require.True(t, ads.GetSetNodeOnFirstMessageOnly())
	require.NotNil(t, b.GetDynamicResources().GetLdsConfig().GetAds())
	require.NotNil(t, b.GetDynamicResources().GetCdsConfig().GetAds())
	re2 := b.GetLayeredRuntime().GetLayers()[0].GetStaticLayer().GetFields()["re2"].GetStructValue().GetFields()["max_program_size"].GetStructValue().GetFields()
	require.InDelta(t, 4096, re2["error_level"].GetNumberValue(), 0, "regexes Tollgate accepts must pass Envoy's RE2 limit")
	return b
}

// requireAnysResolve walks m and fails on any Any whose type is not in the
// global registry, recursing into the Anys' contents.
func requireAnysResolve(t *testing.T, m protoreflect.Message) {
	t.Helper()
	if a, ok := m.Interface().(*anypb.Any); ok {
		mt, err := protoregistry.GlobalTypes.FindMessageByURL(a.GetTypeUrl())
		require.NoError(t, err, "typed_config %q must name a registered type", a.GetTypeUrl())
		inner := mt.New().Interface()
		require.NoError(t, proto.Unmarshal(a.GetValue(), inner))
		requireAnysResolve(t, inner.ProtoReflect())
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				requireAnysResolve(t, mv.Message())
				return true
			})
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := range v.List().Len() {
				requireAnysResolve(t, v.List().Get(i).Message())
			}
		case !fd.IsMap() && !fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			requireAnysResolve(t, v.Message())
		}
		return true
	})
}

// overloadLimits are the limits a bootstrap's overload manager enforces.
type overloadLimits struct {
	heap  uint64
	conns int64
}

func limits(t *testing.T, b *bootstrapv3.Bootstrap) overloadLimits {
	t.Helper()
	var l overloadLimits
	for _, m := range b.GetOverloadManager().GetResourceMonitors() {
		msg, err := m.GetTypedConfig().UnmarshalNew()
		require.NoError(t, err)
		switch c := msg.(type) {
		case *fixedheapv3.FixedHeapConfig:
			l.heap = c.GetMaxHeapSizeBytes()
		case *downstreamconnectionsv3.DownstreamConnectionsConfig:
			l.conns = c.GetMaxActiveDownstreamConnections()
		}
	}
	return l
}
