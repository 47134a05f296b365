package translate

import (
	"cmp"
	"fmt"
	"slices"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/translate/ir"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// gatewayTranslator converts the definitions one gateway uses into its IR.
// Clusters and secrets are added on first use, so a gateway carries only
// what its listeners and routes reference.
type gatewayTranslator struct {
	s         *snapshot
	st        *statuses
	g         *tollgatev1.Gateway
	key       model.Key
	proxyless bool
	apis      []*tollgatev1.API
	clusters  map[string]*ir.Cluster
	// rejected holds the Services that cannot be used on this gateway.
	rejected map[string]bool
	secrets  map[string]*ir.Secret
	// implicit holds the Secrets the control plane writes (identity, CA
	// bundle) that this translation looked up, found or not.
	implicit map[string]bool
}

// translateGateway builds one gateway's configuration. An IR that fails
// validation is a translator bug: the gateway then gets no resources and
// the failure is shown on its status rather than served half-built.
func translateGateway(s *snapshot, st *statuses, g *tollgatev1.Gateway) *GatewayConfig {
	t := newGatewayTranslator(s, st, g)
	for _, a := range s.apis {
		if slices.Contains(a.GetSpec().GetGateways(), g.GetMetadata().GetName()) {
			t.apis = append(t.apis, a)
		}
	}
	return t.translate()
}

// newGatewayTranslator starts the translation of g with no APIs attached
// yet; statuses go to st.
func newGatewayTranslator(s *snapshot, st *statuses, g *tollgatev1.Gateway) *gatewayTranslator {
	return &gatewayTranslator{
		s: s, st: st, g: g, key: model.KeyOf(g),
		proxyless: g.GetSpec().GetMode() == model.GatewayModeProxyless,
		clusters:  map[string]*ir.Cluster{}, rejected: map[string]bool{}, secrets: map[string]*ir.Secret{},
		implicit: map[string]bool{},
	}
}

// translate builds the configuration of t's gateway from t.apis.
func (t *gatewayTranslator) translate() *GatewayConfig {
	gw := t.toIRGateway()
	cfg := &GatewayConfig{Name: gw.Name, Mode: t.g.GetSpec().GetMode(), Resources: map[string][]Resource{}}
	if err := gw.Validate(); err != nil {
		t.st.problem(t.key, "", invalidIRMessage(err))
		return cfg
	}
	buildGateway(gw, t.st, cfg)
	return cfg
}

// invalidIRMessage is the Gateway's problem when its IR fails validation.
func invalidIRMessage(err error) string {
	return fmt.Sprintf("internal error: the translator built an invalid configuration (%v); "+
		"nothing is served for this gateway; please report it", err)
}

// toIRGateway converts the gateway, the APIs attached to it and everything
// they reference.
func (t *gatewayTranslator) toIRGateway() *ir.Gateway {
	gw := &ir.Gateway{Name: t.g.GetMetadata().GetName(), Proxyless: t.proxyless}
	if t.proxyless {
		gw.Listeners, gw.RouteConfigs = t.toIRAPIListeners()
		gw.Listeners = append(gw.Listeners, t.toIRGRPCListeners()...)
	} else {
		gw.Listeners, gw.RouteConfigs, gw.Scopes = t.toIRListeners()
	}
	for _, c := range t.clusters {
		gw.Clusters = append(gw.Clusters, *c)
	}
	for _, s := range t.secrets {
		gw.Secrets = append(gw.Secrets, *s)
	}
	slices.SortFunc(gw.Listeners, func(a, b ir.Listener) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(gw.RouteConfigs, func(a, b ir.RouteConfig) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(gw.Clusters, func(a, b ir.Cluster) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(gw.Secrets, func(a, b ir.Secret) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(gw.Scopes, func(a, b ir.Scope) int { return cmp.Compare(a.Name, b.Name) })
	return gw
}

// clusterFor returns the cluster of a Service, converting it on first use;
// ok is false when the Service cannot be used on this gateway (the reason
// is on the Service's status).
func (t *gatewayTranslator) clusterFor(service string) (string, bool) {
	name := clusterName(service)
	if t.rejected[service] {
		return "", false
	}
	if _, done := t.clusters[name]; done {
		return name, true
	}
	svc, ok := t.s.services[service]
	if !ok { // the store's referential integrity makes this unreachable
		t.rejected[service] = true
		return "", false
	}
	c, v := t.toIRCluster(svc)
	if v != nil {
		t.rejected[service] = true
		t.st.servicesDropped[service]++
		if v.pending {
			t.st.warn(model.KeyOf(svc), v.path, v.msg)
		} else {
			t.st.problem(model.KeyOf(svc), v.path, v.msg)
		}
		return "", false
	}
	t.st.servicesOut[service]++
	t.clusters[name] = c
	return name, true
}

// secretFor returns the SDS name of a Secret, adding it to the gateway.
func (t *gatewayTranslator) secretFor(secret string) string {
	name := secretName(secret)
	if _, done := t.secrets[name]; done {
		return name
	}
	t.secrets[name] = toIRSecret(secret, t.s.secrets[secret])
	return name
}

// toIRSecret converts the Secret named secret (sec, which the store's
// referential integrity guarantees).
func toIRSecret(secret string, sec *tollgatev1.Secret) *ir.Secret {
	spec := sec.GetSpec()
	return &ir.Secret{
		Name:             secretName(secret),
		Source:           ir.Source{Kind: string(model.KindSecret), Name: secret},
		CertificateChain: spec.GetCertificate(),
		PrivateKey:       spec.GetPrivateKey(),
		CABundle:         spec.GetCaBundle(),
	}
}

func (t *gatewayTranslator) gatewaySource() ir.Source {
	return ir.Source{Kind: string(model.KindGateway), Name: t.key.Name}
}
