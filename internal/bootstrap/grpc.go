package bootstrap

import (
	"encoding/json"
	"fmt"
)

// grpcBootstrap is the subset of grpc-go's xDS bootstrap file
// (gRFC A27, GRPC_XDS_BOOTSTRAP / GRPC_XDS_BOOTSTRAP_CONFIG) Tollgate
// writes. Struct fields keep the output order stable.
type grpcBootstrap struct {
	XDSServers []grpcXDSServer `json:"xds_servers"`
	Node       grpcNode        `json:"node"`
}

type grpcXDSServer struct {
	ServerURI      string            `json:"server_uri"`
	ChannelCreds   []grpcChannelCred `json:"channel_creds"`
	ServerFeatures []string          `json:"server_features"`
}

type grpcChannelCred struct {
	Type string `json:"type"`
}

type grpcNode struct {
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
}

// grpcChannelCreds is "insecure" until the xDS channel gets TLS (the
// security issue); grpc-go uses the first type it supports.
const grpcChannelCreds = "insecure"

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
	b := grpcBootstrap{
		XDSServers: []grpcXDSServer{{
			ServerURI:      o.XDSAddress,
			ChannelCreds:   []grpcChannelCred{{Type: grpcChannelCreds}},
			ServerFeatures: grpcServerFeatures,
		}},
		Node: grpcNode{ID: o.NodeID, Cluster: o.Gateway},
	}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("grpc bootstrap for gateway %q: %w", o.Gateway, err)
	}
	return append(out, '\n'), nil
}
