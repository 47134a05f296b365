// Package ca is the control plane's certificate authority at work: it
// keeps the CA (built in, its key sealed in the store's system values, or
// brought by the user as files), signs the certificates proxies ask for
// (by an admin or with a one-time join token), serves the control plane's
// own TLS certificate, and keeps every Envoy gateway's identity
// certificate issued and renewed as a managed Secret, so it reaches the
// proxies by SDS like any other Secret.
//
// The cryptography itself is internal/pki; this package adds state
// (store), policy (who gets which identity) and time (renewal).
package ca
