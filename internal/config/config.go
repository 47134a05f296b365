package config

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// defaultsYAML is the lowest settings layer. Keeping the defaults in a
// commented YAML file rather than in Go means the file a user copies to start
// a --config file is the one the binary actually uses.
//
//go:embed defaults.yaml
var defaultsYAML []byte

// Config is every setting of `controlplane serve`, decoded once.
type Config struct {
	// DataDir holds the store database.
	DataDir string `mapstructure:"dataDir"`
	// ConfigDir, when set, switches on local/declarative mode.
	ConfigDir string `mapstructure:"configDir"`
	// Admin configures the REST admin API.
	Admin Admin `mapstructure:"admin"`
	// XDS configures the xDS server.
	XDS XDS `mapstructure:"xds"`
	// Log configures the process log.
	Log Log `mapstructure:"log"`
	// Security switches TLS and authentication and names the serving
	// certificate.
	Security Security `mapstructure:"security"`
	// CA configures the certificate authority that issues proxy identities.
	CA CA `mapstructure:"ca"`
}

// Security is the settings every listener's protection shares.
type Security struct {
	// Insecure turns off TLS and authentication on the xDS server and the
	// admin API: local development only.
	Insecure bool `mapstructure:"insecure"`
	// ServerNames are extra DNS names and IPs (comma-separated) the control
	// plane's serving certificate is valid for, besides localhost and the
	// loopback addresses.
	ServerNames string `mapstructure:"serverNames"`
}

// CAMode is where proxy certificates come from.
type CAMode string

// The CA modes.
const (
	// CAModeBuiltin: the control plane creates its own CA on first start
	// and keeps it, key sealed, in the store.
	CAModeBuiltin CAMode = "builtin"
	// CAModeFile: a CA the user brings (certFile and keyFile) signs.
	CAModeFile CAMode = "file"
)

// CA is the certificate authority's settings.
type CA struct {
	// Mode is builtin or file.
	Mode CAMode `mapstructure:"mode"`
	// TrustDomain is the SPIFFE trust domain of every identity issued:
	// spiffe://<trustDomain>/gateway/<name>.
	TrustDomain string `mapstructure:"trustDomain"`
	// SealKey is the base64 of the 32-byte key that seals the built-in CA's
	// private key in the store. Empty: a key file beside the store is used
	// (created on first start).
	SealKey string `mapstructure:"sealKey"`
	// CertFile and KeyFile are the PEM CA certificate and key of mode file.
	CertFile string `mapstructure:"certFile"`
	KeyFile  string `mapstructure:"keyFile"`
	// CertTTL is the lifetime of the certificates the CA issues.
	CertTTL string `mapstructure:"certTTL"`
}

// CertLifetime is CertTTL parsed; Validate must have passed.
func (c CA) CertLifetime() time.Duration {
	d, _ := time.ParseDuration(c.CertTTL)
	return d
}

// SealKeyPath is the key file used when no seal key is configured.
func (c Config) SealKeyPath() string { return filepath.Join(c.DataDir, "seal.key") }

// AuditLogPath is where the admin API appends its audit records.
func (c Config) AuditLogPath() string {
	if c.Admin.AuditLog != "" {
		return c.Admin.AuditLog
	}
	return filepath.Join(c.DataDir, "audit.log")
}

// AdminTokenPath is the file holding the admin token the control plane
// creates on first start when no tokens file is configured.
func (c Config) AdminTokenPath() string { return filepath.Join(c.DataDir, "admin.token") }

// CABundlePath is where the control plane writes its CA bundle (public)
// for clients on the same machine.
func (c Config) CABundlePath() string { return filepath.Join(c.DataDir, "ca.pem") }

