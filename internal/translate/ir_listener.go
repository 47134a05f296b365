package translate

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate/ir"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// toIRListeners converts a proxied gateway's listeners and, for the HTTP
// ones, the route configuration of the APIs that fit their hostnames,
// split by host into scopes when scopeByHost allows. A listener that
// cannot be built is left out and reported on the Gateway.
func (t *gatewayTranslator) toIRListeners() ([]ir.Listener, []ir.RouteConfig, []ir.Scope) {
	var (
		listeners []ir.Listener
		rcs       []ir.RouteConfig
		attached  = map[string]bool{}
	)
	for i, l := range t.g.GetSpec().GetListeners() {
		path := model.Path("spec.listeners").Index(i)
		il := ir.Listener{
			Name: listenerName(l.GetName()), Address: listenAddress(l), Port: l.GetPort(),
			Protocol: ir.Protocol(l.GetProtocol()), Sources: []ir.Source{t.gatewaySource()},
		}
		switch l.GetProtocol() {
		case model.ListenerTCP:
			svc := l.GetBackend().GetService()
			cluster, ok := t.clusterFor(svc)
			if !ok {
				t.st.problem(t.key, string(path.Field("backend.service")),
					fmt.Sprintf("listener left out: Service %q was rejected (see its status)", svc))
				continue
			}
			il.FilterChains = []ir.FilterChain{{Name: filterChainName(l.GetName(), ""), TCPCluster: cluster}}
		case model.ListenerHTTP, model.ListenerHTTPS:
			rc := ir.RouteConfig{Name: routeConfigName(l.GetName())}
			rc.VirtualHosts, rc.Sources = t.toIRVirtualHosts(t.attachments(l, attached))
			if len(rc.Sources) == 0 {
				// No API attached: the (empty) configuration is the Gateway's.
				rc.Sources = []ir.Source{t.gatewaySource()}
			}
			il.FilterChains = t.toIRFilterChains(l, path, rc.Name, &il)
			rcs = append(rcs, rc)
			if len(il.FilterChains) == 0 {
				continue // every chain waits for an identity Secret (reported)
			}
		default:
			continue // rejected by model validation
		}
		listeners = append(listeners, il)
	}
	for _, a := range t.apis {
		if !attached[a.GetMetadata().GetName()] {
			t.warnUnattached(a)
		}
	}
	if scoped, scopes, ok := scopeByHost(rcs); ok {
		for i := range listeners {
			for j := range listeners[i].FilterChains {
				if fc := &listeners[i].FilterChains[j]; fc.RouteConfig != "" {
					fc.RouteConfig, fc.Scoped = "", true
				}
			}
		}
		return listeners, scoped, scopes
	}
	return listeners, rcs, nil
}

// warnUnattached tells an API that no listener of this gateway serves it.
func (t *gatewayTranslator) warnUnattached(a *tollgatev1.API) {
	t.st.warn(model.KeyOf(a), "spec.hostnames", fmt.Sprintf(
		"no HTTP or HTTPS listener of Gateway %q accepts these hostnames; the API is not served there", t.key.Name))
}

// scopeByHost splits a gateway's routing into one route configuration per
// host, selected by the request's Host through scoped routes, so that
// editing one API re-sends only its host's routes instead of every route
// of the listener (PERFORMANCE.md: fine-grained resources). Envoy shares
// one set of scopes between all the listeners of a proxy and matches scope
// keys exactly, so this applies only when every HTTP and HTTPS listener
// serves the very same virtual hosts and none of them is a wildcard;
// otherwise the gateway keeps one route configuration per listener (see
// docs/translation.md). Hosts whose every route was left out get no scope:
// they are answered 404 either way.
func scopeByHost(rcs []ir.RouteConfig) ([]ir.RouteConfig, []ir.Scope, bool) {
	if len(rcs) == 0 || len(rcs[0].VirtualHosts) == 0 {
		return nil, nil, false
	}
	first := rcs[0].VirtualHosts
	for _, rc := range rcs[1:] {
		if !reflect.DeepEqual(rc.VirtualHosts, first) {
			return nil, nil, false
		}
	}
	for _, vh := range first {
		if len(vh.Domains) != 1 || strings.Contains(vh.Domains[0], "*") {
			return nil, nil, false
		}
	}
	var (
		out    []ir.RouteConfig
		scopes []ir.Scope
	)
	for _, vh := range first {
		if len(vh.Routes) == 0 {
			continue
		}
		rc, sc := hostRouting(vh)
		out = append(out, rc)
		scopes = append(scopes, sc)
	}
	if len(scopes) == 0 {
		return nil, nil, false
	}
	return out, scopes, true
}

