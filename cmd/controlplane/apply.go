package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/client"
	"tollgate.dev/tollgate/internal/store"
)

func newApplyCmd(e env) *cobra.Command {
	var (
		files  []string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|- [-f ...]",
		Short: "Create or update definitions from files, atomically",
		Long: "Send every definition in the given files to the control plane as ONE bundle: all of it is\n" +
			"applied or none of it. A directory contributes every *.yaml, *.yml and *.json file in it\n" +
			"(recursively, sorted); - reads standard input.",
		Args: cobra.NoArgs,
	}
	conn := addConnFlags(cmd, e)
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "file, directory or - (standard input); repeatable")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check and report what would change without changing anything")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		sources, err := readSources(files, e.stdin)
		if err != nil {
			return err
		}
		b, err := newBundle(sources)
		if err != nil {
			return err
		}
		c, err := conn.newClient(e)
		if err != nil {
			return err
		}
		res, err := c.Apply(cmd.Context(), b.data, dryRun)
		if err != nil {
			return b.localize(err)
		}
		printResult(e.stdout, res)
		return nil
	}
	return cmd
}

// printResult prints one line per object, kubectl style ("api/orders
// created"), then the revision.
func printResult(w io.Writer, res store.Result) {
	suffix := ""
	if res.DryRun {
		suffix = " (dry run)"
	}
	for _, o := range res.Objects {
		fmt.Fprintf(w, "%s/%s %s%s\n", strings.ToLower(string(o.Kind)), o.Name, o.Action, suffix)
	}
	switch {
	case res.DryRun:
		fmt.Fprintf(w, "revision %d (dry run: nothing was changed)\n", res.Revision)
	case !res.Changed:
		fmt.Fprintf(w, "revision %d (unchanged)\n", res.Revision)
	default:
		fmt.Fprintf(w, "revision %d\n", res.Revision)
	}
}

// localize rewrites the document numbers of the server's violations, which
// count documents of the joined bundle, into file names and the documents
// within each file.
func (b *bundle) localize(err error) error {
	var ae *client.APIError
	if !errors.As(err, &ae) || len(ae.Violations) == 0 {
		return err
	}
	var sb strings.Builder
	// The server's message summarises the violations listed below it.
	sb.WriteString(plural(len(ae.Violations), "violation") + ":")
	for _, v := range ae.Violations {
		sb.WriteString("\n  ")
		if loc, ok := b.locate(v); ok {
			fmt.Fprintf(&sb, "%s: ", loc.file)
			v.Document = loc.doc
		}
		sb.WriteString(v.String())
	}
	for _, r := range ae.Referrers {
		fmt.Fprintf(&sb, "\n  referenced by %s/%s at %s", r.Kind, r.Name, r.Path)
	}
	return &localizedError{api: ae, text: sb.String()}
}

// localizedError is an APIError whose text names files; errors.As still
// finds the APIError for callers that branch on its reason.
type localizedError struct {
	api  *client.APIError
	text string
}

// Error returns the text with file names.
func (e *localizedError) Error() string { return e.text }

// Unwrap exposes the server's error.
func (e *localizedError) Unwrap() error { return e.api }
