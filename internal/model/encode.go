package model

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// MarshalJSON renders o as indented JSON with the manifest field names, in
// field-number order (apiVersion, kind, metadata, spec). The output is
// stable: protojson's deliberately unstable whitespace is normalised.
func MarshalJSON(o Object) ([]byte, error) {
	raw, err := protojson.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", KeyOf(o), err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent %s: %w", KeyOf(o), err)
	}
	return out.Bytes(), nil
}

// MarshalYAML renders o as a YAML document, keeping the JSON field order.
func MarshalYAML(o Object) ([]byte, error) {
	raw, err := MarshalJSON(o)
	if err != nil {
		return nil, err
	}
	out, err := JSONToYAML(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyOf(o), err)
	}
	return out, nil
}

// JSONToYAML re-encodes a JSON document as block-style YAML in the same
// field order (a Go map would sort the keys). Strings that would read back
// as another type stay quoted; multi-line strings (PEM) become literal
// blocks. The Envoy bootstrap renderer uses it too.
func JSONToYAML(raw []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("convert JSON to YAML: %w", err)
	}
	blockStyle(&n)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return out.Bytes(), nil
}

// MarshalYAMLStream renders objects as one multi-document YAML stream.
func MarshalYAMLStream(objs []Object) ([]byte, error) {
	var out bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			out.WriteString("---\n")
		}
		b, err := MarshalYAML(o)
		if err != nil {
			return nil, err
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}

// blockStyle turns JSON's flow style into YAML block style, and keeps
// multi-line strings (PEM) readable as literal blocks.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if bytes.ContainsRune([]byte(n.Value), '\n') {
			n.Style = yaml.LiteralStyle
		} else if needsQuote(n.Value) {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// needsQuote reports whether a string would read back as another type
// without quotes ("80", "true", "null", "1.5").
func needsQuote(s string) bool {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) == 0 {
		return true
	}
	c := n.Content[0]
	return c.Kind != yaml.ScalarNode || c.ShortTag() != "!!str" || c.Value != s
}