// hostRouting is the route configuration and the scope of one host of a
// gateway routing by host: the host's one virtual host, attributed to the
// APIs with routes in it.
func hostRouting(vh ir.VirtualHost) (ir.RouteConfig, ir.Scope) {
	host := vh.Domains[0]
	apis := map[string]bool{}
	for _, r := range vh.Routes {
		apis[r.Source.Name] = true
	}
	srcs := make([]ir.Source, 0, len(apis))
	for _, name := range sortedKeys(apis) {
		srcs = append(srcs, ir.Source{Kind: string(model.KindAPI), Name: name})
	}
	rc := ir.RouteConfig{Name: hostRouteConfigName(host), VirtualHosts: []ir.VirtualHost{vh}, Sources: srcs}
	return rc, ir.Scope{Name: scopeName(host), Host: host, RouteConfig: rc.Name, Sources: srcs}
}

// toIRFilterChains makes one filter chain for HTTP, and one per
// certificate (SNI group) for HTTPS; the certificate without server names
// is the default chain. A chain whose identity Secret is not issued yet
// is left out, and so is every chain when the CA bundle they verify
// clients with is not (a warning on the Gateway says so).
func (t *gatewayTranslator) toIRFilterChains(l *tollgatev1.Listener, path model.Path, rc string, il *ir.Listener) []ir.FilterChain {
	if l.GetProtocol() == model.ListenerHTTP {
		return []ir.FilterChain{{Name: filterChainName(l.GetName(), ""), RouteConfig: rc}}
	}
	base, ca, ok := t.toIRDownstreamBase(l.GetTls(), path.Field("tls"))
	if !ok {
		return nil
	}
	var chains []ir.FilterChain
	for j, c := range l.GetTls().GetCertificates() {
		d := base
		secret, name := c.GetSecret(), filterChainName(l.GetName(), c.GetSecret())
		if c.GetIdentity() {
			secret, name = t.identitySecret(), identityFilterChainName(l.GetName())
			if !t.hasImplicitSecret(secret, model.SecretTypeTLS) {
				t.st.warn(t.key, string(path.Field("tls.certificates").Index(j).Field("identity")),
					identityPending+"; the filter chain serving it is left out")
				continue
			}
		}
		d.CertSecret = t.secretFor(secret)
		il.Sources = append(il.Sources, ir.Source{Kind: string(model.KindSecret), Name: secret})
		chains = append(chains, ir.FilterChain{
			Name:        name,
			ServerNames: sortedCopy(c.GetServerNames()),
			TLS:         &d,
			RouteConfig: rc,
		})
	}
	if ca != "" && len(chains) > 0 {
		// Only now: a listener left without chains carries no CA either.
		t.secretFor(ca)
		il.Sources = append(il.Sources, ir.Source{Kind: string(model.KindSecret), Name: ca})
	}
	slices.SortFunc(chains, func(a, b ir.FilterChain) int { return strings.Compare(a.Name, b.Name) })
	return chains
}

// toIRDownstreamBase is what every chain of an HTTPS listener shares:
// versions, ciphers and client validation, and the Secret of the client
// CA if any. ok is false when the listener verifies clients against the
// control plane's CA and its bundle is not issued yet: no chain can be
// served then.
func (t *gatewayTranslator) toIRDownstreamBase(tls *tollgatev1.ListenerTLS, path model.Path) (base ir.DownstreamTLS, ca string, ok bool) {
	base = ir.DownstreamTLS{
		MinVersion:   ir.TLSVersion(cmpOr(tls.GetMinVersion(), model.TLSVersion12)),
		CipherSuites: slices.Clone(tls.GetCipherSuites()),
		ClientCert:   ir.ClientCertMode(cmpOr(tls.GetClientValidation().GetMode(), model.ClientValidationNone)),
	}
	if base.ClientCert == ir.ClientCertNone {
		return base, "", true
	}
	cv := tls.GetClientValidation()
	ca = cv.GetCaSecret()
	if cv.GetIdentityCa() {
		ca = model.IdentityCASecretName
		if !t.hasImplicitSecret(ca, model.SecretTypeCA) {
			t.st.warn(t.key, string(path.Field("clientValidation.identityCa")), identityCAPending+"; the listener is left out")
			return base, "", false
		}
	}
	base.CASecret = secretName(ca)
	base.SubjectAltNames = sortedCopy(cv.GetSubjectAltNames())
	return base, ca, true
}

