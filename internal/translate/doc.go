// Package translate turns one consistent store snapshot into per-gateway
// Envoy resources, through a plain-Go IR (translate/ir). It is pure: no I/O,
// no clocks, the same input gives byte-identical output.
//
// It is filled in by the translation issue; the foundation only reserves
// its place in the import order (cmd → admin → store → translate → model).
package translate
