package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePHC(t *testing.T) {
	// The PHC string format's own argon2id example (salt and hash of
	// "hunter2" with a secret; only the shape matters here).
	const example = "$argon2id$v=19$m=65536,t=2,p=1$gZiV/M1gPc22ElAH/Jh1Hw$CWOrkoo7oJBQ/iyh7uJ0LO2aLEfrHwTWllSAxT0zRno"
	got, err := ParsePHC(example)
	if err != nil {
		t.Fatalf("ParsePHC(example) = %v", err)
	}
	if got.Params.Memory != 65536 || got.Params.Iterations != 2 || got.Params.Parallelism != 1 || len(got.Salt) != 16 || len(got.Hash) != 32 {
		t.Errorf("ParsePHC(example) = %+v", got.Params)
	}
	if s := got.String(); s != example {
		t.Errorf("String() = %q, want the input back %q", s, example)
	}
	const salt, hash = "gZiV/M1gPc22ElAH/Jh1Hw", "CWOrkoo7oJBQ/iyh7uJ0LO2aLEfrHwTWllSAxT0zRno"
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"no leading $", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + hash},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"version 16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + hash},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + hash},
		{"parameters out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + hash},
		{"a leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + hash},
		{"a sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + hash},
		{"zero iterations", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + hash},
		{"too many iterations", "$argon2id$v=19$m=64,t=65,p=1$" + salt + "$" + hash},
		{"too much memory", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + hash},
		{"too little memory for the lanes", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + hash},
		{"parallelism over 255", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + hash},
		{"an extra parameter", "$argon2id$v=19$m=64,t=1,p=1,k=1$" + salt + "$" + hash},
		{"padding", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + hash},
		{"url-safe base64", "$argon2id$v=19$m=64,t=1,p=1$" + strings.ReplaceAll(salt, "/", "_") + "$" + hash},
		{"a carriage return in the salt", "$argon2id$v=19$m=64,t=1,p=1$\r" + salt + "$" + hash},
		{"a newline in the hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash[:4] + "\n" + hash[4:]},
		{"a short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + hash},
		{"a short hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$aGFzaA"},
		{"no hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"a trailing $", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash + "$"},
		{"very long", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 400)},
	}
	for _, tt := range bad {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			if p, err := ParsePHC(tt.in); !errors.Is(err, ErrMalformedHash) {
				t.Errorf("ParsePHC(%q) = %+v, %v; want ErrMalformedHash", tt.in, p, err)
			}
		})
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$gZiV/M1gPc22ElAH/Jh1Hw$CWOrkoo7oJBQ/iyh7uJ0LO2aLEfrHwTWllSAxT0zRno")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("ParsePHC(%q) error %v is not ErrMalformedHash", s, err)
			}
			return
		}
		// Whatever parses is within the bounds that keep a verification
		// cheap enough, and formats back to exactly the input.
		if p.Params.Memory > MaxMemoryKiB || p.Params.Iterations > MaxIterations || p.Params.Iterations < 1 ||
			p.Params.Parallelism < 1 || p.Params.Memory < 8*uint32(p.Params.Parallelism) {
			t.Fatalf("ParsePHC(%q) accepted parameters %+v", s, p.Params)
		}
		if len(p.Salt) < MinSaltBytes || len(p.Salt) > MaxSaltBytes || len(p.Hash) < MinHashBytes || len(p.Hash) > MaxHashBytes {
			t.Fatalf("ParsePHC(%q) accepted a %d-byte salt and a %d-byte hash", s, len(p.Salt), len(p.Hash))
		}
		if got := p.String(); got != s {
			t.Fatalf("ParsePHC(%q).String() = %q: the format is not canonical", s, got)
		}
	})
}
