package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"tollgate.dev/tollgate/internal/localdir"
	"tollgate.dev/tollgate/internal/model"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

func newValidateCmd(e env) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "validate -f FILE|DIR|- [-f ...]",
		Short: "Check definitions offline, without a server",
		Long: "Decode and validate definitions exactly as the server would, reporting every problem with\n" +
			"its file, document and field path. References between the given files are checked too;\n" +
			"references to objects not in them are listed as notes, left for the server to check.",
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "file, directory or - (standard input); repeatable")
	cmd.RunE = func(*cobra.Command, []string) error {
		sources, err := readSources(files, e.stdin)
		if err != nil {
			return err
		}
		defs, vs := localdir.Parse(sources)
		notes, refVs := checkReferences(defs)
		vs = append(vs, refVs...)
		for _, n := range notes {
			fmt.Fprintf(e.stdout, "note: %s\n", n)
		}
		if len(vs) > 0 {
			for _, v := range vs {
				fmt.Fprintln(e.stderr, v.String())
			}
			return fmt.Errorf("%s found; fix them all, then validate again", plural(len(vs), "problem"))
		}
		fmt.Fprintf(e.stdout, "%s valid\n", plural(len(defs), "object"))
		return nil
	}
	return cmd
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// checkReferences resolves every reference within the given definitions.
// A reference to an object that is not among them may well exist on the
// server, so it is a note; one that resolves to the wrong thing (a Secret
// of the wrong type, a route the API does not have) is a violation.
func checkReferences(defs []localdir.Definition) (notes []string, vs []localdir.Violation) {
	byKey := make(map[model.Key]model.Object, len(defs))
	for _, d := range defs {
		byKey[model.KeyOf(d.Object)] = d.Object
	}
	for _, d := range defs {
		from := model.KeyOf(d.Object)
		for _, ref := range model.References(d.Object) {
			target, ok := byKey[ref.To]
			if !ok {
				at := localdir.Violation{File: d.File, Violation: model.Violation{
					Document: d.Document, Object: from.String(), Path: string(ref.Path),
					Message: fmt.Sprintf("refers to %s, which is not in these files; the server checks that it exists", ref.To),
				}}
				notes = append(notes, at.String())
				continue
			}
			if msg := refMismatch(ref, target); msg != "" {
				path := string(ref.Path)
				if ref.Route != "" {
					path = "spec.targetRef.route"
				}
				vs = append(vs, localdir.Violation{File: d.File, Violation: model.Violation{Document: d.Document, Object: from.String(), Path: path, Message: msg}})
			}
		}
	}
	return notes, vs
}

// refMismatch says what is wrong with a reference that resolves, or "".
func refMismatch(ref model.Ref, target model.Object) string {
	if s, ok := target.(*tollgatev1.Secret); ok && ref.SecretType != "" && s.GetSpec().GetType() != ref.SecretType {
		return fmt.Sprintf("must name a Secret of type %q; %s has type %q", ref.SecretType, ref.To, s.GetSpec().GetType())
	}
	if a, ok := target.(*tollgatev1.API); ok && ref.Route != "" {
		routes := model.RouteNames(a)
		if !slices.Contains(routes, ref.Route) {
			return fmt.Sprintf("%s has no route %q; its routes are %s", ref.To, ref.Route, quoteAll(routes))
		}
	}
	return ""
}

func quoteAll(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