// Admin is the REST admin API's settings.
type Admin struct {
	// Address is host:port to listen on; port 0 picks a free port.
	Address string `mapstructure:"address"`
	// MaxBodyBytes caps request bodies so one request cannot exhaust memory.
	MaxBodyBytes int64 `mapstructure:"maxBodyBytes"`
	// TokensFile lists the bearer tokens (name, role, sha256) the admin API
	// accepts. Empty: one admin token is created in the data directory.
	TokensFile string `mapstructure:"tokensFile"`
	// AuditLog is the append-only audit log file; empty means
	// <dataDir>/audit.log.
	AuditLog string `mapstructure:"auditLog"`
	// ClientCertRoles admits client certificates as principals:
	// comma-separated "<SPIFFE ID>=<role>" pairs. The certificate must
	// chain to the CA (ca.mode file lets your own PKI issue them).
	ClientCertRoles string `mapstructure:"clientCertRoles"`
}

// XDS is the xDS server's settings.
type XDS struct {
	// Address is the host:port the ADS server listens on.
	Address string `mapstructure:"address"`
	// MaxConcurrentSyncs bounds how many proxies are sent their first
	// configuration at once (xds.Options.MaxConcurrentSyncs).
	MaxConcurrentSyncs int64 `mapstructure:"maxConcurrentSyncs"`
}

// Log is the process log's settings.
type Log struct {
	// Level is the lowest level written.
	Level LogLevel `mapstructure:"level"`
	// Format is text (for people) or json (for log pipelines).
	Format LogFormat `mapstructure:"format"`
}

// StorePath is the store database file inside DataDir.
func (c Config) StorePath() string { return filepath.Join(c.DataDir, "store.db") }

// setting ties one key of the config file to its environment variable and
// flag, so the three spellings cannot drift apart.
type setting struct {
	key    string // dotted key as written in the config file
	env    string
	flag   string
	usage  string
	isInt  bool // the flag takes a number
	isBool bool // the flag is a switch
}

// settings lists every key of Config. A test checks it against
// defaults.yaml and the struct.
var settings = []setting{
	{key: "dataDir", env: "CONTROLPLANE_DATA_DIR", flag: "data-dir", usage: "directory holding the store database (store.db)"},
	{key: "configDir", env: "CONTROLPLANE_CONFIG_DIR", flag: "config-dir", usage: "directory of definition files to serve in local/declarative mode (the admin API becomes read-only)"},
	{key: "admin.address", env: "CONTROLPLANE_ADMIN_ADDRESS", flag: "admin-address", usage: "host:port of the admin API (port 0 picks a free port)"},
	{key: "admin.maxBodyBytes", env: "CONTROLPLANE_MAX_BODY_BYTES", flag: "max-body-bytes", usage: "largest admin API request body, in bytes", isInt: true},
	{key: "xds.address", env: "CONTROLPLANE_XDS_ADDRESS", flag: "xds-address", usage: "host:port of the xDS (ADS) server"},
	{key: "xds.maxConcurrentSyncs", env: "CONTROLPLANE_XDS_MAX_CONCURRENT_SYNCS", flag: "xds-max-concurrent-syncs", usage: "proxies sent their first configuration at once (connect-storm admission control)", isInt: true},
	{key: "admin.tokensFile", env: "CONTROLPLANE_ADMIN_TOKENS_FILE", flag: "admin-tokens-file", usage: "YAML file of admin API bearer tokens: [{name, role: admin|editor|viewer, sha256}] (empty: an admin token is created in the data directory)"},
	{key: "admin.auditLog", env: "CONTROLPLANE_AUDIT_LOG", flag: "audit-log", usage: "append-only audit log of every admin write attempt (empty: <data-dir>/audit.log)"},
	{key: "admin.clientCertRoles", env: "CONTROLPLANE_ADMIN_CLIENT_CERT_ROLES", flag: "admin-client-cert-roles", usage: "client certificates admitted to the admin API: comma-separated SPIFFE-ID=role pairs (role admin, editor or viewer)"},
	{key: "security.insecure", env: "CONTROLPLANE_INSECURE", flag: "insecure", usage: "DEVELOPMENT ONLY: serve xDS and the admin API in plaintext, without authentication", isBool: true},
	{key: "security.serverNames", env: "CONTROLPLANE_SERVER_NAMES", flag: "server-names", usage: "extra DNS names/IPs (comma-separated) of the control plane's serving certificate, besides localhost and loopback"},
	{key: "ca.mode", env: "CONTROLPLANE_CA_MODE", flag: "ca-mode", usage: "certificate authority: builtin (created on first start, key sealed in the store) or file (bring your own: --ca-cert-file, --ca-key-file)"},
	{key: "ca.trustDomain", env: "CONTROLPLANE_TRUST_DOMAIN", flag: "trust-domain", usage: "SPIFFE trust domain of issued identities (spiffe://<trust-domain>/gateway/<name>)"},
	{key: "ca.sealKey", env: "CONTROLPLANE_CA_SEAL_KEY", flag: "ca-seal-key", usage: "base64 of 32 bytes sealing the built-in CA key in the store (empty: <data-dir>/seal.key, created on first start)"},
	{key: "ca.certFile", env: "CONTROLPLANE_CA_CERT_FILE", flag: "ca-cert-file", usage: "PEM certificate of your own CA (ca.mode file)"},
	{key: "ca.keyFile", env: "CONTROLPLANE_CA_KEY_FILE", flag: "ca-key-file", usage: "PEM private key of your own CA (ca.mode file)"},
	{key: "ca.certTTL", env: "CONTROLPLANE_CA_CERT_TTL", flag: "ca-cert-ttl", usage: "lifetime of issued certificates; they are renewed after two thirds of it"},
	{key: "log.level", env: "CONTROLPLANE_LOG_LEVEL", flag: "log-level", usage: "log level: debug, info, warn or error"},
	{key: "log.format", env: "CONTROLPLANE_LOG_FORMAT", flag: "log-format", usage: "log format: text or json"},
}

