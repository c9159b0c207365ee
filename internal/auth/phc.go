package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The bounds ParsePHC accepts. A stored hash names the cost of verifying
// it; bounding it keeps an altered row from turning every login into a
// denial of service.
const (
	MaxMemoryKiB   = 1 << 21 // 2 GiB, RFC 9106's first recommended option
	MaxIterations  = 64
	MinSaltBytes   = 8
	MaxSaltBytes   = 64
	MinHashBytes   = 16
	MaxHashBytes   = 64
	argon2Version  = 19 // 0x13, the only version golang.org/x/crypto/argon2 computes
	maxPHCTextSize = 256
)

// PHC is an argon2id hash in the PHC string format
// (https://github.com/P-H-C/phc-string-format):
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with the salt and hash in standard base64 without padding.
type PHC struct {
	Params Params
	Salt   []byte
	Hash   []byte
}

// b64 is the PHC format's base64: the standard alphabet, no padding,
// canonical (no stray bits in the last character).
var b64 = base64.RawStdEncoding.Strict()

// String formats p as a PHC string.
func (p PHC) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2Version,
		p.Params.Memory, p.Params.Iterations, p.Params.Parallelism, b64.EncodeToString(p.Salt), b64.EncodeToString(p.Hash))
}

// ParsePHC reads an argon2id PHC string as String writes it, strictly:
// the fields in that order, version 19, decimal numbers without leading
// zeros, parameters and lengths within the bounds above. Anything else is
// ErrMalformedHash.
func ParsePHC(s string) (PHC, error) {
	bad := func(format string, args ...any) (PHC, error) {
		return PHC{}, fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
	}
	if len(s) > maxPHCTextSize {
		return bad("longer than %d bytes", maxPHCTextSize)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want $argon2id$v=19$m=M,t=T,p=P$SALT$HASH")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm %q, want argon2id", parts[1])
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return bad("want the version v=%d", argon2Version)
	}
	if n, err := decimal(v, argon2Version); err != nil || n != argon2Version {
		return bad("version %q, want %d", v, argon2Version)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("want the parameters m=M,t=T,p=P")
	}
	var p Params
	for i, name := range []string{"m", "t", "p"} {
		val, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return bad("parameter %d is %q, want %s=...", i+1, kv[i], name)
		}
		limit := map[string]uint64{"m": MaxMemoryKiB, "t": MaxIterations, "p": 255}[name]
		n, err := decimal(val, limit)
		if err != nil || n < 1 {
			return bad("parameter %s=%q: want a number from 1 to %d", name, val, limit)
		}
		switch name {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Iterations = uint32(n)
		case "p":
			p.Parallelism = uint8(n)
		}
	}
	if p.Memory < 8*uint32(p.Parallelism) {
		return bad("memory m=%d is below 8 KiB per lane (p=%d)", p.Memory, p.Parallelism)
	}
	salt, err := decodeCanonical(b64, parts[4])
	if err != nil || len(salt) < MinSaltBytes || len(salt) > MaxSaltBytes {
		return bad("the salt is not %d to %d bytes of unpadded base64", MinSaltBytes, MaxSaltBytes)
	}
	hash, err := decodeCanonical(b64, parts[5])
	if err != nil || len(hash) < MinHashBytes || len(hash) > MaxHashBytes {
		return bad("the hash is not %d to %d bytes of unpadded base64", MinHashBytes, MaxHashBytes)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(hash))
	return PHC{Params: p, Salt: salt, Hash: hash}, nil
}

// decodeCanonical decodes s and refuses any text that does not encode back
// to itself: encoding/base64 skips carriage returns and newlines even in
// strict mode, and a stored hash must have exactly one spelling.
func decodeCanonical(enc *base64.Encoding, s string) ([]byte, error) {
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if enc.EncodeToString(b) != s {
		return nil, errors.New("not canonical base64")
	}
	return b, nil
}

// decimal parses a PHC decimal: digits only, no leading zero (except "0"),
// at most limit.
func decimal(s string, limit uint64) (uint64, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > limit {
		return 0, strconv.ErrRange
	}
	return n, nil
}
