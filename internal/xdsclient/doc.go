// Package xdsclient is a simulated proxy: an ADS client that dials a
// control plane over real gRPC and behaves like Envoy on one ADS stream,
// State of the World or delta.
//
// It identifies itself by node.id and node.cluster (the gateway), subscribes
// CDS and LDS as wildcards, then EDS by the names of the clusters it holds,
// RDS by the route configuration names its listeners take from RDS and SDS
// by the secret names its listeners and clusters take from SDS over ADS. It
// ACKs every response unless a NACK hook rejects it, keeps what it holds of
// each type, logs every response, and after every response checks that no
// route names a cluster it does not hold (the make-before-break guarantee an
// ADS server owes Envoy).
//
// A Client returns errors; TestClient wraps one for tests and reports its
// errors through a testing.TB. Neither is safe for concurrent use: one
// goroutine drives one simulated proxy.
package xdsclient