// FileFlag names the flag (and ConfigFileEnv the variable) that points at
// an optional config file.
const (
	FileFlag      = "config"
	ConfigFileEnv = "CONTROLPLANE_CONFIG"
)

// BindFlags defines the serve flags on fs, with the embedded defaults shown
// in the help text.
func BindFlags(fs *pflag.FlagSet) error {
	d, err := newViper()
	if err != nil {
		return err
	}
	fs.String(FileFlag, "", "YAML config file (env "+ConfigFileEnv+"); environment variables and flags override it")
	for _, s := range settings {
		usage := fmt.Sprintf("%s (env %s)", s.usage, s.env)
		if s.isInt {
			fs.Int64(s.flag, d.GetInt64(s.key), usage)
			continue
		}
		if s.isBool {
			fs.Bool(s.flag, d.GetBool(s.key), usage)
			continue
		}
		fs.String(s.flag, d.GetString(s.key), usage)
	}
	return nil
}

// Options are the sources Load reads besides the embedded defaults.
type Options struct {
	// Flags is the flag set BindFlags defined; only flags the user set
	// override the other layers. Nil means no flags.
	Flags *pflag.FlagSet
	// LookupEnv reads the environment (os.LookupEnv in main). Tests pass a
	// map lookup instead of changing the process environment. Nil means an
	// empty environment.
	LookupEnv func(string) (string, bool)
}

// Load layers defaults < config file < environment < flags and decodes the
// result into a Config. It fails on an unreadable config file, on keys the
// file has that Config does not, and on values of the wrong type; semantic
// checks are left to Validate so they can all be reported together.
func Load(o Options) (Config, error) {
	lookup := o.LookupEnv
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	v, err := newViper()
	if err != nil {
		return Config{}, err
	}
	if file := configFile(o.Flags, lookup); file != "" {
		if err := mergeFile(v, file); err != nil {
			return Config{}, err
		}
	}
	// The environment is merged as a layer above the file (viper only reads
	// variables through os.LookupEnv, which tests should not mutate).
	if err := v.MergeConfigMap(envLayer(lookup)); err != nil {
		return Config{}, fmt.Errorf("environment: %w", err)
	}
	for _, s := range settings {
		f := lookupFlag(o.Flags, s.flag)
		if f == nil {
			continue
		}
		if err := v.BindPFlag(s.key, f); err != nil {
			return Config{}, fmt.Errorf("flag --%s: %w", s.flag, err)
		}
	}
	var c Config
	if err := v.UnmarshalExact(&c); err != nil {
		// mapstructure prefixes a generic header; the lines after it name
		// the setting and the value that did not decode.
		msg := strings.TrimSpace(strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):"))
		return Config{}, fmt.Errorf("settings: %s", msg)
	}
	return c, nil
}

