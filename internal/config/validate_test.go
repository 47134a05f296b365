package config

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	file := filepath.Join(base, "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	configDir := filepath.Join(base, "defs")
	require.NoError(t, os.Mkdir(configDir, 0o750))

	valid := func() Config {
		return Config{
			DataDir:   filepath.Join(t.TempDir(), "data", "nested"),
			ConfigDir: configDir,
			Admin:     Admin{Address: "127.0.0.1:9400", MaxBodyBytes: 1 << 20},
			XDS:       XDS{Address: "127.0.0.1:18000", MaxConcurrentSyncs: 128},
			Log:       Log{Level: LogLevelInfo, Format: LogFormatJSON},
			CA:        CA{Mode: CAModeBuiltin, TrustDomain: "tollgate.local", CertTTL: "24h"},
		}
	}
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // problem keys, in order
	}{
		{name: "valid", modify: func(*Config) {}},
		{name: "free ports never collide", modify: func(c *Config) { c.Admin.Address, c.XDS.Address = "127.0.0.1:0", "127.0.0.1:0" }},
		{name: "empty host and DNS name", modify: func(c *Config) { c.Admin.Address, c.XDS.Address = ":9400", "localhost:18000" }},
		{name: "IPv6", modify: func(c *Config) { c.Admin.Address = "[::1]:9400" }},
		{name: "not host:port", modify: func(c *Config) { c.Admin.Address = "nonsense" }, want: []string{"admin.address"}},
		{name: "port out of range", modify: func(c *Config) { c.XDS.Address = "127.0.0.1:70000" }, want: []string{"xds.address"}},
		{name: "port not a number", modify: func(c *Config) { c.XDS.Address = "127.0.0.1:http" }, want: []string{"xds.address"}},
		{name: "bad host", modify: func(c *Config) { c.XDS.Address = "bad_host!:1" }, want: []string{"xds.address"}},
		{name: "same address", modify: func(c *Config) { c.XDS.Address = c.Admin.Address }, want: []string{"xds.address"}},
		{name: "wildcard overlaps", modify: func(c *Config) { c.XDS.Address = "0.0.0.0:9400" }, want: []string{"xds.address"}},
		{name: "body limit", modify: func(c *Config) { c.Admin.MaxBodyBytes = 0 }, want: []string{"admin.maxBodyBytes"}},
		{name: "no sync slots", modify: func(c *Config) { c.XDS.MaxConcurrentSyncs = 0 }, want: []string{"xds.maxConcurrentSyncs"}},
		{name: "log level", modify: func(c *Config) { c.Log.Level = "loud" }, want: []string{"log.level"}},
		{name: "log format", modify: func(c *Config) { c.Log.Format = "xml" }, want: []string{"log.format"}},
		{name: "data dir empty", modify: func(c *Config) { c.DataDir = "" }, want: []string{"dataDir"}},
		{name: "data dir under a file", modify: func(c *Config) { c.DataDir = filepath.Join(file, "data") }, want: []string{"dataDir"}},
		{name: "config dir missing", modify: func(c *Config) { c.ConfigDir = filepath.Join(base, "missing") }, want: []string{"configDir"}},
		{name: "config dir is a file", modify: func(c *Config) { c.ConfigDir = file }, want: []string{"configDir"}},
		{name: "ca mode", modify: func(c *Config) { c.CA.Mode = "vault" }, want: []string{"ca.mode"}},
		{name: "ca file mode needs files", modify: func(c *Config) { c.CA.Mode = CAModeFile }, want: []string{"ca.certFile", "ca.keyFile"}},
		{name: "ca file mode", modify: func(c *Config) { c.CA.Mode, c.CA.CertFile, c.CA.KeyFile = CAModeFile, file, file }},
		{name: "ca file missing", modify: func(c *Config) {
			c.CA.Mode, c.CA.CertFile, c.CA.KeyFile = CAModeFile, file, filepath.Join(base, "missing")
		}, want: []string{"ca.keyFile"}},
		{name: "trust domain", modify: func(c *Config) { c.CA.TrustDomain = "Example.COM/x" }, want: []string{"ca.trustDomain"}},
		{name: "seal key good", modify: func(c *Config) { c.CA.SealKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" }},
		{name: "seal key short", modify: func(c *Config) { c.CA.SealKey = "c2hvcnQ=" }, want: []string{"ca.sealKey"}},
		{name: "seal key not base64", modify: func(c *Config) { c.CA.SealKey = "not base64!" }, want: []string{"ca.sealKey"}},
		{name: "cert ttl", modify: func(c *Config) { c.CA.CertTTL = "1m" }, want: []string{"ca.certTTL"}},
		{name: "cert ttl syntax", modify: func(c *Config) { c.CA.CertTTL = "a day" }, want: []string{"ca.certTTL"}},
		{name: "server names", modify: func(c *Config) { c.Security.ServerNames = "cp.example.com, 10.0.0.1,bad_name!" }, want: []string{"security.serverNames"}},
		{name: "client cert roles", modify: func(c *Config) { c.Admin.ClientCertRoles = "spiffe://a/admin/x=admin, spiffe://a/admin/y=viewer" }},
		{name: "client cert roles bad role", modify: func(c *Config) { c.Admin.ClientCertRoles = "spiffe://a/admin/x=root" }, want: []string{"admin.clientCertRoles"}},
		{name: "client cert roles not spiffe", modify: func(c *Config) { c.Admin.ClientCertRoles = "CN=ops=admin" }, want: []string{"admin.clientCertRoles"}},
		{name: "tokens file missing", modify: func(c *Config) { c.Admin.TokensFile = filepath.Join(base, "missing") }, want: []string{"admin.tokensFile"}},
		{
			name: "every problem at once",
			modify: func(c *Config) {
				c.Admin.Address, c.XDS.Address, c.Log.Level, c.Log.Format = "nonsense", "x:-1", "loud", "xml"
				c.ConfigDir = file
			},
			want: []string{"admin.address", "xds.address", "log.level", "log.format", "configDir"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.modify(&c)
			var got []string
			for _, p := range c.Validate() {
				got = append(got, p.Key)
			}
			require.Equal(t, tt.want, got, "%v", c.Validate())
		})
	}
}

func TestValidateUnwritableDataDir(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("skipped: permission bits do not stop root (or Windows) from writing")
	}
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	c, err := Defaults()
	require.NoError(t, err)
	c.DataDir = dir
	ps := c.Validate()
	require.Len(t, ps, 1)
	require.Contains(t, ps[0].String(), "not writable")
}

func TestProblemString(t *testing.T) {
	t.Parallel()
	p := Problem{Key: "log.level", Message: `must be debug, info, warn or error, got "loud"`}
	require.Equal(t, `log.level (--log-level, CONTROLPLANE_LOG_LEVEL): must be debug, info, warn or error, got "loud"`, p.String())
}
