package bootstrap

import (
	"bytes"
	"encoding/json"
	"fmt"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// JSON renders b as indented JSON with Envoy's snake_case field names, in
// field-number order. protojson's deliberately unstable whitespace is
// normalised, so the same bootstrap always gives the same bytes.
func JSON(b *bootstrapv3.Bootstrap) ([]byte, error) {
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("marshal bootstrap: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent bootstrap: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// YAML renders b as YAML in the same field order as JSON (the order
// Envoy's documentation lists fields in), by re-encoding the JSON's node
// tree rather than a Go map, which would sort keys.
func YAML(b *bootstrapv3.Bootstrap) ([]byte, error) {
	raw, err := JSON(b)
	if err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("convert bootstrap to YAML: %w", err)
	}
	blockStyle(&n)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("encode bootstrap as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode bootstrap as YAML: %w", err)
	}
	return out.Bytes(), nil
}

// blockStyle turns JSON's flow style into YAML block style. Strings that
// would read back as another type ("80", "true") stay quoted; protojson
// writes 64-bit integers and durations as strings, and Envoy accepts both.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && needsQuote(n.Value) {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// needsQuote reports whether s would read back as something other than
// the same string without quotes.
func needsQuote(s string) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) == 0 {
		return true
	}
	c := n.Content[0]
	return c.Kind != yaml.ScalarNode || c.ShortTag() != "!!str" || c.Value != s
}
