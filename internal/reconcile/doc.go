// Package reconcile keeps the published Envoy configuration in step with
// the store: at every committed change it reads one consistent snapshot,
// translates it and hands the result to a publisher (the xDS server).
//
// It is event-driven with a short debounce, so a burst of writes costs one
// translation, and it keeps the last good output when a translation fails:
// a bug in the translator must never turn into an empty push to proxies.
// In production the translator is incremental (translate.Incremental): it
// re-translates only what the commits since the last output affect.
package reconcile
