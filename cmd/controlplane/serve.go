package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/app"
	"tollgate.dev/tollgate/internal/config"
)

func newServeCmd(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the control plane",
		Long: "Run the control plane: the admin API on --admin-address, with definitions stored in --data-dir.\n" +
			"With --config-dir the definitions come from a directory of files instead, and the admin API is read-only.\n\n" +
			"Settings come from (lowest to highest precedence) built-in defaults, --config FILE, CONTROLPLANE_*\n" +
			"environment variables and flags.",
		Args: cobra.NoArgs,
	}
	bindErr := config.BindFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if bindErr != nil {
			return bindErr
		}
		cfg, err := config.Load(config.Options{Flags: cmd.Flags(), LookupEnv: e.lookupEnv})
		if err != nil {
			return err
		}
		if ps := cfg.Validate(); len(ps) > 0 {
			return settingsError(ps)
		}
		return serve(cmd.Context(), cfg, cfg.Log.Logger(e.stderr))
	}
	return cmd
}

// settingsError lists every settings problem, one per line.
func settingsError(ps config.Problems) error {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  " + p.String()
	}
	return fmt.Errorf("%s with the settings:\n%s", plural(len(ps), "problem"), strings.Join(lines, "\n"))
}

// serve runs the control plane until ctx ends (SIGINT/SIGTERM), then shuts
// it down: stop taking requests, end xDS streams, close the store last.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	a, err := app.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	log.Info("admin API listening on "+a.AdminURL(), "address", strings.TrimPrefix(strings.TrimPrefix(a.AdminURL(), "http://"), "https://"))
	log.Info("xDS server listening on "+a.XDSAddress(), "address", a.XDSAddress())
	return a.Wait(ctx)
}
