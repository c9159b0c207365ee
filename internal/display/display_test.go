package display

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestThousands(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {10000, "10,000"}, {1234567, "1,234,567"}, {-1000, "-1,000"}} {
		if got := Thousands(tt.n); got != tt.want {
			t.Errorf("Thousands(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain text is unchanged", "acme-prod (111122223333)", "acme-prod (111122223333)"},
		{"Japanese is unchanged", "顧客A", "顧客A"},
		{"an escape sequence is shown, not run", "x\x1b[2Jy", `x\u001b[2Jy`},
		{"a newline cannot start a fake line", "ok\nAPPROVED", `ok\u000aAPPROVED`},
		{"a C1 CSI is shown", "a\u009b31mb", `a\u009b31mb`},
		{"a right-to-left override is shown", "abc\u202edef", `abc\u202edef`},
		{"invalid UTF-8 is shown as bytes", "a\xffb", `a\xffb`},
		{"DEL is shown", "a\x7fb", `a\u007fb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%+q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct{ name, in, want string }{
		// https://docs.github.com/en/get-started/writing-on-github/getting-started-with-writing-and-formatting-on-github/basic-writing-and-formatting-syntax#ignoring-markdown-formatting
		{"stars do not turn text italic", "iam:*, organizations:*", `iam:\*, organizations:\*`},
		{"underscores do not either", "_secret_", `\_secret\_`},
		{"a pipe cannot split a table cell", "a|b", `a\|b`},
		{"backticks cannot open code", "a`b", "a\\`b"},
		{"HTML is shown as text", `<img src=x onerror=alert(1)>`, `&lt;img src=x onerror=alert(1)&gt;`},
		{"a mention does not ping", "@org/admins", `\@org/admins`},
		{"a link is not a link", "[click](http://x)", `\[click\](http://x)`},
		{"ordinary punctuation stays readable", "deny-all on /Customers (3 accounts).", "deny-all on /Customers (3 accounts)."},
		{"a leading dash cannot start a list", "- item", `\- item`},
		{"a leading number cannot start a list", "1. item", `\1. item`},
		{"a leading hash cannot start a heading", "# big", `\# big`},
		{"a newline becomes a space", "line1\nline2", "line1 line2"},
		{"an escape sequence is shown", "\x1b[31m", `\\u001b\[31m`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Markdown(tt.in); got != tt.want {
				t.Errorf("Markdown(%+q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMarkdownCode(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"a plain path", "/Customers/Acme", "`/Customers/Acme`"},
		{"a backtick gets a longer fence", "a`b", "`` a`b ``"},
		{"a pipe is escaped for tables", "a|b", "`a\\|b`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MarkdownCode(tt.in); got != tt.want {
				t.Errorf("MarkdownCode(%+q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHTML(t *testing.T) {
	if got, want := HTML(`<b>"x"</b>`+"\x1b"), `&lt;b&gt;&#34;x&#34;&lt;/b&gt;\u001b`; got != want {
		t.Errorf("HTML = %q, want %q", got, want)
	}
}

func TestWriter(t *testing.T) {
	tests := []struct {
		name   string
		sgr    bool
		writes []string
		want   string
	}{
		{"plain output is unchanged", false, []string{"hello\n", "world\t!\n"}, "hello\nworld\t!\n"},
		{"escape sequences are shown without colour", false, []string{"\x1b[31mred\x1b[0m"}, `\u001b[31mred\u001b[0m`},
		{"orgguard's colours pass with colour on", true, []string{"\x1b[31mred\x1b[0m"}, "\x1b[31mred\x1b[0m"},
		{"other sequences are shown with colour on", true, []string{"\x1b[2J\x1b]0;title\x07\x1b[8m"}, `\u001b[2J\u001b]0;title\u0007\u001b[8m`},
		{"a colour cut between writes passes", true, []string{"a\x1b[3", "1mb"}, "a\x1b[31mb"},
		{"a UTF-8 rune cut between writes is kept whole", false, []string{"顧\xe5", "\xae\xa2"}, "顧客"},
		{"a bidi override is shown", false, []string{"a\u202eb"}, `a\u202eb`},
		{"a dangling byte is flushed escaped", false, []string{"a\xe5"}, `a\xe5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, tt.sgr)
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				if err != nil || n != len(s) {
					t.Fatalf("Write(%+q) = %d, %v; want %d, nil", s, n, err, len(s))
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("written %+q, want %+q", got, tt.want)
			}
		})
	}
	t.Run("JSON stays valid and means the same", func(t *testing.T) {
		in := map[string]string{"name": "a\u009b\u202eb\x1b"}
		b, _ := json.Marshal(in)
		var buf bytes.Buffer
		w := NewWriter(&buf, false)
		w.Write(b)
		var out map[string]string
		if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
			t.Fatalf("JSON through the writer is invalid: %v (%s)", err, buf.String())
		}
		if out["name"] != in["name"] {
			t.Errorf("JSON through the writer decodes to %+q, want %+q", out["name"], in["name"])
		}
		if strings.ContainsRune(buf.String(), 0x202e) {
			t.Errorf("the raw override reached the terminal: %+q", buf.String())
		}
	})
}

func FuzzWriter(f *testing.F) {
	f.Add([]byte("a\x1b[31mb\xe5\xae"), true)
	f.Fuzz(func(t *testing.T, p []byte, sgr bool) {
		var buf bytes.Buffer
		w := NewWriter(&buf, sgr)
		half := len(p) / 2
		w.Write(p[:half])
		w.Write(p[half:])
		w.Flush()
		s := buf.String()
		for i := 0; i < len(s); i++ {
			if s[i] == 0x1b {
				if !sgr || sgrAt([]byte(s[i:])) == 0 {
					t.Fatalf("a raw ESC reached the output: %+q from %+q", s, p)
				}
			}
		}
		for _, r := range s {
			if r != 0x1b && unsafeRune(r) {
				t.Fatalf("unsafe rune %U reached the output: %+q", r, s)
			}
		}
	})
}
