package decode

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/orgguard/orgguard/internal/source"
)

var errBad = errors.New("bad input")

type inner struct {
	Name  string   `yaml:"name"`
	Count int      `yaml:"count"`
	Tags  []string `yaml:"tags"`
}

type base struct {
	Op string `yaml:"op"`
}

type outer struct {
	base    `yaml:",inline"`
	Inner   inner            `yaml:"inner"`
	List    []inner          `yaml:"list"`
	Ptr     *inner           `yaml:"ptr"`
	ByName  map[string]inner `yaml:"byName"`
	Plain   string
	Skipped string `yaml:"-"`
	//lint:ignore U1000 an unexported field is no key: Fields must skip it
	hidden string
}

func TestFields(t *testing.T) {
	var got []string
	for _, f := range Fields(reflect.TypeFor[*outer]()) {
		got = append(got, f.Key)
	}
	want := []string{"op", "inner", "list", "ptr", "byName", "plain"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Fields(outer) (-got +want):\n%s", diff)
	}
	if f := Fields(reflect.TypeFor[string]()); f != nil {
		t.Errorf("Fields(string) = %v, want none", f)
	}
}

func node(t *testing.T, doc string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatalf("yaml.Unmarshal(%q): %v", doc, err)
	}
	return &n
}

func TestCheckReportsTheFirstUnknownKeyAtItsPlace(t *testing.T) {
	tests := []struct {
		name, doc string
		dec       YAML
		want      string
	}{
		{"a top-level key", "op: x\nbogus: 1\n", YAML{File: "f.yaml"},
			`f.yaml:2:1: unknown key "bogus" (known: op, inner, list, ptr, byName, plain)`},
		{"a nested key, sorted hint, with the caller's path", "inner:\n  nme: x\n", YAML{File: "f.yaml", Path: "changes[0]", SortKnown: true},
			`f.yaml:2:3: changes[0]: unknown key "nme" (known: count, name, tags)`},
		{"a key in a list element", "list:\n  - name: a\n  - {name: b, cnt: 1}\n", YAML{File: "f.yaml"},
			`f.yaml:3:15: unknown key "cnt"`},
		{"a key behind a pointer", "ptr: {nam: x}\n", YAML{File: "f.yaml"}, `f.yaml:1:7: unknown key "nam"`},
		{"a key in a map value", "byName:\n  a: {cont: 1}\n", YAML{File: "f.yaml"}, `f.yaml:2:7: unknown key "cont"`},
		{"a key behind an alias", "inner: &a {name: x}\nlist: [*a, {nme: y}]\n", YAML{File: "f.yaml"}, `f.yaml:2:13: unknown key "nme"`},
		{"the caller's wording and where the mapping is", "list:\n  - {name: a, cnt: 1}\n",
			YAML{Unknown: func(key, in string, known []string) string {
				return "unknown field " + key + " in " + in + " (" + strings.Join(known, "|") + ")"
			}},
			"line 2, column 15: unknown field cnt in list[0] (name|count|tags)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.dec.Check(node(t, tt.doc), reflect.TypeFor[outer]())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check(%q) = %v, want an error containing %q", tt.doc, err, tt.want)
			}
			var se *source.Error
			if !errors.As(err, &se) || se.Pos.Line < 1 || se.Pos.Col < 1 {
				t.Errorf("Check(%q) = %#v, want a positioned *source.Error", tt.doc, err)
			}
		})
	}
	if err := (YAML{}).Check(node(t, "op: x\ninner: {name: a, count: 2}\nplain: p\nlist: [{tags: [a]}]\n"), reflect.TypeFor[outer]()); err != nil {
		t.Errorf("Check(known keys only) = %v", err)
	}
}

func TestDecode(t *testing.T) {
	t.Run("a known document is decoded", func(t *testing.T) {
		var got outer
		if err := (YAML{}).Decode(node(t, "op: x\ninner: {name: a, count: 2}\n"), &got); err != nil {
			t.Fatal(err)
		}
		if got.Op != "x" || got.Inner.Count != 2 {
			t.Errorf("Decode = %+v", got)
		}
	})
	t.Run("a type error points at the value and carries Err", func(t *testing.T) {
		var got outer
		err := (YAML{File: "f.yaml", Err: errBad}).Decode(node(t, "inner:\n  count: three\n"), &got)
		if err == nil || err.Error() != "f.yaml:2:10: cannot unmarshal !!str `three` into int" {
			t.Errorf("Decode(type error) = %v", err)
		}
		if !errors.Is(err, errBad) {
			t.Errorf("errors.Is(%v, errBad) = false", err)
		}
	})
	t.Run("an unknown key carries Err", func(t *testing.T) {
		var got outer
		if err := (YAML{Err: errBad}).Decode(node(t, "x: 1\n"), &got); !errors.Is(err, errBad) {
			t.Errorf("errors.Is(%v, errBad) = false", err)
		}
	})
}

