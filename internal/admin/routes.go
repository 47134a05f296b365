package admin

import "net/http"

// routes is the admin API: every path, method, role and schema. The mux,
// the guard (authentication, roles, audit) and docs/openapi.json are all
// built from it, so none of them can forget an endpoint.
func (s *Server) routes() []route {
	return append(s.definitionRoutes(), s.operationRoutes()...)
}

// definitionRoutes read and write definitions: viewers read, editors write.
func (s *Server) definitionRoutes() []route {
	return []route{
		{pattern: "/v1/apply", name: "apply", methods: map[string]operation{
			http.MethodPost: {
				handler: s.apply, role: RoleEditor, write: true, body: "Bundle", reply: "ApplyResult", query: []string{"dryRun"},
				summary: "Apply a bundle of one or many objects (YAML or JSON) atomically and idempotently.",
			},
		}},
		{pattern: "/v1/status", name: "status", methods: map[string]operation{
			http.MethodGet: {handler: s.status, role: RoleViewer, reply: "Status", summary: "Store revision, mode and local-directory status."},
		}},
		{pattern: "/v1/{kind}", name: "collection", methods: map[string]operation{
			http.MethodGet: {
				handler: s.list, role: RoleViewer, reply: "List", query: []string{"labelSelector"},
				summary: "List objects of a kind, optionally filtered by a label selector.",
			},
		}},
		{pattern: "/v1/{kind}/{name}", name: "object", methods: map[string]operation{
			http.MethodGet: {handler: s.get, role: RoleViewer, reply: "Object", summary: "Read one object (write-only fields omitted)."},
			http.MethodPut: {
				handler: s.put, role: RoleEditor, write: true, body: "Object", reply: "Object", query: []string{"dryRun"},
				summary: "Create or replace one object.",
			},
			http.MethodDelete: {
				handler: s.delete, role: RoleEditor, write: true, reply: "ApplyResult", query: []string{"dryRun"},
				summary: "Delete one object unless it is still referenced.",
			},
		}},
		{pattern: "/v1/{kind}/{name}/status", name: "objectStatus", methods: map[string]operation{
			http.MethodGet: {
				handler: s.objectStatus, role: RoleViewer, reply: "ObjectStatus",
				summary: "How translation judged a definition, how many proxies run it, and which proxies reject it (with Envoy's message).",
			},
		}},
	}
}

// operationRoutes observe the running control plane and manage its
// identities. The CA and audit endpoints are admin-only except the bundle
// (public material) and the join flow, which its one-time token
// authenticates instead of a principal.
func (s *Server) operationRoutes() []route {
	return []route{
		{pattern: "/v1/gateways/{name}/status", name: "gatewayStatus", methods: map[string]operation{
			http.MethodGet: {handler: s.gatewayStatus, role: RoleViewer, reply: "GatewayStatus", summary: "A gateway's served versions and its connected proxies: sent, ACKed, NACKed."},
		}},
		{pattern: "/v1/gateways/{name}/config", name: "gatewayConfig", methods: map[string]operation{
			http.MethodGet: {handler: s.gatewayConfig, role: RoleViewer, reply: "GatewayConfig", summary: "The Envoy resources served to a gateway, like a config dump (key material redacted)."},
		}},
		{pattern: "/v1/nodes", name: "nodes", methods: map[string]operation{
			http.MethodGet: {handler: s.nodes, role: RoleViewer, reply: "Nodes", summary: "Every connected proxy: node id, gateway, versions sent and ACKed, last NACK."},
		}},
		{pattern: "/v1/ca", name: "ca", methods: map[string]operation{
			http.MethodGet: {handler: s.caBundle, role: rolePublic, reply: "CABundle", summary: "The built-in CA's PEM trust bundle and the SHA-256 fingerprint of its first certificate."},
		}},
		{pattern: "/v1/ca/rotate", name: "caRotate", methods: map[string]operation{
			http.MethodPost: {
				handler: s.rotateCA, role: RoleAdmin, body: "CARotateRequest", reply: "CABundle",
				summary: "One step of a CA rotation (prepare: trust a new CA; activate: sign with it; retire: stop trusting the old one). Answers the new trust bundle.",
			},
		}},
		{pattern: "/v1/gateways/{name}/rotate-identity", name: "rotateIdentity", methods: map[string]operation{
			http.MethodPost: {
				handler: s.rotateIdentity, role: RoleAdmin, reply: "Rotated",
				summary: "Re-issue now the identity certificate the CA keeps for an Envoy gateway's proxies (a suspected key leak); it reaches them by SDS.",
			},
		}},
		{pattern: "/v1/gateways/{name}/certificates", name: "gatewayCertificates", methods: map[string]operation{
			http.MethodPost: {
				handler: s.issueCertificate, role: RoleAdmin, body: "CertificateRequest", reply: "Certificate",
				summary: "Sign a CSR for the gateway's identity. Only a CSR is accepted; private keys never travel.",
			},
		}},
		{pattern: "/v1/gateways/{name}/join-tokens", name: "gatewayJoinTokens", methods: map[string]operation{
			http.MethodPost: {
				handler: s.newJoinToken, role: RoleAdmin, body: "JoinTokenRequest", reply: "JoinToken",
				summary: "Make a one-time token with which a new proxy of the gateway obtains its certificate (ttl default 1h, at most 24h).",
			},
		}},
		{pattern: "/v1/join", name: "join", methods: map[string]operation{
			http.MethodPost: {
				handler: s.join, role: rolePublic, body: "JoinRequest", reply: "Certificate",
				summary: "Spend a join token to have a CSR signed; authenticated by the token in the body, not a bearer token.",
			},
		}},
		{pattern: "/v1/renew", name: "renew", methods: map[string]operation{
			http.MethodPost: {
				handler: s.renew, role: rolePublic, body: "CertificateRequest", reply: "Certificate",
				summary: "Renew a proxy identity: the CA signs a CSR for the gateway of the verified client certificate the connection presents.",
			},
		}},
		{pattern: "/v1/audit", name: "audit", methods: map[string]operation{
			http.MethodGet: {handler: s.auditTail, role: RoleAdmin, reply: "AuditRecords", query: []string{"limit"}, summary: "The newest audit records, oldest first (limit default 100, at most 1000)."},
		}},
		{pattern: "/metrics", name: "metrics", methods: map[string]operation{
			http.MethodGet: {handler: s.serveMetrics, role: RoleViewer, reply: "Metrics", summary: "Prometheus metrics of the admin API and the store."},
		}},
		{pattern: "/healthz", name: "healthz", methods: map[string]operation{
			http.MethodGet: {handler: s.healthz, role: rolePublic, reply: "Health", summary: "Liveness: the process serves requests."},
		}},
		{pattern: "/readyz", name: "readyz", methods: map[string]operation{
			http.MethodGet: {handler: s.readyz, role: rolePublic, reply: "Health", summary: "Readiness: the store is loaded."},
		}},
		{pattern: "/openapi.json", name: "openapi", methods: map[string]operation{
			http.MethodGet: {handler: s.openAPI, role: rolePublic, reply: "OpenAPI", summary: "This document."},
		}},
	}
}

// serveMetrics answers /metrics from the registry.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.promhttp.ServeHTTP(w, r)
	return nil
}
