package bootstrap

import (
	"fmt"
	"math"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"tollgate.dev/tollgate/internal/model"
)

// Defaults for the zero values of Options.
const (
	// DefaultXDSAddress matches the xds.address default of `controlplane
	// serve` (internal/config/defaults.yaml).
	DefaultXDSAddress = "127.0.0.1:18000"
	// DefaultAdminPort is Envoy's customary admin port.
	DefaultAdminPort uint32 = 9901
	// DefaultMaxConnections is the downstream connection cap Envoy's edge
	// best practices recommend: high enough for a busy edge proxy, low
	// enough that a connection flood cannot exhaust file descriptors.
	DefaultMaxConnections uint64 = 50000
	// DefaultMaxHeapBytes is the heap size the overload manager measures
	// against (1 GiB).
	DefaultMaxHeapBytes uint64 = 1 << 30
	// DefaultTrustDomain matches the ca.trustDomain default of serve.
	DefaultTrustDomain = "tollgate.local"
	// DefaultCertRefresh is grpc-go's certificate re-read interval: well
	// under a third of the default 24h certificate lifetime, and cheap.
	DefaultCertRefresh = time.Minute
)

// minHeapBytes is the smallest heap budget accepted: Envoy itself uses tens
// of MiB at rest, so a smaller budget would trip the overload actions (and
// refuse every request) as soon as the proxy starts.
const minHeapBytes uint64 = 64 << 20

// Options says which gateway a bootstrap is for and how the client reaches
// the control plane. Zero values take the defaults above.
type Options struct {
	// Gateway is the Tollgate Gateway whose configuration the client gets.
	// It becomes node.cluster, which the control plane groups proxies by.
	Gateway string
	// NodeID identifies one proxy in status; default "<gateway>-<hostname>".
	NodeID string
	// Hostname completes the default NodeID (os.Hostname in the CLI; passed
	// in so tests and generated examples are deterministic). Empty means the
	// default NodeID is the gateway name alone.
	Hostname string
	// XDSAddress is the control plane's ADS host:port.
	XDSAddress string
	// AdminPort is the Envoy admin port, bound to 127.0.0.1 only.
	AdminPort uint32
	// MaxConnections caps open downstream connections across all listeners.
	MaxConnections uint64
	// MaxHeapBytes is the heap size at which the overload actions fire.
	MaxHeapBytes uint64
	// CertDir holds the proxy's identity (cert.pem, key.pem, ca.pem, as
	// `controlplane certs join|issue` writes them) for the TLS xDS
	// channel. Empty means a plaintext channel, which only a control
	// plane started with --insecure accepts.
	CertDir string
	// TrustDomain is the control plane's SPIFFE trust domain: the proxy
	// only accepts a control plane presenting
	// spiffe://<trustDomain>/controlplane. Default DefaultTrustDomain.
	TrustDomain string
	// CertRefresh is how often grpc-go re-reads the certificate files;
	// default DefaultCertRefresh. Envoy watches the directory instead.
	CertRefresh time.Duration
}

// withDefaults returns o with every zero value replaced by its default.
func (o Options) withDefaults() Options {
	if o.XDSAddress == "" {
		o.XDSAddress = DefaultXDSAddress
	}
	if o.AdminPort == 0 {
		o.AdminPort = DefaultAdminPort
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxHeapBytes == 0 {
		o.MaxHeapBytes = DefaultMaxHeapBytes
	}
	if o.NodeID == "" {
		o.NodeID = defaultNodeID(o.Gateway, o.Hostname)
	}
	if o.TrustDomain == "" {
		o.TrustDomain = DefaultTrustDomain
	}
	if o.CertRefresh == 0 {
		o.CertRefresh = DefaultCertRefresh
	}
	return o
}

// defaultNodeID is "<gateway>-<hostname>": unique per host for proxies of
// one gateway, and readable in status next to the gateway it belongs to.
func defaultNodeID(gateway, hostname string) string {
	if hostname == "" {
		return gateway
	}
	return gateway + "-" + hostname
}

// Problem is one thing wrong with the options, named by the CLI flag that
// sets it, since that is what a user reading it can change.
type Problem struct {
	// Field is the option's flag name without dashes ("gateway", "xds").
	Field string
	// Message says what is wrong and what is expected.
	Message string
}

// String renders the problem as "--field: message".
func (p Problem) String() string { return "--" + p.Field + ": " + p.Message }

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

// Validate checks every option and returns all problems at once, or nil.
func (o Options) Validate() Problems {
	var ps Problems
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if msg := model.ValidateName(o.Gateway); msg != "" {
		add("gateway", "%s", msg)
	}
	// The effective id, so a host name unfit for an id is caught too.
	if msg := validateNodeID(o.withDefaults().NodeID); msg != "" {
		add("node", "%s", msg)
	}
	if o.XDSAddress != "" {
		for _, msg := range validateXDSAddress(o.XDSAddress) {
			add("xds", "%s", msg)
		}
	}
	if o.AdminPort > 65535 {
		add("admin-port", "must be between 1 and 65535, got %d", o.AdminPort)
	}
	if o.MaxConnections > math.MaxInt64 {
		add("max-connections", "must be at most %d, got %d", int64(math.MaxInt64), o.MaxConnections)
	}
	if o.CertDir != "" && !filepath.IsAbs(o.CertDir) {
		add("cert-dir", "must be an absolute path (the proxy may start in another directory), got %q", o.CertDir)
	}
	if o.CertRefresh < 0 {
		add("cert-refresh", "must not be negative, got %s", o.CertRefresh)
	}
	if o.MaxHeapBytes != 0 && o.MaxHeapBytes < minHeapBytes {
		add("max-heap-bytes", "must be at least %d (64 MiB), got %d: Envoy alone uses tens of MiB", minHeapBytes, o.MaxHeapBytes)
	}
	return ps
}

// maxNodeIDLen bounds node ids so status pages and logs stay readable.
const maxNodeIDLen = 256

// validateNodeID returns what is wrong with id, or "". Node ids appear in
// logs, status and metrics labels, so whitespace and control characters are
// refused.
func validateNodeID(id string) string {
	if len(id) > maxNodeIDLen {
		return fmt.Sprintf("must be at most %d characters, got %d", maxNodeIDLen, len(id))
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Sprintf("%q must not contain spaces or control characters", id)
		}
	}
	return ""
}

// dnsName is a DNS host name: dot-separated labels of letters, digits and '-'.
var dnsName = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$`)

// validateXDSAddress lists what is wrong with addr. Unlike the server's
// listen address, a client needs a concrete host and a real port: an empty
// host, a wildcard address or port 0 cannot be dialled.
func validateXDSAddress(addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{fmt.Sprintf("must be host:port such as 127.0.0.1:18000, got %q", addr)}
	}
	var msgs []string
	ip := net.ParseIP(host)
	switch {
	case host == "":
		msgs = append(msgs, fmt.Sprintf("host is required in %q: the proxy must know where to connect", addr))
	case ip != nil && ip.IsUnspecified():
		msgs = append(msgs, fmt.Sprintf("host %q is a wildcard address: give the control plane's own IP address or DNS name", host))
	case ip == nil && !dnsName.MatchString(host):
		msgs = append(msgs, fmt.Sprintf("host %q must be an IP address or a DNS name", host))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		msgs = append(msgs, fmt.Sprintf("port must be a number between 1 and 65535, got %q", port))
	}
	return msgs
}

// splitXDSAddress splits a validated address; the port is known to parse.
func splitXDSAddress(addr string) (host string, port uint32) {
	h, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.ParseUint(p, 10, 32)
	return h, uint32(n)
}
