package jsonpos

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseKeepsPositions(t *testing.T) {
	data := []byte("{\n  \"a\": [1, \"x\"],\n\t\"é\": {\"b\": true},\n  \"ü\": \"日本\", \"c\": null\n}")
	v, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tests := []struct {
		name string
		got  Pos
		want Pos
	}{
		{"the object starts at 1:1", v.Pos, Pos{1, 1, 0}},
		{"the first key is on line 2", v.Members[0].KeyPos, Pos{2, 3, 4}},
		{"the array follows the key", v.Members[0].Value.Pos, Pos{2, 8, 9}},
		{"the second element counts columns", v.Members[0].Value.Elems[1].Pos, Pos{2, 12, 13}},
		{"a tab counts as one column", v.Members[1].KeyPos, Pos{3, 2, 20}},
		{"columns after a two-byte rune count runes", v.Members[1].Value.Pos, Pos{3, 7, 26}},
		{"a nested key", v.Members[1].Value.Members[0].KeyPos, Pos{3, 8, 27}},
		{"a string after multi-byte keys", v.Members[2].Value.Pos, Pos{4, 8, 47}},
		{"a key after a string of three-byte runes", v.Members[3].KeyPos, Pos{4, 14, 57}},
		{"null value", v.Members[3].Value.Pos, Pos{4, 19, 62}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("pos = %#v, want %#v", tt.got, tt.want)
			}
		})
	}
	if got := string(v.Members[1].Value.Raw(data)); got != `{"b": true}` {
		t.Errorf("Raw = %q, want %q", got, `{"b": true}`)
	}
	if got := v.Get("ü").Str; got != "日本" {
		t.Errorf("Get(ü).Str = %q, want 日本", got)
	}
	if v.Get("missing") != nil {
		t.Errorf("Get(missing) != nil")
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		str  string
		num  string
		b    bool
	}{
		{`"a\"b\\c\/d\b\f\n\r\t"`, String, "a\"b\\c/d\b\f\n\r\t", "", false},
		{`"\u00e9\u65e5"`, String, "é日", "", false},
		{`"\ud83d\ude00"`, String, "😀", "", false},
		{`"\ud83d"`, String, "\uFFFD", "", false},
		{`-0.5e+10`, Number, "", "-0.5e+10", false},
		{`0`, Number, "", "0", false},
		{`true`, Bool, "", "", true},
		{`false`, Bool, "", "", false},
		{` null `, Null, "", "", false},
		{"\xEF\xBB\xBF\"bom\"", String, "bom", "", false},
	}
	for _, tt := range tests {
		t.Run("parses "+tt.in, func(t *testing.T) {
			v, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if v.Kind != tt.kind || v.Str != tt.str || v.Num != tt.num || v.Bool != tt.b {
				t.Errorf("Parse(%q) = %v %q %q %v, want %v %q %q %v", tt.in, v.Kind, v.Str, v.Num, v.Bool, tt.kind, tt.str, tt.num, tt.b)
			}
		})
	}
}

