package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"tollgate.dev/tollgate/internal/model"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Fixtures. Every object is valid by the rules in the proto comments, so the
// tests hold whatever the per-kind validators check.

func meta(name string) *tollgatev1.ObjectMeta { return &tollgatev1.ObjectMeta{Name: name} }

func gateway(name string) *tollgatev1.Gateway {
	return &tollgatev1.Gateway{
		ApiVersion: model.APIVersion, Kind: string(model.KindGateway), Metadata: meta(name),
		Spec: &tollgatev1.GatewaySpec{Mode: "ingress", Listeners: []*tollgatev1.Listener{{Name: "http", Port: 8080, Protocol: "HTTP"}}},
	}
}

// httpsGateway serves HTTPS with the tls secret cert and verifies clients
// against the ca secret ca.
func httpsGateway(name, cert, ca string) *tollgatev1.Gateway {
	g := gateway(name)
	g.Spec.Listeners = append(g.Spec.Listeners, &tollgatev1.Listener{
		Name: "https", Port: 8443, Protocol: "HTTPS",
		Tls: &tollgatev1.ListenerTLS{
			Certificates:     []*tollgatev1.ServerCertificate{{Secret: cert}},
			ClientValidation: &tollgatev1.ClientValidation{Mode: "required", CaSecret: ca},
		},
	})
	return g
}

// tcpGateway forwards a TCP listener to the service backend.
func tcpGateway(name, backend string) *tollgatev1.Gateway {
	g := gateway(name)
	g.Spec.Listeners = append(g.Spec.Listeners, &tollgatev1.Listener{
		Name: "tcp", Port: 9000, Protocol: "TCP",
		Backend: &tollgatev1.BackendRef{Service: backend},
	})
	return g
}

func service(name string) *tollgatev1.Service {
	return &tollgatev1.Service{
		ApiVersion: model.APIVersion, Kind: string(model.KindService), Metadata: meta(name),
		Spec: &tollgatev1.ServiceSpec{Endpoints: []*tollgatev1.Endpoint{{Address: "10.0.0.1", Port: 8080}}},
	}
}

// tlsService originates TLS, trusting the ca secret ca.
func tlsService(name, ca string) *tollgatev1.Service {
	s := service(name)
	s.Spec.Tls = &tollgatev1.UpstreamTLS{Sni: name + ".internal", CaSecret: ca}
	return s
}

// api exposes routes r1, r2, … on the gateways; route i sends to services[i].
func api(name string, gateways []string, services ...string) *tollgatev1.API {
	a := &tollgatev1.API{
		ApiVersion: model.APIVersion, Kind: string(model.KindAPI), Metadata: meta(name),
		Spec: &tollgatev1.APISpec{Gateways: gateways},
	}
	for i, svc := range services {
		a.Spec.Routes = append(a.Spec.Routes, &tollgatev1.Route{
			Name:     fmt.Sprintf("r%d", i+1),
			Match:    &tollgatev1.RouteMatch{PathPrefix: fmt.Sprintf("/%s/%d", name, i+1)},
			Backends: []*tollgatev1.BackendRef{{Service: svc}},
		})
	}
	if len(services) > 0 {
		a.Spec.Routes[0].Match.PathPrefix = "/"
	}
	return a
}

// policy attaches to kind/target (narrowed to route if set) a body that
// kind accepts: a request timeout, or a circuit breaker for a Service.
func policy(name string, kind model.Kind, target, route string) *tollgatev1.Policy {
	p := &tollgatev1.Policy{
		ApiVersion: model.APIVersion, Kind: string(model.KindPolicy), Metadata: meta(name),
		Spec: &tollgatev1.PolicySpec{TargetRef: &tollgatev1.TargetRef{Kind: string(kind), Name: target, Route: route}},
	}
	if kind == model.KindService {
		p.Spec.CircuitBreaker = &tollgatev1.CircuitBreaker{MaxConnections: 100}
	} else {
		p.Spec.Timeout = &tollgatev1.TimeoutPolicy{Request: "5s"}
	}
	return p
}

