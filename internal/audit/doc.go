// Package audit is the append-only record of who tried to change what
// through the admin API: one JSON line per write attempt, fsync'd before
// the attempt is answered, so an acknowledged write is never missing from
// it.
//
// A record holds only identities, kinds and names, never a request body:
// bodies carry private keys and API keys, and an audit log is read by more
// people than the secrets are meant for.
package audit
