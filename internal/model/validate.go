package model

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Validate checks one decoded object against every rule of its kind and
// returns all violations, each at its field path. It does not look at other
// objects: references are checked by the store against the state a write
// would produce.
func Validate(o Object) Violations { return ValidateAt(o, time.Now()) }

// ValidateAt is Validate with an explicit clock, for certificate expiry.
func ValidateAt(o Object, now time.Time) Violations {
	e := &Errs{Object: KeyOf(o).String()}
	validateHeader(e, o)
	switch o := o.(type) {
	case *tollgatev1.Gateway:
		validateGateway(e, o.GetSpec())
	case *tollgatev1.Service:
		validateService(e, o.GetSpec())
	case *tollgatev1.API:
		validateAPI(e, o.GetSpec())
	case *tollgatev1.Policy:
		validatePolicy(e, o.GetSpec())
	case *tollgatev1.Secret:
		validateSecret(e, o.GetSpec(), now)
	default:
		e.Add("kind", "unsupported object type %T", o)
	}
	return e.List
}

// DecodeAndValidate decodes a bundle and validates every object in it, and
// the bundle as a whole (no object twice). Schema violations of a document
// suppress its semantic validation, whose messages would only repeat them.
func DecodeAndValidate(data []byte) ([]Object, Violations) {
	docs, vs := ValidateBundle(data)
	objs := make([]Object, len(docs))
	for i, d := range docs {
		objs[i] = d.Object
	}
	return objs, vs
}

// ValidateBundle is DecodeAndValidate keeping document numbers; every
// violation carries the number of the document it is about.
func ValidateBundle(data []byte) ([]Document, Violations) {
	docs, vs := DecodeBundle(data)
	bad := map[int]bool{}
	for _, v := range vs {
		bad[v.Document] = true
	}
	seen := map[Key]int{}
	for _, d := range docs {
		if bad[d.Number] {
			continue
		}
		k := KeyOf(d.Object)
		if first, dup := seen[k]; dup && k.Name != "" {
			vs = append(vs, Violation{
				Document: d.Number, Object: k.String(), Path: "metadata.name",
				Message: fmt.Sprintf("%s appears twice in this bundle (documents %d and %d); keep one", k, first, d.Number),
			})
			continue
		}
		seen[k] = d.Number
		for _, v := range Validate(d.Object) {
			v.Document = d.Number
			vs = append(vs, v)
		}
	}
	return docs, vs
}

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	labelKey     = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	labelValue   = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`)
)

// ValidateName checks a DNS-1123 label: the rule for every object name and
// every name a reference carries. It returns "" when the name is valid.
func ValidateName(name string) string {
	switch {
	case name == "":
		return "required"
	case len(name) > 63:
		return fmt.Sprintf("must be at most 63 characters, got %d", len(name))
	case !dns1123Label.MatchString(name):
		return fmt.Sprintf("%q must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit", truncate(name))
	}
	return ""
}

func validateHeader(e *Errs, o Object) {
	if v := o.GetApiVersion(); v != APIVersion {
		e.Add("apiVersion", "must be %q, got %q", APIVersion, truncate(v))
	}
	if k := o.GetKind(); k != string(KindOf(o)) {
		e.Add("kind", "must be %q, got %q", string(KindOf(o)), truncate(k))
	}
	m := o.GetMetadata()
	if m == nil {
		e.Add("metadata.name", "required")
		return
	}
	if msg := ValidateName(m.GetName()); msg != "" {
		e.Add("metadata.name", "%s", msg)
	}
	if len(m.GetLabels()) > MaxLabels {
		e.Add("metadata.labels", "at most %d labels, got %d", MaxLabels, len(m.GetLabels()))
	}
	for _, k := range sortedKeys(m.GetLabels()) {
		v := m.GetLabels()[k]
		p := Path("metadata.labels").Key(k)
		if len(k) > 253 || !labelKey.MatchString(k) {
			e.Add(p, "label key must be an optional DNS prefix and '/', then 1-63 letters, digits, '-', '_' or '.'")
		}
		if len(v) > 63 || !labelValue.MatchString(v) {
			e.Add(p, "label value must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit")
		}
	}
	size := 0
	for k, v := range m.GetAnnotations() {
		size += len(k) + len(v)
	}
	if size > MaxAnnotationBytes {
		e.Add("metadata.annotations", "must total at most %d bytes, got %d", MaxAnnotationBytes, size)
	}
	if rv := m.GetResourceVersion(); rv != "" {
		if _, err := strconv.ParseUint(rv, 10, 64); err != nil {
			e.Add("metadata.resourceVersion", "must be a resourceVersion the server returned (a decimal number), got %q; omit it to skip the check", truncate(rv))
		}
	}
	if o.GetMetadata() != nil && !hasSpec(o) {
		e.Add("spec", "required")
	}
}

func hasSpec(o Object) bool {
	switch o := o.(type) {
	case *tollgatev1.Gateway:
		return o.GetSpec() != nil
	case *tollgatev1.Service:
		return o.GetSpec() != nil
	case *tollgatev1.API:
		return o.GetSpec() != nil
	case *tollgatev1.Policy:
		return o.GetSpec() != nil
	case *tollgatev1.Secret:
		return o.GetSpec() != nil
	}
	return false
}

// truncate keeps user values in messages short and printable.
func truncate(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
