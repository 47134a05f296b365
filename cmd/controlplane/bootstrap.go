package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/bootstrap"
	"tollgate.dev/tollgate/internal/config"
)

// xdsAddressEnv is the serve setting the bootstrap's --xds defaults to, so
// a shell that configures the server also configures its proxies.
const xdsAddressEnv = "CONTROLPLANE_XDS_ADDRESS"

// bootstrapFlags are the command's flag values.
type bootstrapFlags struct {
	opts   bootstrap.Options
	grpc   bool
	output string
}

func newBootstrapCmd(e env) *cobra.Command {
	var f bootstrapFlags
	cmd := &cobra.Command{
		Use:   "bootstrap --gateway NAME [--cert-dir DIR] [--node ID] [--xds ADDR] [--admin-port N] [--grpc] [-o yaml|json]",
		Short: "Print the bootstrap a proxy or a proxyless gRPC client starts with",
		Long: "Print the Envoy bootstrap of one proxy of a Gateway: ADS over gRPC to the control plane, the\n" +
			"node id and cluster (the cluster is the Gateway name: it is how the control plane knows which\n" +
			"configuration to send), an admin interface on 127.0.0.1 only, overload manager and connection\n" +
			"limits. With --grpc, print grpc-go's xDS bootstrap JSON for a proxyless gateway instead; give it\n" +
			"to the client in GRPC_XDS_BOOTSTRAP (a file) or GRPC_XDS_BOOTSTRAP_CONFIG (the contents).",
		Args: cobra.NoArgs,
	}
	fs := cmd.Flags()
	fs.StringVar(&f.opts.Gateway, "gateway", "", "Gateway the proxy belongs to (required)")
	fs.StringVar(&f.opts.NodeID, "node", "", "node id shown in status (default GATEWAY-HOSTNAME)")
	fs.StringVar(&f.opts.XDSAddress, "xds", defaultXDSAddress(e), "control plane xDS host:port (env "+xdsAddressEnv+")")
	fs.Uint32Var(&f.opts.AdminPort, "admin-port", bootstrap.DefaultAdminPort, "Envoy admin port, bound to 127.0.0.1")
	fs.Uint64Var(&f.opts.MaxConnections, "max-connections", bootstrap.DefaultMaxConnections, "most open downstream connections, across all listeners")
	fs.Uint64Var(&f.opts.MaxHeapBytes, "max-heap-bytes", bootstrap.DefaultMaxHeapBytes, "heap size the overload manager protects, in bytes")
	fs.BoolVar(&f.grpc, "grpc", false, "print grpc-go's xDS bootstrap JSON for a proxyless gateway")
	fs.StringVar(&f.opts.CertDir, "cert-dir", "", "absolute directory of the proxy's identity (`certs join|issue --out`): mutual TLS on the xDS channel; empty means plaintext, which only a control plane run with --insecure accepts")
	fs.StringVar(&f.opts.TrustDomain, "trust-domain", envOr(e, "CONTROLPLANE_TRUST_DOMAIN", bootstrap.DefaultTrustDomain), "the control plane's SPIFFE trust domain: it must present spiffe://<trust-domain>/controlplane (env CONTROLPLANE_TRUST_DOMAIN)")
	fs.DurationVar(&f.opts.CertRefresh, "cert-refresh", bootstrap.DefaultCertRefresh, "how often grpc-go re-reads the identity files (--grpc)")
	fs.StringVarP(&f.output, "output", "o", string(outputYAML), "Envoy bootstrap format: yaml or json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if f.opts.NodeID == "" {
			// Without a host name the default id is the gateway alone,
			// which is still valid, so the error is not fatal.
			f.opts.Hostname, _ = os.Hostname()
		}
		out, err := renderBootstrap(f, cmd.Flags().Changed("output"))
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(out)
		return err
	}
	return cmd
}

// defaultXDSAddress is CONTROLPLANE_XDS_ADDRESS when set, else the serve
// default, so the bootstrap points where `controlplane serve` listens.
func defaultXDSAddress(e env) string {
	if v, ok := e.lookupEnv(xdsAddressEnv); ok && v != "" {
		return v
	}
	if c, err := config.Defaults(); err == nil && c.XDS.Address != "" {
		return c.XDS.Address
	}
	return bootstrap.DefaultXDSAddress
}

// renderBootstrap builds and encodes the bootstrap f asks for.
// outputSet says whether -o was given: the gRPC bootstrap is JSON only.
func renderBootstrap(f bootstrapFlags, outputSet bool) ([]byte, error) {
	if f.grpc {
		if outputSet && f.output != string(outputJSON) {
			return nil, errors.New("--grpc prints grpc-go's bootstrap, which is JSON only: drop -o or use -o json")
		}
		return bootstrap.GRPC(f.opts)
	}
	format := outputFormat(f.output)
	if format != outputYAML && format != outputJSON {
		return nil, fmt.Errorf("unknown output format %q: must be yaml or json", f.output)
	}
	b, err := bootstrap.Envoy(f.opts)
	if err != nil {
		return nil, err
	}
	if format == outputJSON {
		return bootstrap.JSON(b)
	}
	return bootstrap.YAML(b)
}
