package decode

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/jsonpos"
	"github.com/orgguard/orgguard/internal/source"
)

// JSON checks jsonpos value trees strictly. The zero value is ready to use.
type JSON struct {
	File string // names the file in errors
	// Err is set as the Err of every error returned, for errors.Is.
	Err error
}

// Parse parses data with jsonpos. A syntax error is returned as a
// *source.Error "malformed JSON: ..." at its place.
func (d JSON) Parse(data []byte) (*jsonpos.Value, error) {
	v, err := jsonpos.Parse(data)
	if err != nil {
		var se *jsonpos.SyntaxError
		if errors.As(err, &se) {
			return nil, d.Errorf(se.Pos, "", "malformed JSON: %s", se.Msg)
		}
		return nil, d.Errorf(jsonpos.Pos{Line: 1, Col: 1}, "", "malformed JSON: %v", err)
	}
	return v, nil
}

// Errorf returns a *source.Error at p with the JSON path path.
func (d JSON) Errorf(p jsonpos.Pos, path, format string, args ...any) *source.Error {
	return &source.Error{
		Pos: source.Pos{File: d.File, Line: p.Line, Col: p.Col, Path: path},
		Msg: fmt.Sprintf(format, args...),
		Err: d.Err,
	}
}

// Object checks that v, found at path, is an object (what names it in
// messages: "case", "named policy") whose keys are known, each given once,
// and that the required keys are present. It returns the members by key
// (the first of duplicates) and every problem found; ok is false when v is
// not an object at all.
//
// An unknown key that matches a known one but for case gets a "did you
// mean" hint, any other the list of known keys.
func (d JSON) Object(v *jsonpos.Value, path, what string, known, required []string) (members map[string]*jsonpos.Value, errs source.Errors, ok bool) {
	if v.Kind != jsonpos.Object {
		return nil, source.Errors{d.Errorf(v.Pos, path, "want %s, got %s", what+" (an object)", v.Kind)}, false
	}
	m := make(map[string]*jsonpos.Value, len(v.Members))
	for _, mem := range v.Members {
		mp := Join(path, mem.Key)
		if _, dup := m[mem.Key]; dup {
			errs = append(errs, d.Errorf(mem.KeyPos, mp, "duplicate key %q", mem.Key))
			continue
		}
		if !slices.Contains(known, mem.Key) {
			if hint := closeKey(mem.Key, known); hint != "" {
				errs = append(errs, d.Errorf(mem.KeyPos, mp, "unknown field %q in %s (did you mean %q?)", mem.Key, what, hint))
			} else {
				errs = append(errs, d.Errorf(mem.KeyPos, mp, "unknown field %q in %s (known: %s)", mem.Key, what, strings.Join(known, ", ")))
			}
			continue
		}
		m[mem.Key] = mem.Value
	}
	for _, r := range required {
		if _, ok := m[r]; !ok {
			errs = append(errs, d.Errorf(v.Pos, path, "%s has no %q field", what, r))
		}
	}
	return m, errs, true
}

// closeKey returns the known key equal to k but for case, if any.
func closeKey(k string, known []string) string {
	for _, x := range known {
		if strings.EqualFold(x, k) {
			return x
		}
	}
	return ""
}
