package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"tollgate.dev/tollgate/internal/localdir"
	"tollgate.dev/tollgate/internal/model"
)

// stdinName is how definitions read from standard input are named in
// messages.
const stdinName = "<stdin>"

// readSources reads the -f arguments: files, directories (every definitions
// file in them, as serve --config-dir would load them, in the same order),
// or "-" for standard input, once.
func readSources(args []string, stdin io.Reader) ([]localdir.File, error) {
	if len(args) == 0 {
		return nil, errors.New("no input: pass -f FILE, -f DIR or -f - (standard input)")
	}
	var (
		files     []localdir.File
		readStdin bool
	)
	for _, arg := range args {
		if arg == "-" {
			if readStdin {
				return nil, errors.New("-f - (standard input) given twice")
			}
			readStdin = true
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("read standard input: %w", err)
			}
			files = append(files, localdir.File{Name: stdinName, Data: data})
			continue
		}
		more, err := readPath(arg)
		if err != nil {
			return nil, err
		}
		files = append(files, more...)
	}
	return files, nil
}

func readPath(path string) ([]localdir.File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %w", path, unwrapPathError(err))
	}
	names := []string{path}
	if info.IsDir() {
		rel, err := localdir.Files(path)
		if err != nil {
			return nil, err
		}
		if len(rel) == 0 {
			return nil, fmt.Errorf("no definition files (*.yaml, *.yml, *.json) in %q", path)
		}
		names = names[:0]
		for _, r := range rel {
			names = append(names, filepath.Join(path, filepath.FromSlash(r)))
		}
	}
	files := make([]localdir.File, 0, len(names))
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read %q: %w", name, unwrapPathError(err))
		}
		files = append(files, localdir.File{Name: name, Data: data})
	}
	return files, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// bundle is several files sent as one request body, so the server applies
// them atomically, with what is needed to map the server's violations back
// to files.
type bundle struct {
	data []byte
	// starts[i] is the first line of names[i] in data (1-based), counting
	// the separator added before it.
	starts []int
	names  []string
	// docs are the documents of data, in the server's numbering, each with
	// its file and its number there.
	docs []docLocation
}

type docLocation struct {
	key  string // "Kind/name"
	file string
	doc  int
}

// newBundle joins files into one YAML stream. A separator is added only
// where a file does not start a document itself, so no empty documents are
// invented. Every file must be valid YAML: a syntax error is reported here
// with the file's own line numbers, which the joined stream would lose.
func newBundle(files []localdir.File) (*bundle, error) {
	b := &bundle{}
	var buf bytes.Buffer
	line := 1
	for _, f := range files {
		if err := checkSyntax(f.Data); err != nil {
			return nil, fmt.Errorf("%s: not valid YAML or JSON: %s", f.Name, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		// A file's range starts at the separator put before it, which
		// begins its first document.
		b.starts = append(b.starts, line)
		if buf.Len() > 0 && !startsDocument(f.Data) {
			buf.WriteString("---\n")
			line++
		}
		b.names = append(b.names, f.Name)
		buf.Write(f.Data)
		line += bytes.Count(f.Data, []byte("\n"))
		if len(f.Data) > 0 && f.Data[len(f.Data)-1] != '\n' {
			buf.WriteByte('\n')
			line++
		}
	}
	b.data = buf.Bytes()
	docs, err := localdir.Documents(b.data)
	if err != nil {
		return nil, fmt.Errorf("join files: %w", err)
	}
	perFile := map[string]int{}
	for _, d := range docs {
		name := b.fileAt(d.Line)
		perFile[name]++
		b.docs = append(b.docs, docLocation{key: d.Key, file: name, doc: perFile[name]})
	}
	return b, nil
}

func (b *bundle) fileAt(line int) string {
	name := ""
	for i, start := range b.starts {
		if line >= start {
			name = b.names[i]
		}
	}
	return name
}

// locate finds the file and document of a server violation. The server's
// document number is trusted when that document is the violation's object;
// otherwise (the model does not number every violation, and the store
// numbers objects rather than documents) the object's name decides.
func (b *bundle) locate(v model.Violation) (docLocation, bool) {
	n := v.Document
	if n >= 1 && n <= len(b.docs) && (v.Object == "" || b.docs[n-1].key == v.Object) {
		return b.docs[n-1], true
	}
	if v.Object != "" {
		for _, d := range b.docs {
			if d.key == v.Object {
				return d, true
			}
		}
	}
	return docLocation{}, false
}

func checkSyntax(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// startsDocument reports whether the first line that is not blank or a
// comment is a document marker ("---"), i.e. the file opens its own first
// document and needs no separator before it.
func startsDocument(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), " \t\r")
		if l == "" || strings.HasPrefix(strings.TrimLeft(l, " \t"), "#") {
			continue
		}
		return l == "---" || strings.HasPrefix(l, "--- ")
	}
	return false
}
