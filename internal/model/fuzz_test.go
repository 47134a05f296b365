package model

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// maxSeedBytes keeps the cap-testing manifests (ten thousand endpoints)
// out of the corpus: the fuzzer mutates small inputs far more usefully.
const maxSeedBytes = 8 * 1024

// FuzzDecodeValidate feeds arbitrary bundles through the whole model:
// decoding must never panic, validation must never panic on any decoded
// object (however incomplete), and every object that validates cleanly
// must survive MarshalYAML → Decode unchanged, because the store, the CLI
// and the local-directory mode all rely on that round trip.
func FuzzDecodeValidate(f *testing.F) {
	for _, file := range exampleFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, cases := range [][]validationCase{
		gatewayCases(), serviceCases(), apiCases(), targetCases(), matrixCases(), rateLimitCases(),
		simplePolicyCases(), jwtCases(), apiKeyCases(), basicAuthCases(), ipPolicyCases(), corsCases(),
		headersPolicyCases(), secretCases(f),
	} {
		for _, c := range cases {
			if len(c.in) <= maxSeedBytes {
				f.Add([]byte(c.in))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, _ := Decode(data)
		for _, o := range objs {
			if vs := ValidateAt(o, testNow); len(vs) > 0 {
				continue
			}
			out, err := MarshalYAML(o)
			if err != nil {
				t.Fatalf("%s validates but does not marshal: %v", KeyOf(o), err)
			}
			back, vs := Decode(out)
			if len(vs) > 0 || len(back) != 1 {
				t.Fatalf("%s validates but its YAML does not decode: %v\n%s", KeyOf(o), vs, out)
			}
			if diff := cmp.Diff(o, back[0], protocmp.Transform()); diff != "" {
				t.Fatalf("%s changed in the YAML round trip (-before +after):\n%s\nYAML:\n%s", KeyOf(o), diff, out)
			}
		}
		DecodeAndValidate(data)
	})
}
