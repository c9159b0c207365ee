package change

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Intent is what the operator declares a change will affect. When the
// computed blast radius differs, the plan is refused.
type Intent struct {
	Accounts []string `yaml:"accounts" json:"accounts,omitempty"` // account IDs or names
	Count    *int     `yaml:"count" json:"count,omitempty"`       // number of accounts affected
}

// Override asks to override a guardrail rule, with the reason.
type Override struct {
	Rule   string `yaml:"rule" json:"rule"`
	Reason string `yaml:"reason" json:"reason"`
}

// File is a change file: operations with the operator's intent.
type File struct {
	Description string      `yaml:"description"`
	Expect      *Intent     `yaml:"expect"`
	Overrides   []Override  `yaml:"overrides"`
	Operations  []Operation `yaml:"-"`
}

// fileOperation is an operation as written in a change file: the policy
// content may come from a file.
type fileOperation struct {
	Operation `yaml:",inline"`
	File      string `yaml:"file"`
}

// FileError points at the place in a change file that is wrong.
type FileError struct {
	Path      string
	Line, Col int
	Msg       string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// ReadFile reads and checks a change file (YAML or JSON).
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading change file: %w", err)
	}
	return ParseFile(data, path)
}

var yamlLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): (.*)$`)

// ParseFile parses a change file's content; path names it in messages and
// anchors relative policy file names.
func ParseFile(data []byte, path string) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &FileError{Path: path, Msg: "empty change file: want a mapping with a changes: list"}
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, &FileError{Path: path, Line: top.Line, Col: top.Column, Msg: "want a mapping with a changes: list"}
	}
	f := &File{}
	var changes *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		var err error
		switch k.Value {
		case "description":
			err = decodeStrict(v, &f.Description)
		case "expect":
			f.Expect = &Intent{}
			err = decodeStrict(v, f.Expect)
		case "overrides":
			err = decodeStrict(v, &f.Overrides)
		case "changes":
			changes = v
		default:
			return nil, &FileError{Path: path, Line: k.Line, Col: k.Column,
				Msg: fmt.Sprintf("unknown key %q (known: description, expect, overrides, changes)", k.Value)}
		}
		if err != nil {
			return nil, nodeError(path, v, err)
		}
	}
	if changes == nil {
		return nil, &FileError{Path: path, Line: top.Line, Col: top.Column, Msg: "missing changes: list"}
	}
	if changes.Kind != yaml.SequenceNode || len(changes.Content) == 0 {
		return nil, &FileError{Path: path, Line: changes.Line, Col: changes.Column, Msg: "changes: want a non-empty list of operations"}
	}
	for i, n := range changes.Content {
		var fo fileOperation
		if err := decodeStrict(n, &fo); err != nil {
			return nil, nodeError(path, n, fmt.Errorf("changes[%d]: %w", i, err))
		}
		op := fo.Operation
		op.Origin = fmt.Sprintf("%s:%d:%d", path, n.Line, n.Column)
		if op.Op == "" {
			return nil, &FileError{Path: path, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("changes[%d]: missing op (one of %s)", i, opList())}
		}
		if !knownOp(op.Op) {
			return nil, &FileError{Path: path, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("changes[%d]: unknown op %q (one of %s)", i, op.Op, opList())}
		}
		if fo.File != "" {
			if op.Content != "" {
				return nil, &FileError{Path: path, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("changes[%d]: give content or file, not both", i)}
			}
			p := fo.File
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(path), p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, &FileError{Path: path, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf("changes[%d]: reading the policy file: %v", i, err)}
			}
			op.Content = string(b)
		}
		f.Operations = append(f.Operations, op)
	}
	if f.Expect != nil && f.Expect.Count != nil && *f.Expect.Count < 0 {
		return nil, &FileError{Path: path, Msg: "expect.count: must not be negative"}
	}
	for i, o := range f.Overrides {
		if strings.TrimSpace(o.Rule) == "" || strings.TrimSpace(o.Reason) == "" {
			return nil, &FileError{Path: path, Msg: fmt.Sprintf("overrides[%d]: an override needs a rule and a reason", i)}
		}
	}
	return f, nil
}

func knownOp(o Op) bool {
	for _, k := range Ops() {
		if k == o {
			return true
		}
	}
	return false
}

// decodeStrict decodes n into v, refusing mapping keys that v's struct
// (or the structs of a list's elements) does not name in its yaml tags.
func decodeStrict(n *yaml.Node, v any) error {
	if err := checkKeys(n, reflect.TypeOf(v)); err != nil {
		return err
	}
	return n.Decode(v)
}

// checkKeys walks n alongside t and reports the first unknown key.
func checkKeys(n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for _, c := range n.Content {
			if err := checkKeys(c, t.Elem()); err != nil {
				return err
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		collectFields(t, fields)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for f := range fields {
					names = append(names, f)
				}
				slices.Sort(names)
				return &FileError{Line: k.Line, Col: k.Column, Msg: fmt.Sprintf("unknown key %q (known: %s)", k.Value, strings.Join(names, ", "))}
			}
			if err := checkKeys(n.Content[i+1], ft); err != nil {
				return err
			}
		}
	}
	return nil
}

func collectFields(t reflect.Type, into map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if opts == "inline" {
			collectFields(f.Type, into)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		into[name] = f.Type
	}
}

// nodeError turns a decoding error at node n into a FileError pointing at
// the right line and column.
func nodeError(path string, n *yaml.Node, err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		c := *fe
		c.Path = path
		prefix := strings.TrimSuffix(strings.TrimSuffix(err.Error(), fe.Error()), ": ")
		if prefix != "" && prefix != err.Error() {
			c.Msg = prefix + ": " + c.Msg
		}
		return &c
	}
	msg := err.Error()
	line, col := n.Line, n.Column
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLine.FindStringSubmatch("yaml: " + strings.TrimPrefix(msg, "yaml: ")); m != nil {
		if l, e := strconv.Atoi(m[1]); e == nil {
			line, col = l, columnAt(n, l)
		}
		msg = m[2]
	}
	return &FileError{Path: path, Line: line, Col: col, Msg: msg}
}

// columnAt returns the column of the value a type error on line l is
// about: the second node of n's tree on that line (the first is its key),
// or the only one, or 1.
func columnAt(n *yaml.Node, l int) int {
	var cols []int
	var walk func(*yaml.Node)
	walk = func(m *yaml.Node) {
		if m.Line == l && m.Kind != yaml.DocumentNode {
			cols = append(cols, m.Column)
		}
		for _, c := range m.Content {
			walk(c)
		}
	}
	walk(n)
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

func yamlError(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		l, _ := strconv.Atoi(m[1])
		return &FileError{Path: path, Line: l, Col: 1, Msg: m[2]}
	}
	return &FileError{Path: path, Msg: msg}
}
