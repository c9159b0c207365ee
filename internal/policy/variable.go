package policy

import (
	"strings"
	"unsafe"
)

// Policy variables (${aws:username}, ${aws:PrincipalTag/team},
// ${aws:userid, 'default'}, and the special ${*}, ${?}, ${$}) are
// substituted in the Resource and NotResource elements and in the values of
// String and ARN condition operators, only in policies with Version
// 2012-10-17.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html

// template is text with policy variables.
type template struct {
	pieces []piece
}

type piece struct {
	lit    string // literal text (wildcards encoded when the template is a pattern)
	key    string // lowercased context key of a variable; "" for a literal
	def    string // default value
	hasDef bool
}

// varRef is one ${...} reference found in text.
type varRef struct {
	start, end int // byte range of "${...}" in the text
	key        string
	def        string
	hasDef     bool
	special    byte // '*', '?' or '$' for the special variables, else 0
	malformed  string
}

// scanVars finds the ${...} references in s. An unterminated "${" is
// reported as malformed and the rest is literal.
func scanVars(s string) []varRef {
	var out []varRef
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			break
		}
		start := i + j
		k := strings.IndexByte(s[start+2:], '}')
		if k < 0 {
			out = append(out, varRef{start: start, end: len(s), malformed: "unterminated policy variable (no closing '}')"})
			break
		}
		end := start + 2 + k + 1
		inner := strings.TrimSpace(s[start+2 : end-1])
		ref := varRef{start: start, end: end}
		switch inner {
		case "*", "?", "$":
			ref.special = inner[0]
		default:
			if c := strings.IndexByte(inner, ','); c >= 0 {
				ref.key = strings.TrimSpace(inner[:c])
				d := strings.TrimSpace(inner[c+1:])
				if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
					ref.def, ref.hasDef = d[1:len(d)-1], true
				} else {
					ref.malformed = "the default value of a policy variable must be in single quotes: ${key, 'default'}"
				}
			} else {
				ref.key = inner
			}
			if ref.key == "" && ref.malformed == "" {
				ref.malformed = "empty policy variable name"
			}
		}
		out = append(out, ref)
		i = end
	}
	return out
}

// compileTemplate compiles s into a template, or returns nil when s holds
// no variables. pattern says whether '*' and '?' in the literal text are
// wildcards (Resource, StringLike, ARN operators).
func compileTemplate(s string, pattern bool) *template {
	refs := scanVars(s)
	if len(refs) == 0 {
		return nil
	}
	lit := func(x string) string {
		if pattern {
			return encodeWild(x)
		}
		return x
	}
	t := &template{}
	last := 0
	for _, r := range refs {
		if r.malformed != "" {
			continue // kept as literal text
		}
		if r.start > last {
			t.pieces = append(t.pieces, piece{lit: lit(s[last:r.start])})
		}
		if r.special != 0 {
			t.pieces = append(t.pieces, piece{lit: string(r.special)}) // literal, never a wildcard
		} else {
			t.pieces = append(t.pieces, piece{key: strings.ToLower(r.key), def: r.def, hasDef: r.hasDef})
		}
		last = r.end
	}
	if last < len(s) {
		t.pieces = append(t.pieces, piece{lit: lit(s[last:])})
	}
	return t
}

// resolve appends the text of t with variables substituted to buf. ok is
// false when a variable has no value (and no default) or several values.
func (t *template) resolve(st *evalState, buf []byte) ([]byte, bool) {
	for i := range t.pieces {
		p := &t.pieces[i]
		if p.key == "" {
			buf = append(buf, p.lit...)
			continue
		}
		vals := st.lookup(p.key)
		switch {
		case len(vals) == 1:
			buf = append(buf, vals[0].s...)
		case len(vals) == 0 && p.hasDef:
			buf = append(buf, p.def...)
		default:
			return buf, false
		}
	}
	return buf, true
}

// bytesString views b as a string without copying. The caller must not
// change b while the string is in use.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
