package app

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"

	"tollgate.dev/tollgate/internal/admin"
	"tollgate.dev/tollgate/internal/audit"
	"tollgate.dev/tollgate/internal/ca"
	"tollgate.dev/tollgate/internal/config"
	"tollgate.dev/tollgate/internal/pki"
	"tollgate.dev/tollgate/internal/xds"
)

// security is everything the listeners need to be protected: built once
// at start from the settings.
type security struct {
	ca       *ca.Authority
	insecure bool
	auth     admin.Authenticator
	audit    *audit.Log
	names    []string // extra names of the serving certificate
}

// setupSecurity opens the CA (creating the built-in one on first start),
// the audit log and the admin credentials. In insecure mode the CA still
// runs (gateway identities, `certs issue`), but nothing is enforced.
func (a *App) setupSecurity() (*security, error) {
	key, err := sealKey(a.cfg, a.log)
	if err != nil {
		return nil, err
	}
	opts := ca.Options{
		Store: a.st, TrustDomain: a.cfg.CA.TrustDomain, SealKey: key, TTL: a.cfg.CA.CertLifetime(),
		Logger: a.log,
	}
	if a.cfg.CA.Mode == config.CAModeFile {
		if opts.CertPEM, err = os.ReadFile(a.cfg.CA.CertFile); err != nil {
			return nil, fmt.Errorf("ca.certFile: %w", err)
		}
		if opts.KeyPEM, err = os.ReadFile(a.cfg.CA.KeyFile); err != nil {
			return nil, fmt.Errorf("ca.keyFile: %w", err)
		}
	}
	authority, err := ca.Open(opts)
	if err != nil {
		if errors.Is(err, pki.ErrWrongSealKey) {
			return nil, fmt.Errorf("%w; set ca.sealKey (CONTROLPLANE_CA_SEAL_KEY) to the key used when the CA was created", err)
		}
		return nil, err
	}
	if err := writeBundle(a.cfg.CABundlePath(), authority.Bundle()); err != nil {
		return nil, err
	}
	log, err := audit.Open(a.cfg.AuditLogPath())
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	sec := &security{ca: authority, insecure: a.cfg.Security.Insecure, audit: log, names: a.cfg.Security.ServerNameList()}
	if sec.insecure {
		a.log.Warn("INSECURE MODE (security.insecure): the xDS server and the admin API run in plaintext without " +
			"authentication; any proxy can claim any gateway and read its secrets, anyone who reaches the admin API " +
			"can change everything. For local development only.")
		sec.auth = admin.AllowAnonymous(admin.RoleAdmin)
		return sec, nil
	}
	if sec.auth, err = adminAuth(a.cfg, a.log); err != nil {
		_ = log.Close()
		return nil, err
	}
	return sec, nil
}

// writeBundle writes the CA bundle (public) for the CLI and proxies on
// this host, replacing the file in one rename.
func writeBundle(path string, bundle []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, bundle, 0o644); err != nil { //nolint:gosec // a CA certificate is public
		return fmt.Errorf("write the CA bundle: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write the CA bundle: %w", err)
	}
	return nil
}

