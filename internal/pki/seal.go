package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// sealVersion is the first byte of every sealed blob, so the format can
// change (another cipher, key derivation) without guessing.
const sealVersion byte = 1

const (
	nonceSize = 12
	tagSize   = 16
	// makeSealKeyHint tells the operator how to produce a valid key.
	makeSealKeyHint = "make one with: head -c32 /dev/urandom | base64"
)

// ErrWrongSealKey means sealed data could not be opened: it was sealed with
// another key, under another purpose, or has been altered. AES-GCM cannot
// tell these apart, and the likely cause is a changed key, hence the name.
var ErrWrongSealKey = errors.New("sealed data cannot be opened with this seal key (a different key was used, or the data was altered)")

// SealKey is a 32-byte AES-256-GCM key that protects key material at rest.
type SealKey [32]byte

// ParseSealKey reads a key as an operator writes it in config or the
// environment: base64, standard or URL alphabet, padded or not, of exactly 32
// bytes. Surrounding whitespace (a trailing newline from a file) is ignored.
// Errors never echo the value, since it is a secret.
func ParseSealKey(s string) (SealKey, error) {
	var k SealKey
	s = strings.TrimSpace(s)
	if s == "" {
		return k, errors.New("seal key is empty; it must be the base64 of 32 random bytes; " + makeSealKeyHint)
	}
	if isHex(s) && len(s) == 2*len(k) {
		return k, errors.New("seal key looks like hex (openssl rand -hex 32); it must be base64 of 32 random bytes; " + makeSealKeyHint)
	}
	encodings := []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}
	for _, enc := range encodings {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != len(k) {
			return k, fmt.Errorf("seal key decodes to %d bytes; it must be exactly %d; %s", len(b), len(k), makeSealKeyHint)
		}
		copy(k[:], b)
		return k, nil
	}
	return k, errors.New("seal key is not valid base64; it must be the base64 of 32 random bytes; " + makeSealKeyHint)
}

func isHex(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') && (r < 'A' || r > 'F') {
			return false
		}
	}
	return true
}

// NewSealKey makes a random key, for a data directory that has none yet.
func NewSealKey() (SealKey, error) {
	var k SealKey
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("generate seal key: %w", err)
	}
	return k, nil
}

// String returns the key as padded standard base64, the form ParseSealKey
// reads. It is the secret itself: never log it.
func (k SealKey) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

func (k SealKey) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext with AES-256-GCM under a random nonce. aad names
// the blob's purpose (for example "ca-key"); Open must be given the same, so
// a blob cannot be moved into another role. The layout is
// version || nonce || ciphertext+tag. Random 96-bit nonces are safe for far
// more messages than this key will ever seal (a handful of CA keys).
func Seal(k SealKey, plaintext, aad []byte) ([]byte, error) {
	gcm, err := k.aead()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+tagSize)
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return gcm.Seal(out, out[1:], plaintext, sealAAD(aad)), nil
}

// Open reverses Seal. A wrong key, wrong aad or altered blob all give an
// error wrapping ErrWrongSealKey.
func Open(k SealKey, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 1+nonceSize+tagSize {
		return nil, fmt.Errorf("sealed data is %d bytes, shorter than the %d-byte minimum: %w", len(sealed), 1+nonceSize+tagSize, ErrWrongSealKey)
	}
	if sealed[0] != sealVersion {
		return nil, fmt.Errorf("sealed data has format version %d; this build reads version %d", sealed[0], sealVersion)
	}
	gcm, err := k.aead()
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], sealAAD(aad))
	if err != nil {
		return nil, ErrWrongSealKey
	}
	return plain, nil
}

// sealAAD authenticates the version byte along with the caller's purpose, so
// the header cannot be changed independently of the ciphertext.
func sealAAD(aad []byte) []byte {
	return append([]byte{sealVersion}, aad...)
}
