package localdir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

// maxFileBytes caps one definitions file. It is generous (the admin API
// takes 1 MiB per request) but stops a stray log or dump that happens to
// end in .json from being read whole.
const maxFileBytes = 16 << 20

// File is one definitions file: the name it is reported under and its
// content.
type File struct {
	Name string
	Data []byte
}

// Violation is a model violation located in a file. JSON:
// {"file","document","object","path","message"}.
type Violation struct {
	// File is the file's path relative to the directory.
	File string `json:"file"`
	model.Violation
}

// String renders "file: document N: Kind/name: path: message".
func (v Violation) String() string {
	if v.File == "" {
		return v.Violation.String()
	}
	return v.File + ": " + v.Violation.String()
}

// Definition is one decoded object and where it came from.
type Definition struct {
	File string
	// Document is the object's document in File (1-based), 0 if unknown.
	Document int
	Object   model.Object
}

// Parse decodes and validates each file on its own (so a syntax error in one
// file hides nothing in the others) and the files as one set: an object
// defined in two files is reported in the second. It returns every
// definition decoded and every violation; any violation means the set must
// not be applied.
func Parse(files []File) ([]Definition, []Violation) {
	var (
		defs []Definition
		vs   []Violation
	)
	seen := map[model.Key]string{}
	for _, f := range files {
		docs, fvs := model.ValidateBundle(f.Data)
		for _, v := range fvs {
			vs = append(vs, Violation{File: f.Name, Violation: v})
		}
		for _, d := range docs {
			k := model.KeyOf(d.Object)
			if first, dup := seen[k]; dup && k.Name != "" && first != f.Name {
				vs = append(vs, Violation{File: f.Name, Violation: model.Violation{
					Document: d.Number, Object: k.String(), Path: "metadata.name",
					Message: fmt.Sprintf("%s is also defined in %s; define each object in one file only", k, first),
				}})
				continue
			}
			seen[k] = f.Name
			defs = append(defs, Definition{File: f.Name, Document: d.Number, Object: d.Object})
		}
	}
	return defs, vs
}

// Load reads and checks every definitions file under dir and returns the
// changes that make the store exactly the directory (to be applied with
// store.ApplyOptions{Replace: true}) and every violation found. The error is
// for a directory or file that cannot be read. Only when both are empty may
// the changes be applied.
func Load(dir string) ([]store.Change, []Violation, error) {
	s, err := load(dir)
	if err != nil {
		return nil, nil, err
	}
	return s.changes, s.violations, nil
}

// set is one load of the directory.
type set struct {
	files      []string
	changes    []store.Change
	violations []Violation
	// origin locates each object, for attributing store errors to files.
	origin map[model.Key]location
}

// location is where in the directory an object is defined.
type location struct {
	file string
	doc  int
}

func load(dir string) (*set, error) {
	names, err := Files(dir)
	if err != nil {
		return nil, err
	}
	s := &set{files: names, origin: map[model.Key]location{}}
	files := make([]File, 0, len(names))
	for _, name := range names {
		data, err := readFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			s.violations = append(s.violations, Violation{File: name, Violation: model.Violation{Message: err.Error()}})
			continue
		}
		files = append(files, File{Name: name, Data: data})
	}
	defs, vs := Parse(files)
	s.violations = append(s.violations, vs...)
	for i, d := range defs {
		// The directory is the source of truth: a resourceVersion left in
		// a file (from `get -o yaml`) must not act as a precondition, or
		// the file would stop applying after its first change.
		if m := d.Object.GetMetadata(); m != nil {
			m.ResourceVersion = ""
		}
		k := model.KeyOf(d.Object)
		s.origin[k] = location{file: d.File, doc: d.Document}
		s.changes = append(s.changes, store.Change{Op: store.OpPut, Object: d.Object, Key: k, Document: i + 1})
	}
	return s, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", unwrapPath(err))
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("file is larger than %d bytes; split it", maxFileBytes)
	}
	return data, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// explain turns an error of store.Apply into a message and violations
// located in the files that caused it.
func (s *set) explain(err error) (string, []Violation) {
	var (
		mv model.Violations
		ce *store.ConflictError
	)
	switch {
	case errors.As(err, &mv):
		vs := make([]Violation, 0, len(mv))
		for _, v := range mv {
			loc := s.locate(v)
			v.Document = loc.doc // the store's number counted changes, not documents
			vs = append(vs, Violation{File: loc.file, Violation: v})
		}
		return "the store rejected the set: " + problems(len(mv)), vs
	case errors.As(err, &ce):
		var vs []Violation
		for _, r := range ce.Referrers {
			k := model.Key{Kind: r.Kind, Name: r.Name}
			loc := s.origin[k]
			vs = append(vs, Violation{File: loc.file, Violation: model.Violation{Document: loc.doc, Object: k.String(), Path: r.Path, Message: ce.Message}})
		}
		return "the store rejected the set: " + ce.Message, vs
	}
	return "the store rejected the set: " + err.Error(), nil
}

// locate finds the file of a store violation: by the change's position when
// the store names it (Document), else by object key.
func (s *set) locate(v model.Violation) location {
	if v.Document > 0 && v.Document <= len(s.changes) {
		return s.origin[s.changes[v.Document-1].Key]
	}
	for k, loc := range s.origin {
		if k.String() == v.Object {
			return loc
		}
	}
	return location{}
}
