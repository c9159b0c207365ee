package decode

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/source"
)

func TestJSONParse(t *testing.T) {
	_, err := (JSON{File: "b.json", Err: errBad}).Parse([]byte("{\"a\": \n  }"))
	var se *source.Error
	if !errors.As(err, &se) || !errors.Is(err, errBad) || !strings.HasPrefix(err.Error(), "b.json:2:3: malformed JSON: ") {
		t.Errorf("Parse(broken) = %v, want a positioned malformed JSON error", err)
	}
	if v, err := (JSON{}).Parse([]byte(`{"a": 1}`)); err != nil || v.Get("a") == nil {
		t.Errorf("Parse(valid) = %v, %v", v, err)
	}
}

func TestJSONObject(t *testing.T) {
	known, required := []string{"name", "action"}, []string{"name"}
	tests := []struct {
		name, data string
		want       []string
		ok         bool
	}{
		{"known keys pass", `{"name": "a", "action": "b"}`, nil, true},
		{"an unknown key lists the known ones", `{"name": "a", "verb": 1}`,
			[]string{`c.json:1:15: x.verb: unknown field "verb" in case (known: name, action)`}, true},
		{"a key in the wrong case gets a hint", `{"name": "a", "Action": 1}`,
			[]string{`c.json:1:15: x.Action: unknown field "Action" in case (did you mean "action"?)`}, true},
		{"a duplicate key is reported", `{"name": "a", "name": "b"}`, []string{`c.json:1:15: x.name: duplicate key "name"`}, true},
		{"a missing required key is reported at the object", `{"action": "b"}`, []string{`c.json:1:1: x: case has no "name" field`}, true},
		{"a list is not an object", `[1]`, []string{`c.json:1:1: x: want case (an object), got array`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := JSON{File: "c.json", Err: errBad}
			v, err := d.Parse([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			m, errs, ok := d.Object(v, "x", "case", known, required)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
				if !errors.Is(e, errBad) {
					t.Errorf("error %v does not match Err", e)
				}
			}
			if diff := cmp.Diff(got, tt.want); diff != "" || ok != tt.ok {
				t.Errorf("Object(%s) ok=%v, want %v; errors (-got +want):\n%s", tt.data, ok, tt.ok, diff)
			}
			if ok && m["name"] != nil && m["name"].Str != "a" {
				t.Errorf("Object(%s)[name] = %q, want the first", tt.data, m["name"].Str)
			}
		})
	}
}

func FuzzJSONObject(f *testing.F) {
	for _, s := range []string{`{"name": "a"}`, `{"Name": 1, "name": 2, "name": 3}`, `[]`, `{"a": {"b": [1, 2]}}`, `{`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := JSON{File: "fuzz.json", Err: errBad}
		v, err := d.Parse(data)
		if err != nil {
			var se *source.Error
			if !errors.As(err, &se) || se.Pos.Line < 1 || se.Pos.Col < 1 || !errors.Is(err, errBad) {
				t.Fatalf("Parse error %#v is not a positioned *source.Error", err)
			}
			return
		}
		m, errs, ok := d.Object(v, "", "thing", []string{"name", "action"}, []string{"name"})
		for _, e := range errs {
			if e.Pos.Line < 1 || e.Pos.Col < 1 || e.Pos.File != "fuzz.json" {
				t.Fatalf("error without a position: %v", e)
			}
		}
		if ok && len(errs) == 0 && m["name"] == nil {
			t.Fatalf("Object accepted %s without its required key", data)
		}
	})
}
