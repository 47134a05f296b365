// Package admin is the REST admin API: it decodes and validates definitions,
// hands them to the store as one atomic bundle, and renders objects and
// errors. It holds no state of its own and knows no Envoy types.
//
// Every error answer has the same JSON shape (see ErrorBody) so scripts and
// the CLI can rely on it: a code, a stable reason, a message, and where they
// apply every field violation and every referrer blocking a delete.
//
// Every request passes one guard (instrument) built from the route table:
// it authenticates the caller (Options.Auth; none configured denies all
// but the public probes), checks the operation's least Role (viewer <
// editor < admin), and writes exactly one audit record per write attempt
// (Options.Audit) before the answer leaves. Authentication precedes
// routing, so an unauthenticated caller gets 401 for any non-public path
// and cannot enumerate endpoints; RemoteAddr is never consulted, so
// localhost has no privilege. No answer carries CORS headers.
package admin
