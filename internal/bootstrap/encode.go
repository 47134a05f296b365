package bootstrap

import (
	"bytes"
	"encoding/json"
	"fmt"

	"tollgate.dev/tollgate/internal/model"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
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
// Envoy's documentation lists fields in).
func YAML(b *bootstrapv3.Bootstrap) ([]byte, error) {
	raw, err := JSON(b)
	if err != nil {
		return nil, err
	}
	out, err := model.JSONToYAML(raw)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return out, nil
}