func caSecret(name string) *tollgatev1.Secret {
	c := testCerts()
	return &tollgatev1.Secret{
		ApiVersion: model.APIVersion, Kind: string(model.KindSecret), Metadata: meta(name),
		Spec: &tollgatev1.SecretSpec{Type: model.SecretTypeCA, CaBundle: c.caPEM},
	}
}

func tlsSecret(name string) *tollgatev1.Secret {
	c := testCerts()
	return &tollgatev1.Secret{
		ApiVersion: model.APIVersion, Kind: string(model.KindSecret), Metadata: meta(name),
		Spec: &tollgatev1.SecretSpec{Type: model.SecretTypeTLS, Certificate: c.leafPEM, PrivateKey: c.keyPEM},
	}
}

type certs struct{ caPEM, leafPEM, keyPEM string }

var (
	certsOnce sync.Once
	certsVal  certs
)

// testCerts is a CA and a leaf it signed, valid from an hour ago for a year.
func testCerts() certs {
	certsOnce.Do(func() {
		caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		now := time.Now()
		caTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Tollgate Test CA"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, IsCA: true, BasicConstraintsValid: true,
		}
		caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
		ca, _ := x509.ParseCertificate(caDER)
		leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		leafTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "shop.example.com"},
			DNSNames: []string{"shop.example.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		leafDER, _ := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
		keyDER, _ := x509.MarshalPKCS8PrivateKey(leafKey)
		certsVal = certs{
			caPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
			leafPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})),
			keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		}
	})
	return certsVal
}

// baseObjects is a small, complete configuration: gateway edge, service
// orders, API shop (route r1 → orders) on edge.
func baseObjects() []model.Object {
	return []model.Object{gateway("edge"), service("orders"), api("shop", []string{"edge"}, "orders")}
}

func puts(objs ...model.Object) []Change {
	cs := make([]Change, len(objs))
	for i, o := range objs {
		cs[i] = Change{Op: OpPut, Object: o, Document: i + 1}
	}
	return cs
}

func del(kind model.Kind, name string) Change {
	return Change{Op: OpDelete, Key: model.Key{Kind: kind, Name: name}}
}

// newStore opens a store on a fresh bolt file.
func newStore(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "store.db")
	return openStore(t, path), path
}

func openStore(t testing.TB, path string) *Store {
	t.Helper()
	b, err := OpenBolt(path)
	require.NoError(t, err)
	st, err := Open(b)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func mustApply(t testing.TB, st *Store, changes []Change, opts ApplyOptions) Result {
	t.Helper()
	res, err := st.Apply(context.Background(), changes, opts)
	require.NoError(t, err)
	return res
}

// dump is every stored object, in kind then name order.
func dump(t testing.TB, st *Store) []model.Object {
	t.Helper()
	r := st.Read()
	var all []model.Object
	for _, k := range model.Kinds {
		objs, err := r.List(nil, k)
		require.NoError(t, err)
		all = append(all, objs...)
	}
	return all
}

// requireSameState asserts two dumps are equal, protos compared as protos.
// proto.Equal decides (it is cheap); cmp.Diff explains a difference.
func requireSameState(t testing.TB, want, got []model.Object) {
	t.Helper()
	same := len(want) == len(got)
	for i := 0; same && i < len(want); i++ {
		same = proto.Equal(want[i], got[i])
	}
	if !same {
		t.Fatalf("state differs (-want +got):\n%s", cmp.Diff(want, got, protocmp.Transform()))
	}
}

func keysOf(objs []model.Object) []string {
	ks := make([]string, len(objs))
	for i, o := range objs {
		ks[i] = model.KeyOf(o).String()
	}
	return ks
}

func actions(res Result) map[string]Action {
	m := map[string]Action{}
	for _, o := range res.Objects {
		m[string(o.Kind)+"/"+o.Name] = o.Action
	}
	return m
}
