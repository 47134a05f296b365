package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxNodes caps the YAML nodes one document may expand to, aliases
// included, so an alias bomb cannot make a 1 MiB body cost gigabytes. It is
// per document (YAML anchors are document-scoped): a large directory of
// ordinary manifests is never refused for its total size.
const maxNodes = 200_000

// Decode parses a bundle: one or many YAML documents (JSON is YAML), or a
// top-level list of objects. Every document is checked against the schema of
// its kind: unknown fields and wrongly typed values are reported at their
// path, all of them, with the document number. Objects are returned in
// document order; on any violation the objects decoded so far are still
// returned alongside so callers can report per object, but the bundle as a
// whole must be treated as rejected.
func Decode(data []byte) ([]Object, Violations) {
	docs, vs := DecodeBundle(data)
	objs := make([]Object, len(docs))
	for i, d := range docs {
		objs[i] = d.Object
	}
	return objs, vs
}

// Document is one decoded object and the 1-based number of the document it
// came from, so later checks can point at the same document the decoder
// would (empty documents and list items make positions differ from numbers).
type Document struct {
	Number int
	Object Object
}

// DecodeBundle is Decode keeping each object's document number.
func DecodeBundle(data []byte) ([]Document, Violations) {
	d := &decoder{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []Document
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.docs++
			d.errs.List = append(d.errs.List, Violation{Document: d.docs, Message: "not valid YAML or JSON: " + yamlMessage(err)})
			break // the YAML stream cannot be resynchronised after a syntax error
		}
		if len(root.Content) == 0 {
			continue
		}
		doc := root.Content[0]
		if doc.Kind == yaml.SequenceNode {
			for _, item := range doc.Content {
				objs = d.document(item, objs)
			}
			continue
		}
		objs = d.document(doc, objs)
	}
	return objs, d.errs.List
}

type decoder struct {
	docs  int
	nodes int
	errs  Errs
}

func (d *decoder) document(n *yaml.Node, objs []Document) []Document {
	d.docs++
	d.nodes = 0
	before := len(d.errs.List)
	defer func() {
		for i := before; i < len(d.errs.List); i++ {
			d.errs.List[i].Document = d.docs
		}
	}()
	n = d.deref(n)
	if n == nil {
		return objs
	}
	if isNull(n) {
		return objs // an empty document ("---" followed by nothing)
	}
	if n.Kind != yaml.MappingNode {
		d.errs.Add("", "must be an object with apiVersion, kind, metadata and spec")
		return objs
	}
	kindNode := lookup(n, "kind")
	if kindNode == nil || kindNode.Kind != yaml.ScalarNode || kindNode.Value == "" {
		d.errs.Add("kind", "required: one of %s", kindList())
		return objs
	}
	kind := Kind(kindNode.Value)
	if err := kind.Validate(); err != nil {
		d.errs.Add("kind", "%s", strings.TrimPrefix(err.Error(), fmt.Sprintf("unknown kind %q: ", kindNode.Value)))
		return objs
	}
	obj := kind.New()
	if nameNode := lookup(n, "metadata"); nameNode != nil {
		if nn := lookup(d.deref(nameNode), "name"); nn != nil && nn.Kind == yaml.ScalarNode {
			d.errs.Object = string(kind) + "/" + nn.Value
		}
	}
	defer func() { d.errs.Object = "" }()
	d.message(n, obj.ProtoReflect(), "")
	return append(objs, Document{Number: d.docs, Object: obj})
}

// deref follows aliases and counts nodes against maxNodes.
func (d *decoder) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errs.Add("", "document expands to more than %d YAML nodes; remove aliases or split the bundle", maxNodes)
		}
		return nil
	}
	return n
}

func (d *decoder) message(n *yaml.Node, m protoreflect.Message, p Path) {
	if n.Kind != yaml.MappingNode {
		d.errs.Add(p, "must be an object, got %s", describe(n))
		return
	}
	fields := m.Descriptor().Fields()
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode, valNode := d.deref(n.Content[i]), d.deref(n.Content[i+1])
		if keyNode == nil || valNode == nil {
			return
		}
		key := keyNode.Value
		fp := p.Field(key)
		if seen[key] {
			d.errs.Add(fp, "duplicate field")
			continue
		}
		seen[key] = true
		fd := fields.ByJSONName(key)
		if fd == nil {
			d.errs.Add(fp, "unknown field%s", suggest(fields, key))
			continue
		}
		if isNull(valNode) {
			continue
		}
		switch {
		case fd.IsMap():
			d.mapField(valNode, m, fd, fp)
		case fd.IsList():
			d.listField(valNode, m, fd, fp)
		case fd.Kind() == protoreflect.MessageKind:
			d.message(valNode, m.Mutable(fd).Message(), fp)
		default:
			if v, ok := d.scalar(valNode, fd, fp); ok {
				m.Set(fd, v)
			}
		}
	}
}

