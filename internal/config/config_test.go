package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	got, err := Defaults()
	require.NoError(t, err)
	want := Config{
		DataDir: "./tollgate-data",
		Admin:   Admin{Address: "127.0.0.1:9400", MaxBodyBytes: 1 << 20},
		XDS:     XDS{Address: "127.0.0.1:18000", MaxConcurrentSyncs: 128},
		Log:     Log{Level: LogLevelInfo, Format: LogFormatText},
		CA:      CA{Mode: CAModeBuiltin, TrustDomain: "tollgate.local", CertTTL: "24h"},
	}
	require.Equal(t, want, got)
	require.False(t, got.Security.Insecure, "secure by default")
}

// TestSettingsCoverDefaults keeps the settings table, defaults.yaml and the
// flags in step: every default has a setting, every setting a default and a
// flag.
func TestSettingsCoverDefaults(t *testing.T) {
	t.Parallel()
	v, err := newViper()
	require.NoError(t, err)
	var keys []string
	for _, s := range settings {
		keys = append(keys, strings.ToLower(s.key))
	}
	require.ElementsMatch(t, keys, v.AllKeys())
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	require.NoError(t, BindFlags(fs))
	for _, s := range settings {
		require.NotNil(t, fs.Lookup(s.flag), s.flag)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "controlplane.yaml")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	file := writeFile(t, `
dataDir: /from/file
admin:
  address: 127.0.0.1:1001
  maxBodyBytes: 2048
xds:
  address: 127.0.0.1:2001
log:
  level: debug
`)
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		want  func(*Config)
	}{
		{
			name: "file over defaults",
			want: func(c *Config) {
				c.DataDir, c.Admin.Address, c.Admin.MaxBodyBytes = "/from/file", "127.0.0.1:1001", 2048
				c.XDS.Address, c.Log.Level = "127.0.0.1:2001", LogLevelDebug
			},
		},
		{
			name: "env over file",
			env:  map[string]string{"CONTROLPLANE_ADMIN_ADDRESS": "127.0.0.1:1002", "CONTROLPLANE_LOG_FORMAT": "json", "CONTROLPLANE_MAX_BODY_BYTES": "4096"},
			want: func(c *Config) {
				c.DataDir, c.Admin.Address, c.Admin.MaxBodyBytes = "/from/file", "127.0.0.1:1002", 4096
				c.XDS.Address, c.Log.Level, c.Log.Format = "127.0.0.1:2001", LogLevelDebug, LogFormatJSON
			},
		},
		{
			name:  "flag over env",
			env:   map[string]string{"CONTROLPLANE_ADMIN_ADDRESS": "127.0.0.1:1002", "CONTROLPLANE_DATA_DIR": "/from/env"},
			flags: []string{"--admin-address", "127.0.0.1:1003", "--log-level=warn", "--max-body-bytes", "8192"},
			want: func(c *Config) {
				c.DataDir, c.Admin.Address, c.Admin.MaxBodyBytes = "/from/env", "127.0.0.1:1003", 8192
				c.XDS.Address, c.Log.Level = "127.0.0.1:2001", LogLevelWarn
			},
		},
		{
			name:  "config file from env, config dir from flag",
			env:   map[string]string{"CONTROLPLANE_CONFIG": file},
			flags: []string{"--config-dir", "/defs"},
			want: func(c *Config) {
				c.DataDir, c.Admin.Address, c.Admin.MaxBodyBytes = "/from/file", "127.0.0.1:1001", 2048
				c.XDS.Address, c.Log.Level, c.ConfigDir = "127.0.0.1:2001", LogLevelDebug, "/defs"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			require.NoError(t, BindFlags(fs))
			args := tt.flags
			if tt.env["CONTROLPLANE_CONFIG"] == "" {
				args = append([]string{"--config", file}, args...)
			}
			require.NoError(t, fs.Parse(args))
			got, err := Load(Options{Flags: fs, LookupEnv: envMap(tt.env)})
			require.NoError(t, err)
			want, err := Defaults()
			require.NoError(t, err)
			tt.want(&want)
			require.Equal(t, want, got)
		})
	}
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{
			name: "unknown keys, all named",
			file: "dataDir: /x\nadmin:\n  adress: 1\nlogLevel: debug\n",
			want: []string{`unknown settings "admin.adress", "loglevel"`, "valid settings are dataDir"},
		},
		{name: "wrong type in file", file: "admin:\n  maxBodyBytes: lots\n", want: []string{"maxbodybytes"}},
		{name: "wrong type in env", env: map[string]string{"CONTROLPLANE_MAX_BODY_BYTES": "lots"}, want: []string{"maxbodybytes"}},
		{name: "not YAML", file: "admin: [\n", want: []string{"config file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			if tt.file != "" {
				env["CONTROLPLANE_CONFIG"] = writeFile(t, tt.file)
			}
			_, err := Load(Options{LookupEnv: envMap(env)})
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, strings.ToLower(err.Error()), strings.ToLower(w))
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(Options{LookupEnv: envMap(map[string]string{"CONTROLPLANE_CONFIG": missing})})
	require.ErrorContains(t, err, missing)
}

// TestInsecureSwitch checks the one boolean setting through every layer:
// the environment's text and the bare flag.
func TestInsecureSwitch(t *testing.T) {
	t.Parallel()
	env := func(k string) (string, bool) {
		if k == "CONTROLPLANE_INSECURE" {
			return "true", true
		}
		return "", false
	}
	c, err := Load(Options{LookupEnv: env})
	require.NoError(t, err)
	require.True(t, c.Security.Insecure)

	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	require.NoError(t, BindFlags(fs))
	require.NoError(t, fs.Parse([]string{"--insecure"}))
	c, err = Load(Options{Flags: fs})
	require.NoError(t, err)
	require.True(t, c.Security.Insecure)
}
