// Command xdsload measures how a Tollgate control plane serves a fleet: it
// loads N generated APIs, connects K simulated proxies over real gRPC (SotW
// or delta) and times one-API edits until every proxy has them. By default
// it starts the control plane in a child process (itself, re-executed with
// --serve-child; see child.go), so that the CPU and RSS it reports are the
// server's alone; --in-process runs it in xdsload's own process, and
// --server and --xds drive an external one.
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
