package pki

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newTestSealKey(t *testing.T) SealKey {
	t.Helper()
	k, err := NewSealKey()
	require.NoError(t, err)
	return k
}

func TestSealOpen(t *testing.T) {
	k := newTestSealKey(t)
	plain := []byte("the CA private key")
	sealed, err := Seal(k, plain, []byte("ca-key"))
	require.NoError(t, err)
	require.False(t, bytes.Contains(sealed, plain))
	require.Equal(t, sealVersion, sealed[0])

	got, err := Open(k, sealed, []byte("ca-key"))
	require.NoError(t, err)
	require.Equal(t, plain, got)

	again, err := Seal(k, plain, []byte("ca-key"))
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "every seal uses a fresh nonce")

	empty, err := Seal(k, nil, nil)
	require.NoError(t, err)
	got, err = Open(k, empty, nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestOpenRejects(t *testing.T) {
	k := newTestSealKey(t)
	sealed, err := Seal(k, []byte("secret"), []byte("ca-key"))
	require.NoError(t, err)
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x80
		return b
	}
	tests := []struct {
		name   string
		key    SealKey
		sealed []byte
		aad    string
		wrong  bool // wraps ErrWrongSealKey
		errMsg string
	}{
		{name: "wrong key", key: newTestSealKey(t), sealed: sealed, aad: "ca-key", wrong: true},
		{name: "wrong aad", key: k, sealed: sealed, aad: "join-token", wrong: true},
		{name: "tampered ciphertext", key: k, sealed: flip(1 + nonceSize), aad: "ca-key", wrong: true},
		{name: "tampered nonce", key: k, sealed: flip(1), aad: "ca-key", wrong: true},
		{name: "tampered tag", key: k, sealed: flip(len(sealed) - 1), aad: "ca-key", wrong: true},
		{name: "truncated", key: k, sealed: sealed[:10], aad: "ca-key", wrong: true},
		{name: "unknown version", key: k, sealed: append([]byte{9}, sealed[1:]...), aad: "ca-key", errMsg: "format version 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Open(tt.key, tt.sealed, []byte(tt.aad))
			require.Error(t, err)
			require.Nil(t, got)
			require.Equal(t, tt.wrong, errors.Is(err, ErrWrongSealKey))
			if tt.errMsg != "" {
				require.ErrorContains(t, err, tt.errMsg)
			}
		})
	}
}

func TestParseSealKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32) // 0xfb makes '+'/'/' vs '-'/'_' differ
	var want SealKey
	copy(want[:], raw)
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "std padded", in: base64.StdEncoding.EncodeToString(raw)},
		{name: "std unpadded", in: base64.RawStdEncoding.EncodeToString(raw)},
		{name: "url padded", in: base64.URLEncoding.EncodeToString(raw)},
		{name: "url unpadded", in: base64.RawURLEncoding.EncodeToString(raw)},
		{name: "trailing newline", in: base64.StdEncoding.EncodeToString(raw) + "\n"},
		{name: "empty", in: "  ", wantErr: "seal key is empty"},
		{name: "16 bytes", in: base64.StdEncoding.EncodeToString(raw[:16]), wantErr: "decodes to 16 bytes; it must be exactly 32"},
		{name: "33 bytes", in: base64.StdEncoding.EncodeToString(append(raw, 1)), wantErr: "decodes to 33 bytes"},
		{name: "not base64", in: strings.Repeat("zz", 32) + "!", wantErr: "not valid base64"},
		{name: "hex", in: strings.Repeat("0f", 32), wantErr: "looks like hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSealKey(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, "head -c32 /dev/urandom | base64")
				return
			}
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}

func TestSealKeyStringRoundTrip(t *testing.T) {
	k := newTestSealKey(t)
	got, err := ParseSealKey(k.String())
	require.NoError(t, err)
	require.Equal(t, k, got)
	require.NotEqual(t, k, newTestSealKey(t))
}

func TestMarshalSealed(t *testing.T) {
	ca := newTestCA(t)
	k := newTestSealKey(t)
	data, err := ca.MarshalSealed(k)
	require.NoError(t, err)

	der, err := encodeKey(ca.key)
	require.NoError(t, err)
	require.NotContains(t, string(data), "PRIVATE KEY")
	require.False(t, bytes.Contains(data, der))

	got, err := UnmarshalSealed(data, k, testNow)
	require.NoError(t, err)
	require.Equal(t, ca.TrustDomain(), got.TrustDomain())
	require.Equal(t, ca.CertPEM(), got.CertPEM())
	require.True(t, publicKeysEqual(ca.key.Public(), got.key.Public()))
	leaf, _, err := got.Issue(ControlPlaneID("td"), nil, nil, testNow, time.Hour)
	require.NoError(t, err)
	verify(t, ca, leaf, testNow)
}

func TestUnmarshalSealedRejects(t *testing.T) {
	ca := newTestCA(t)
	k := newTestSealKey(t)
	data, err := ca.MarshalSealed(k)
	require.NoError(t, err)

	_, err = UnmarshalSealed(data, newTestSealKey(t), testNow)
	require.ErrorIs(t, err, ErrWrongSealKey)
	require.ErrorContains(t, err, "the CA key in the store was sealed with a different encryption key")

	_, err = UnmarshalSealed(data, k, ca.Certificate().NotAfter.Add(time.Second))
	require.ErrorIs(t, err, ErrCAExpired)

	var s storedCA
	require.NoError(t, json.Unmarshal(data, &s))
	s.Version = 2
	v2, err := json.Marshal(s)
	require.NoError(t, err)
	_, err = UnmarshalSealed(v2, k, testNow)
	require.ErrorContains(t, err, "format version 2")

	// A sealed blob of another purpose cannot stand in for the CA key.
	s.Version = storedCAVersion
	s.SealedKey, err = Seal(k, []byte("not a key"), []byte("join-token"))
	require.NoError(t, err)
	swapped, err := json.Marshal(s)
	require.NoError(t, err)
	_, err = UnmarshalSealed(swapped, k, testNow)
	require.ErrorIs(t, err, ErrWrongSealKey)

	_, err = UnmarshalSealed([]byte("{"), k, testNow)
	require.ErrorContains(t, err, "stored CA")
}
