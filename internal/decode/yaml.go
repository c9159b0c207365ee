package decode

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/orgguard/orgguard/internal/source"
)

// UnknownKeyFunc words the message for key, found in the mapping at path
// in (relative to YAML.Path, "" for the decoded node itself), where the
// keys known are known.
type UnknownKeyFunc func(key, in string, known []string) string

// UnknownKey is the default wording: `unknown key "k" (known: a, b)`.
func UnknownKey(key, _ string, known []string) string {
	return fmt.Sprintf("unknown key %q (known: %s)", key, strings.Join(known, ", "))
}

// YAML decodes yaml.v3 nodes strictly. The zero value is ready to use.
type YAML struct {
	File string // names the file in errors
	Path string // the path of the node decoded, given to every error

	// SortKnown lists the known keys in sorted order rather than in the
	// order the Go type declares them.
	SortKnown bool
	// Unknown words unknown-key errors; nil means UnknownKey.
	Unknown UnknownKeyFunc
	// Err is set as the Err of every error returned, for errors.Is.
	Err error
}

// Check walks n alongside type t (through pointers, slices, arrays, maps'
// values and inline structs, following aliases) and returns the first
// mapping key that t's struct types do not name, as a *source.Error at the
// key. Nodes whose shape does not fit t are left to the decoder to report.
func (d YAML) Check(n *yaml.Node, t reflect.Type) error {
	return d.check(n, t, "", 0)
}

// maxAliasDepth bounds how many aliases Check follows in one branch, so
// that a document of aliases to aliases cannot make it walk forever.
const maxAliasDepth = 32

func (d YAML) check(n *yaml.Node, t reflect.Type, in string, aliases int) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		if aliases >= maxAliasDepth {
			return nil
		}
		return d.check(n.Alias, t, in, aliases+1)
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // a scalar form (an Unmarshaler) or a type error the decoder reports
		}
		fields := Fields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			j := slices.IndexFunc(fields, func(f Field) bool { return f.Key == k.Value })
			if j < 0 {
				return d.unknown(k, in, fields)
			}
			if err := d.check(n.Content[i+1], fields[j].Type, Join(in, k.Value), aliases); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, e := range n.Content {
			if err := d.check(e, t.Elem(), in+"["+strconv.Itoa(i)+"]", aliases); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := d.check(n.Content[i+1], t.Elem(), Join(in, n.Content[i].Value), aliases); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d YAML) unknown(k *yaml.Node, in string, fields []Field) error {
	known := make([]string, len(fields))
	for i, f := range fields {
		known[i] = f.Key
	}
	if d.SortKnown {
		slices.Sort(known)
	}
	word := d.Unknown
	if word == nil {
		word = UnknownKey
	}
	return d.errorAt(k.Line, k.Column, word(k.Value, in, known))
}

func (d YAML) errorAt(line, col int, msg string) *source.Error {
	return &source.Error{Pos: source.Pos{File: d.File, Line: line, Col: col, Path: d.Path}, Msg: msg, Err: d.Err}
}

// Decode checks n against v's type (see Check) and decodes it into v, a
// pointer. A decoding error is returned as the first of TypeErrors.
func (d YAML) Decode(n *yaml.Node, v any) error {
	if err := d.Check(n, reflect.TypeOf(v)); err != nil {
		return err
	}
	if err := n.Decode(v); err != nil {
		return d.TypeErrors(n, err)[0]
	}
	return nil
}

// yamlLine matches yaml.v3's "line N: message" (after "yaml: " and
// "unmarshal errors:" are cut), and the "line N, column C: message" of
// positioned errors without a file name (a *source.Error's text, and the
// guard package's unknown-field errors, which may not import this one).
var yamlLine = regexp.MustCompile(`^line (\d+)(?:, column (\d+))?: (?s:(.*))$`)

// TypeErrors turns an error from decoding node n into positioned errors:
// a *source.Error from an Unmarshaler keeps its line and column; each
// message of a *yaml.TypeError, or the text of another error, that starts
// with "line N" becomes an error at that line and at the column it names,
// or else at the column of the value on that line; anything else is placed
// at n.
func (d YAML) TypeErrors(n *yaml.Node, err error) source.Errors {
	var se *source.Error
	if errors.As(err, &se) {
		e := d.errorAt(se.Pos.Line, se.Pos.Col, se.Msg)
		if se.Pos.Line == 0 {
			e.Pos.Line, e.Pos.Col = n.Line, n.Column
		}
		return source.Errors{e}
	}
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msgs = te.Errors
	}
	out := make(source.Errors, 0, len(msgs))
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		m = strings.TrimLeft(strings.TrimPrefix(m, "unmarshal errors:"), " \n")
		line, col := n.Line, n.Column
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			if l, err := strconv.Atoi(g[1]); err == nil {
				line, col, m = l, columnAt(n, l), g[3]
				if c, err := strconv.Atoi(g[2]); err == nil {
					col = c
				}
			}
		}
		out = append(out, d.errorAt(line, col, m))
	}
	return out
}

// columnAt returns the column of the value a type error on line l is
// about: the second node of n's tree on that line (the first is its key),
// or the only one, or 1.
func columnAt(n *yaml.Node, l int) int {
	var cols []int
	var walk func(*yaml.Node, int)
	walk = func(m *yaml.Node, depth int) {
		if depth > maxNodeDepth {
			return
		}
		if m.Line == l && m.Kind != yaml.DocumentNode {
			cols = append(cols, m.Column)
		}
		for _, c := range m.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	slices.Sort(cols)
	cols = slices.Compact(cols)
	switch len(cols) {
	case 0:
		return 1
	case 1:
		return cols[0]
	}
	return cols[1]
}

// maxNodeDepth bounds columnAt's walk; yaml.v3 itself refuses documents
// nested much deeper.
const maxNodeDepth = 10000

// SyntaxError turns an error of yaml.v3's parser ("yaml: line 3: did not
// find expected key") into a *source.Error at that line, column 1, or
// without a position when the message names no line.
func SyntaxError(file string, err error) *source.Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimLeft(strings.TrimPrefix(msg, "unmarshal errors:"), " \n")
	if g := yamlLine.FindStringSubmatch(msg); g != nil {
		if l, e := strconv.Atoi(g[1]); e == nil {
			return &source.Error{Pos: source.Pos{File: file, Line: l, Col: 1}, Msg: g[3]}
		}
	}
	return &source.Error{Pos: source.Pos{File: file}, Msg: msg}
}
