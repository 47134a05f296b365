package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/bootstrap"
	"tollgate.dev/tollgate/internal/client"
	"tollgate.dev/tollgate/internal/pki"
)

func newCertsCmd(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Issue, join with and renew proxy identities (certificates from the control plane's CA)",
		Long: "A proxy's identity is a certificate for spiffe://<trust-domain>/gateway/<gateway>, signed by the\n" +
			"control plane's CA. It authenticates the proxy on the xDS channel (where it must match the\n" +
			"gateway the proxy claims) and, for proxyless gRPC, in the data plane. The key is made where the\n" +
			"command runs and never leaves it: only a certificate request is sent. Files written to --out:\n" +
			"cert.pem, key.pem (0600), ca.pem, and the two path-based SDS files an Envoy bootstrap made with\n" +
			"`controlplane bootstrap --cert-dir` reads.",
	}
	cmd.AddCommand(newCertsIssueCmd(e), newCertsJoinTokenCmd(e), newCertsJoinCmd(e), newCertsRenewCmd(e))
	return cmd
}

func newCertsIssueCmd(e env) *cobra.Command {
	var gateway, out string
	cmd := &cobra.Command{
		Use:   "issue --gateway NAME --out DIR",
		Short: "Issue a certificate for a gateway's proxies (admin role)",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&gateway, "gateway", "", "Gateway the identity is for (required)")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the identity to (required)")
	conn := addConnFlags(cmd, e)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if gateway == "" || out == "" {
			return errors.New("--gateway and --out are required")
		}
		c, err := conn.newClient(e)
		if err != nil {
			return err
		}
		return obtain(cmd.Context(), e, out, gateway, func(ctx context.Context, csr []byte) (client.Certificate, error) {
			return c.IssueCertificate(ctx, gateway, csr)
		})
	}
	return cmd
}

func newCertsJoinTokenCmd(e env) *cobra.Command {
	var gateway string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "join-token --gateway NAME [--ttl 1h]",
		Short: "Create a one-time token with which one new proxy obtains its certificate (admin role)",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&gateway, "gateway", "", "Gateway the new proxy belongs to (required)")
	cmd.Flags().DurationVar(&ttl, "ttl", time.Hour, "how long the token stays usable (at most 24h)")
	conn := addConnFlags(cmd, e)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if gateway == "" {
			return errors.New("--gateway is required")
		}
		c, err := conn.newClient(e)
		if err != nil {
			return err
		}
		tok, err := c.NewJoinToken(cmd.Context(), gateway, ttl)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", tok.Token)
		fmt.Fprintf(e.stderr, "one-time join token for gateway %q, valid until %s; on the new proxy run:\n"+
			"  controlplane certs join --server %s --ca-sha256 %s --join-token <token> --out <dir>\n",
			tok.Gateway, tok.Expires.Format(time.RFC3339), conn.server, tok.CASHA256)
		return nil
	}
	return cmd
}

func newCertsJoinCmd(e env) *cobra.Command {
	var token, pin, out string
	cmd := &cobra.Command{
		Use:   "join --join-token TOKEN --ca-sha256 HEX --out DIR --server URL",
		Short: "Obtain this proxy's certificate with a one-time join token",
		Long: "Spends a join token (from `certs join-token`) for a certificate of the token's gateway. The\n" +
			"control plane is trusted by the SHA-256 fingerprint of its CA (--ca-sha256, printed with the\n" +
			"token) or by --ca-file, so the token is never sent to an impostor.",
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&token, "join-token", envOr(e, "CONTROLPLANE_JOIN_TOKEN", ""), "the one-time join token (env CONTROLPLANE_JOIN_TOKEN)")
	cmd.Flags().StringVar(&pin, "ca-sha256", "", "hex SHA-256 of the control plane's CA certificate")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the identity to (required)")
	conn := addConnFlags(cmd, e)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if token == "" || out == "" {
			return errors.New("--join-token and --out are required")
		}
		if pin != "" {
			caFile, err := fetchPinnedCA(cmd.Context(), e, conn.server, pin, out)
			if err != nil {
				return err
			}
			conn.caFile = caFile
		}
		// No bearer token: the join token is the credential, and the
		// local admin token must never go to the server being joined.
		conf, err := conn.tlsConfig()
		if err != nil {
			return err
		}
		c, err := client.New(conn.server, withTLS(e.http, conf))
		if err != nil {
			return err
		}
		return obtain(cmd.Context(), e, out, "", func(ctx context.Context, csr []byte) (client.Certificate, error) {
			return c.Join(ctx, token, csr)
		})
	}
	return cmd
}

func newCertsRenewCmd(e env) *cobra.Command {
	var dir string
	var watch bool
	cmd := &cobra.Command{
		Use:   "renew --dir DIR [--watch]",
		Short: "Renew the identity in DIR with itself, once or (with --watch) whenever it is due",
		Long: "Authenticates with the certificate in DIR (mutual TLS) and has the CA sign a fresh key for the\n" +
			"same identity. With --watch it keeps running and renews each time two thirds of the lifetime\n" +
			"has passed: run it beside every proxy whose identity lives in files (proxyless gRPC, the Envoy\n" +
			"xDS channel); the clients re-read the files without restarting.",
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory holding cert.pem, key.pem and ca.pem (required)")
	cmd.Flags().BoolVar(&watch, "watch", false, "keep running, renewing whenever due")
	conn := addConnFlags(cmd, e)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if dir == "" {
			return errors.New("--dir is required")
		}
		for {
			next, err := renewOnce(cmd.Context(), e, conn, dir, !watch)
			if err != nil && !watch {
				return err
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "renewal failed, retrying in 30s: %v\n", err)
				next = time.Now().Add(30 * time.Second)
			}
			if !watch {
				return nil
			}
			select {
			case <-cmd.Context().Done():
				return nil
			case <-time.After(time.Until(next)):
			}
		}
	}
	return cmd
}

