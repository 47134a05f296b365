package model

import (
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// noSDS is why a GRPC listener cannot use Secrets: the message every
// violation about one repeats, so the user learns the constraint once.
const noSDS = "grpc-go has no SDS: a proxyless server reads the gateway identity and the control plane's CA from files, through its certificate provider"

// validateGRPCListener checks a GRPC listener, the inbound port of an
// xDS-enabled grpc-go server. grpc-go serves one filter chain without SNI
// matching, takes its TLS material only from certificate providers, and
// rejects tls_params, so its TLS is the gateway identity and the control
// plane's CA, or nothing (plain text).
func validateGRPCListener(e *Errs, p Path, l *tollgatev1.Listener) {
	if len(l.GetHostnames()) > 0 {
		e.Add(p.Field("hostnames"), "not allowed with protocol GRPC: a gRPC server serves every authority it is called by; remove hostnames")
	}
	if l.GetBackend() != nil {
		e.Add(p.Field("backend"), "not allowed with protocol GRPC: the gRPC server itself handles the calls; remove it")
	}
	t := l.GetTls()
	if t == nil {
		return // plain text
	}
	tp := p.Field("tls")
	validateGRPCCertificates(e, tp.Field("certificates"), t.GetCertificates())
	if cv := t.GetClientValidation(); cv != nil {
		validateGRPCClientValidation(e, tp.Field("clientValidation"), cv)
	}
	if t.GetMinVersion() != "" {
		e.Add(tp.Field("minVersion"), "not allowed with protocol GRPC: grpc-go rejects TLS parameters from xDS and negotiates TLS 1.2 or 1.3 itself; remove it")
	}
	if len(t.GetCipherSuites()) > 0 {
		e.Add(tp.Field("cipherSuites"), "not allowed with protocol GRPC: grpc-go rejects TLS parameters from xDS; remove them")
	}
}

// validateGRPCCertificates requires exactly [{identity: true}].
func validateGRPCCertificates(e *Errs, p Path, certs []*tollgatev1.ServerCertificate) {
	if len(certs) != 1 {
		e.Add(p, "a GRPC listener serves exactly one certificate, the gateway identity: set certificates: [{identity: true}] (or remove tls for plain text), got %d", len(certs))
		return
	}
	c, ip := certs[0], p.Index(0)
	switch {
	case c.GetSecret() != "":
		e.Add(ip.Field("secret"), "not allowed with protocol GRPC: %s; use identity: true", noSDS)
	case !c.GetIdentity():
		e.Add(ip.Field("identity"), "required with protocol GRPC: set identity: true to serve the gateway identity")
	}
	if len(c.GetServerNames()) > 0 {
		e.Add(ip.Field("serverNames"), "not allowed with protocol GRPC: grpc-go drops filter chains that match on server names; remove them")
	}
}

// validateGRPCClientValidation requires the control plane's CA for client
// certificates, which grpc-go can only require, not merely request. Its subjectAltNames become an RBAC policy (grpc-go
// rejects SAN matchers on servers), checked like any SAN list.
func validateGRPCClientValidation(e *Errs, p Path, cv *tollgatev1.ClientValidation) {
	mode := cv.GetMode()
	clientModes.check(e, p.Field("mode"), mode, true)
	if cv.GetCaSecret() != "" {
		e.Add(p.Field("caSecret"), "not allowed with protocol GRPC: %s; use identityCa: true", noSDS)
	}
	switch {
	case mode == ClientValidationOptional:
		// grpc-go asks for a client certificate only when one is required
		// (internal/credentials/xds/handshake_info.go): optional would
		// never verify one, and RBAC rules would deny every client.
		e.Add(p.Field("mode"), "optional is not supported with protocol GRPC: grpc-go requests client certificates only when they are required; "+
			"use required, or remove clientValidation for TLS without client certificates")
	case mode == ClientValidationNone:
		if cv.GetIdentityCa() {
			e.Add(p.Field("identityCa"), "not allowed with mode none: no client certificate is verified; remove it or set mode optional or required")
		}
		if len(cv.GetSubjectAltNames()) > 0 {
			e.Add(p.Field("subjectAltNames"), "not allowed with mode none; remove them or set mode optional or required")
		}
	case mode != "" && !cv.GetIdentityCa() && cv.GetCaSecret() == "":
		e.Add(p.Field("identityCa"), "required with mode %s on a GRPC listener: set identityCa: true to verify client certificates against the control plane's CA", mode)
	}
	checkSubjectAltNames(e, p.Field("subjectAltNames"), cv.GetSubjectAltNames())
}
