// Command xdsload measures how a Tollgate control plane serves a fleet: it
// loads N generated APIs, connects K simulated proxies over real gRPC (SotW
// or delta) and times one-API edits until every proxy has them. By default
// it starts the control plane in-process; --server and --xds drive an
// external one.
//
//	go run ./cmd/xdsload --apis 1000 --proxies 100 --mode delta --edits 20
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "xdsload:", err)
		os.Exit(1)
	}
}
