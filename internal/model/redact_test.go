package model

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

func TestRedact(t *testing.T) {
	sec := &tollgatev1.Secret{
		Metadata: &tollgatev1.ObjectMeta{Name: "s"},
		Spec:     &tollgatev1.SecretSpec{Type: SecretTypeTLS, Certificate: "CERT", PrivateKey: "KEY"},
	}
	keys := &tollgatev1.Policy{Metadata: &tollgatev1.ObjectMeta{Name: "p"}, Spec: &tollgatev1.PolicySpec{
		ApiKey: &tollgatev1.APIKeyPolicy{Consumers: []*tollgatev1.APIKeyConsumer{{Name: "a", Key: "0123456789abcdef"}, {Name: "b", Key: "fedcba9876543210"}}},
	}}
	users := &tollgatev1.Policy{Metadata: &tollgatev1.ObjectMeta{Name: "p"}, Spec: &tollgatev1.PolicySpec{
		BasicAuth: &tollgatev1.BasicAuthPolicy{Users: []*tollgatev1.BasicAuthUser{{Name: "alice", PasswordHash: "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="}}},
	}}
	tests := []struct {
		name string
		in   Object
		want Object
	}{
		{name: "secret private key", in: sec, want: &tollgatev1.Secret{
			Metadata: &tollgatev1.ObjectMeta{Name: "s"},
			Spec:     &tollgatev1.SecretSpec{Type: SecretTypeTLS, Certificate: "CERT"},
		}},
		{name: "api keys", in: keys, want: &tollgatev1.Policy{Metadata: &tollgatev1.ObjectMeta{Name: "p"}, Spec: &tollgatev1.PolicySpec{
			ApiKey: &tollgatev1.APIKeyPolicy{Consumers: []*tollgatev1.APIKeyConsumer{{Name: "a"}, {Name: "b"}}},
		}}},
		{name: "password hashes", in: users, want: &tollgatev1.Policy{Metadata: &tollgatev1.ObjectMeta{Name: "p"}, Spec: &tollgatev1.PolicySpec{
			BasicAuth: &tollgatev1.BasicAuthPolicy{Users: []*tollgatev1.BasicAuthUser{{Name: "alice"}}},
		}}},
		{
			name: "nothing to redact", in: &tollgatev1.Gateway{Metadata: &tollgatev1.ObjectMeta{Name: "g"}},
			want: &tollgatev1.Gateway{Metadata: &tollgatev1.ObjectMeta{Name: "g"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := proto.Clone(tt.in)
			got := Redact(tt.in)
			require.True(t, proto.Equal(tt.want, got), "got %v", got)
			require.True(t, proto.Equal(before, tt.in), "Redact changed its input")
			require.True(t, proto.Equal(got, Redact(got)), "Redact is not idempotent")
		})
	}
}
