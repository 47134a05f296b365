// Package bootstrap builds the static configuration a data-plane client
// starts with before it has talked to the control plane: an Envoy bootstrap
// (ADS over gRPC, node identity, a loopback-only admin interface, overload
// protection) and, for proxyless gateways, grpc-go's xDS bootstrap JSON.
//
// Everything else a proxy runs arrives over ADS. The bootstrap carries only
// what must be known before the first xDS stream opens, plus the process-wide
// safety limits xDS cannot set (overload manager, runtime).
//
// The package is pure: the host name used in default node ids is passed in
// Options rather than read here, so output is deterministic and testable.
package bootstrap
