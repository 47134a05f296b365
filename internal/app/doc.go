// Package app wires the control plane together: the durable store, the
// optional definitions directory, the reconcile loop that translates every
// change, the xDS server and the admin API. cmd/controlplane's `serve` is a
// thin shell around it; tests start the whole control plane in-process
// through it, on ports from :0.
package app