func (d *decoder) listField(n *yaml.Node, m protoreflect.Message, fd protoreflect.FieldDescriptor, p Path) {
	if n.Kind != yaml.SequenceNode {
		d.errs.Add(p, "must be a list, got %s", describe(n))
		return
	}
	list := m.Mutable(fd).List()
	for i, item := range n.Content {
		item = d.deref(item)
		if item == nil {
			return
		}
		ip := p.Index(i)
		if fd.Kind() == protoreflect.MessageKind {
			el := list.NewElement()
			d.message(item, el.Message(), ip)
			list.Append(el)
			continue
		}
		if v, ok := d.scalar(item, fd, ip); ok {
			list.Append(v)
		}
	}
}

func (d *decoder) mapField(n *yaml.Node, m protoreflect.Message, fd protoreflect.FieldDescriptor, p Path) {
	if n.Kind != yaml.MappingNode {
		d.errs.Add(p, "must be a map of strings, got %s", describe(n))
		return
	}
	mp := m.Mutable(fd).Map()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.deref(n.Content[i]), d.deref(n.Content[i+1])
		if k == nil || v == nil {
			return
		}
		kp := p.Key(k.Value)
		if k.Kind != yaml.ScalarNode {
			d.errs.Add(kp, "map keys must be strings")
			continue
		}
		if mp.Has(protoreflect.ValueOfString(k.Value).MapKey()) {
			d.errs.Add(kp, "duplicate key")
			continue
		}
		if val, ok := d.scalar(v, fd.MapValue(), kp); ok {
			mp.Set(protoreflect.ValueOfString(k.Value).MapKey(), val)
		}
	}
}

// scalar converts a YAML scalar to the field's type. Strings must be YAML
// strings: `port: "80"` and `network: 10` are both reported, so a value
// never changes meaning silently (YAML's `no` is not a string "no").
func (d *decoder) scalar(n *yaml.Node, fd protoreflect.FieldDescriptor, p Path) (protoreflect.Value, bool) {
	if n.Kind != yaml.ScalarNode {
		d.errs.Add(p, "must be a %s, got %s", typeName(fd), describe(n))
		return protoreflect.Value{}, false
	}
	tag := n.ShortTag()
	switch fd.Kind() {
	case protoreflect.StringKind:
		if tag != "!!str" {
			d.errs.Add(p, "must be a string, got %s; quote the value", describe(n))
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfString(n.Value), true
	case protoreflect.BoolKind:
		if tag != "!!bool" {
			d.errs.Add(p, "must be true or false, got %s", describe(n))
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE"), true
	case protoreflect.Uint32Kind:
		u, err := strconv.ParseUint(n.Value, 0, 32)
		if tag != "!!int" || err != nil {
			d.errs.Add(p, "must be a whole number between 0 and %d, got %s", uint64(math.MaxUint32), describe(n))
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfUint32(uint32(u)), true
	case protoreflect.Int64Kind:
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if tag != "!!int" || err != nil {
			d.errs.Add(p, "must be a whole number, got %s", describe(n))
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfInt64(i), true
	default:
		d.errs.Add(p, "field type %s is not supported by the decoder", fd.Kind())
		return protoreflect.Value{}, false
	}
}

func lookup(n *yaml.Node, key string) *yaml.Node {
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

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	default:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		switch n.ShortTag() {
		case "!!str":
			return strconv.Quote(v)
		case "!!int", "!!float":
			return "number " + v
		case "!!bool":
			return "boolean " + v
		default:
			return v
		}
	}
}

func typeName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return "string"
	case protoreflect.BoolKind:
		return "boolean"
	default:
		return "number"
	}
}

// suggest names the field the user probably meant: the same name in another
// case or spelling (base_path → basePath) or a close typo (connectTimout →
// connectTimeout), else lists the valid fields.
func suggest(fields protoreflect.FieldDescriptors, key string) string {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	names := make([]string, 0, fields.Len())
	best, bestDist := "", maxSuggestDistance+1
	for i := 0; i < fields.Len(); i++ {
		j := fields.Get(i).JSONName()
		if norm(j) == norm(key) {
			return fmt.Sprintf("; did you mean %q?", j)
		}
		if d := editDistance(norm(j), norm(key)); d < bestDist && d < len(j)/2 {
			best, bestDist = j, d
		}
		names = append(names, j)
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	sort.Strings(names)
	return "; valid fields are " + strings.Join(names, ", ")
}

// maxSuggestDistance is the largest typo (insertions, deletions,
// substitutions) for which a field name is suggested.
const maxSuggestDistance = 2

// editDistance is the Levenshtein distance between two short names.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return maxSuggestDistance + 1 // names are short; do not spend on garbage
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func yamlMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
