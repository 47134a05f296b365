package ca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/pki"
	"tollgate.dev/tollgate/internal/store"
)

const td = "example.test"

// clock is a settable test clock.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Now().UnixNano())
	return c
}
func (c *clock) now() time.Time        { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) add(d time.Duration)   { c.t.Add(int64(d)) }
func sealKey(t *testing.T) pki.SealKey { k, err := pki.NewSealKey(); require.NoError(t, err); return k }

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	b, err := store.OpenBolt(path)
	require.NoError(t, err)
	st, err := store.Open(b)
	require.NoError(t, err)
	return st
}

func apply(t *testing.T, st *store.Store, yaml string) {
	t.Helper()
	objs, vs := model.DecodeAndValidate([]byte(yaml))
	require.Empty(t, vs)
	changes := make([]store.Change, len(objs))
	for i, o := range objs {
		changes[i] = store.Change{Op: store.OpPut, Object: o}
	}
	_, err := st.Apply(context.Background(), changes, store.ApplyOptions{})
	require.NoError(t, err)
}

const gateways = `
apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: edge}
spec: {mode: ingress, listeners: [{name: http, port: 8080, protocol: HTTP}]}
---
apiVersion: tollgate.dev/v1
kind: Gateway
metadata: {name: clients}
spec: {mode: proxyless}
`

func TestBuiltinCAPersistsSealed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	st := openStore(t, path)
	key := sealKey(t)
	a, err := Open(Options{Store: st, TrustDomain: td, SealKey: key, TTL: time.Hour})
	require.NoError(t, err)
	bundle := a.Bundle()
	raw, err := st.GetSystem(systemKeyCA)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "PRIVATE KEY", "the CA key is sealed in the store")
	require.NoError(t, st.Close())

	st = openStore(t, path)
	defer st.Close()
	again, err := Open(Options{Store: st, TrustDomain: td, SealKey: key, TTL: time.Hour})
	require.NoError(t, err)
	require.Equal(t, string(bundle), string(again.Bundle()), "a restart keeps the CA")

	_, err = Open(Options{Store: st, TrustDomain: td, SealKey: sealKey(t), TTL: time.Hour})
	require.ErrorIs(t, err, pki.ErrWrongSealKey, "another seal key is an error, never a new CA")
	_, err = Open(Options{Store: st, TrustDomain: "other.test", SealKey: key, TTL: time.Hour})
	require.ErrorContains(t, err, "trust domain")
}

func newAuthority(t *testing.T, c *clock) (*Authority, *store.Store) {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "store.db"))
	t.Cleanup(func() { _ = st.Close() })
	apply(t, st, gateways)
	a, err := Open(Options{Store: st, TrustDomain: td, SealKey: sealKey(t), TTL: 3 * time.Hour, Now: c.now})
	require.NoError(t, err)
	return a, st
}

func csr(t *testing.T) []byte {
	t.Helper()
	_, c, err := pki.NewKeyAndCSR("proxy")
	require.NoError(t, err)
	return c
}

func TestIssue(t *testing.T) {
	a, _ := newAuthority(t, newClock())
	certPEM, err := a.Issue(context.Background(), "edge", csr(t))
	require.NoError(t, err)
	cert, err := pki.ParseCertPEM(certPEM)
	require.NoError(t, err)
	gw, err := a.GatewayOf(cert)
	require.NoError(t, err)
	require.Equal(t, "edge", gw)

	_, err = a.Issue(context.Background(), "nope", csr(t))
	require.ErrorIs(t, err, ErrUnknownGateway)
	_, err = a.Issue(context.Background(), "edge", []byte("not a csr"))
	require.ErrorIs(t, err, ErrInvalidCSR)
}