// listenAddress is the address a listener binds, in the canonical form
// (RFC 5952 for IPv6) that grpc-go compares server listeners against;
// every IPv4 interface by default.
func listenAddress(l *tollgatev1.Listener) string {
	a, err := netip.ParseAddr(l.GetAddress())
	if err != nil { // unset (validation rejects anything but IP literals)
		return defaultListenAddress
	}
	return a.String()
}

// attachment is one API served on one listener, with the domains it
// serves there.
type attachment struct {
	api     *tollgatev1.API
	domains []string
}

// attachments lists the APIs that fit a listener's hostnames. An API
// without hostnames serves the listener's hostnames, or "*".
func (t *gatewayTranslator) attachments(l *tollgatev1.Listener, attached map[string]bool) []attachment {
	var out []attachment
	for _, a := range t.apis {
		domains := fitHostnames(l.GetHostnames(), a.GetSpec().GetHostnames())
		if len(domains) == 0 {
			continue
		}
		attached[a.GetMetadata().GetName()] = true
		out = append(out, attachment{api: a, domains: domains})
	}
	return out
}

// fitHostnames intersects a listener's hostnames with an API's: an exact
// name fits an equal name or a wildcard covering it, and the narrower of
// the two is served. Empty lists mean any host.
func fitHostnames(listener, api []string) []string {
	switch {
	case len(listener) == 0 && len(api) == 0:
		return []string{"*"}
	case len(listener) == 0:
		return sortedCopy(api)
	case len(api) == 0:
		return sortedCopy(listener)
	}
	var out []string
	for _, h := range api {
		for _, l := range listener {
			switch {
			case h == l || wildcardCovers(l, h):
				out = append(out, h)
			case wildcardCovers(h, l):
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// wildcardCovers reports whether pattern "*.example.com" covers name
// (which may itself be a narrower wildcard). A pattern covers one or more
// labels, as Envoy's domain matching does.
func wildcardCovers(pattern, name string) bool {
	suffix, ok := strings.CutPrefix(pattern, "*")
	return ok && len(name) > len(suffix) && strings.HasSuffix(name, suffix) && name != pattern
}

// toIRAPIListeners makes, for a proxyless gateway, one API listener and
// one route configuration per API hostname: grpc-go clients dial
// xds:///<hostname> and ask for exactly that listener.
func (t *gatewayTranslator) toIRAPIListeners() ([]ir.Listener, []ir.RouteConfig) {
	byHost := map[string][]attachment{}
	for _, a := range t.apis {
		hosts := a.GetSpec().GetHostnames()
		if len(hosts) == 0 {
			t.st.warn(model.KeyOf(a), "spec.hostnames", fmt.Sprintf(
				"Gateway %q is proxyless: its clients dial an API by hostname (xds:///<hostname>), and this API has none, so it is not served there", t.key.Name))
		}
		for _, h := range hosts {
			if strings.HasPrefix(h, "*") {
				t.st.warn(model.KeyOf(a), "spec.hostnames", fmt.Sprintf(
					"Gateway %q is proxyless: wildcard hostname %q cannot be dialled and is skipped", t.key.Name, h))
				continue
			}
			byHost[h] = append(byHost[h], attachment{api: a, domains: []string{h}})
		}
	}
	var (
		listeners []ir.Listener
		rcs       []ir.RouteConfig
	)
	for _, h := range sortedKeys(byHost) {
		rc := ir.RouteConfig{Name: apiRouteConfigName(h)}
		rc.VirtualHosts, rc.Sources = t.toIRVirtualHosts(byHost[h])
		if len(rc.VirtualHosts) == 0 || len(rc.VirtualHosts[0].Routes) == 0 {
			// Every route was left out (and reported): no listener, so
			// clients see "does not exist" rather than a hostname with
			// no routes.
			continue
		}
		rcs = append(rcs, rc)
		listeners = append(listeners, ir.Listener{
			Name: apiListenerName(h), API: true, Protocol: ir.ProtocolHTTP, RouteConfig: rc.Name,
			Sources: append([]ir.Source{t.gatewaySource()}, rc.Sources...),
		})
	}
	return listeners, rcs
}
