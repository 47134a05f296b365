package pki

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// tlsCert issues a TLS certificate the way the control plane and a proxy
// get theirs: a fresh key and a leaf for id from ca.
func tlsCert(t *testing.T, ca *CA, id string, ips []net.IP) tls.Certificate {
	t.Helper()
	certPEM, keyPEM, err := ca.Issue(id, nil, ips, time.Now(), time.Hour)
	require.NoError(t, err)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return cert
}

func caPool(t *testing.T, ca *CA) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca.CertPEM()))
	return pool
}

// handshake runs one mutual-TLS handshake over loopback and returns the
// server's view: the client's gateway, or the server's handshake error.
func handshake(t *testing.T, serverCA *CA, client tls.Certificate) (string, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })

	serverCfg := &tls.Config{
		Certificates: []tls.Certificate{tlsCert(t, serverCA, ControlPlaneID("td"), []net.IP{net.IPv4(127, 0, 0, 1)})},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    caPool(t, serverCA),
		MinVersion:   tls.VersionTLS13,
	}
	type result struct {
		gateway string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		tc := tls.Server(conn, serverCfg)
		if err := tc.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		gw, err := GatewayOf(tc.ConnectionState().PeerCertificates[0], "td")
		_, _ = tc.Write([]byte("ok"))
		done <- result{gateway: gw, err: err}
	}()

	clientCfg := &tls.Config{
		Certificates: []tls.Certificate{client},
		RootCAs:      caPool(t, serverCA),
		ServerName:   "127.0.0.1",
		MinVersion:   tls.VersionTLS13,
	}
	conn, err := tls.Dial("tcp", ln.Addr().String(), clientCfg)
	require.NoError(t, err, "the client trusts the server")
	defer conn.Close()
	// In TLS 1.3 the server checks the client's certificate after the
	// client's handshake completes, so a refusal shows up on the first read.
	_, _ = conn.Read(make([]byte, 2))

	select {
	case r := <-done:
		return r.gateway, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("server handshake did not finish")
		return "", nil
	}
}

func TestMutualTLS(t *testing.T) {
	ca, err := NewCA("td", time.Now(), time.Hour)
	require.NoError(t, err)
	gw, err := handshake(t, ca, tlsCert(t, ca, GatewayID("td", "edge"), nil))
	require.NoError(t, err)
	require.Equal(t, "edge", gw)
}

func TestMutualTLSRefusesOtherCA(t *testing.T) {
	ca, err := NewCA("td", time.Now(), time.Hour)
	require.NoError(t, err)
	rogue, err := NewCA("td", time.Now(), time.Hour)
	require.NoError(t, err)
	gw, err := handshake(t, ca, tlsCert(t, rogue, GatewayID("td", "edge"), nil))
	require.ErrorContains(t, err, "certificate signed by unknown authority")
	require.Empty(t, gw)
}
