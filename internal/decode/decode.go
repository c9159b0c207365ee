// Package decode reads the YAML and JSON files people write for orgguard
// strictly: a key that names no setting is an error, and every error is a
// *source.Error at the line and column of the key or value at fault, with
// the keys known at that place as a hint.
//
// YAML goes through gopkg.in/yaml.v3 node trees, checked against the yaml
// tags of the Go types they decode into (YAML.Check, YAML.Decode); JSON
// goes through internal/jsonpos value trees, checked against key lists
// (JSON.Object). The configuration, guardrails, change files and case
// files all read through this package; each keeps its own wording of an
// unknown key (UnknownKeyFunc), because those messages are what users and
// documentation already quote.
package decode

import (
	"reflect"
	"strings"
)

// Field is one key a struct type accepts.
type Field struct {
	Key   string
	Type  reflect.Type
	Index []int // for reflect.Value.FieldByIndex (inline fields have two or more)
}

// Fields returns the keys struct type t accepts in YAML, in declaration
// order, as gopkg.in/yaml.v3 sees them: the yaml tag's name, or the
// lower-cased field name without one; "-" and unexported fields skipped;
// ",inline" structs flattened (an ",inline" map, which takes any key, is
// not supported). Pointer types are followed; a type that is not a struct
// has no fields.
func Fields(t reflect.Type) []Field {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []Field
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if hasOpt(opts, "inline") {
			for _, in := range Fields(f.Type) {
				in.Index = append([]int{i}, in.Index...)
				out = append(out, in)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, Field{Key: name, Type: f.Type, Index: []int{i}})
	}
	return out
}

func hasOpt(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// Join appends key to the dotted path prefix.
func Join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