// followBundle keeps the bundle file current through CA rotations, so the
// CLI on this host keeps trusting the control plane once the new CA signs.
func (a *App) followBundle(ctx context.Context) error {
	for {
		// Take the channel before reading the bundle: a change after the
		// read closes it, so none is missed.
		changed := a.sec.ca.Changed()
		if err := writeBundle(a.cfg.CABundlePath(), a.sec.ca.Bundle()); err != nil {
			a.log.Error("CA bundle file not updated", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// grpcOptions are the xDS server's transport security: TLS with a client
// certificate from the CA required, and the identity check on every
// stream.
func (s *security) grpcOptions(log *slog.Logger, refused func(codes.Code)) []grpc.ServerOption {
	if s.insecure {
		return nil
	}
	return []grpc.ServerOption{
		grpc.Creds(credentials.NewTLS(s.ca.ServerTLS(s.names, tls.RequireAndVerifyClientCert))),
		grpc.StreamInterceptor(xds.IdentityInterceptor(xds.CertificateIdentity(s.ca.GatewayOf), log, refused)),
	}
}

// adminTLS is the admin API's TLS: client certificates are optional
// (bearer tokens are the norm) but verified when presented.
func (s *security) adminTLS() *tls.Config {
	if s.insecure {
		return nil
	}
	return s.ca.ServerTLS(s.names, tls.VerifyClientCertIfGiven)
}

// sealKey is ca.sealKey, else the key file beside the store, created on
// first start.
func sealKey(cfg config.Config, log *slog.Logger) (pki.SealKey, error) {
	if cfg.CA.SealKey != "" {
		return pki.ParseSealKey(cfg.CA.SealKey)
	}
	path := cfg.SealKeyPath()
	text, created, err := readOrCreate(path, func() (string, error) {
		k, err := pki.NewSealKey()
		return k.String(), err
	})
	if err != nil {
		return pki.SealKey{}, fmt.Errorf("seal key file: %w", err)
	}
	if created {
		log.Warn("created a seal key for the CA beside the store; set ca.sealKey (CONTROLPLANE_CA_SEAL_KEY) to keep them apart",
			slog.String("path", path))
	}
	k, err := pki.ParseSealKey(text)
	if err != nil {
		return k, fmt.Errorf("seal key file %s: %w", path, err)
	}
	return k, nil
}

// readOrCreate returns the trimmed content of the secret file path,
// first creating it (mode 0600) with what fresh makes when it does not
// exist; created says which happened. An empty file is an error.
func readOrCreate(path string, fresh func() (string, error)) (content string, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		text, err := fresh()
		if err != nil {
			return "", false, err
		}
		if err := writeNew(path, text+"\n"); err != nil {
			return "", false, fmt.Errorf("create %s: %w", path, err)
		}
		return text, true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	text := strings.TrimSpace(string(data))
	if text == "" {
		return "", false, fmt.Errorf("%s is empty; delete it to have a new one created", path)
	}
	return text, false, nil
}

// writeNew creates path with mode 0600, failing if it exists, and syncs it.
func writeNew(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// tokenEntry is one line of the tokens file.
type tokenEntry struct {
	Name   string `yaml:"name"`
	Role   string `yaml:"role"`
	SHA256 string `yaml:"sha256"`
	// Expires (RFC 3339), when set, ends the token's validity.
	Expires string `yaml:"expires"`
}

// adminAuth is the admin API's authenticator: the tokens file, else the
// admin token of the data directory (created on first start, mode 0600,
// so only the control plane's user and the CLI on its host can read it).
func adminAuth(cfg config.Config, log *slog.Logger) (admin.Authenticator, error) {
	certs, err := certRoles(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Admin.TokensFile != "" {
		tokens, err := readTokensFile(cfg.Admin.TokensFile)
		if err != nil {
			return nil, fmt.Errorf("admin.tokensFile %s: %w", cfg.Admin.TokensFile, err)
		}
		auth, err := admin.NewTokenAuthenticator(tokens)
		if err != nil {
			return nil, err
		}
		return admin.FirstOf(auth, certs), nil
	}
	path := cfg.AdminTokenPath()
	tok, created, err := readOrCreate(path, admin.NewToken)
	if err != nil {
		return nil, fmt.Errorf("admin token file: %w", err)
	}
	if created {
		log.Info("created an admin token for the admin API; the CLI on this host reads it", slog.String("path", path))
	}
	auth, err := admin.NewTokenAuthenticator([]admin.Token{{Name: "admin-token-file", Role: admin.RoleAdmin, SHA256: admin.HashToken(tok)}})
	if err != nil {
		return nil, err
	}
	return admin.FirstOf(auth, certs), nil
}

// certRoles is admin.clientCertRoles as an authenticator: bearer tokens
// are tried first, a verified client certificate listed there second.
func certRoles(cfg config.Config) (admin.ClientCertRoles, error) {
	pairs, err := cfg.Admin.CertRoles()
	if err != nil {
		return nil, fmt.Errorf("admin.clientCertRoles: %w", err)
	}
	out := admin.ClientCertRoles{}
	for id, name := range pairs {
		role, err := admin.ParseRole(name)
		if err != nil {
			return nil, fmt.Errorf("admin.clientCertRoles %s: %w", id, err)
		}
		out[id] = role
	}
	return out, nil
}

// readTokensFile parses a YAML list of {name, role, sha256}.
func readTokensFile(path string) ([]admin.Token, error) {
	f, err := os.Open(path) //nolint:gosec // the operator names the file
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var entries []tokenEntry
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("must be a YAML list of {name, role, sha256, expires}: %w", err)
	}
	out := make([]admin.Token, 0, len(entries))
	for i, e := range entries {
		role, err := admin.ParseRole(e.Role)
		if err != nil {
			return nil, fmt.Errorf("entry %d (%q): role: %w", i+1, e.Name, err)
		}
		sum, err := hex.DecodeString(e.SHA256)
		if err != nil || len(sum) != 32 {
			return nil, fmt.Errorf("entry %d (%q): sha256 must be the 64 hex digits of the token's SHA-256 (`controlplane token create` prints it)", i+1, e.Name)
		}
		tok := admin.Token{Name: e.Name, Role: role, SHA256: [32]byte(sum)}
		if e.Expires != "" {
			if tok.Expires, err = time.Parse(time.RFC3339, e.Expires); err != nil {
				return nil, fmt.Errorf("entry %d (%q): expires must be an RFC 3339 time such as 2027-01-31T00:00:00Z, got %q", i+1, e.Name, e.Expires)
			}
		}
		out = append(out, tok)
	}
	return out, nil
}