// located is a type whose UnmarshalYAML reports a positioned error.
type located struct{}

func (*located) UnmarshalYAML(n *yaml.Node) error {
	return &source.Error{Pos: source.Pos{Line: n.Line, Col: n.Column + 2}, Msg: "no good"}
}

func TestTypeErrorsKeepAnUnmarshalersPosition(t *testing.T) {
	var v struct {
		L located `yaml:"l"`
	}
	n := node(t, "a: 1\nl:\n  x: 1\n")
	err := n.Decode(&v)
	got := (YAML{File: "c.yaml", Path: "section"}).TypeErrors(n, err)
	if len(got) != 1 || got[0].Error() != "c.yaml:3:5: section: no good" {
		t.Errorf("TypeErrors(%v) = %v, want c.yaml:3:5: section: no good", err, got)
	}
}

func TestTypeErrorsReadALineAndColumnPrefix(t *testing.T) {
	n := node(t, "a: 1\nsection:\n  x: 1\n")
	got := (YAML{File: "c.yaml", Path: "section"}).TypeErrors(n, errors.New(`line 3, column 3: unknown field "x" in section (known: y)`))
	if len(got) != 1 || got[0].Error() != `c.yaml:3:3: section: unknown field "x" in section (known: y)` {
		t.Errorf("TypeErrors = %v", got)
	}
}

func TestSyntaxError(t *testing.T) {
	var n yaml.Node
	err := yaml.Unmarshal([]byte("a:\n  b: [x\n"), &n)
	if err == nil {
		t.Fatal("yaml.Unmarshal of a broken document succeeded")
	}
	se := SyntaxError("s.yaml", err)
	if se.Pos.File != "s.yaml" || se.Pos.Line < 1 || se.Pos.Col != 1 || strings.HasPrefix(se.Msg, "yaml:") {
		t.Errorf("SyntaxError(%v) = %#v", err, se)
	}
	if got := SyntaxError("s.yaml", errors.New("yaml: something odd")); got.Error() != "s.yaml: something odd" {
		t.Errorf("SyntaxError(no line) = %q", got)
	}
}

func FuzzYAMLDecode(f *testing.F) {
	for _, s := range []string{
		"op: x\ninner: {name: a, count: 2}\n",
		"list: [{name: a}, {cnt: 1}]\n",
		"inner: &a {name: x}\nlist: [*a, *a]\nptr: *a\n",
		"byName: {a: {count: x}}\n",
		"- 1\n- 2\n",
		"a: &a [*a]\n",
		"inner:\n  count: 99999999999999999999\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			if se := SyntaxError("fuzz.yaml", err); se.Pos.File != "fuzz.yaml" || se.Msg == "" {
				t.Fatalf("SyntaxError(%v) = %#v", err, se)
			}
			return
		}
		var v outer
		err := (YAML{File: "fuzz.yaml", Err: errBad}).Decode(&n, &v)
		if err == nil {
			return
		}
		var se *source.Error
		if !errors.As(err, &se) || !errors.Is(err, errBad) || se.Pos.File != "fuzz.yaml" {
			t.Fatalf("Decode error %#v is not a *source.Error of fuzz.yaml matching Err", err)
		}
		if strings.HasPrefix(se.Msg, "unknown key") && (se.Pos.Line < 1 || se.Pos.Col < 1) {
			t.Fatalf("unknown key without a position: %v", err)
		}
	})
}

func TestFieldIndexReachesTheField(t *testing.T) {
	v := reflect.ValueOf(&outer{base: base{Op: "o"}, Plain: "p"}).Elem()
	for _, f := range Fields(v.Type()) {
		if got := v.FieldByIndex(f.Index).Type(); got != f.Type {
			t.Errorf("field %s: FieldByIndex(%v) has type %v, want %v", f.Key, f.Index, got, f.Type)
		}
	}
	if got := v.FieldByIndex(Fields(v.Type())[0].Index).String(); got != "o" {
		t.Errorf("the inline op field reads %q, want o", got)
	}
}
