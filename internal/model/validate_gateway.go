package model

import (
	"net/netip"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// validateGateway checks a Gateway's mode, network and listeners.
func validateGateway(e *Errs, s *tollgatev1.GatewaySpec) {
	if s == nil {
		return
	}
	p := Path("spec")
	gatewayModes.check(e, p.Field("mode"), s.GetMode(), true)
	checkOptionalName(e, p.Field("network"), s.GetNetwork())
	lp := p.Field("listeners")
	ls := s.GetListeners()
	proxyless := s.GetMode() == GatewayModeProxyless
	if proxyless && len(ls) == 0 {
		return // a client-only proxyless gateway: its clients dial xds:///<API hostname>
	}
	if !checkRequired(e, lp, len(ls), "listener") || !checkCount(e, lp, len(ls), MaxListeners, "listeners") {
		return
	}
	names, ports := firstSeen{}, map[uint32]Path{}
	for i, l := range ls {
		ip := lp.Index(i)
		if l.GetName() != "" {
			names.dup(e, ip.Field("name"), l.GetName(), "listener name")
		}
		if first, ok := ports[l.GetPort()]; ok && l.GetPort() != 0 {
			e.Add(ip.Field("port"), "port %d is already used by %s; each listener needs its own port", l.GetPort(), first)
		} else {
			ports[l.GetPort()] = ip
		}
		validateListener(e, ip, l, proxyless)
	}
}

// validateListener checks one listener and that its fields fit its
// protocol: HTTPS terminates TLS, TCP forwards to one Service, GRPC is a
// gRPC server port and the only protocol of proxyless gateways.
func validateListener(e *Errs, p Path, l *tollgatev1.Listener, proxyless bool) {
	checkRef(e, p.Field("name"), l.GetName())
	checkPort(e, p.Field("port"), l.GetPort())
	checkListenerAddress(e, p.Field("address"), l.GetAddress())
	proto := l.GetProtocol()
	known := listenerProtocols.check(e, p.Field("protocol"), proto, true)
	checkHostnames(e, p.Field("hostnames"), l.GetHostnames(), true)
	if l.GetBackend() != nil {
		validateListenerBackend(e, p.Field("backend"), l.GetBackend())
	}
	if known && !checkListenerMode(e, p.Field("protocol"), proto, proxyless) {
		return
	}
	if proto == ListenerGRPC {
		validateGRPCListener(e, p, l)
		return
	}
	if l.GetTls() != nil {
		validateListenerTLS(e, p.Field("tls"), l.GetTls(), proto)
	}
	if !known {
		return
	}
	switch proto {
	case ListenerHTTPS:
		if l.GetTls() == nil {
			e.Add(p.Field("tls"), "required for protocol HTTPS: at least one certificate")
		}
	case ListenerHTTP, ListenerTCP:
		if l.GetTls() != nil {
			e.Add(p.Field("tls"), "only allowed with protocol HTTPS, got %s; use HTTPS or remove tls", proto)
		}
	}
	switch proto {
	case ListenerTCP:
		if l.GetBackend() == nil {
			e.Add(p.Field("backend.service"), "required for protocol TCP: the Service connections are forwarded to")
		}
		if len(l.GetHostnames()) > 0 {
			e.Add(p.Field("hostnames"), "not allowed with protocol TCP: plain TCP carries no host name; remove hostnames")
		}
	default:
		if l.GetBackend() != nil {
			e.Add(p.Field("backend"), "only allowed with protocol TCP; %s listeners route through APIs", proto)
		}
	}
}

// checkListenerMode reports a protocol the gateway's mode cannot serve:
// GRPC listeners are the ports of xDS-enabled gRPC servers, which only
// proxyless gateways configure, and a proxyless gateway has no proxy to
// open any other port.
func checkListenerMode(e *Errs, p Path, proto string, proxyless bool) bool {
	switch {
	case proxyless && proto != ListenerGRPC:
		e.Add(p, "a proxyless gateway's listeners are the ports of its xDS-enabled gRPC servers: only GRPC is allowed, got %s", proto)
		return false
	case !proxyless && proto == ListenerGRPC:
		e.Add(p, "GRPC is only allowed on a proxyless gateway (the port of an xDS-enabled gRPC server); to proxy gRPC through Envoy use HTTP or HTTPS")
		return false
	}
	return true
}

// checkListenerAddress checks the address a listener binds: an IP literal
// without a zone; empty means 0.0.0.0.
func checkListenerAddress(e *Errs, p Path, addr string) {
	if addr == "" {
		return
	}
	if a, err := netip.ParseAddr(addr); err != nil || a.Zone() != "" {
		e.Add(p, "must be an IP address such as \"0.0.0.0\", \"10.0.0.7\" or \"::\", got %q", truncate(addr))
	}
}

// validateListenerBackend checks a TCP listener's backend. A weight is
// rejected rather than ignored: there is exactly one Service, so a weight
// could only mislead.
func validateListenerBackend(e *Errs, p Path, b *tollgatev1.BackendRef) {
	checkRef(e, p.Field("service"), b.GetService())
	if b.GetWeight() != 0 {
		e.Add(p.Field("weight"), "has no effect on a listener backend (one Service takes every connection); remove it")
	}
}

// validateListenerTLS checks certificates (SNI selection must be
// unambiguous), client validation and protocol settings.
func validateListenerTLS(e *Errs, p Path, t *tollgatev1.ListenerTLS, proto string) {
	cp := p.Field("certificates")
	certs := t.GetCertificates()
	if proto == ListenerHTTPS && len(certs) == 0 {
		e.Add(cp, "required: at least one certificate")
	}
	if checkCount(e, cp, len(certs), MaxCertificates, "certificates") {
		validateCertificates(e, cp, certs)
	}
	if cv := t.GetClientValidation(); cv != nil {
		validateClientValidation(e, p.Field("clientValidation"), cv)
	}
	tlsVersions.check(e, p.Field("minVersion"), t.GetMinVersion(), false)
	sp := p.Field("cipherSuites")
	if len(t.GetCipherSuites()) > 0 && t.GetMinVersion() == TLSVersion13 {
		e.Add(sp, "only apply to TLS 1.2 (TLS 1.3 suites are fixed); remove them or set minVersion TLSv1_2")
	}
	seen := firstSeen{}
	for i, c := range t.GetCipherSuites() {
		if cipherSuites.check(e, sp.Index(i), c, true) {
			seen.dup(e, sp.Index(i), c, "cipher suite")
		}
	}
}

// validateCertificates checks that every entry names one certificate,
// that every server name selects exactly one certificate and that at most
// one certificate is the default.
func validateCertificates(e *Errs, p Path, certs []*tollgatev1.ServerCertificate) {
	names := firstSeen{}
	var defaultCert, identity Path
	for i, c := range certs {
		ip := p.Index(i)
		switch {
		case c.GetIdentity() && c.GetSecret() != "":
			e.Add(ip.Field("identity"), "cannot be combined with secret; set one of them")
		case c.GetIdentity() && identity != "":
			e.Add(ip.Field("identity"), "the gateway identity is already served by %s; list all its serverNames there", identity)
		case c.GetIdentity():
			identity = ip
		default:
			checkRef(e, ip.Field("secret"), c.GetSecret())
		}
		np := ip.Field("serverNames")
		sn := c.GetServerNames()
		if len(sn) == 0 {
			if defaultCert != "" {
				e.Add(np, "only one certificate may omit serverNames (the default certificate); %s already does", defaultCert)
			} else {
				defaultCert = ip
			}
			continue
		}
		if !checkCount(e, np, len(sn), MaxHostnames, "server names") {
			continue
		}
		for j, n := range sn {
			if msg := hostnameProblem(n, true); msg != "" {
				e.Add(np.Index(j), "%s", msg)
				continue
			}
			if first, ok := names[n]; ok {
				e.Add(np.Index(j), "server name %q is already at %s; a server name selects exactly one certificate", n, first)
				continue
			}
			names[n] = np.Index(j)
		}
	}
}

// validateClientValidation checks mTLS settings: a CA (a Secret, or the
// control plane's CA) is needed to verify client certificates, and is
// meaningless when none are requested.
func validateClientValidation(e *Errs, p Path, cv *tollgatev1.ClientValidation) {
	mode := cv.GetMode()
	clientModes.check(e, p.Field("mode"), mode, true)
	switch {
	case mode == ClientValidationNone:
		if cv.GetCaSecret() != "" {
			e.Add(p.Field("caSecret"), "not allowed with mode none: no client certificate is verified; remove it or set mode optional or required")
		}
		if cv.GetIdentityCa() {
			e.Add(p.Field("identityCa"), "not allowed with mode none: no client certificate is verified; remove it or set mode optional or required")
		}
		if len(cv.GetSubjectAltNames()) > 0 {
			e.Add(p.Field("subjectAltNames"), "not allowed with mode none; remove them or set mode optional or required")
		}
	case cv.GetIdentityCa() && cv.GetCaSecret() != "":
		e.Add(p.Field("identityCa"), "cannot be combined with caSecret; trust one or the other")
	case !cv.GetIdentityCa():
		checkRef(e, p.Field("caSecret"), cv.GetCaSecret())
	}
	checkSubjectAltNames(e, p.Field("subjectAltNames"), cv.GetSubjectAltNames())
}

// checkSubjectAltNames checks names a peer certificate must carry (DNS
// names, URIs such as SPIFFE IDs, addresses): non-empty and unique.
func checkSubjectAltNames(e *Errs, p Path, sans []string) {
	if !checkCount(e, p, len(sans), MaxSubjectAltNames, "subject alternative names") {
		return
	}
	seen := firstSeen{}
	for i, s := range sans {
		ip := p.Index(i)
		if s == "" {
			e.Add(ip, "must not be empty")
			continue
		}
		checkText(e, ip, s, MaxTextLength)
		seen.dup(e, ip, s, "subject alternative name")
	}
}