func TestParseKeepsDuplicateKeys(t *testing.T) {
	v, err := Parse([]byte(`{"a":1,"a":2}`))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{v.Members[0].Value.Num, v.Members[1].Value.Num}
	if diff := cmp.Diff([]string{"1", "2"}, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if v.Get("a").Num != "1" {
		t.Errorf("Get(a) = %s, want the first member", v.Get("a").Num)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     Pos
	}{
		{"empty input", ``, Pos{1, 1, 0}},
		{"a trailing comma in an object", `{"a":1,}`, Pos{1, 8, 7}},
		{"a trailing comma in an array", "[1,\n ]", Pos{2, 2, 5}},
		{"a single-quoted string", `{'a':1}`, Pos{1, 2, 1}},
		{"a leading zero", `01`, Pos{1, 1, 0}},
		{"a bare dot", `1.`, Pos{1, 1, 0}},
		{"a plus sign", `+1`, Pos{1, 1, 0}},
		{"NaN", `NaN`, Pos{1, 1, 0}},
		{"a control character in a string", "\"a\tb\"", Pos{1, 3, 2}},
		{"a bad escape", `"\x"`, Pos{1, 2, 1}},
		{"a short unicode escape", `"\u12"`, Pos{1, 2, 1}},
		{"invalid UTF-8", "\"a\xffb\"", Pos{1, 3, 2}},
		{"an unterminated string", `"abc`, Pos{1, 1, 0}},
		{"trailing data", `{} x`, Pos{1, 4, 3}},
		{"two values", `1 2`, Pos{1, 3, 2}},
		{"a misspelt literal", `tru`, Pos{1, 1, 0}},
		{"a literal run on", `truex`, Pos{1, 1, 0}},
		{"a missing colon", "{\"a\" 1}", Pos{1, 6, 5}},
		{"a missing comma", "[1 2]", Pos{1, 4, 3}},
		{"an unclosed array", "[1,\n2", Pos{2, 2, 5}},
		{"comments", "// x\n{}", Pos{1, 1, 0}},
		{"an error after multi-byte runes", "[\"ééé\", x]", Pos{1, 9, 11}},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error = %v, want a *SyntaxError", tt.in, err)
			}
			if se.Pos != tt.want {
				t.Errorf("Parse(%q) error at %#v (%s), want %#v", tt.in, se.Pos, se.Msg, tt.want)
			}
		})
	}
}

func TestParseLimitsDepth(t *testing.T) {
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("Parse(depth %d) = %v, want nil", MaxDepth, err)
	}
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if _, err := Parse([]byte(deep)); err == nil {
		t.Errorf("Parse(depth %d) = nil, want an error", MaxDepth+1)
	}
	hostile := strings.Repeat(`{"a":`, 100000)
	if _, err := Parse([]byte(hostile)); err == nil {
		t.Errorf("Parse(100000 nested objects) = nil, want an error")
	}
}

// FuzzParse checks that Parse never panics, agrees with encoding/json on
// validity (for valid UTF-8 input) and gives positions inside the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"\u00e9"`, "[\n1,\n\"é\"]", `-1.5e3`, `{"a":1,"a":2}`, `[`, `{"Statement":[{"Effect":"Allow"}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if utf8.Valid(data) && !strings.HasPrefix(string(data), "\xEF\xBB\xBF") {
			if (err == nil) != json.Valid(data) {
				t.Fatalf("Parse(%q) error = %v, json.Valid = %v", data, err, json.Valid(data))
			}
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T, want *SyntaxError", data, err)
			}
			if se.Pos.Offset < 0 || se.Pos.Offset > len(data) || se.Pos.Line < 1 || se.Pos.Col < 1 {
				t.Fatalf("Parse(%q) error position %+v out of range", data, se.Pos)
			}
			return
		}
		var walk func(*Value)
		walk = func(x *Value) {
			if x.Pos.Offset < 0 || x.End > len(data) || x.Pos.Offset >= x.End {
				t.Fatalf("value at %+v..%d out of range of %d bytes", x.Pos, x.End, len(data))
			}
			// Line and column must agree with the offset.
			line := 1 + strings.Count(string(data[:x.Pos.Offset]), "\n")
			ls := strings.LastIndexByte(string(data[:x.Pos.Offset]), '\n') + 1
			col := 1 + utf8.RuneCount(data[ls:x.Pos.Offset])
			if ls == 0 && strings.HasPrefix(string(data), "\xEF\xBB\xBF") {
				col--
			}
			if x.Pos.Line != line || x.Pos.Col != col {
				t.Fatalf("value at offset %d has %d:%d, want %d:%d", x.Pos.Offset, x.Pos.Line, x.Pos.Col, line, col)
			}
			for _, e := range x.Elems {
				walk(e)
			}
			for _, m := range x.Members {
				walk(m.Value)
			}
		}
		walk(v)
	})
}
