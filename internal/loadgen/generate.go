package loadgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// GatewayName is the ingress Gateway every generated API is exposed on; the
// simulated proxies join it as node.cluster.
const GatewayName = "edge"

// policyShare is the fraction of APIs that get a Policy: roughly what a
// fleet with auth, quotas and CORS on its public APIs looks like.
const policyShare = 0.3

// Generate returns a YAML bundle of one ingress Gateway, max(n/10, 2)
// Services with two static endpoints each and n APIs of 2-6 routes, about
// 30% of them with a Policy. The same seed and n give the same bytes, so a
// run can be repeated and compared.
func Generate(seed int64, n int) []byte {
	var b strings.Builder
	writeGateway(&b)
	services := serviceCount(n)
	for s := range services {
		writeService(&b, s)
	}
	for i := range n {
		writeAPI(&b, seed, i, services, "")
		writePolicy(&b, seed, i)
	}
	return []byte(b.String())
}

// Edit returns a bundle of one API of Generate(seed, n), changed so that
// the change can be found by content: its first route gains the header
// match x-edit: Marker(i). Which API is edited follows from seed and i.
// n is needed (unlike seed and i alone) to pick an API that exists and to
// keep its backends within the generated Services.
func Edit(seed int64, n, i int) []byte {
	var b strings.Builder
	api := editTarget(seed, n, i)
	writeAPI(&b, seed, api, serviceCount(n), Marker(i))
	return []byte(b.String())
}

// Marker is the unique value edit i carries.
func Marker(i int) string { return fmt.Sprintf("edit-%d", i) }

// APIName is the name of generated API i.
func APIName(i int) string { return fmt.Sprintf("api-%d", i) }

// Hostname is the hostname of generated API i: one virtual host per API,
// so that no two APIs' routes can conflict.
func Hostname(i int) string { return fmt.Sprintf("api-%d.example.com", i) }

func serviceCount(n int) int { return max(n/10, 2) }

func serviceName(s int) string { return fmt.Sprintf("svc-%d", s) }

// editTarget picks the API edit i changes.
func editTarget(seed int64, n, i int) int {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(i)^0x9e3779b97f4a7c15)) //nolint:gosec // G404: reproducible load, not secrets
	return r.IntN(max(n, 1))
}

// apiRand is the random source of API i alone, so that Edit can rebuild
// one API exactly as Generate wrote it without generating the others.
func apiRand(seed int64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(i))) //nolint:gosec // G404: reproducible load, not secrets
}

func writeGateway(b *strings.Builder) {
	fmt.Fprintf(b, `apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: %s}
spec:
  mode: ingress
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
`, GatewayName)
}

func writeService(b *strings.Builder, s int) {
	fmt.Fprintf(b, `---
apiVersion: tollgate.dev/v1
kind: Service
metadata: {name: %s}
spec:
  endpoints:
  - {address: 10.%d.%d.1, port: 8080}
  - {address: 10.%d.%d.2, port: 8080}
`, serviceName(s), s/250, s%250, s/250, s%250)
}
