package loadgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// policyStream separates the policies' random numbers from the APIs', so
// that rebuilding one API for an edit does not depend on its policy.
const policyStream = 1 << 62

// writePolicy attaches one Policy to API i for about policyShare of the
// APIs: a local rate limit, JWT, CORS or header edits. Policies are stored
// and validated but not yet translated; they are in the bundle so that the
// store, validation and memory are measured with them.
func writePolicy(b *strings.Builder, seed int64, i int) {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(i)|policyStream)) //nolint:gosec // G404: reproducible load, not secrets
	if r.Float64() >= policyShare {
		return
	}
	kinds := []func(*strings.Builder, *rand.Rand, int){rateLimitPolicy, jwtPolicy, corsPolicy, headersPolicy}
	kinds[r.IntN(len(kinds))](b, r, i)
}

func policyHeader(b *strings.Builder, i int, kind string) {
	fmt.Fprintf(b, `---
apiVersion: tollgate.dev/v1
kind: Policy
metadata: {name: %s-%s}
spec:
  targetRef: {kind: API, name: %s}
`, APIName(i), kind, APIName(i))
}

func rateLimitPolicy(b *strings.Builder, r *rand.Rand, i int) {
	policyHeader(b, i, "rate-limit")
	fmt.Fprintf(b, "  rateLimit:\n    scope: local\n    limits:\n    - {requests: %d, window: 1s}\n    - {requests: %d, window: 1m}\n",
		10+r.IntN(1000), 1000+r.IntN(50000))
}

func jwtPolicy(b *strings.Builder, _ *rand.Rand, i int) {
	policyHeader(b, i, "jwt")
	fmt.Fprintf(b, "  jwt:\n    providers:\n    - {name: idp, issuer: \"https://idp.example.com/%s\", jwksUri: \"https://idp.example.com/%s/jwks.json\"}\n",
		APIName(i), APIName(i))
}

func corsPolicy(b *strings.Builder, r *rand.Rand, i int) {
	policyHeader(b, i, "cors")
	fmt.Fprintf(b, "  cors:\n    allowOrigins: [\"https://app-%d.example.com\"]\n    allowMethods: [GET, POST]\n    allowHeaders: [authorization, content-type]\n    maxAge: %dm\n",
		r.IntN(1000), 1+r.IntN(60))
}

func headersPolicy(b *strings.Builder, r *rand.Rand, i int) {
	policyHeader(b, i, "headers")
	fmt.Fprintf(b, "  headers:\n    request:\n      set: [{name: x-api, value: %s}]\n    response:\n      add: [{name: x-served-by, value: edge-%d}]\n      remove: [server]\n",
		APIName(i), r.IntN(100))
}
