package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newCACmd(e env) *cobra.Command {
	cmd := &cobra.Command{Use: "ca", Short: "Manage the control plane's built-in CA"}
	var phase string
	rotate := &cobra.Command{
		Use:   "rotate --phase prepare|activate|retire",
		Short: "Run one step of a CA rotation (admin role)",
		Long: "Replaces the signing CA without a failed handshake, in three steps run in order, each once the\n" +
			"previous one has reached every proxy:\n" +
			"  prepare   a new CA joins the trust bundle; the old one still signs\n" +
			"  activate  the new CA signs; Envoy gateway identities are re-issued at once, files on renewal\n" +
			"  retire    the old CA leaves the bundle (wait until every certificate it signed is renewed)\n" +
			"Envoy gateways receive the bundle by SDS; file-based proxies through `certs renew --watch`.",
		Args: cobra.NoArgs,
	}
	rotate.Flags().StringVar(&phase, "phase", "", "prepare, activate or retire (required)")
	conn := addConnFlags(rotate, e)
	rotate.RunE = func(cmd *cobra.Command, _ []string) error {
		if phase == "" {
			return errors.New("--phase is required: prepare, activate or retire")
		}
		c, err := conn.newClient(e)
		if err != nil {
			return err
		}
		info, err := c.RotateCA(cmd.Context(), phase)
		if err != nil {
			return err
		}
		n := strings.Count(info.CABundle, "BEGIN CERTIFICATE")
		fmt.Fprintf(e.stdout, "%s done; the trust bundle holds %d CA certificate(s)\n", phase, n)
		return nil
	}
	cmd.AddCommand(rotate)
	return cmd
}
