package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/model"
)

// outputFormat is how get prints objects.
type outputFormat string

// The get output formats.
const (
	outputTable outputFormat = "table"
	outputYAML  outputFormat = "yaml"
	outputJSON  outputFormat = "json"
)

func (f outputFormat) validate() error {
	switch f {
	case outputTable, outputYAML, outputJSON:
		return nil
	}
	return fmt.Errorf("unknown output format %q: must be table, yaml or json", string(f))
}

func newGetCmd(e env) *cobra.Command {
	var (
		output   string
		selector string
	)
	cmd := &cobra.Command{
		Use:   "get KIND [NAME]",
		Short: "Show definitions",
		Long: "Show one definition or all of a kind (gateways, services, apis, policies, secrets).\n" +
			"-o yaml prints a multi-document stream that `apply -f -` accepts again, except for objects\n" +
			"with write-only fields (Secret private keys, API keys, password hashes): those are never\n" +
			"returned, so re-applying such an object needs its values added back.",
		Args: cobra.RangeArgs(1, 2),
	}
	conn := addConnFlags(cmd, e)
	cmd.Flags().StringVarP(&output, "output", "o", string(outputTable), "output format: table, yaml or json")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector, e.g. team=payments,tier!=gold,public")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		kind, err := model.ParseKind(args[0])
		if err != nil {
			return err
		}
		format := outputFormat(output)
		if err := format.validate(); err != nil {
			return err
		}
		if len(args) == 2 && selector != "" {
			return errors.New("give a NAME or a --selector, not both")
		}
		c, err := conn.newClient(e)
		if err != nil {
			return err
		}
		var objs []model.Object
		if len(args) == 2 {
			o, err := c.Get(cmd.Context(), kind, args[1])
			if err != nil {
				return err
			}
			objs = []model.Object{o}
		} else if objs, _, err = c.List(cmd.Context(), kind, selector); err != nil {
			return err
		}
		if len(objs) == 0 && format == outputTable {
			fmt.Fprintf(e.stderr, "no %s found\n", kind.Plural())
			return nil
		}
		return printObjects(e.stdout, kind, objs, format, len(args) == 2)
	}
	return cmd
}

// printObjects writes objs in format. JSON is one object for a single
// NAME, else an array, which apply also accepts.
func printObjects(w io.Writer, kind model.Kind, objs []model.Object, format outputFormat, single bool) error {
	switch format {
	case outputYAML:
		b, err := model.MarshalYAMLStream(objs)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case outputJSON:
		return printJSON(w, objs, single)
	default:
		return printTable(w, kind, objs)
	}
}

func printJSON(w io.Writer, objs []model.Object, single bool) error {
	items := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		b, err := model.MarshalJSON(o)
		if err != nil {
			return err
		}
		items[i] = b
	}
	var out []byte
	if single && len(items) == 1 {
		out = items[0]
	} else {
		raw, err := json.Marshal(items)
		if err != nil {
			return fmt.Errorf("encode list: %w", err)
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return fmt.Errorf("indent list: %w", err)
		}
		out = buf.Bytes()
	}
	_, err := w.Write(append(out, '\n'))
	return err
}
