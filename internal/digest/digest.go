// Package digest formats the SHA-256 digests orgguard uses to name content
// (plan hashes, organization fingerprints): "sha256:" and 64 hex digits,
// and their 12-digit abbreviation for messages.
package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Prefix starts every digest string.
const Prefix = "sha256:"

// shortLen is the number of hex digits Short keeps.
const shortLen = 12

// Of returns the digest of b: "sha256:" and the hex SHA-256 of b.
func Of(b []byte) string {
	sum := sha256.Sum256(b)
	return Format(sum[:])
}

// Format returns the digest string of a SHA-256 sum computed elsewhere
// (a streaming hash.Hash's Sum(nil)).
func Format(sum []byte) string {
	return Prefix + hex.EncodeToString(sum)
}

// Short abbreviates a digest for messages: without the "sha256:" prefix,
// at most 12 hex digits. Other strings are cut the same way.
func Short(h string) string {
	h = strings.TrimPrefix(h, Prefix)
	if len(h) > shortLen {
		return h[:shortLen]
	}
	return h
}
