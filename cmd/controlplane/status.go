package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/admin"
	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/xds"
)

func newStatusCmd(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [KIND NAME]",
		Short: "Show what every proxy runs, or how one definition is served",
		Long: "Without arguments: every connected proxy, its gateway, whether it runs the latest\n" +
			"configuration, and its last rejection (Envoy's own message).\n" +
			"With KIND NAME: whether the definition was accepted, on how many proxies it is\n" +
			"programmed, and which proxies reject resources built from it.",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 0 && len(args) != 2 {
				return fmt.Errorf("status takes no arguments or KIND NAME, got %d arguments", len(args))
			}
			return nil
		},
	}
	conn := addConnFlags(cmd, e)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := conn.newClient(e)
		if err != nil {
			return err
		}
		if len(args) == 0 {
			nodes, err := c.Nodes(cmd.Context())
			if err != nil {
				return err
			}
			return printNodes(e.stdout, nodes, time.Now())
		}
		kind, err := model.ParseKind(args[0])
		if err != nil {
			return err
		}
		st, err := c.ObjectStatus(cmd.Context(), kind, args[1])
		if err != nil {
			return err
		}
		printObjectStatus(e.stdout, st)
		return nil
	}
	return cmd
}

// printNodes renders one line per proxy stream.
func printNodes(w io.Writer, nodes []xds.NodeStatus, now time.Time) error {
	if len(nodes) == 0 {
		_, err := fmt.Fprintln(w, "no proxies connected")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NODE\tGATEWAY\tSTATE\tIN-SYNC\tPROTOCOL\tCONNECTED\tLAST REJECTION")
	for _, n := range nodes {
		proto := "sotw"
		if n.Delta {
			proto = "delta"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\t%s\n", cell(n.NodeID), cell(n.Gateway), n.State, n.InSync, proto,
			now.Sub(n.ConnectedSince).Round(time.Second), lastRejection(n))
	}
	return tw.Flush()
}

// lastRejection is the newest NACK of any type, shortened to one line.
func lastRejection(n xds.NodeStatus) string {
	var last *xds.NACK
	types := make([]string, 0, len(n.Types))
	for t := range n.Types {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		if nk := n.Types[t].LastNACK; nk != nil && (last == nil || nk.At.After(last.At)) {
			last = nk
		}
	}
	if last == nil {
		return "-"
	}
	msg := strings.Join(strings.Fields(last.Message), " ")
	if len(msg) > 80 {
		msg = msg[:80] + "…"
	}
	return msg
}

// printObjectStatus renders one definition's status.
func printObjectStatus(w io.Writer, st admin.ObjectStatus) {
	verdict := "Accepted"
	if !st.Accepted {
		verdict = "Rejected"
	}
	fmt.Fprintf(w, "%s/%s: %s (revision %d)\n", st.Kind, st.Name, verdict, st.Revision)
	fmt.Fprintf(w, "programmed on %d of %d proxies", st.Programmed.InSync, st.Programmed.Proxies)
	if len(st.Programmed.Gateways) > 0 {
		fmt.Fprintf(w, " of gateways %s", strings.Join(st.Programmed.Gateways, ", "))
	}
	fmt.Fprintln(w)
	for _, p := range st.Problems {
		fmt.Fprintf(w, "problem: %s: %s\n", p.Path, p.Message)
	}
	for _, p := range st.Warnings {
		fmt.Fprintf(w, "warning: %s: %s\n", p.Path, p.Message)
	}
	for _, r := range st.Rejections {
		fmt.Fprintf(w, "rejected by %s (gateway %s): %s\n", r.NodeID, r.Gateway, strings.Join(strings.Fields(r.Message), " "))
	}
}
