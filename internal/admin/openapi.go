package admin

import (
	"encoding/json"
	"net/http"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"tollgate.dev/tollgate/internal/audit"
	"tollgate.dev/tollgate/internal/model"
)

// buildOpenAPI renders an OpenAPI 3.1 document from the route table and the
// model's proto descriptors, so the document always matches what the server
// routes and what the decoder accepts (unknown fields are rejected, hence
// additionalProperties: false).
func buildOpenAPI(routes []route) []byte {
	schemas := map[string]any{}
	var kindRefs []any
	for _, k := range model.Kinds {
		d := k.New().ProtoReflect().Descriptor()
		messageSchemas(d, schemas)
		kindRefs = append(kindRefs, ref(string(d.Name())))
	}
	schemas["Object"] = map[string]any{"oneOf": kindRefs, "discriminator": map[string]any{"propertyName": "kind"}}
	for name, s := range fixedSchemas() {
		schemas[name] = s
	}
	for name, s := range securitySchemas() {
		schemas[name] = s
	}
	paths := map[string]any{}
	for _, rt := range routes {
		for _, p := range expand(rt.pattern) {
			ops := map[string]any{}
			for method, op := range rt.methods {
				ops[strings.ToLower(method)] = operationDoc(rt, p, method, op)
			}
			paths[p.path] = ops
		}
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Tollgate admin API",
			"version":     "v1",
			"description": "Definitions (Gateway, Service, API, Policy, Secret) for the Tollgate Envoy control plane. Every error answer is an Error object.",
		},
		"paths": paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{
			"bearerAuth": map[string]any{"type": "http", "scheme": "bearer", "description": "An admin token (tgt_…); only its SHA-256 is configured on the server."},
			"clientCert": map[string]any{"type": "mutualTLS", "description": "A verified client certificate whose SPIFFE ID is given a role."},
		}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil { // only maps, slices and strings: cannot fail
		return []byte(`{}`)
	}
	return b
}

// concretePath is one documented path: a route pattern with the kind
// placeholder replaced by a real collection.
type concretePath struct {
	path string
	kind model.Kind
}

func expand(pattern string) []concretePath {
	if !strings.Contains(pattern, "{kind}") {
		return []concretePath{{path: pattern}}
	}
	var out []concretePath
	for _, k := range model.Kinds {
		out = append(out, concretePath{path: strings.ReplaceAll(pattern, "{kind}", k.Plural()), kind: k})
	}
	return out
}

func operationDoc(rt route, p concretePath, method string, op operation) map[string]any {
	reply := op.reply
	if p.kind != "" && reply == "Object" {
		reply = string(p.kind.New().ProtoReflect().Descriptor().Name())
	}
	okCode := "200"
	doc := map[string]any{
		"operationId": operationID(method, rt.name, p.kind),
		"summary":     op.summary,
		"responses": map[string]any{
			okCode:    map[string]any{"description": "success", "content": jsonContent(ref(reply))},
			"default": map[string]any{"description": "error", "content": jsonContent(ref("Error"))},
		},
	}
	responses := doc["responses"].(map[string]any)
	if method == http.MethodPut {
		responses["201"] = map[string]any{"description": "created", "content": jsonContent(ref(reply))}
	}
	if reply == "Metrics" {
		responses[okCode] = map[string]any{"description": "success", "content": map[string]any{"text/plain": map[string]any{"schema": ref(reply)}}}
	}
	securityDoc(doc, op.role)
	var params []any
	if strings.Contains(p.path, "{name}") {
		params = append(params, map[string]any{
			"name": "name", "in": "path", "required": true,
			"schema": map[string]any{"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
		})
	}
	for _, q := range op.query {
		t := map[string]any{"type": "string"}
		if q == "dryRun" {
			t = map[string]any{"type": "boolean"}
		}
		params = append(params, map[string]any{"name": q, "in": "query", "schema": t})
	}
	if method == http.MethodPut || method == http.MethodDelete {
		params = append(params, map[string]any{
			"name": "If-Match", "in": "header", "schema": map[string]any{"type": "string"},
			"description": "resourceVersion precondition; a stale one gets 409 StaleResourceVersion",
		})
	}
	if len(params) > 0 {
		doc["parameters"] = params
	}
	if op.body != "" {
		body := ref(op.body)
		if op.body == "Object" && p.kind != "" {
			body = ref(string(p.kind.New().ProtoReflect().Descriptor().Name()))
		}
		doc["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"application/json": map[string]any{"schema": body},
			"application/yaml": map[string]any{"schema": map[string]any{"type": "string", "description": "one or more YAML documents"}},
		}}
	}
	return doc
}

