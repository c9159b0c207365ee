package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// The prefixes of the secrets orgguard hands out. They say what a leaked
// string is (secret scanners match them) and keep a token from being
// accepted as a session ID or the other way round.
const (
	TokenPrefix   = "ogt_" // API tokens
	SessionPrefix = "ogs_" // browser session IDs
)

// SecretBytes is the randomness of every token and session ID: 256 bits.
const SecretBytes = 32

// secretLen is the length of a secret's text after its prefix: 32 bytes in
// unpadded base64url.
var secretLen = base64.RawURLEncoding.EncodedLen(SecretBytes)

// Secret is a freshly made token or session ID: Text is shown once (to the
// person, or in a cookie) and never stored; Hash is what the store keeps
// and looks it up by.
type Secret struct {
	Text string
	Hash string
}

// NewToken returns a new API token (ogt_ and 43 characters of base64url)
// read from r (crypto/rand when nil).
func NewToken(r io.Reader) (Secret, error) { return newSecret(r, TokenPrefix) }

// NewSessionID returns a new session ID (ogs_ and 43 characters of
// base64url) read from r (crypto/rand when nil).
func NewSessionID(r io.Reader) (Secret, error) { return newSecret(r, SessionPrefix) }

func newSecret(r io.Reader, prefix string) (Secret, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, SecretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return Secret{}, fmt.Errorf("reading %d random bytes: %w", SecretBytes, err)
	}
	text := prefix + base64.RawURLEncoding.EncodeToString(b)
	return Secret{Text: text, Hash: HashSecret(text)}, nil
}

// HashSecret returns the hex SHA-256 of a secret's text: what the store
// keeps. A secret holds 256 random bits, so a fast hash is enough; the
// store never holds anything that would let a reader of the database use
// a token or a session.
func HashSecret(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// ParseToken checks that s has the shape of an API token and returns its
// hash, or ErrMalformedSecret.
func ParseToken(s string) (string, error) { return parseSecret(s, TokenPrefix, "API token") }

// ParseSessionID checks that s has the shape of a session ID and returns
// its hash, or ErrMalformedSecret.
func ParseSessionID(s string) (string, error) { return parseSecret(s, SessionPrefix, "session ID") }

func parseSecret(s, prefix, what string) (string, error) {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", fmt.Errorf("%w: a %s starts with %s", ErrMalformedSecret, what, prefix)
	}
	if len(body) != secretLen {
		return "", fmt.Errorf("%w: a %s has %d characters after %s, not %d", ErrMalformedSecret, what, secretLen, prefix, len(body))
	}
	b, err := decodeCanonical(base64.RawURLEncoding.Strict(), body)
	if err != nil || len(b) != SecretBytes {
		return "", fmt.Errorf("%w: a %s is base64url after %s", ErrMalformedSecret, what, prefix)
	}
	return HashSecret(s), nil
}

// TokenHint returns what may be shown of a token to tell it apart from
// others without making it usable: its prefix and first four characters.
func TokenHint(text string) string {
	if len(text) < len(TokenPrefix)+4 {
		return TokenPrefix + "…"
	}
	return text[:len(TokenPrefix)+4] + "…"
}
