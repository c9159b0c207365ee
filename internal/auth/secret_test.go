package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestTokensAndSessionIDs(t *testing.T) {
	tok, err := NewToken(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Text, "ogt_") || len(tok.Text) != 4+43 {
		t.Errorf("NewToken = %q, want ogt_ and 43 characters", tok.Text)
	}
	if h, err := ParseToken(tok.Text); err != nil || h != tok.Hash {
		t.Errorf("ParseToken(new token) = %q, %v; want its hash %q", h, err, tok.Hash)
	}
	if len(tok.Hash) != 64 || strings.Contains(tok.Hash, tok.Text[4:]) {
		t.Errorf("token hash %q is not a hex SHA-256", tok.Hash)
	}
	sid, err := NewSessionID(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSessionID(sid.Text); err != nil {
		t.Errorf("ParseSessionID(new ID) = %v", err)
	}
	t.Run("a token is not a session ID, nor the other way round", func(t *testing.T) {
		if _, err := ParseSessionID(tok.Text); !errors.Is(err, ErrMalformedSecret) {
			t.Errorf("ParseSessionID(token) = %v, want ErrMalformedSecret", err)
		}
		if _, err := ParseToken(sid.Text); !errors.Is(err, ErrMalformedSecret) {
			t.Errorf("ParseToken(session ID) = %v, want ErrMalformedSecret", err)
		}
	})
	t.Run("the randomness comes from the reader", func(t *testing.T) {
		a, _ := NewToken(bytes.NewReader(make([]byte, 32)))
		if a.Text != "ogt_"+strings.Repeat("A", 43) {
			t.Errorf("NewToken(zeros) = %q", a.Text)
		}
		if _, err := NewToken(bytes.NewReader(make([]byte, 5))); err == nil {
			t.Error("NewToken with 5 random bytes succeeded")
		}
	})
	t.Run("the hint shows the prefix and four characters", func(t *testing.T) {
		if got := TokenHint(tok.Text); got != tok.Text[:8]+"…" {
			t.Errorf("TokenHint = %q", got)
		}
	})
}

func TestParseTokenRefusesMalformedTokens(t *testing.T) {
	good := "ogt_" + strings.Repeat("A", 43)
	for name, s := range map[string]string{
		"empty":               "",
		"no prefix":           strings.Repeat("A", 43),
		"a capital prefix":    "OGT_" + strings.Repeat("A", 43),
		"one character short": good[:len(good)-1],
		"one character more":  good + "A",
		"standard base64":     "ogt_" + strings.Repeat("+", 43),
		"padding":             "ogt_" + strings.Repeat("A", 42) + "=",
		"stray bits":          "ogt_" + strings.Repeat("A", 42) + "B",
		"a space":             "ogt_ " + strings.Repeat("A", 42),
	} {
		if _, err := ParseToken(s); !errors.Is(err, ErrMalformedSecret) {
			t.Errorf("ParseToken(%s: %q) = %v, want ErrMalformedSecret", name, s, err)
		}
	}
}

func FuzzParseSecret(f *testing.F) {
	f.Add("ogt_" + strings.Repeat("A", 43))
	f.Add("ogs_" + strings.Repeat("_", 43))
	f.Add("ogt_")
	f.Add("ogs_AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (string, error){ParseToken, ParseSessionID} {
			h, err := parse(s)
			if err != nil {
				if !errors.Is(err, ErrMalformedSecret) {
					t.Fatalf("parse(%q) error %v is not ErrMalformedSecret", s, err)
				}
				continue
			}
			if h != HashSecret(s) || len(s) != 47 {
				t.Fatalf("parse(%q) = %q, want the hash of a 47-character secret", s, h)
			}
		}
	})
}
