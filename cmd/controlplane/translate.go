package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"tollgate.dev/tollgate/internal/localdir"
	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
	"tollgate.dev/tollgate/internal/translate"
)

// gatewayDoc is what translate prints for one gateway, in this field
// order.
type gatewayDoc struct {
	Gateway   string `json:"gateway" yaml:"gateway"`
	Mode      string `json:"mode" yaml:"mode"`
	Listeners []any  `json:"listeners" yaml:"listeners"`
	Scopes    []any  `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	Routes    []any  `json:"routes" yaml:"routes"`
	Clusters  []any  `json:"clusters" yaml:"clusters"`
	Endpoints []any  `json:"endpoints" yaml:"endpoints"`
	Secrets   []any  `json:"secrets" yaml:"secrets"`
}

// fields pairs each xDS type with the list of d that holds it.
func (d *gatewayDoc) fields() []struct {
	typ  string
	list *[]any
} {
	return []struct {
		typ  string
		list *[]any
	}{
		{resourcev3.ListenerType, &d.Listeners},
		{resourcev3.ScopedRouteType, &d.Scopes},
		{resourcev3.RouteType, &d.Routes},
		{resourcev3.ClusterType, &d.Clusters},
		{resourcev3.EndpointType, &d.Endpoints},
		{resourcev3.SecretType, &d.Secrets},
	}
}

func newTranslateCmd(e env) *cobra.Command {
	var (
		files   []string
		gateway string
		output  string
	)
	cmd := &cobra.Command{
		Use:   "translate -f FILE|DIR|- [-f ...] [--gateway NAME] [-o yaml|json]",
		Short: "Print the Envoy configuration definitions produce, offline",
		Long: "Validate definitions exactly as the server would, translate them in memory and print\n" +
			"the Envoy resources each gateway's proxies would receive (listeners, scopes, routes, clusters,\n" +
			"endpoints, secrets; private keys redacted). Definitions that are not plainly accepted\n" +
			"are listed on standard error with their problems and warnings.",
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "file, directory or - (standard input); repeatable")
	cmd.Flags().StringVar(&gateway, "gateway", "", "print only this gateway")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	cmd.RunE = func(c *cobra.Command, _ []string) error {
		if output != "yaml" && output != "json" {
			return fmt.Errorf("-o must be yaml or json, got %q", output)
		}
		out, err := translateFiles(c.Context(), files, e)
		if err != nil {
			return err
		}
		docs, err := renderGateways(out, gateway)
		if err != nil {
			return err
		}
		printStatuses(e.stderr, out)
		return writeDocs(e.stdout, docs, output)
	}
	return cmd
}

// translateFiles reads, validates and applies the files to an in-memory
// store, then translates it.
func translateFiles(ctx context.Context, files []string, e env) (*translate.Output, error) {
	sources, err := readSources(files, e.stdin)
	if err != nil {
		return nil, err
	}
	defs, vs := localdir.Parse(sources)
	_, refVs := checkReferences(defs)
	if vs = append(vs, refVs...); len(vs) > 0 {
		for _, v := range vs {
			fmt.Fprintln(e.stderr, v.String())
		}
		return nil, fmt.Errorf("%s found; fix them all, then translate again", plural(len(vs), "problem"))
	}
	s, err := store.Open(store.NewMemoryBackend())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	changes := make([]store.Change, 0, len(defs))
	for _, d := range defs {
		changes = append(changes, store.Change{Op: store.OpPut, Object: d.Object})
	}
	if _, err := s.Apply(ctx, changes, store.ApplyOptions{}); err != nil {
		var mvs model.Violations
		if errors.As(err, &mvs) {
			for _, v := range mvs {
				fmt.Fprintln(e.stderr, v.String())
			}
			return nil, fmt.Errorf("%s found; fix them all, then translate again", plural(len(mvs), "problem"))
		}
		return nil, err
	}
	return translate.Translate(s.Read()), nil
}

// renderGateways turns each gateway's resources into plain values (via
// protojson, as Envoy's config dump shows them), sorted by gateway name.
func renderGateways(out *translate.Output, only string) ([]*gatewayDoc, error) {
	names := make([]string, 0, len(out.Gateways))
	for n := range out.Gateways {
		names = append(names, n)
	}
	slices.Sort(names)
	if only != "" {
		if _, ok := out.Gateways[only]; !ok {
			return nil, fmt.Errorf("no Gateway %q in these definitions; they define %s", only, quoteAll(names))
		}
		names = []string{only}
	}
	docs := make([]*gatewayDoc, 0, len(names))
	for _, n := range names {
		cfg := out.Gateways[n]
		doc := &gatewayDoc{Gateway: cfg.Name, Mode: cfg.Mode}
		for _, f := range doc.fields() {
			*f.list = []any{}
			for _, r := range cfg.Resources[f.typ] {
				v, err := protoValue(r)
				if err != nil {
					return nil, err
				}
				*f.list = append(*f.list, v)
			}
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

func protoValue(r translate.Resource) (any, error) {
	// Envoy's own field names (snake_case), as in its docs and config dumps.
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(translate.Redact(r.Message))
	if err != nil {
		return nil, fmt.Errorf("render %q: %w", r.Name, err)
	}
	var v map[string]any
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, fmt.Errorf("render %q: %w", r.Name, err)
	}
	return v, nil
}

func writeDocs(w io.Writer, docs []*gatewayDoc, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"gateways": docs})
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return enc.Close()
}

// printStatuses lists, on w, every definition that is not plainly
// accepted, sorted by kind then name.
func printStatuses(w io.Writer, out *translate.Output) {
	keys := make([]model.Key, 0, len(out.Status))
	for k := range out.Status {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b model.Key) int {
		if c := slices.Index(model.Kinds, a.Kind) - slices.Index(model.Kinds, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, k := range keys {
		st := out.Status[k]
		if st.Accepted && len(st.Problems) == 0 && len(st.Warnings) == 0 {
			continue
		}
		state := "accepted"
		if !st.Accepted {
			state = "rejected"
		}
		fmt.Fprintf(w, "%s: %s\n", k, state)
		for _, v := range st.Problems {
			fmt.Fprintf(w, "  problem: %s: %s\n", v.Path, v.Message)
		}
		for _, v := range st.Warnings {
			fmt.Fprintf(w, "  warning: %s: %s\n", v.Path, v.Message)
		}
	}
}
