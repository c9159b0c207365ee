package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// cheap are parameters that make tests fast; production hashes use
// DefaultParams (a test below checks those too).
var cheap = Params{Memory: 64, Iterations: 1, Parallelism: 1}

func TestHashAndVerify(t *testing.T) {
	h := NewHasher(cheap, 0)
	const pw = "correct horse battery staple"
	enc, err := h.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("Hash = %q, want a PHC string with m=64,t=1,p=1", enc)
	}
	again, _ := h.Hash(pw)
	if again == enc {
		t.Errorf("two hashes of one password are equal (%q): the salt is not random", enc)
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"the password matches", pw, true},
		{"another password does not", "correct horse battery stapler", false},
		{"a different case does not", strings.ToUpper(pw), false},
		{"an empty password does not", "", false},
		{"a password over the limit never matches", strings.Repeat("x", MaxPasswordBytes+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(enc, tt.password)
			if err != nil || ok != tt.want || rehash {
				t.Errorf("Verify = %v, %v, %v; want %v, false, nil", ok, rehash, err, tt.want)
			}
		})
	}
}

func TestUnicodePasswordsAreNormalised(t *testing.T) {
	h := NewHasher(cheap, 0)
	composed := "pässwörd-über-alles"                     // precomposed ä, ö, ü
	decomposed := "pa\u0308sswo\u0308rd-u\u0308ber-alles" // a + combining diaeresis
	enc, err := h.Hash(composed)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(enc, decomposed); !ok || err != nil {
		t.Errorf("Verify(decomposed form of the same passphrase) = %v, %v; want a match", ok, err)
	}
	if ok, _, _ := h.Verify(enc, "fullwidth ｐａｓｓ"); ok {
		t.Error("an unrelated password matched")
	}
}

func TestRehashWhenParametersChange(t *testing.T) {
	old := NewHasher(cheap, 0)
	enc, err := old.Hash("a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	stronger := NewHasher(Params{Memory: 128, Iterations: 2, Parallelism: 1}, 0)
	ok, rehash, err := stronger.Verify(enc, "a long enough passphrase")
	if !ok || !rehash || err != nil {
		t.Errorf("Verify with new parameters = %v, %v, %v; want a match that asks for a rehash", ok, rehash, err)
	}
	if ok, rehash, _ := stronger.Verify(enc, "wrong passphrase here"); ok || rehash {
		t.Errorf("a wrong password: ok %v, rehash %v; want neither", ok, rehash)
	}
}

func TestPasswordPolicy(t *testing.T) {
	h := NewHasher(cheap, 12)
	tests := []struct {
		name     string
		password string
		ok       bool
	}{
		{"12 characters are enough", "abcdefghijkl", true},
		{"11 are not", "abcdefghijk", false},
		{"characters, not bytes, are counted", "日本語のパスワードです", false}, // 11 characters, 33 bytes
		{"12 Japanese characters are enough", "日本語のパスワードですね", true},
		{"the byte limit holds", strings.Repeat("a", MaxPasswordBytes), true},
		{"one byte over is refused", strings.Repeat("a", MaxPasswordBytes+1), false},
		{"invalid UTF-8 is refused", "abcdefghijkl\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Hash(tt.password)
			if tt.ok && err != nil {
				t.Errorf("Hash = %v, want it accepted", err)
			}
			if !tt.ok {
				var pe *PasswordError
				if !errors.As(err, &pe) || !errors.Is(err, ErrWeakPassword) {
					t.Errorf("Hash = %v, want a PasswordError", err)
				} else if strings.Contains(err.Error(), tt.password) && tt.password != "" {
					t.Errorf("the error %q shows the password", err)
				}
			}
		})
	}
}

func TestDefaultParamsAreOWASPs(t *testing.T) {
	p := DefaultParams()
	if p.Memory != 19456 || p.Iterations != 2 || p.Parallelism != 1 || p.SaltLen != 16 || p.KeyLen != 32 {
		t.Errorf("DefaultParams() = %+v, want m=19456 KiB, t=2, p=1, 16-byte salt, 32-byte hash", p)
	}
	h := NewHasher(Params{}, 0)
	start := time.Now()
	enc, err := h.Hash("a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q, want the default parameters", enc)
	}
	t.Logf("one hash with the default parameters took %s", time.Since(start))
	if ok, rehash, err := h.Verify(enc, "a long enough passphrase"); !ok || rehash || err != nil {
		t.Errorf("Verify = %v, %v, %v", ok, rehash, err)
	}
}

func TestVerifyDummyNeverMatches(t *testing.T) {
	h := NewHasher(cheap, 0)
	h.VerifyDummy("orgguard dummy password, never a real one")
	h.VerifyDummy("")
	if h.dummy == "" {
		t.Fatal("VerifyDummy made no dummy hash")
	}
	if _, err := ParsePHC(h.dummy); err != nil {
		t.Errorf("the dummy hash %q does not parse: %v", h.dummy, err)
	}
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	h := NewHasher(cheap, 0)
	for _, enc := range []string{"", "plaintext", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		if ok, _, err := h.Verify(enc, "x"); ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformedHash", enc, ok, err)
		}
	}
}
