package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/client"
)

// env is everything a command takes from the process. Commands receive it
// through their constructors, so tests run them in-process with their own
// arguments, input, output and environment.
type env struct {
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)
	// http is the client the API commands use.
	http *http.Client
}

// clientTimeout bounds one admin API call from the CLI, so a hung server
// cannot hang a script.
const clientTimeout = 60 * time.Second

func processEnv() env {
	return env{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		lookupEnv: os.LookupEnv,
		http:      &http.Client{Timeout: clientTimeout},
	}
}

// run executes one command line and returns the exit code: 0 on success,
// 1 on any error, which is printed to stderr.
func run(ctx context.Context, args []string, e env) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", errorPrefix(err), err)
		return 1
	}
	return 0
}

// errorPrefix marks errors the server returned with their reason, as
// kubectl does, so a script or a reader can tell "invalid" from "conflict"
// from "read-only" at a glance.
func errorPrefix(err error) string {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Reason != "" {
		return fmt.Sprintf("error from server (%s)", ae.Reason)
	}
	return "error"
}

func newRootCmd(e env) *cobra.Command {
	root := &cobra.Command{
		Use:   "controlplane",
		Short: "Tollgate: an Envoy xDS control plane for API gateways",
		Long: "Tollgate turns declarative definitions (Gateways, Services, APIs, Policies, Secrets) into\n" +
			"Envoy configuration. `serve` runs the control plane; the other commands manage definitions.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w\nrun '%s --help' for usage", err, cmd.CommandPath())
	})
	root.AddCommand(
		newServeCmd(e),
		newApplyCmd(e),
		newGetCmd(e),
		newDeleteCmd(e),
		newValidateCmd(e),
		newTranslateCmd(e),
		newBootstrapCmd(e),
		newStatusCmd(e),
		newCertsCmd(e),
		newCACmd(e),
		newTokenCmd(e),
		newVersionCmd(e),
	)
	return root
}
