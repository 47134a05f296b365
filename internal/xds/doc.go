// Package xds serves translated resources to Envoy over ADS (state of the
// world and delta), groups proxies by gateway (node.cluster), and records
// what every proxy ACKed or NACKed.
//
// It is filled in by the xDS issue; `serve` already validates and reserves
// the xDS address so deployments do not change when it lands.
package xds
