package main

import (
	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/client"
)

// serverEnv and defaultServer locate the admin API for the client commands.
const (
	serverEnv     = "CONTROLPLANE_SERVER"
	defaultServer = "http://127.0.0.1:9400"
)

// addServerFlag defines --server on an API command; its default comes from
// CONTROLPLANE_SERVER so scripts can set it once.
func addServerFlag(cmd *cobra.Command, e env) *string {
	def := defaultServer
	if v, ok := e.lookupEnv(serverEnv); ok && v != "" {
		def = v
	}
	return cmd.Flags().String("server", def, "admin API URL (env "+serverEnv+")")
}

func newClient(server string, e env) (*client.Client, error) {
	return client.New(server, e.http)
}
