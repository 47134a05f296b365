package loadgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// routeKind is the shape of one generated route: the mix of match types a
// real API surface has.
type routeKind int

const (
	prefixRoute routeKind = iota
	exactRoute            // exact path with methods
	regexRoute
	headerRoute // prefix plus a header match
	splitRoute  // weighted split over two Services
	routeKinds
)

// writeAPI writes API i. Everything random about it comes from apiRand, in
// a fixed order, so the same seed rebuilds the same API; marker, when set,
// adds the x-edit header match to its first route.
func writeAPI(b *strings.Builder, seed int64, i, services int, marker string) {
	r := apiRand(seed, i)
	fmt.Fprintf(b, `---
apiVersion: tollgate.dev/v1
kind: API
metadata: {name: %s}
spec:
  gateways: [%s]
  hostnames: [%s]
  basePath: /v1
  routes:
`, APIName(i), GatewayName, Hostname(i))
	routes := 2 + r.IntN(5)
	for j := range routes {
		m := ""
		if j == 0 {
			m = marker
		}
		writeRoute(b, r, i, j, services, m)
	}
}

// writeRoute writes route j of API i. Paths carry the route index, so no
// two routes of an API match the same requests.
func writeRoute(b *strings.Builder, r *rand.Rand, i, j, services int, marker string) {
	kind := routeKind(r.IntN(int(routeKinds)))
	s1 := r.IntN(services)
	s2 := (s1 + 1 + r.IntN(services-1)) % services
	fmt.Fprintf(b, "  - name: r%d\n    match:\n", j)
	var headers []string
	switch kind {
	case exactRoute:
		fmt.Fprintf(b, "      pathExact: /r%d/items\n      methods: [POST, PUT]\n", j)
	case regexRoute:
		fmt.Fprintf(b, "      pathRegex: \"^/v1/r%d/items/[0-9]+$\"\n", j)
	case headerRoute:
		fmt.Fprintf(b, "      pathPrefix: /r%d\n", j)
		headers = append(headers, fmt.Sprintf("{name: x-tenant, exact: tenant-%d}", r.IntN(100)))
	default:
		fmt.Fprintf(b, "      pathPrefix: /r%d\n", j)
	}
	if marker != "" {
		headers = append(headers, fmt.Sprintf("{name: x-edit, exact: %s}", marker))
	}
	if len(headers) > 0 {
		fmt.Fprintf(b, "      headers: [%s]\n", strings.Join(headers, ", "))
	}
	if kind == splitRoute {
		w := 50 + r.IntN(50)
		fmt.Fprintf(b, "    backends: [{service: %s, weight: %d}, {service: %s, weight: %d}]\n",
			serviceName(s1), w, serviceName(s2), 100-w)
	} else {
		fmt.Fprintf(b, "    backends: [{service: %s}]\n", serviceName(s1))
	}
	writeTimeouts(b, r)
}

// writeTimeouts gives about half the routes a timeout and a third retries;
// a retry's per-try timeout stays under the route's timeout, as the model
// requires.
func writeTimeouts(b *strings.Builder, r *rand.Rand) {
	timeout := 0
	if r.IntN(2) == 0 {
		timeout = 1 + r.IntN(30)
		fmt.Fprintf(b, "    timeout: %ds\n", timeout)
	}
	if r.IntN(3) == 0 {
		perTry := 1
		if timeout > 1 {
			perTry = 1 + r.IntN(timeout)
		}
		fmt.Fprintf(b, "    retries: {attempts: %d, conditions: [connect-failure, refused-stream, 5xx], perTryTimeout: %ds}\n",
			1+r.IntN(3), perTry)
	}
}
