// Package pki is Tollgate's built-in certificate authority: it issues the
// X.509 identities that gateways' proxies and the control plane present to
// each other in mutual TLS, and the small amount of key handling around that.
//
// # Identities
//
// Every identity is a SPIFFE ID carried as the certificate's single URI SAN.
// All proxies of one gateway share spiffe://<trustDomain>/gateway/<name>
// (GatewayID), because the control plane serves configuration per gateway,
// not per proxy; the control plane is spiffe://<trustDomain>/controlplane
// (ControlPlaneID). GatewayOf turns a verified peer certificate back into the
// gateway name, with errors written for the person reading a gRPC status.
//
// # Issuing
//
// A CA is either generated (NewCA, ECDSA P-256, self-signed) or loaded from
// the operator's own certificate and key (LoadCA). Issue makes a key and a
// certificate in one step, for the control plane and for `certs issue`;
// SignCSR signs a proxy's certificate request so the proxy's key never leaves
// it, and deliberately ignores every name the request asks for: the identity
// comes only from what the caller proved (for instance a join token).
// Certificates never outlive the CA, and RenewAt/NeedsRenewal say when to
// replace one (two thirds into its lifetime).
//
// # Keys at rest
//
// The CA's private key is stored only sealed with AES-256-GCM under a SealKey
// the operator supplies or the data directory holds (Seal, Open,
// MarshalSealed). The additional data names the blob's purpose, so a sealed
// blob cannot be replayed in another role. Opening with the wrong key fails
// with ErrWrongSealKey rather than with a cipher error nobody can act on.
//
// # Join tokens
//
// A new proxy proves once that it may join a gateway with a token
// ("tgj_" + 43 base64url characters, 256 random bits). Only the SHA-256 hash
// of a token is ever stored (HashJoinToken), so a copy of the store does not
// let anyone join.
//
// # Certificate files
//
// Clients that do not speak SDS to us read their identity from a directory
// holding cert.pem, key.pem and ca.pem: grpc-go's file_watcher certificate
// provider and Envoy's path-based SDS. WriteFiles replaces those files by
// rename so a reader never sees a half-written file, and orders the renames
// so the last change a watcher sees leaves a matching key and certificate.
//
// The package does no I/O apart from WriteFiles and ReadFiles.
package pki