func TestJoinTokenIsOneTime(t *testing.T) {
	c := newClock()
	a, _ := newAuthority(t, c)
	ctx := context.Background()
	tok, _, err := a.NewJoinToken(ctx, "edge", time.Hour)
	require.NoError(t, err)

	_, _, err = a.Join(ctx, tok, []byte("garbage"))
	require.ErrorIs(t, err, ErrInvalidCSR)

	// Ten proxies race with one token: exactly one certificate.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			gw, cert, err := a.Join(ctx, tok, csr(t))
			if err == nil {
				require.Equal(t, "edge", gw)
				require.NotEmpty(t, cert)
				wins.Add(1)
				return
			}
			require.ErrorIs(t, err, ErrBadJoinToken)
		})
	}
	wg.Wait()
	require.EqualValues(t, 1, wins.Load(), "a bad CSR does not burn the token; the token works exactly once")

	expiring, _, err := a.NewJoinToken(ctx, "edge", time.Minute)
	require.NoError(t, err)
	c.add(2 * time.Minute)
	_, _, err = a.Join(ctx, expiring, csr(t))
	require.ErrorIs(t, err, ErrBadJoinToken)
	_, _, err = a.Join(ctx, "tgj_made-up", csr(t))
	require.ErrorIs(t, err, ErrBadJoinToken)

	_, _, err = a.NewJoinToken(ctx, "nope", time.Hour)
	require.ErrorIs(t, err, ErrUnknownGateway)
	_, _, err = a.NewJoinToken(ctx, "edge", 48*time.Hour)
	require.Error(t, err)
}

func TestIdentitiesIssuedRenewedAndRemoved(t *testing.T) {
	// The store checks certificates against the wall clock, so the test
	// clock starts in the past and catches up with it to renew.
	c := newClock()
	c.add(-2 * time.Hour)
	a, st := newAuthority(t, c)
	ctx := context.Background()

	identity := func() *x509.Certificate {
		s, err := st.Read().Secret(nil, model.IdentitySecretName("edge"))
		require.NoError(t, err)
		require.NotNil(t, s)
		cert, err := pki.ParseCertPEM([]byte(s.GetSpec().GetCertificate()))
		require.NoError(t, err)
		return cert
	}
	next, err := a.reconcileIdentities(ctx, nil)
	require.NoError(t, err)
	first := identity()
	require.Equal(t, pki.RenewAt(first), next, "the loop wakes when the identity is due")
	gw, err := a.GatewayOf(first)
	require.NoError(t, err)
	require.Equal(t, "edge", gw)
	ca, err := st.Read().Secret(nil, model.IdentityCASecretName)
	require.NoError(t, err)
	require.Equal(t, a.bundleText(), ca.GetSpec().GetCaBundle())
	none, err := st.Read().Secret(nil, model.IdentitySecretName("clients"))
	require.NoError(t, err)
	require.Nil(t, none, "proxyless gateways read their identity from files")

	rev := st.Revision()
	_, err = a.reconcileIdentities(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, rev, st.Revision(), "nothing due: no write")

	c.add(2*time.Hour + time.Minute) // past two thirds of 3h
	_, err = a.reconcileIdentities(ctx, nil)
	require.NoError(t, err)
	require.NotEqual(t, first.SerialNumber, identity().SerialNumber, "renewed when due")

	_, err = st.Apply(ctx, []store.Change{{Op: store.OpDelete, Key: model.Key{Kind: model.KindGateway, Name: "edge"}}}, store.ApplyOptions{})
	require.NoError(t, err)
	_, err = a.reconcileIdentities(ctx, nil)
	require.NoError(t, err)
	gone, err := st.Read().Secret(nil, model.IdentitySecretName("edge"))
	require.NoError(t, err)
	require.Nil(t, gone, "deleted with its gateway")
}

func TestRunIdentitiesFollowsTheStore(t *testing.T) {
	a, st := newAuthority(t, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.RunIdentities(ctx) }()
	apply(t, st, "apiVersion: tollgate.dev/v1\nkind: Gateway\nmetadata: {name: later}\nspec: {mode: egress, listeners: [{name: out, port: 15001, protocol: HTTP}]}\n")
	require.Eventually(t, func() bool {
		s, err := st.Read().Secret(nil, model.IdentitySecretName("later"))
		return err == nil && s != nil
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestServerTLSVerifiesClients(t *testing.T) {
	a, _ := newAuthority(t, newClock())
	ln, err := tls.Listen("tcp", "127.0.0.1:0", a.ServerTLS(nil, tls.RequireAndVerifyClientCert))
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = conn.(*tls.Conn).Handshake(); _ = conn.Close() }()
		}
	}()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.Bundle())
	keyPEM, csrPEM, err := pki.NewKeyAndCSR("p")
	require.NoError(t, err)
	certPEM, err := a.Issue(context.Background(), "edge", csrPEM)
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)

	dial := func(certs []tls.Certificate) error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(),
			&tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: certs})
		if err != nil {
			return err
		}
		defer conn.Close()
		// TLS 1.3 reports a refused client certificate on the first read.
		_, err = conn.Read(make([]byte, 1))
		if errors.Is(err, net.ErrClosed) || err == nil || err.Error() == "EOF" {
			return nil
		}
		return err
	}
	require.NoError(t, dial([]tls.Certificate{pair}), "the control plane's certificate verifies for localhost")
	require.Error(t, dial(nil), "no client certificate is refused")
}

