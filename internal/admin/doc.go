// Package admin is the REST admin API: it decodes and validates definitions,
// hands them to the store as one atomic bundle, and renders objects and
// errors. It holds no state of its own and knows no Envoy types.
//
// Every error answer has the same JSON shape (see ErrorBody) so scripts and
// the CLI can rely on it: a code, a stable reason, a message, and where they
// apply every field violation and every referrer blocking a delete.
package admin
