package translate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestGolden translates every testdata/in case and compares the Envoy
// resources and statuses with testdata/out. Every output resource must also
// pass ValidateAll and have every Any resolvable.
func TestGolden(t *testing.T) {
	checkStaleCases(t)
	for _, path := range goldenInputs(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			out := Translate(loadStore(t, data).Read())
			checkOutput(t, out)
			checkGolden(t, name, goldenFiles(t, name, out))
		})
	}
}

// TestDeterministic translates every case twice, from two stores loaded
// separately, and requires byte-identical renderings.
func TestDeterministic(t *testing.T) {
	for _, path := range goldenInputs(t) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		a := goldenFiles(t, "x", Translate(loadStore(t, data).Read()))
		b := goldenFiles(t, "x", Translate(loadStore(t, data).Read()))
		require.Equal(t, a, b, path)
		// Deterministic binary encoding too, which xDS versions hash.
		oa, ob := Translate(loadStore(t, data).Read()), Translate(loadStore(t, data).Read())
		for gw, cfg := range oa.Gateways {
			for typ, rs := range cfg.Resources {
				for i, r := range rs {
					ba, err := proto.MarshalOptions{Deterministic: true}.Marshal(r.Message)
					require.NoError(t, err)
					bb, err := proto.MarshalOptions{Deterministic: true}.Marshal(ob.Gateways[gw].Resources[typ][i].Message)
					require.NoError(t, err)
					require.Equal(t, ba, bb, "%s %s %s", path, typ, r.Name)
				}
			}
		}
	}
}

// checkOutput asserts what every Output must satisfy: each resource passes
// ValidateAll, every Any resolves in the global registry, names are sorted
// and unique, and every resource has sources.
func checkOutput(t testing.TB, out *Output) {
	t.Helper()
	for gw, cfg := range out.Gateways {
		for typ, rs := range cfg.Resources {
			for i, r := range rs {
				v, ok := r.Message.(validator)
				require.True(t, ok, "%T", r.Message)
				require.NoError(t, v.ValidateAll(), "gateway %s %s %s", gw, typ, r.Name)
				require.NoError(t, resolveAnys(r.Message.ProtoReflect()), "gateway %s %s %s", gw, typ, r.Name)
				require.NotEmpty(t, r.Sources, "gateway %s %s %s has no sources", gw, typ, r.Name)
				require.Equal(t, typ, "type.googleapis.com/"+string(r.Message.ProtoReflect().Descriptor().FullName()))
				if i > 0 {
					require.Less(t, rs[i-1].Name, r.Name, "gateway %s %s not sorted or not unique", gw, typ)
				}
			}
		}
	}
}

// resolveAnys walks every field of m and requires each Any to name a type
// in protoregistry.GlobalTypes, recursing into the unpacked message.
func resolveAnys(m protoreflect.Message) error {
	if a, ok := m.Interface().(*anypb.Any); ok {
		inner, err := a.UnmarshalNew()
		if err != nil {
			return err
		}
		return resolveAnys(inner.ProtoReflect())
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = resolveAnys(l.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				err = resolveAnys(mv.Message())
				return err == nil
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			err = resolveAnys(v.Message())
		}
		return err == nil
	})
	return err
}
