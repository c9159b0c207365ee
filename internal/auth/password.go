package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Params are the argon2id parameters of new password hashes.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32 `json:"memoryKiB"`
	// Iterations is the number of passes over the memory (t).
	Iterations uint32 `json:"iterations"`
	// Parallelism is the number of lanes (p).
	Parallelism uint8 `json:"parallelism"`
	// SaltLen and KeyLen are the salt and hash lengths in bytes.
	SaltLen uint32 `json:"saltBytes"`
	KeyLen  uint32 `json:"hashBytes"`
}

// DefaultParams returns the parameters of new hashes: argon2id with
// m=19456 KiB (19 MiB), t=2, p=1 — the OWASP Password Storage Cheat
// Sheet's first argon2id configuration ("a minimum configuration of 19 MiB
// of memory, an iteration count of 2, and 1 degree of parallelism"), which
// costs a server about as much per login as its stronger alternatives
// while keeping many concurrent logins affordable — with RFC 9106's
// 128-bit salt and 256-bit tag (section 4). See docs/auth.md.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

// MinParams are the least parameters a configuration may choose: the
// OWASP minimum. Configurations may only strengthen the defaults.
func MinParams() Params { return DefaultParams() }

// The bounds of the password policy.
const (
	// DefaultMinPasswordLen is the least number of characters of a new
	// password (NIST SP 800-63B asks for at least 8 when a password is the
	// only factor, and recommends allowing long passphrases; orgguard's
	// accounts can change an organization, so 12).
	DefaultMinPasswordLen = 12
	// MaxPasswordBytes bounds a password so that hashing it costs a
	// bounded time (argon2 first hashes the whole input).
	MaxPasswordBytes = 1024
)

// PasswordError says why the policy refused a password. It never holds
// the password.
type PasswordError struct{ Reason string }

func (e *PasswordError) Error() string { return fmt.Sprintf("%v: %s", ErrWeakPassword, e.Reason) }

// Is makes errors.Is(err, ErrWeakPassword) true.
func (e *PasswordError) Is(target error) bool { return target == ErrWeakPassword }

// Hasher hashes and verifies passwords. It is safe for concurrent use.
// Build one with NewHasher.
type Hasher struct {
	params Params
	minLen int
	rand   io.Reader

	dummyOnce sync.Once
	dummy     string
}

// NewHasher returns a Hasher making hashes with p (DefaultParams when p is
// the zero value) and refusing new passwords shorter than minLen
// characters (DefaultMinPasswordLen when 0).
func NewHasher(p Params, minLen int) *Hasher {
	if p == (Params{}) {
		p = DefaultParams()
	}
	if p.SaltLen == 0 {
		p.SaltLen = 16
	}
	if p.KeyLen == 0 {
		p.KeyLen = 32
	}
	if minLen <= 0 {
		minLen = DefaultMinPasswordLen
	}
	return &Hasher{params: p, minLen: minLen, rand: rand.Reader}
}

// Params returns the parameters of new hashes.
func (h *Hasher) Params() Params { return h.params }

// normalize puts a password in Unicode NFKC form, so that the same
// passphrase typed on two keyboards (a precomposed or a combining accent,
// a fullwidth letter) is the same password, as NIST SP 800-63B advises.
func normalize(password string) string { return norm.NFKC.String(password) }

// CheckPassword applies the policy to a new password: valid UTF-8, at
// least the minimum number of characters (after NFKC normalisation), at
// most MaxPasswordBytes bytes.
func (h *Hasher) CheckPassword(password string) error {
	if !utf8.ValidString(password) {
		return &PasswordError{Reason: "it is not valid UTF-8"}
	}
	if len(password) > MaxPasswordBytes {
		return &PasswordError{Reason: fmt.Sprintf("it is longer than %d bytes", MaxPasswordBytes)}
	}
	if n := utf8.RuneCountInString(normalize(password)); n < h.minLen {
		return &PasswordError{Reason: fmt.Sprintf("it has %d characters, at least %d are needed (a passphrase of several words is easier to remember)", n, h.minLen)}
	}
	return nil
}

// Hash checks password against the policy and returns its argon2id hash
// as a PHC string.
func (h *Hasher) Hash(password string) (string, error) {
	if err := h.CheckPassword(password); err != nil {
		return "", err
	}
	return h.hash(password)
}

func (h *Hasher) hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("reading a random salt: %w", err)
	}
	p := h.params
	key := argon2.IDKey([]byte(normalize(password)), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	return PHC{Params: p, Salt: salt, Hash: key}.String(), nil
}

// Rehash returns a new hash of a password that just verified, made with
// the current parameters. It does not apply the policy: a password set
// under an older, shorter minimum still logs in.
func (h *Hasher) Rehash(password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", &PasswordError{Reason: fmt.Sprintf("it is longer than %d bytes", MaxPasswordBytes)}
	}
	return h.hash(password)
}

// Verify reports whether password matches the PHC string encoded, and
// whether the hash should be replaced by a new one made with the current
// parameters (rehash: they differ from those it was made with). A hash
// that cannot be read is ErrMalformedHash. A password longer than
// MaxPasswordBytes never matches.
func (h *Hasher) Verify(encoded, password string) (ok, rehash bool, err error) {
	phc, err := ParsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if len(password) > MaxPasswordBytes {
		// Hash something of the same cost anyway: the time taken says
		// nothing about why the login failed.
		argon2.IDKey(nil, phc.Salt, phc.Params.Iterations, phc.Params.Memory, phc.Params.Parallelism, uint32(len(phc.Hash)))
		return false, false, nil
	}
	p := phc.Params
	key := argon2.IDKey([]byte(normalize(password)), phc.Salt, p.Iterations, p.Memory, p.Parallelism, uint32(len(phc.Hash)))
	if subtle.ConstantTimeCompare(key, phc.Hash) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// VerifyDummy spends the time of one Verify with the current parameters
// and always fails: a login for a user that does not exist (or has no
// password) takes as long as one with a wrong password.
func (h *Hasher) VerifyDummy(password string) {
	h.dummyOnce.Do(func() {
		d, err := h.hash("orgguard dummy password, never a real one")
		if err != nil {
			// No randomness: a fixed salt serves as well for timing.
			d = PHC{Params: h.params, Salt: make([]byte, h.params.SaltLen), Hash: make([]byte, h.params.KeyLen)}.String()
		}
		h.dummy = d
	})
	_, _, _ = h.Verify(h.dummy, password)
}