// securityDoc states who may call an operation: public ones override the
// schemes with an empty list, the others accept a bearer token or a client
// certificate, and x-tollgate-role names the least role.
func securityDoc(doc map[string]any, role Role) {
	need := requiredRole(route{}, operation{role: role}, true)
	doc["x-tollgate-role"] = need.String()
	responses := doc["responses"].(map[string]any)
	if need == rolePublic {
		doc["security"] = []any{}
		return
	}
	doc["security"] = []any{map[string]any{"bearerAuth": []any{}}, map[string]any{"clientCert": []any{}}}
	responses["401"] = map[string]any{"description": "no or unrecognised credentials (reason Unauthenticated)", "content": jsonContent(ref("Error"))}
	if need > RoleViewer {
		responses["403"] = map[string]any{"description": "the principal's role is below " + need.String() + " (reason Forbidden)", "content": jsonContent(ref("Error"))}
	}
}

func operationID(method, name string, k model.Kind) string {
	id := strings.ToLower(method) + strings.ToUpper(name[:1]) + name[1:]
	if k != "" {
		id += string(k)
	}
	return id
}

func jsonContent(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// messageSchemas adds d and every message it uses to schemas.
func messageSchemas(d protoreflect.MessageDescriptor, schemas map[string]any) {
	name := string(d.Name())
	if _, done := schemas[name]; done {
		return
	}
	props := map[string]any{}
	schemas[name] = map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	fields := d.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		props[fd.JSONName()] = fieldSchema(fd, schemas)
	}
}

func fieldSchema(fd protoreflect.FieldDescriptor, schemas map[string]any) any {
	if fd.IsMap() {
		return map[string]any{"type": "object", "additionalProperties": scalarSchema(fd.MapValue())}
	}
	var s any
	if fd.Kind() == protoreflect.MessageKind {
		messageSchemas(fd.Message(), schemas)
		s = ref(string(fd.Message().Name()))
	} else {
		s = scalarSchema(fd)
	}
	if fd.IsList() {
		return map[string]any{"type": "array", "items": s}
	}
	return s
}

func scalarSchema(fd protoreflect.FieldDescriptor) map[string]any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return map[string]any{"type": "boolean"}
	case protoreflect.Uint32Kind:
		return map[string]any{"type": "integer", "minimum": 0, "maximum": 4294967295}
	case protoreflect.Int64Kind, protoreflect.Int32Kind, protoreflect.Uint64Kind:
		return map[string]any{"type": "integer"}
	default:
		return map[string]any{"type": "string"}
	}
}

// schemaOf is a schema of one JSON type.
func schemaOf(typ string) map[string]any { return map[string]any{"type": typ} }

// obj is an object schema with props, of which required must be present.
func obj(props map[string]any, required ...string) map[string]any {
	m := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}

// fixedSchemas are the shapes that are not model objects.
func fixedSchemas() map[string]any {
	str, integer, boolean := schemaOf("string"), schemaOf("integer"), schemaOf("boolean")
	return map[string]any{
		"Bundle": map[string]any{"oneOf": []any{ref("Object"), map[string]any{"type": "array", "items": ref("Object")}}},
		"ObjectResult": obj(map[string]any{
			"kind": str, "name": str,
			"action":          map[string]any{"type": "string", "enum": []string{"created", "updated", "unchanged", "deleted"}},
			"resourceVersion": str,
		}),
		"ApplyResult": obj(map[string]any{
			"revision": integer, "changed": boolean, "dryRun": boolean,
			"objects": map[string]any{"type": "array", "items": ref("ObjectResult")},
		}, "revision", "changed", "objects"),
		"List":   obj(map[string]any{"kind": str, "revision": integer, "items": map[string]any{"type": "array", "items": ref("Object")}}),
		"Status": obj(map[string]any{"revision": integer, "mode": map[string]any{"type": "string", "enum": []string{"api", "directory"}}, "readOnly": str, "configDir": map[string]any{"type": "object"}}),
		"Health": obj(map[string]any{"status": str}),
		"ObjectStatus": obj(map[string]any{
			"kind": str, "name": str, "revision": integer, "accepted": boolean,
			"problems":   map[string]any{"type": "array", "items": ref("Violation")},
			"warnings":   map[string]any{"type": "array", "items": ref("Violation")},
			"programmed": obj(map[string]any{"proxies": integer, "inSync": integer, "gateways": map[string]any{"type": "array", "items": str}}),
			"rejections": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
		}),
		"GatewayStatus": obj(map[string]any{
			"name": str, "known": boolean, "versions": map[string]any{"type": "object"},
			"Nodes":   map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
			"proxies": integer, "inSync": integer, "revision": integer, "accepted": boolean,
		}),
		"GatewayConfig": obj(map[string]any{"gateway": str, "revision": integer, "resources": map[string]any{"type": "object"}}),
		"Nodes":         obj(map[string]any{"nodes": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}),
		"OpenAPI":       map[string]any{"type": "object"},
		"Violation":     obj(map[string]any{"document": integer, "object": str, "path": str, "message": str}, "path", "message"),
		"Referrer":      obj(map[string]any{"kind": str, "name": str, "path": str}),
		"Error": obj(map[string]any{"error": obj(map[string]any{
			"code":       integer,
			"reason":     map[string]any{"type": "string", "enum": reasons()},
			"message":    str,
			"violations": map[string]any{"type": "array", "items": ref("Violation")},
			"referrers":  map[string]any{"type": "array", "items": ref("Referrer")},
		}, "code", "reason", "message")}, "error"),
	}
}

