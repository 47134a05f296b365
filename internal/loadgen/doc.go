// Package loadgen measures how a control plane serves a fleet: it generates
// a seeded bundle of N APIs with a realistic mix of routes and policies,
// loads it through the admin API, opens K simulated proxies
// (internal/xdsclient) over real gRPC and times one-API edits from the
// admin POST until every proxy has ACKed the response that carries them.
//
// Edits are identified by content (a unique marker in the edited route),
// never by version strings: a version says that something changed, not
// that this change arrived.
package loadgen
