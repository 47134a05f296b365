// Package translate turns one consistent store snapshot into per-gateway
// Envoy resources, through a plain-Go IR (translate/ir). It is pure: no I/O,
// no clocks, the same input gives byte-identical output.
//
// The pipeline per gateway: model objects → ir.Gateway (toIR… converters:
// names resolved, defaults applied, lists sorted, conflicts and shadowed
// routes reported) → ir.Validate (a failure is our bug) → Envoy protos
// (build… builders, one file per Envoy resource kind) → ValidateAll on
// every proto → Output. A definition that cannot be translated is left out
// and reported on its own Status; it never blocks the others. See
// docs/translation.md for the mapping.
//
// Translate is the reference and translates everything. Incremental, what
// the control plane runs, reads the store's change log and re-translates
// only the pieces a change affects (incremental*.go), reusing the same
// converters and builders; its output is held equal to Translate's by
// property tests over random edit sequences.
package translate