// securitySchemas are the shapes of the CA, join, audit and metrics
// endpoints.
func securitySchemas() map[string]any {
	str, integer, boolean := schemaOf("string"), schemaOf("integer"), schemaOf("boolean")
	return map[string]any{
		"Metrics":            map[string]any{"type": "string", "description": "Prometheus text exposition format"},
		"CABundle":           obj(map[string]any{"caBundle": str, "sha256": str}, "caBundle", "sha256"),
		"CertificateRequest": closed(obj(map[string]any{"csr": map[string]any{"type": "string", "description": "PEM CERTIFICATE REQUEST; private keys are refused"}}, "csr")),
		"JoinTokenRequest":   closed(obj(map[string]any{"ttl": map[string]any{"type": "string", "description": "Go duration, default 1h, at most 24h", "default": "1h"}})),
		"JoinRequest":        closed(obj(map[string]any{"token": str, "csr": str}, "token", "csr")),
		"Certificate":        obj(map[string]any{"gateway": str, "certificate": str, "caBundle": str}, "gateway", "certificate", "caBundle"),
		"JoinToken":          obj(map[string]any{"token": str, "gateway": str, "expires": map[string]any{"type": "string", "format": "date-time"}, "caSHA256": str}, "token", "gateway", "expires", "caSHA256"),
		"CARotateRequest":    obj(map[string]any{"phase": map[string]any{"type": "string", "enum": []string{"prepare", "activate", "retire"}}}, "phase"),
		"Rotated":            obj(map[string]any{"gateway": str, "rotated": str}, "gateway", "rotated"),
		"AuditRecords": obj(map[string]any{"records": map[string]any{"type": "array", "items": obj(map[string]any{
			"time": map[string]any{"type": "string", "format": "date-time"}, "actor": str, "role": str, "remote": str,
			"method": str, "path": str, "query": str, "objects": map[string]any{"type": "array", "items": str},
			"status": integer, "outcome": map[string]any{"type": "string", "enum": []audit.Outcome{audit.OutcomeOK, audit.OutcomeRejected, audit.OutcomeDenied, audit.OutcomeUnauthenticated, audit.OutcomeError}},
			"reason": str, "dryRun": boolean,
		})}}),
	}
}

// closed forbids properties a schema does not list: the JSON decoders of
// these bodies reject unknown fields.
func closed(m map[string]any) map[string]any {
	m["additionalProperties"] = false
	return m
}

func reasons() []string {
	return []string{
		string(ReasonInvalid), string(ReasonBadRequest), string(ReasonNotFound), string(ReasonConflict),
		string(ReasonStale), string(ReasonReferenced), string(ReasonReadOnly), string(ReasonTooLarge),
		string(ReasonUnsupportedMedia), string(ReasonMethodNotAllowed), string(ReasonNotReady), string(ReasonInternal),
		string(ReasonUnauthenticated), string(ReasonForbidden), string(ReasonInvalidJoinToken), string(ReasonNotImplemented),
	}
}

// OpenAPI returns the admin API's OpenAPI document; docs/openapi.json is a
// copy kept in sync by a test.
func OpenAPI() []byte {
	var s *Server // routes only takes method values; nothing is called
	return buildOpenAPI(s.routes())
}
