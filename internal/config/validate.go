package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// LogLevel is the lowest level the process log writes.
type LogLevel string

// The log levels, as slog names them.
const (
	LogLevelDebug LogLevel = "debug"
	LogLevelInfo  LogLevel = "info"
	LogLevelWarn  LogLevel = "warn"
	LogLevelError LogLevel = "error"
)

// Validate reports whether l is a known level.
func (l LogLevel) Validate() error {
	switch l {
	case LogLevelDebug, LogLevelInfo, LogLevelWarn, LogLevelError:
		return nil
	}
	return fmt.Errorf("must be debug, info, warn or error, got %q", string(l))
}

func (l LogLevel) slogLevel() slog.Level {
	switch l {
	case LogLevelDebug:
		return slog.LevelDebug
	case LogLevelWarn:
		return slog.LevelWarn
	case LogLevelError:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// LogFormat is how log records are rendered.
type LogFormat string

// The log formats.
const (
	LogFormatText LogFormat = "text"
	LogFormatJSON LogFormat = "json"
)

// Validate reports whether f is a known format.
func (f LogFormat) Validate() error {
	switch f {
	case LogFormatText, LogFormatJSON:
		return nil
	}
	return fmt.Errorf("must be text or json, got %q", string(f))
}

// Problem is one thing wrong with the settings, named by its config-file key
// so the user can find it whichever layer set it.
type Problem struct {
	// Key is the dotted config-file key ("admin.address").
	Key string
	// Message says what is wrong and what is expected.
	Message string
}

// String renders the problem with every spelling of its setting, because the
// value may have come from the file, the environment or a flag.
func (p Problem) String() string {
	for _, s := range settings {
		if s.key == p.Key {
			return fmt.Sprintf("%s (--%s, %s): %s", p.Key, s.flag, s.env, p.Message)
		}
	}
	return p.Key + ": " + p.Message
}

// Problems is every problem Validate found.
type Problems []Problem

// Error lists the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks every setting and returns all problems, not just the
// first. It creates DataDir if missing (serve would create it anyway) and
// probes that it is writable, so an unusable directory is reported before
// any server starts.
func (c Config) Validate() Problems {
	var ps Problems
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	adminOK := checkAddress("admin.address", c.Admin.Address, add)
	xdsOK := checkAddress("xds.address", c.XDS.Address, add)
	if adminOK && xdsOK && sameAddress(c.Admin.Address, c.XDS.Address) {
		add("xds.address", "must differ from admin.address (%q): the admin API and the xDS server need their own ports", c.Admin.Address)
	}
	if c.XDS.MaxConcurrentSyncs < 1 || c.XDS.MaxConcurrentSyncs > 1<<20 {
		add("xds.maxConcurrentSyncs", "must be between 1 and 1048576 proxies, got %d", c.XDS.MaxConcurrentSyncs)
	}
	if c.Admin.MaxBodyBytes < 1024 {
		add("admin.maxBodyBytes", "must be at least 1024 bytes, got %d", c.Admin.MaxBodyBytes)
	}
	if err := c.Log.Level.Validate(); err != nil {
		add("log.level", "%s", err)
	}
	if err := c.Log.Format.Validate(); err != nil {
		add("log.format", "%s", err)
	}
	if msg := checkDataDir(c.DataDir); msg != "" {
		add("dataDir", "%s", msg)
	}
	if c.ConfigDir != "" {
		if msg := checkConfigDir(c.ConfigDir); msg != "" {
			add("configDir", "%s", msg)
		}
	}
	c.validateSecurity(add)
	return ps
}

// trustDomain is a SPIFFE trust domain: lower-case letters, digits, '.',
// '-' and '_'.
var trustDomain = regexp.MustCompile(`^[a-z0-9._-]{1,255}$`)

func (c Config) validateSecurity(add func(key, format string, args ...any)) {
	switch c.CA.Mode {
	case CAModeBuiltin:
	case CAModeFile:
		for key, f := range map[string]string{"ca.certFile": c.CA.CertFile, "ca.keyFile": c.CA.KeyFile} {
			if f == "" {
				add(key, "required with ca.mode file: the PEM file of your CA")
			} else if _, err := os.Stat(f); err != nil {
				add(key, "cannot read %q: %s", f, unwrapPath(err))
			}
		}
	default:
		add("ca.mode", "must be builtin or file, got %q", string(c.CA.Mode))
	}
	if !trustDomain.MatchString(c.CA.TrustDomain) {
		add("ca.trustDomain", "must be a SPIFFE trust domain (lower-case letters, digits, '.', '-', '_'), got %q", c.CA.TrustDomain)
	}
	if c.CA.SealKey != "" {
		if b, err := decodeBase64(c.CA.SealKey); err != nil || len(b) != 32 {
			add("ca.sealKey", "must be the base64 of exactly 32 bytes; make one with: head -c32 /dev/urandom | base64")
		}
	}
	if d, err := time.ParseDuration(c.CA.CertTTL); err != nil || d < 10*time.Minute || d > 365*24*time.Hour {
		add("ca.certTTL", "must be a duration between 10m and 8760h, got %q", c.CA.CertTTL)
	}
	for _, n := range splitList(c.Security.ServerNames) {
		if net.ParseIP(n) == nil && !hostname.MatchString(n) {
			add("security.serverNames", "%q is neither an IP address nor a DNS name", n)
		}
	}
	if _, err := c.Admin.CertRoles(); err != nil {
		add("admin.clientCertRoles", "%s", err)
	}
	if c.Admin.TokensFile != "" {
		if _, err := os.Stat(c.Admin.TokensFile); err != nil {
			add("admin.tokensFile", "cannot read %q: %s", c.Admin.TokensFile, unwrapPath(err))
		}
	}
}

// CertRoles parses ClientCertRoles into SPIFFE ID → role name.
func (a Admin) CertRoles() (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range splitList(a.ClientCertRoles) {
		id, role, ok := strings.Cut(pair, "=")
		id, role = strings.TrimSpace(id), strings.TrimSpace(role)
		switch {
		case !ok || !strings.HasPrefix(id, "spiffe://"):
			return nil, fmt.Errorf("%q must be <SPIFFE ID>=<role>, such as spiffe://corp.example/admin/ops=admin", pair)
		case role != "admin" && role != "editor" && role != "viewer":
			return nil, fmt.Errorf("%q: role must be admin, editor or viewer", pair)
		case out[id] != "":
			return nil, fmt.Errorf("%q is listed twice", id)
		}
		out[id] = role
	}
	return out, nil
}

// ServerNameList is ServerNames split at commas, blanks dropped.
func (s Security) ServerNameList() []string { return splitList(s.ServerNames) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// decodeBase64 accepts standard or URL base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// hostname is a DNS name: dot-separated labels of letters, digits and '-'.
var hostname = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$`)

// checkAddress reports whether addr is a usable host:port, adding a problem
// when it is not. An empty host means every interface; port 0 a free port.
func checkAddress(key, addr string, add func(key, format string, args ...any)) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		add(key, "must be host:port such as 127.0.0.1:9400, got %q", addr)
		return false
	}
	ok := true
	if host != "" && net.ParseIP(host) == nil && !hostname.MatchString(host) {
		add(key, "host %q must be an IP address or a DNS name", host)
		ok = false
	}
	n, err := strconv.Atoi(port)
	switch {
	case err != nil:
		add(key, "port %q must be a number between 0 and 65535", port)
		ok = false
	case n < 0 || n > 65535:
		add(key, "port must be between 0 and 65535, got %d", n)
		ok = false
	}
	return ok
}

// sameAddress reports whether two valid addresses would collide: the same
// fixed port on the same host, or on any host when either listens on every
// interface. Port 0 never collides because each gets its own free port.
func sameAddress(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	if na == 0 || na != nb {
		return false
	}
	return ha == hb || isWildcard(ha) || isWildcard(hb)
}

func isWildcard(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// checkDataDir creates dir if needed and proves a file can be written in
// it, returning what is wrong or "".
func checkDataDir(dir string) string {
	if dir == "" {
		return "required: a directory for the store database"
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Sprintf("cannot create directory %q: %s", dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Sprintf("directory %q is not writable: %s", dir, unwrapPath(err))
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return ""
}

func checkConfigDir(dir string) string {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("directory %q does not exist", dir)
	case err != nil:
		return fmt.Sprintf("cannot read %q: %s", dir, unwrapPath(err))
	case !info.IsDir():
		return fmt.Sprintf("%q is not a directory", dir)
	}
	return ""
}

// unwrapPath drops the repeated path from *fs.PathError messages.
func unwrapPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
