package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/client"
	"tollgate.dev/tollgate/internal/config"
)

// The environment variables and defaults that locate the admin API and the
// credentials for it.
const (
	serverEnv     = "CONTROLPLANE_SERVER"
	tokenEnv      = "CONTROLPLANE_TOKEN"
	caFileEnv     = "CONTROLPLANE_CA_FILE"
	dataDirEnv    = "CONTROLPLANE_DATA_DIR"
	defaultServer = "https://127.0.0.1:9400"
)

// connFlags are the flags every admin API command shares.
type connFlags struct {
	server, token, caFile, dataDir string
}

// addConnFlags defines --server, --token, --ca-file and --data-dir on an
// API command. Each defaults from its environment variable so scripts set
// them once; the token and CA default to the files `controlplane serve`
// writes in its data directory, so on the control plane's own host the
// CLI works with no flags, as the user who runs it (the token file is
// mode 0600).
func addConnFlags(cmd *cobra.Command, e env) *connFlags {
	f := &connFlags{}
	fs := cmd.Flags()
	fs.StringVar(&f.server, "server", envOr(e, serverEnv, defaultServer), "admin API URL (env "+serverEnv+")")
	fs.StringVar(&f.token, "token", envOr(e, tokenEnv, ""), "bearer token (env "+tokenEnv+"; default: DATA-DIR/admin.token when readable)")
	fs.StringVar(&f.caFile, "ca-file", envOr(e, caFileEnv, ""), "PEM CA bundle to verify the server with (env "+caFileEnv+"; default: DATA-DIR/ca.pem when present, else the system roots)")
	fs.StringVar(&f.dataDir, "data-dir", envOr(e, dataDirEnv, defaultDataDir()), "the control plane's data directory, where the default token and CA are read (env "+dataDirEnv+")")
	return f
}

func envOr(e env, key, def string) string {
	if v, ok := e.lookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func defaultDataDir() string {
	if c, err := config.Defaults(); err == nil {
		return c.DataDir
	}
	return "./tollgate-data"
}

// newClient builds the admin API client the flags describe.
func (f *connFlags) newClient(e env) (*client.Client, error) {
	hc := e.http
	if strings.HasPrefix(f.server, "https://") {
		conf, err := f.tlsConfig()
		if err != nil {
			return nil, err
		}
		hc = withTLS(hc, conf)
	}
	c, err := client.New(f.server, hc)
	if err != nil {
		return nil, err
	}
	token, err := f.resolveToken()
	if err != nil {
		return nil, err
	}
	if token != "" {
		c = c.WithToken(token)
	}
	return c, nil
}

// resolveToken is --token, else the data directory's admin token.
func (f *connFlags) resolveToken() (string, error) {
	if f.token != "" {
		return f.token, nil
	}
	data, err := os.ReadFile(filepath.Join(f.dataDir, "admin.token"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case errors.Is(err, fs.ErrPermission):
		return "", nil // another user's control plane: --token is needed
	case err != nil:
		return "", fmt.Errorf("read the admin token: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

// tlsConfig trusts --ca-file, else the data directory's CA bundle, else
// the system roots.
func (f *connFlags) tlsConfig() (*tls.Config, error) {
	file := f.caFile
	if file == "" {
		if p := filepath.Join(f.dataDir, "ca.pem"); fileExists(p) {
			file = p
		}
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if file == "" {
		return conf, nil
	}
	pemBytes, err := os.ReadFile(file) //nolint:gosec // the user names the file
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", file)
	}
	conf.RootCAs = pool
	return conf, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// withTLS returns a copy of hc whose transport uses conf.
func withTLS(hc *http.Client, conf *tls.Config) *http.Client {
	cp := *hc
	var tr *http.Transport
	if t, ok := hc.Transport.(*http.Transport); ok && t != nil {
		tr = t.Clone()
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.TLSClientConfig = conf
	cp.Transport = tr
	return &cp
}
