package pki

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

const (
	// joinTokenPrefix makes a token recognisable to people and to secret
	// scanners, the way "ghp_" marks GitHub tokens.
	joinTokenPrefix = "tgj_"
	joinTokenBytes  = 32
)

// joinTokenLen is the length of a token's text: the prefix plus unpadded
// base64url of joinTokenBytes.
var joinTokenLen = len(joinTokenPrefix) + base64.RawURLEncoding.EncodedLen(joinTokenBytes)

// NewJoinToken makes a one-time join token and the hash to store. The token
// itself is shown once to the operator and never stored: 256 random bits
// make guessing hopeless and the stored hash useless to a thief, so a plain
// SHA-256 (no salt or slow hash) is enough.
func NewJoinToken() (token string, hash [32]byte, err error) {
	var b [joinTokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", hash, fmt.Errorf("generate join token: %w", err)
	}
	token = joinTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, sha256.Sum256([]byte(token)), nil
}

// HashJoinToken returns the stored hash for token, after checking that the
// text is shaped like a token, so a typo or a truncated paste gets a clear
// error instead of a "no such token". Surrounding whitespace is ignored.
// Errors never echo the text, which may be a secret.
func HashJoinToken(token string) ([32]byte, error) {
	token = strings.TrimSpace(token)
	rest, ok := strings.CutPrefix(token, joinTokenPrefix)
	if !ok {
		return [32]byte{}, fmt.Errorf("join token must start with %q; copy the whole token as printed", joinTokenPrefix)
	}
	if len(token) != joinTokenLen {
		return [32]byte{}, fmt.Errorf("join token is %d characters long; a token is %d (was it truncated?)", len(token), joinTokenLen)
	}
	if _, err := base64.RawURLEncoding.DecodeString(rest); err != nil {
		return [32]byte{}, errors.New("join token has characters that are not base64url after the prefix; copy the whole token as printed")
	}
	return sha256.Sum256([]byte(token)), nil
}
