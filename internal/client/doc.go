// Package client is a small typed client for the admin REST API, used by
// the CLI's apply, get and delete commands and by tests. It speaks only the
// documented wire format (JSON answers, one error shape), so it also works
// against a control plane of another build, and it turns every error answer
// into an *APIError that keeps the server's violations and referrers for
// printing.
package client