// Defaults returns the embedded defaults alone.
func Defaults() (Config, error) { return Load(Options{}) }

// newViper returns a viper holding the embedded defaults as its defaults
// layer. The error only fires if defaults.yaml is broken, which tests catch.
func newViper() (*viper.Viper, error) {
	d := viper.New()
	d.SetConfigType("yaml")
	if err := d.ReadConfig(bytes.NewReader(defaultsYAML)); err != nil {
		return nil, fmt.Errorf("embedded defaults.yaml: %w", err)
	}
	v := viper.New()
	v.SetConfigType("yaml")
	for _, k := range d.AllKeys() {
		v.SetDefault(k, d.Get(k))
	}
	return v, nil
}

// configFile is the --config flag if set, else CONTROLPLANE_CONFIG.
func configFile(fs *pflag.FlagSet, lookup func(string) (string, bool)) string {
	if f := lookupFlag(fs, FileFlag); f != nil && f.Changed {
		return f.Value.String()
	}
	file, _ := lookup(ConfigFileEnv)
	return file
}

func lookupFlag(fs *pflag.FlagSet, name string) *pflag.Flag {
	if fs == nil {
		return nil
	}
	return fs.Lookup(name)
}

// mergeFile reads a YAML config file and rejects, all at once, every key
// that is not a setting, spelled as the user wrote it (viper lower-cases).
func mergeFile(v *viper.Viper, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("config file %q: not valid YAML: %w", path, err)
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[strings.ToLower(s.key)] = true
	}
	var unknown []string
	for _, k := range flatten(raw, "") {
		if !known[strings.ToLower(k)] {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config file %q: unknown settings %s; valid settings are %s",
			path, strings.Join(unknown, ", "), settingKeys())
	}
	f := viper.New()
	f.SetConfigType("yaml")
	if err := f.ReadConfig(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("config file %q: %w", path, err)
	}
	if err := v.MergeConfigMap(f.AllSettings()); err != nil {
		return fmt.Errorf("config file %q: %w", path, err)
	}
	return nil
}

// flatten lists the dotted leaf keys of a decoded YAML mapping.
func flatten(m map[string]any, prefix string) []string {
	var keys []string
	for k, val := range m {
		if child, ok := val.(map[string]any); ok && len(child) > 0 {
			keys = append(keys, flatten(child, prefix+k+".")...)
			continue
		}
		keys = append(keys, prefix+k)
	}
	return keys
}

func settingKeys() string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	return strings.Join(keys, ", ")
}

// envLayer turns the CONTROLPLANE_* variables that are set into a nested
// map shaped like the config file.
func envLayer(lookup func(string) (string, bool)) map[string]any {
	out := map[string]any{}
	for _, s := range settings {
		val, ok := lookup(s.env)
		if !ok {
			continue
		}
		m := out
		parts := strings.Split(s.key, ".")
		for _, p := range parts[:len(parts)-1] {
			child, ok := m[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				m[p] = child
			}
			m = child
		}
		m[parts[len(parts)-1]] = val
	}
	return out
}

// Logger builds the process logger these settings describe, writing to w.
// Validate must have passed: an unknown level or format falls back to info
// and text.
func (l Log) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: l.Level.slogLevel()}
	if l.Format == LogFormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
