// Package model is the resource model as users write it: decoding manifests
// (YAML or JSON, many documents), validating them with every violation
// reported at its field path, the references between objects, and the
// redaction of write-only fields. It knows nothing of storage, HTTP or Envoy,
// so the server, the offline `validate` command and the local-directory mode
// all run exactly the same checks.
package model
