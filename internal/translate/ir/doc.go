// Package ir is the intermediate representation between the resource model
// and Envoy: one plain-Go Gateway per gateway, with every name resolved,
// every default applied and every list sorted. It imports neither Envoy nor
// the model's proto types, so both sides can change without the other
// noticing; Validate checks the invariants the builders rely on, and a
// failure there is a translator bug, not a user error.
package ir
