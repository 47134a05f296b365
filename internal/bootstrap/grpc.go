package bootstrap

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/pki"
)

// grpcBootstrap is the subset of grpc-go's xDS bootstrap file
// (gRFC A27, GRPC_XDS_BOOTSTRAP / GRPC_XDS_BOOTSTRAP_CONFIG) Tollgate
// writes. Struct fields keep the output order stable.
type grpcBootstrap struct {
	XDSServers           []grpcXDSServer             `json:"xds_servers"`
	Node                 grpcNode                    `json:"node"`
	CertificateProviders map[string]grpcCertProvider `json:"certificate_providers,omitempty"`
	ServerListenerName   string                      `json:"server_listener_resource_name_template"`
}

// grpcCertProvider is a certificate provider instance: the file_watcher
// plugin re-reads the identity files every refresh_interval.
type grpcCertProvider struct {
	PluginName string          `json:"plugin_name"`
	Config     grpcFileWatcher `json:"config"`
}

// grpcFileWatcher is the file_watcher plugin's configuration, which gRFC
// A65 also uses for "tls" xDS channel credentials.
type grpcFileWatcher struct {
	CertificateFile   string `json:"certificate_file"`
	PrivateKeyFile    string `json:"private_key_file"`
	CACertificateFile string `json:"ca_certificate_file"`
	RefreshInterval   string `json:"refresh_interval,omitempty"`
}

type grpcXDSServer struct {
	ServerURI      string            `json:"server_uri"`
	ChannelCreds   []grpcChannelCred `json:"channel_creds"`
	ServerFeatures []string          `json:"server_features"`
}

type grpcChannelCred struct {
	Type   string           `json:"type"`
	Config *grpcFileWatcher `json:"config,omitempty"`
}

type grpcNode struct {
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
}

// grpc-go's xDS channel credential types: "tls" (gRFC A65: mutual TLS
// with the identity files, reloaded as they change) or "insecure" for a
// control plane run with --insecure.
const (
	grpcChannelTLS      = "tls"
	grpcChannelInsecure = "insecure"
	fileWatcherPlugin   = "file_watcher"
)

// grpcServerFeatures: grpc-go 1.85 speaks only xDS v3 and ignores
// "xds_v3", but older gRPC releases in other languages (and older grpc-go)
// fall back to the removed v2 API without it, so one bootstrap works for
// all of them.
var grpcServerFeatures = []string{"xds_v3"}

// GRPC builds the xDS bootstrap JSON of a proxyless gRPC client of
// o.Gateway. As with Envoy, node.cluster names the gateway: it is how the
// control plane decides which configuration the client receives. Only
// Gateway, NodeID, Hostname and XDSAddress apply; the Envoy-only options
// are ignored.
func GRPC(o Options) ([]byte, error) {
	if ps := o.Validate(); len(ps) > 0 {
		return nil, ps
	}
	o = o.withDefaults()
	creds := grpcChannelCred{Type: grpcChannelInsecure}
	b := grpcBootstrap{
		Node: grpcNode{ID: o.NodeID, Cluster: o.Gateway},
		// Inbound listeners of xDS-enabled gRPC servers are named by the
		// address they listen on, as the translator names them.
		ServerListenerName: model.GRPCServerListenerTemplate,
	}
	if o.CertDir != "" {
		files := &grpcFileWatcher{
			CertificateFile:   filepath.Join(o.CertDir, pki.CertFile),
			PrivateKeyFile:    filepath.Join(o.CertDir, pki.KeyFile),
			CACertificateFile: filepath.Join(o.CertDir, pki.CAFile),
			RefreshInterval:   protoDuration(o.CertRefresh),
		}
		creds = grpcChannelCred{Type: grpcChannelTLS, Config: files}
		// The same identity serves the data plane: clusters and server
		// listeners name this instance (certificate_provider_instance).
		b.CertificateProviders = map[string]grpcCertProvider{
			model.IdentityProviderInstance: {PluginName: fileWatcherPlugin, Config: *files},
		}
	}
	b.XDSServers = []grpcXDSServer{{ServerURI: o.XDSAddress, ChannelCreds: []grpcChannelCred{creds}, ServerFeatures: grpcServerFeatures}}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("grpc bootstrap for gateway %q: %w", o.Gateway, err)
	}
	return append(out, '\n'), nil
}

// protoDuration renders d as protobuf's JSON duration ("60s", "0.5s"),
// which grpc-go's file_watcher config requires (not Go's "1m0s").
func protoDuration(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}
