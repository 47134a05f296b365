package translate

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// secretFields are the Envoy field names that carry key material: a TLS
// private key or its password, session ticket keys, a generic secret, and
// the credentials of auth filters (API keys, basic-auth users). Redact
// replaces them wherever they appear (inside typed_config too), so no view
// of the generated configuration (admin config dump, `controlplane
// translate`) shows a write-only value even in Envoy form.
var secretFields = map[protoreflect.Name]bool{
	"private_key": true, "password": true, "session_ticket_keys": true,
	"secret": true, "credentials": true, "users": true,
}

// Redacted replaces a removed value.
const Redacted = "[redacted]"

// Redact returns a copy of an Envoy resource with every secretFields field
// cleared and marked, walking nested messages, lists, maps and Any values.
// The resource served to proxies is never changed.
func Redact(m proto.Message) proto.Message {
	c := proto.Clone(m)
	redactMessage(c.ProtoReflect())
	return c
}

func redactMessage(m protoreflect.Message) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		redactAny(a)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if secretFields[fd.Name()] {
			m.Clear(fd)
			markRedacted(m, fd)
			return true
		}
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				redactMessage(l.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				redactMessage(mv.Message())
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Kind() == protoreflect.MessageKind:
			redactMessage(v.Message())
		}
		return true
	})
}

// markRedacted sets a cleared DataSource-like field to inline_string
// Redacted so a reader sees that a value exists but is withheld.
func markRedacted(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
	if fd.IsList() || fd.IsMap() || fd.Kind() != protoreflect.MessageKind {
		return
	}
	inner := m.NewField(fd).Message()
	if s := inner.Descriptor().Fields().ByName("inline_string"); s != nil && s.Kind() == protoreflect.StringKind {
		inner.Set(s, protoreflect.ValueOfString(Redacted))
		m.Set(fd, protoreflect.ValueOfMessage(inner))
	}
}

// redactAny redacts inside a packed message; a type the registry does not
// know is dropped entirely rather than shown unredacted.
func redactAny(a *anypb.Any) {
	inner, err := a.UnmarshalNew()
	if err != nil {
		a.Value = nil
		return
	}
	redactMessage(inner.ProtoReflect())
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(inner)
	if err != nil {
		a.Value = nil
		return
	}
	a.Value = b
}
