package model

import (
	"crypto/sha256"
	"encoding/hex"
)

// The control plane's built-in CA gives every gateway an identity,
// spiffe://<trust domain>/gateway/<gateway name>. Envoy gateways receive it
// by SDS like any Secret: the CA's issuer writes (and rotates) it as
// ordinary Secret objects under the names below. grpc-go has no SDS, so
// proxyless clients and servers read the same identity from files through
// grpc-go's file_watcher certificate provider instead.

// ReservedNamePrefix starts the names of the objects the control plane
// manages itself (identity Secrets, the CA bundle); the admin API refuses
// user writes to them, so a user cannot plant a certificate that gateways
// would trust as an identity.
const ReservedNamePrefix = "tollgate-"

// IdentityCASecretName is the Secret (type ca) holding the control plane
// CA's trust bundle, which identityCa fields trust.
const IdentityCASecretName = ReservedNamePrefix + "ca"

// IdentityProviderInstance is the certificate provider instance name under
// which a proxyless gateway's xDS bootstrap configures grpc-go's
// file_watcher provider: it supplies the identity certificate, its key and
// the CA roots (gRFC A29 takes all TLS material from such instances).
const IdentityProviderInstance = "tollgate"

// GRPCServerListenerTemplate is the server_listener_resource_name_template
// of a proxyless gateway's gRPC bootstrap: an xDS-enabled grpc-go server
// (xds.NewGRPCServer) asks for the Listener named by this template with %s
// replaced by its listening address as net.Addr.String() renders it,
// "host:port" with an IPv6 host in brackets ("[::]:50051"); see grpc-go's
// xds/server.go and internal/xds/bootstrap/template.go.
const GRPCServerListenerTemplate = "grpc/server?xds.resource.listening_address=%s"

// maxLabel is the length limit of a DNS-1123 label, which object names are.
const maxLabel = 63

// identitySecretPrefix starts every gateway identity Secret name.
const identitySecretPrefix = ReservedNamePrefix + "id-"

// identityHashLen is how many hex digits of a long gateway name's sha256
// keep truncated identity Secret names unique (32 bits: collisions need
// ~65,000 long names sharing their first 42 characters).
const identityHashLen = 8

// IdentitySecretName is the Secret (type tls) holding gateway's identity
// certificate and key: "tollgate-id-<gateway>", or, when that would not
// fit a DNS-1123 label (63 characters), the name truncated and suffixed
// with a short hash of the whole name so it stays unique, and stays a
// valid label (the hash ends with a letter or digit).
func IdentitySecretName(gateway string) string {
	name := identitySecretPrefix + gateway
	if len(name) <= maxLabel {
		return name
	}
	sum := sha256.Sum256([]byte(gateway))
	suffix := "-" + hex.EncodeToString(sum[:])[:identityHashLen]
	return name[:maxLabel-len(suffix)] + suffix
}
