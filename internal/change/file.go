package change

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/orgguard/orgguard/internal/inputfile"
	"gopkg.in/yaml.v3"

	"github.com/orgguard/orgguard/internal/decode"
	"github.com/orgguard/orgguard/internal/source"
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

// ReadFile reads and checks a change file (YAML or JSON).
func ReadFile(path string) (*File, error) {
	data, err := inputfile.Read(path, inputfile.ChangeFile, "change file")
	if err != nil {
		return nil, err
	}
	return ParseFile(data, path)
}

// ParseFile parses a change file's content; path names it in messages and
// anchors relative policy file names. Problems are returned as
// *source.Error values.
func ParseFile(data []byte, path string) (*File, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, decode.SyntaxError(path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fileError(path, nil, "", "empty change file: want a mapping with a changes: list")
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fileError(path, top, "", "want a mapping with a changes: list")
	}
	// Known keys are listed sorted; type errors are reported without the
	// path of the operation they are in.
	dec := decode.YAML{File: path, SortKnown: true}
	f := &File{}
	var changes *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		var err error
		switch k.Value {
		case "description":
			err = dec.Decode(v, &f.Description)
		case "expect":
			f.Expect = &Intent{}
			err = dec.Decode(v, f.Expect)
		case "overrides":
			err = dec.Decode(v, &f.Overrides)
		case "changes":
			changes = v
		default:
			return nil, fileError(path, k, "", fmt.Sprintf("unknown key %q (known: description, expect, overrides, changes)", k.Value))
		}
		if err != nil {
			return nil, err
		}
	}
	if changes == nil {
		return nil, fileError(path, top, "", "missing changes: list")
	}
	if changes.Kind != yaml.SequenceNode || len(changes.Content) == 0 {
		return nil, fileError(path, changes, "changes", "want a non-empty list of operations")
	}
	for i, n := range changes.Content {
		at := fmt.Sprintf("changes[%d]", i)
		if err := (decode.YAML{File: path, Path: at, SortKnown: true}).Check(n, reflect.TypeFor[fileOperation]()); err != nil {
			return nil, err
		}
		var fo fileOperation
		if err := dec.Decode(n, &fo); err != nil {
			return nil, err
		}
		op := fo.Operation
		op.Origin = fmt.Sprintf("%s:%d:%d", path, n.Line, n.Column)
		if op.Op == "" {
			return nil, fileError(path, n, at, fmt.Sprintf("missing op (one of %s)", opList()))
		}
		if !knownOp(op.Op) {
			return nil, fileError(path, n, at, fmt.Sprintf("unknown op %q (one of %s)", op.Op, opList()))
		}
		if fo.File != "" {
			if op.Content != "" {
				return nil, fileError(path, n, at, "give content or file, not both")
			}
			p := fo.File
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(path), p)
			}
			b, err := inputfile.Read(p, inputfile.Policy, "policy document")
			if err != nil {
				return nil, fileError(path, n, at, fmt.Sprintf("reading the policy file: %v", err))
			}
			op.Content = string(b)
		}
		f.Operations = append(f.Operations, op)
	}
	if f.Expect != nil && f.Expect.Count != nil && *f.Expect.Count < 0 {
		return nil, fileError(path, nil, "expect.count", "must not be negative")
	}
	for i, o := range f.Overrides {
		if strings.TrimSpace(o.Rule) == "" || strings.TrimSpace(o.Reason) == "" {
			return nil, fileError(path, nil, fmt.Sprintf("overrides[%d]", i), "an override needs a rule and a reason")
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

// fileError is a problem in the change file file, at node n (nil: no
// position), about the element at path.
func fileError(file string, n *yaml.Node, path, msg string) *source.Error {
	e := &source.Error{Pos: source.Pos{File: file, Path: path}, Msg: msg}
	if n != nil {
		e.Pos.Line, e.Pos.Col = n.Line, n.Column
	}
	return e
}
