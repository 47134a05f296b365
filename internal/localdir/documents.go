package localdir

import (
	"bytes"
	"errors"
	"io"

	"go.yaml.in/yaml/v3"
)

// Document is one document of a YAML or JSON stream, numbered as
// model.Decode numbers them: each YAML document, or each item of a
// top-level list, empty documents included.
type Document struct {
	// Number is 1-based.
	Number int
	// Line is where the document starts (1-based): its "---" marker, its
	// first line, or for a list item the item's first line.
	Line int
	// Key is "Kind/name" as model.Violation.Object spells it, or "" when
	// the document has no kind.
	Key string
}

// Documents lists the documents of data up to the first syntax error, which
// is returned. It exists to map a joined bundle's document numbers back to
// the files they came from (by line), for the CLI's messages.
func Documents(data []byte) ([]Document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []Document
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if len(root.Content) == 0 {
			continue
		}
		n := root.Content[0]
		if n.Kind != yaml.SequenceNode {
			docs = append(docs, Document{Number: len(docs) + 1, Line: root.Line, Key: nodeKey(n)})
			continue
		}
		for _, item := range n.Content {
			docs = append(docs, Document{Number: len(docs) + 1, Line: item.Line, Key: nodeKey(item)})
		}
	}
}

// nodeKey reads kind and metadata.name from a document node.
func nodeKey(n *yaml.Node) string {
	kind := scalarAt(n, "kind")
	if kind == "" {
		return ""
	}
	return kind + "/" + scalarAt(resolve(child(n, "metadata")), "name")
}

func scalarAt(n *yaml.Node, key string) string {
	c := resolve(child(n, key))
	if c == nil || c.Kind != yaml.ScalarNode {
		return ""
	}
	return c.Value
}

func child(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// resolve follows aliases, with a bound so a cycle cannot loop forever.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}
