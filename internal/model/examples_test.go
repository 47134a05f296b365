package model

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// exampleFiles lists the example bundles users are pointed at.
func exampleFiles(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no examples/*.yaml found")
	return files
}

// TestExamples checks that every example is valid today (the real clock,
// so an expiring certificate is noticed) and self-contained: every
// reference resolves within its own file, to a Secret of the right type
// and an existing route.
func TestExamples(t *testing.T) {
	for _, f := range exampleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			objs, vs := DecodeAndValidate(data)
			require.Empty(t, vs, "violations:\n%s", vs.Error())
			require.NotEmpty(t, objs)
			byKey := map[Key]Object{}
			for _, o := range objs {
				byKey[KeyOf(o)] = o
			}
			for _, o := range objs {
				for _, r := range References(o) {
					to, ok := byKey[r.To]
					require.True(t, ok, "%s %s refers to %s, which is not in the file", KeyOf(o), r.Path, r.To)
					if r.SecretType != "" {
						require.Equal(t, r.SecretType, to.(*tollgatev1.Secret).GetSpec().GetType(), "%s %s", KeyOf(o), r.Path)
					}
					if r.Route != "" {
						require.Contains(t, RouteNames(to.(*tollgatev1.API)), r.Route, "%s %s", KeyOf(o), r.Path)
					}
				}
			}
		})
	}
}

// TestExamplesStayValid checks the example certificates against a date
// ten years out: they were made to last twenty years, and should not
// quietly become a chore.
func TestExamplesStayValid(t *testing.T) {
	later := testNow.AddDate(10, 0, 0)
	for _, f := range exampleFiles(t) {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		objs, vs := Decode(data)
		require.Empty(t, vs)
		for _, o := range objs {
			require.Empty(t, ValidateAt(o, later), "%s in %s", KeyOf(o), f)
		}
	}
}

// TestEncodeRoundTrip checks that every example object, rendered as YAML
// and as JSON and decoded again, is the object it was.
func TestEncodeRoundTrip(t *testing.T) {
	var all []Object
	for _, f := range exampleFiles(t) {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		objs, vs := Decode(data)
		require.Empty(t, vs)
		all = append(all, objs...)
	}
	// Strings YAML finds awkward: leading and trailing blanks, blank
	// lines, tabs, CR, quotes, things that look like other types.
	awkward, vs := Decode([]byte(api(`
gateways: [edge]
routes:
- {name: a, directResponse: {status: 200, body: "  leading\n\n\ttabbed \r\n trailing  \n\n"}}
- {name: b, directResponse: {status: 200, body: "true"}}
- {name: c, directResponse: {status: 200, body: "- not: a list\n# nor a comment\n---\n"}}
- {name: d, directResponse: {status: 200, body: "'\"\\ \u00e9\u4e16 \U0001F600"}}
- {name: e, directResponse: {status: 200, body: "0x1F"}}
`)))
	require.Empty(t, vs)
	require.Empty(t, ValidateAt(awkward[0], testNow))
	all = append(all, awkward...)
	for _, o := range all {
		t.Run(KeyOf(o).String(), func(t *testing.T) {
			y, err := MarshalYAML(o)
			require.NoError(t, err)
			j, err := MarshalJSON(o)
			require.NoError(t, err)
			for _, enc := range [][]byte{y, j} {
				back, vs := Decode(enc)
				require.Empty(t, vs, "%s", enc)
				require.Len(t, back, 1)
				if diff := cmp.Diff(o, back[0], protocmp.Transform()); diff != "" {
					t.Fatalf("round trip changed the object (-before +after):\n%s", diff)
				}
			}
		})
	}
	stream, err := MarshalYAMLStream(all)
	require.NoError(t, err)
	back, vs := Decode(stream)
	require.Empty(t, vs)
	require.True(t, slices.EqualFunc(all, back, func(a, b Object) bool { return cmp.Equal(a, b, protocmp.Transform()) }))
}

// TestExamplesTogether checks that the examples also work as one set, as
// `serve --config-dir examples` and `validate -f examples/` load them: no
// object name is used by two files.
func TestExamplesTogether(t *testing.T) {
	var all []byte
	for _, f := range exampleFiles(t) {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		all = append(append(all, "\n---\n"...), data...)
	}
	_, vs := DecodeAndValidate(all)
	require.Empty(t, vs, "violations:\n%s", vs.Error())
}

// TestDocExamples checks that every complete YAML example in the model
// reference is valid, so the reference cannot drift from the rules. Blocks
// with elisions ("…") are sketches and are skipped.
func TestDocExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "model.md"))
	require.NoError(t, err)
	blocks := 0
	for _, part := range strings.Split(string(data), "```yaml\n")[1:] {
		block, _, ok := strings.Cut(part, "```")
		require.True(t, ok, "unterminated yaml block")
		if strings.Contains(block, "…") {
			continue
		}
		blocks++
		_, vs := DecodeAndValidate([]byte(block))
		require.Empty(t, vs, "docs/model.md example:\n%s\nviolations:\n%s", block, vs.Error())
	}
	require.GreaterOrEqual(t, blocks, 4)
}

// TestExampleJWTKeyMatchesJWKS checks that the demo signing key shipped
// beside pattern 2 is the key its inline JWKS publishes, so demo tokens
// verify.
func TestExampleJWTKeyMatchesJWKS(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "pattern-2-jwt-signing-key.pem"))
	require.NoError(t, err)
	block, _ := pem.Decode(raw)
	require.NotNil(t, block)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	pub, err := key.(*ecdsa.PrivateKey).PublicKey.Bytes() // 0x04 || X || Y
	require.NoError(t, err)

	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "pattern-2-public-ingress.yaml"))
	require.NoError(t, err)
	objs, vs := Decode(data)
	require.Empty(t, vs)
	var jwks string
	for _, o := range objs {
		if p, ok := o.(*tollgatev1.Policy); ok && p.GetSpec().GetJwt() != nil {
			jwks = p.GetSpec().GetJwt().GetProviders()[0].GetJwks()
		}
	}
	var doc struct {
		Keys []struct{ X, Y string } `json:"keys"`
	}
	require.NoError(t, json.Unmarshal([]byte(jwks), &doc))
	require.Len(t, doc.Keys, 1)
	require.Equal(t, base64.RawURLEncoding.EncodeToString(pub[1:33]), doc.Keys[0].X)
	require.Equal(t, base64.RawURLEncoding.EncodeToString(pub[33:]), doc.Keys[0].Y)
}