// TestExpiredJoinTokensAreSwept: the store does not keep tokens that can
// no longer be spent.
func TestExpiredJoinTokensAreSwept(t *testing.T) {
	c := newClock()
	a, st := newAuthority(t, c)
	ctx := context.Background()
	for range 3 {
		_, _, err := a.NewJoinToken(ctx, "edge", time.Minute)
		require.NoError(t, err)
	}
	c.add(2 * time.Minute)
	live, _, err := a.NewJoinToken(ctx, "edge", time.Hour)
	require.NoError(t, err)
	raw, err := st.GetSystem(systemKeyJoinTokens)
	require.NoError(t, err)
	var held map[string]joinToken
	require.NoError(t, json.Unmarshal(raw, &held))
	require.Len(t, held, 1, "only the live token is kept")
	require.NotContains(t, string(raw), live, "only hashes are stored")
	_, _, err = a.Join(ctx, live, csr(t))
	require.NoError(t, err)
}

// TestCARotation walks the three steps, checking whom each trusts and who
// signs, that a restart in the middle resumes, and that Envoy gateway
// identities follow the signer.
func TestCARotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	st := openStore(t, path)
	apply(t, st, gateways)
	key := sealKey(t)
	open := func(st *store.Store) *Authority {
		a, err := Open(Options{Store: st, TrustDomain: td, SealKey: key, TTL: time.Hour})
		require.NoError(t, err)
		return a
	}
	a := open(st)
	ctx := context.Background()
	old := a.signer().Certificate()
	count := func(a *Authority) int { return strings.Count(string(a.Bundle()), "BEGIN CERTIFICATE") }
	_, err := a.reconcileIdentities(ctx, nil)
	require.NoError(t, err)
	identitySerial := func() string {
		s, err := st.Read().Secret(nil, model.IdentitySecretName("edge"))
		require.NoError(t, err)
		c, err := pki.ParseCertPEM([]byte(s.GetSpec().GetCertificate()))
		require.NoError(t, err)
		return c.SerialNumber.String()
	}
	before := identitySerial()

	require.ErrorIs(t, a.RotateCA(ctx, PhaseActivate), ErrRotation, "nothing prepared")
	require.ErrorIs(t, a.RotateCA(ctx, PhaseRetire), ErrRotation, "nothing to retire")
	changed := a.Changed()
	require.NoError(t, a.RotateCA(ctx, PhasePrepare))
	<-changed // the identity loop is woken
	require.Equal(t, 2, count(a), "old and new trusted")
	require.True(t, a.signer().Certificate().Equal(old), "the old CA still signs")
	require.ErrorIs(t, a.RotateCA(ctx, PhasePrepare), ErrRotation, "one rotation at a time")
	_, err = a.reconcileIdentities(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, before, identitySerial(), "preparing re-issues nothing")
	bundle, err := st.Read().Secret(nil, model.IdentityCASecretName)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(bundle.GetSpec().GetCaBundle(), "BEGIN CERTIFICATE"), "the bundle Secret trusts both")

	// A restart between steps resumes the rotation.
	require.NoError(t, st.Close())
	st = openStore(t, path)
	a = open(st)
	require.Equal(t, 2, count(a))

	require.NoError(t, a.RotateCA(ctx, PhaseActivate))
	require.False(t, a.signer().Certificate().Equal(old), "the new CA signs")
	require.Equal(t, 2, count(a), "the old CA is still trusted")
	_, err = a.reconcileIdentities(ctx, nil)
	require.NoError(t, err)
	require.NotEqual(t, before, identitySerial(), "identities follow the new signer")

	require.NoError(t, a.RotateCA(ctx, PhaseRetire))
	require.Equal(t, 1, count(a))
	require.NoError(t, st.Close())
	st2 := openStore(t, path)
	defer st2.Close()
	after := open(st2)
	require.Equal(t, string(a.Bundle()), string(after.Bundle()), "the finished rotation survives a restart")
}
