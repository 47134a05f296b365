// Package xds serves translated resources to Envoy and to proxyless grpc-go
// clients over ADS (state of the world and delta), groups proxies by gateway,
// and records what every proxy ACKed or NACKed.
//
// # Gateways
//
// A proxy's gateway is its node.cluster: the bootstrap printed by
// `controlplane bootstrap --gateway NAME` sets node.cluster to NAME. A node
// naming a gateway the control plane does not know receives nothing (never
// another gateway's configuration) and is listed by Nodes with the status
// "unknown gateway".
//
// # Serving
//
// The go-control-plane server (pkg/server/v3) runs the gRPC streams; this
// package replaces its cache with its own (see cache.go and docs/serving.md
// for why). Every resource is encoded once per Update and the bytes are
// shared by every stream. Versions are derived from content so they survive
// restarts. An update costs each stream work in proportion to what changed
// (dirty names per stream); at most MaxConcurrentSyncs proxies are sent
// their first configuration at once (admission.go).
//
// # Ordering
//
// Within one stream, changes are sent in the order secrets, clusters,
// endpoints, listeners, scopes, routes; a type is not sent while an earlier
// type has a change the proxy has not been sent yet. Removals are sent
// afterwards, referrers first (listeners, scopes, routes, clusters,
// endpoints, secrets), so a cluster goes only after the routes that named
// it. See deliver.go for the
// exact guarantee.
package xds