// renewOnce renews the identity in dir if due (or always when force) and
// returns when the next renewal is due.
func renewOnce(ctx context.Context, e env, conn *connFlags, dir string, force bool) (time.Time, error) {
	certPEM, keyPEM, caPEM, err := pki.ReadFiles(dir)
	if err != nil {
		return time.Time{}, err
	}
	cert, err := pki.ParseCertPEM(certPEM)
	if err != nil {
		return time.Time{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return time.Time{}, fmt.Errorf("the identity in %s: %w", dir, err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	c, err := client.New(conn.server, withTLS(e.http, &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{pair}}))
	if err != nil {
		return time.Time{}, err
	}
	// A CA rotation changes whom to trust (which must reach this proxy
	// before the new CA signs its peers) and, once activated, who signs:
	// an identity from the old signer is renewed at once.
	signer, err := refreshBundle(ctx, c, dir, certPEM, keyPEM, caPEM)
	if err != nil {
		return time.Time{}, err
	}
	fromSigner := signer == nil || cert.CheckSignatureFrom(signer) == nil
	if !force && fromSigner && !pki.NeedsRenewal(cert, time.Now()) {
		return minTime(pki.RenewAt(cert), time.Now().Add(bundleRefresh)), nil
	}
	var renewed time.Time
	err = obtain(ctx, e, dir, "", func(ctx context.Context, csr []byte) (client.Certificate, error) {
		got, err := c.Renew(ctx, csr)
		if err == nil {
			if leaf, perr := pki.ParseCertPEM([]byte(got.Certificate)); perr == nil {
				renewed = pki.RenewAt(leaf)
			}
		}
		return got, err
	})
	return renewed, err
}

// bundleRefresh is how often `certs renew --watch` re-reads the trust
// bundle between renewals: a CA rotation step must reach the proxies
// before the next one is run.
const bundleRefresh = time.Minute

// refreshBundle rewrites ca.pem in dir when the control plane's trust
// bundle changed (a CA rotation), keeping the certificate and key, and
// returns the signing CA: the bundle's first certificate.
func refreshBundle(ctx context.Context, c *client.Client, dir string, certPEM, keyPEM, caPEM []byte) (*x509.Certificate, error) {
	info, err := c.CA(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the trust bundle: %w", err)
	}
	if info.CABundle == "" {
		return nil, nil
	}
	if strings.TrimSpace(info.CABundle) != strings.TrimSpace(string(caPEM)) {
		if err := pki.WriteFiles(dir, certPEM, keyPEM, []byte(info.CABundle)); err != nil {
			return nil, err
		}
	}
	return pki.ParseCertPEM([]byte(info.CABundle))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// obtain makes a key and a CSR, has sign turn the CSR into a certificate,
// and writes the identity and Envoy's SDS files to dir.
func obtain(ctx context.Context, e env, dir, gateway string, sign func(context.Context, []byte) (client.Certificate, error)) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	keyPEM, csrPEM, err := pki.NewKeyAndCSR("tollgate-proxy")
	if err != nil {
		return err
	}
	got, err := sign(ctx, csrPEM)
	if err != nil {
		return err
	}
	if err := pki.WriteFiles(abs, []byte(got.Certificate), keyPEM, []byte(got.CABundle)); err != nil {
		return err
	}
	sds, err := bootstrap.EnvoySDSFiles(abs)
	if err != nil {
		return err
	}
	for name, data := range sds {
		if err := os.WriteFile(filepath.Join(abs, name), data, 0o644); err != nil { //nolint:gosec // names files, no secrets
			return err
		}
	}
	if gateway == "" {
		gateway = got.Gateway
	}
	cert, err := pki.ParseCertPEM([]byte(got.Certificate))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "identity of gateway %q written to %s (valid until %s)\n", gateway, abs, cert.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// fetchPinnedCA reads the CA bundle from the server without trusting it
// yet, checks its first certificate against pin, and saves it in dir as
// the CA to verify the server with from then on.
func fetchPinnedCA(ctx context.Context, e env, server, pin, dir string) (string, error) {
	want, err := hex.DecodeString(strings.ToLower(strings.ReplaceAll(pin, ":", "")))
	if err != nil || len(want) != sha256.Size {
		return "", errors.New("--ca-sha256 must be 64 hex digits (printed by `certs join-token`)")
	}
	// Unverified on purpose: the pin below is the verification.
	insecureClient := withTLS(e.http, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec // verified by the pin
	c, err := client.New(server, insecureClient)
	if err != nil {
		return "", err
	}
	info, err := c.CA(ctx)
	if err != nil {
		return "", fmt.Errorf("read the control plane's CA: %w", err)
	}
	block, _ := pem.Decode([]byte(info.CABundle))
	if block == nil {
		return "", errors.New("the control plane sent no CA certificate")
	}
	got := sha256.Sum256(block.Bytes)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return "", fmt.Errorf("the control plane's CA has fingerprint %s, not the pinned %s: refusing to send the token", hex.EncodeToString(got[:]), pin)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, pki.CAFile)
	return path, os.WriteFile(path, []byte(info.CABundle), 0o644) //nolint:gosec // a CA certificate is public
}
