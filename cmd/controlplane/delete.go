package main

import (
	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/model"
)

func newDeleteCmd(e env) *cobra.Command {
	var (
		dryRun          bool
		resourceVersion string
	)
	cmd := &cobra.Command{
		Use:   "delete KIND NAME",
		Short: "Delete a definition",
		Long: "Delete one definition. The server refuses while other definitions still reference it\n" +
			"and names them.",
		Args: cobra.ExactArgs(2),
	}
	conn := addConnFlags(cmd, e)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check and report without deleting")
	cmd.Flags().StringVar(&resourceVersion, "resource-version", "", "delete only if the object still has this resourceVersion")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		kind, err := model.ParseKind(args[0])
		if err != nil {
			return err
		}
		c, err := conn.newClient(e)
		if err != nil {
			return err
		}
		res, err := c.Delete(cmd.Context(), kind, args[1], dryRun, resourceVersion)
		if err != nil {
			return err
		}
		printResult(e.stdout, res)
		return nil
	}
	return cmd
}
