package conformance

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the case-file loader: it must never
// panic, and every failure must be a positioned ErrMalformed error.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validCase))
	f.Add([]byte(`{"cases": [` + validCase + `]}`))
	f.Add([]byte(`{"cases": [{"name": "x", "scps": [[], {"id": "r", "policies": [{"name": "n", "policy": {}}]}]}]}`))
	f.Add([]byte(`{"cases": [{"context": {"a": ["b", 1], "A": "c"}, "permissionBoundary": [null]}]}`))
	f.Add([]byte(`{"cases": "x"}`))
	f.Add([]byte(`[[[[[[[[[[`))
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "cases", "*.json"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil && len(data) < 8<<10 {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"cases": [{"name": "a", "resourcePolicy": "grants-nothing", "permissionBoundary": [], "vpcEndpointPolicies": [{"id": "v", "type": "gateway", "policy": {}}]}, {"name": "a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// ParseKeepGoing: an error only for an unusable file; otherwise
		// every invalid case has a place, and valid cases run.
		if kf, err := ParseKeepGoing(data, "fuzz.json"); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseKeepGoing error %v is not ErrMalformed", err)
			}
		} else {
			for _, inv := range kf.Invalid {
				if inv.Pos.Line < 1 || inv.Pos.Col < 1 {
					t.Fatalf("invalid case without a position: %+v", inv)
				}
			}
			for _, c := range kf.Cases {
				Run(c, Options{})
			}
		}
		file, err := Parse(data, "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v is not ErrMalformed", err)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse error %T is not a non-empty ErrorList", err)
			}
			for _, e := range list {
				if e.Pos.Line < 1 || e.Pos.Col < 1 {
					t.Fatalf("error without a position: %v", e)
				}
			}
			return
		}
		for _, c := range file.Cases {
			Run(c, Options{})
		}
	})
}
