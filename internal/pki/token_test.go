package pki

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJoinToken(t *testing.T) {
	token, hash, err := NewJoinToken()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(token, "tgj_"))
	require.Len(t, token, 4+43)
	require.NotContains(t, token, "=")
	require.Equal(t, sha256.Sum256([]byte(token)), hash)

	got, err := HashJoinToken(token)
	require.NoError(t, err)
	require.Equal(t, hash, got)
	got, err = HashJoinToken(" " + token + "\n")
	require.NoError(t, err)
	require.Equal(t, hash, got, "surrounding whitespace from a paste is ignored")

	other, otherHash, err := NewJoinToken()
	require.NoError(t, err)
	require.NotEqual(t, token, other)
	require.NotEqual(t, hash, otherHash)
}

func TestHashJoinTokenRejects(t *testing.T) {
	token, _, err := NewJoinToken()
	require.NoError(t, err)
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "empty", in: "", wantErr: `must start with "tgj_"`},
		{name: "wrong prefix", in: "tgx_" + token[4:], wantErr: `must start with "tgj_"`},
		{name: "truncated", in: token[:len(token)-1], wantErr: "46 characters long; a token is 47"},
		{name: "too long", in: token + "A", wantErr: "48 characters long"},
		{name: "padded", in: token[:len(token)-1] + "=", wantErr: "not base64url"},
		{name: "std alphabet", in: token[:len(token)-1] + "+", wantErr: "not base64url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := HashJoinToken(tt.in)
			require.ErrorContains(t, err, tt.wantErr)
			if len(tt.in) > 8 {
				require.NotContains(t, err.Error(), tt.in[4:], "errors never echo the secret")
			}
		})
	}
}
