package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Violation is one problem with one field of one object. Path is the field
// path inside the object ("spec.routes[2].match.pathPrefix"); Object is
// "Kind/name" when known; Document is the 1-based position of the document
// in the bundle it came from, 0 when not from a bundle.
type Violation struct {
	Document int    `json:"document,omitempty"`
	Object   string `json:"object,omitempty"`
	Path     string `json:"path"`
	Message  string `json:"message"`
}

// String renders "Kind/name: path: message".
func (v Violation) String() string {
	var b strings.Builder
	if v.Document > 0 {
		fmt.Fprintf(&b, "document %d: ", v.Document)
	}
	if v.Object != "" {
		b.WriteString(v.Object)
		b.WriteString(": ")
	}
	if v.Path != "" {
		b.WriteString(v.Path)
		b.WriteString(": ")
	}
	b.WriteString(v.Message)
	return b.String()
}

// Violations is every problem found, in the order found.
type Violations []Violation

// Error joins the violations, one per line.
func (vs Violations) Error() string {
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.String()
	}
	return strings.Join(lines, "\n")
}

// Err returns vs as an error, or nil when there are none.
func (vs Violations) Err() error {
	if len(vs) == 0 {
		return nil
	}
	return vs
}

// Path is a field path under construction. The zero value is the root.
// Paths are values: deriving a child never changes the parent.
type Path string

// Field returns the path of a named child field.
func (p Path) Field(name string) Path {
	if p == "" {
		return Path(name)
	}
	return p + "." + Path(name)
}

// Index returns the path of element i of a list.
func (p Path) Index(i int) Path { return p + "[" + Path(strconv.Itoa(i)) + "]" }

// Key returns the path of a map entry.
func (p Path) Key(k string) Path { return p + "[" + Path(strconv.Quote(k)) + "]" }

// Errs collects violations for one object.
type Errs struct {
	Object string
	List   Violations
}

// Add records a violation at p.
func (e *Errs) Add(p Path, format string, args ...any) {
	e.List = append(e.List, Violation{Object: e.Object, Path: string(p), Message: fmt.Sprintf(format, args...)})
}
