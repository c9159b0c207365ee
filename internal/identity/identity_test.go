package identity

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
		bad            bool
	}{
		{name: "a plain name is kept", in: "alice", want: "alice"},
		{name: "surrounding spaces are trimmed", in: "  bob ", want: "bob"},
		{name: "an inner space is allowed", in: "Carol Smith", want: "Carol Smith"},
		{name: "fullwidth letters are normalised (NFKC)", in: "ａｌｉｃｅ", want: "alice"},
		{name: "a ligature is normalised", in: "ﬁona", want: "fiona"},
		{name: "an AWS ARN is a name", in: "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com", want: "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com"},
		{name: "a role session ARN from STS GetCallerIdentity is a name", in: "arn:aws:sts::123456789012:assumed-role/Ops/alice", want: "arn:aws:sts::123456789012:assumed-role/Ops/alice"},
		{name: "an IAM user ARN with a path is a name", in: "arn:aws:iam::123456789012:user/division/team/bob", want: "arn:aws:iam::123456789012:user/division/team/bob"},
		{name: "a GovCloud federated user ARN is a name", in: "arn:aws-us-gov:sts::123456789012:federated-user/carol", want: "arn:aws-us-gov:sts::123456789012:federated-user/carol"},
		{name: "a Japanese name mixing Han and Kana is allowed", in: "山田たろう", want: "山田たろう"},
		{name: "a Japanese name with Latin is allowed", in: "山田 Taro", want: "山田 Taro"},
		{name: "a Korean name is allowed", in: "김철수", want: "김철수"},
		{name: "a whole-Cyrillic name is allowed (Key catches look-alikes)", in: "Иван", want: "Иван"},
		{name: "Latin with a Cyrillic a is refused", in: "аlice", bad: true},
		{name: "Latin with a Greek omicron is refused", in: "bοb", bad: true},
		{name: "a zero-width space is refused", in: "alice\u200b", bad: true},
		{name: "a zero-width joiner is refused", in: "al\u200dice", bad: true},
		{name: "a right-to-left override is refused", in: "alice\u202e", bad: true},
		{name: "an escape sequence is refused", in: "alice\x1b[31m", bad: true},
		{name: "a newline is refused", in: "alice\nbob", bad: true},
		{name: "a tab is refused", in: "alice\tbob", bad: true},
		{name: "the Hangul filler is refused", in: "alice\u3164", bad: true},
		{name: "an empty name is refused", in: "   ", bad: true},
		{name: "invalid UTF-8 is refused", in: "al\xffice", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("Parse(%+q) = %q, %v; want ErrInvalid", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Parse(%+q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestSame(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"case does not make two people", "Alice", "alice", true},
		{"a Cyrillic a looks like a Latin a", "alice", "аlice", true},
		{"an all-Cyrillic look-alike is the same person", "alice", "аӏісе", true},
		{"a Greek omicron looks like o", "bob", "bοb", true},
		{"a zero-width character recorded before normalisation is ignored", "alice", "ali\u200bce", true},
		{"fullwidth letters are the same letters", "alice", "ａｌｉｃｅ", true},
		{"German sharp s folds to ss", "strauss", "STRAUß", true},
		{"different names are different people", "alice", "bob", false},
		{"alice and alicia are different", "alice", "alicia", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Same(tt.a, tt.b); got != tt.want {
				t.Errorf("Same(%+q, %+q) = %v, want %v (keys %q, %q)", tt.a, tt.b, got, tt.want, Key(tt.a), Key(tt.b))
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"alice", "аlice", "山田たろう", "a\u200bb", "\x1b[2J"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(n)
		if err != nil || again != n {
			t.Fatalf("Parse(Parse(%+q)) = %+q, %v; want the same name", s, again, err)
		}
		if !Same(n, s) {
			t.Fatalf("Same(Parse(%+q), itself) is false", s)
		}
	})
}
