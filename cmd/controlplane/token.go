package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/admin"
)

func newTokenCmd(e env) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Make admin API bearer tokens"}
	var name, role string
	var ttl time.Duration
	create := &cobra.Command{
		Use:   "create --name NAME --role admin|editor|viewer",
		Short: "Print a new token, and the line for the tokens file (admin.tokensFile) that admits it",
		Long: "The control plane keeps only the SHA-256 of each token: add the printed entry to the file named\n" +
			"by admin.tokensFile and restart, and hand the token to its user. Roles: viewer reads, editor\n" +
			"also writes definitions, admin also issues certificates and join tokens.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if name == "" {
				return errors.New("--name is required: it is how the audit log names the token's user")
			}
			r, err := admin.ParseRole(role)
			if err != nil {
				return fmt.Errorf("--role: %w", err)
			}
			tok, err := admin.NewToken()
			if err != nil {
				return err
			}
			sum := admin.HashToken(tok)
			expires := ""
			if ttl > 0 {
				expires = ", expires: " + time.Now().Add(ttl).UTC().Truncate(time.Second).Format(time.RFC3339)
			}
			fmt.Fprintf(e.stdout, "%s\n", tok)
			fmt.Fprintf(e.stderr, "tokens file entry:\n- {name: %s, role: %s, sha256: %s%s}\n", name, r, hex.EncodeToString(sum[:]), expires)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "who or what uses the token (required)")
	create.Flags().StringVar(&role, "role", "viewer", "admin, editor or viewer")
	create.Flags().DurationVar(&ttl, "ttl", 0, "how long the token is accepted (0: until removed from the file)")
	cmd.AddCommand(create)
	return cmd
}
