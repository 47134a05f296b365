package model

import (
	"fmt"
	"strings"
	"testing"
)

// benchAPI is a typical API: 10 routes with matches, weighted backends,
// retries and timeouts.
func benchAPI() []byte {
	var b strings.Builder
	b.WriteString("apiVersion: tollgate.dev/v1\nkind: API\nmetadata: {name: shop, labels: {team: shop}}\nspec:\n  gateways: [edge]\n  hostnames: [shop.example.com]\n  basePath: /shop\n  routes:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "  - name: r%d\n    match: {pathPrefix: /items/%d, methods: [GET, POST], headers: [{name: x-tenant, exact: a}]}\n", i, i)
		b.WriteString("    backends: [{service: orders, weight: 90}, {service: orders-canary, weight: 10}]\n")
		b.WriteString("    timeout: 5s\n    retries: {attempts: 2, conditions: [connect-failure, refused-stream], perTryTimeout: 2s}\n")
	}
	return []byte(b.String())
}

// BenchmarkDecodeValidateAPI measures what every admin write of one API
// pays before the store: YAML decode, schema check and validation.
func BenchmarkDecodeValidateAPI(b *testing.B) {
	data := benchAPI()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, vs := DecodeAndValidate(data); len(vs) > 0 {
			b.Fatal(vs)
		}
	}
}
