// Package baseline serves a translate.Output through go-control-plane's own
// caches (pkg/cache/v3) and server (pkg/server/v3), so that the load tool
// can measure the same translated configuration, served to the same
// simulated proxies, by the caches most control planes are built on: the
// baseline PERFORMANCE.md asks our xDS server (internal/xds) to beat.
//
// Two baselines exist. Snapshot is a SnapshotCache in ADS mode fed the way
// most of its users feed it: one snapshot per gateway, one version for the
// whole snapshot, set for every connected node of the gateway. Linear is
// one LinearCache per type URL behind a MuxCache, fed only the resources
// that changed, so each resource carries its own version.
//
// The package only publishes and serves: the store, the admin API and the
// reconcile loop that call Publish are wired by the caller (cmd/xdsload), so
// an edit travels exactly the same path as in the real control plane up to
// the cache.
package baseline
