// Package jsonpos parses JSON (RFC 8259, strictly) into a tree of values
// that remember where they came from: the line, column and byte offset of
// every value and every object key. Tools that report problems in JSON
// documents written by people (policy files, case files) use it to point at
// the exact place of a problem.
//
// Lines and columns are 1-based. Columns count Unicode code points (runes),
// not bytes, so that a position matches what an editor shows for UTF-8 text;
// Offset is the 0-based byte offset. Object members are kept in document
// order and duplicate keys are kept, so that callers can report them.
//
// The parser never panics: nesting deeper than MaxDepth, invalid UTF-8,
// control characters in strings, bad escapes, bad numbers and trailing data
// are all reported as a *SyntaxError with the position of the problem.
package jsonpos

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects Parse accepts.
const MaxDepth = 1000

// Pos is a place in the input: 1-based line and column (in runes) and the
// 0-based byte offset.
type Pos struct {
	Line, Col, Offset int
}

// String formats the position as "line:col".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Kind is the type of a JSON value.
type Kind uint8

// The kinds of JSON values.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{Null: "null", Bool: "boolean", Number: "number", String: "string", Array: "array", Object: "object"}

// String returns the JSON name of the kind ("string", "object", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Value is one JSON value with its position.
type Value struct {
	Kind    Kind
	Pos     Pos      // where the value starts
	Str     string   // decoded text of a String
	Num     string   // the literal text of a Number, as written
	Bool    bool     // value of a Bool
	Elems   []*Value // elements of an Array
	Members []Member // members of an Object, in order, duplicates kept
	End     int      // byte offset just after the value
}

// Member is one key/value pair of an object.
type Member struct {
	Key    string
	KeyPos Pos
	Value  *Value
}

// Get returns the value of the first member named key (exact match), or nil
// if v is not an object or has no such member.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i := range v.Members {
		if v.Members[i].Key == key {
			return v.Members[i].Value
		}
	}
	return nil
}

// Raw returns the bytes of v within data, the input it was parsed from.
func (v *Value) Raw(data []byte) []byte {
	if v == nil || v.Pos.Offset < 0 || v.End > len(data) || v.Pos.Offset > v.End {
		return nil
	}
	return data[v.Pos.Offset:v.End]
}

// SyntaxError describes malformed JSON.
type SyntaxError struct {
	Pos Pos
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

// Parse parses data, which must hold exactly one JSON value (surrounded by
// optional whitespace; a leading UTF-8 byte order mark is skipped).
func Parse(data []byte) (*Value, error) {
	p := &parser{data: data, line: 1, colLine: 1, colRune: 1}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		p.off = 3
		p.lineStart = 3
		p.colOff = 3
	}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.off < len(p.data) {
		return nil, p.errorf(p.off, "unexpected %s after the top-level value", p.describe(p.off))
	}
	return v, nil
}

type parser struct {
	data      []byte
	off       int
	line      int // line of off (valid after skipSpace)
	lineStart int // offset of the first byte of line
	// column cache: the rune column colRune of offset colOff on line colLine
	colLine, colOff, colRune int
}

// pos returns the position of offset off, which must be on the current line
// and not before an offset previously asked for on this line (positions are
// asked for in increasing order, which keeps this linear).
func (p *parser) pos(off int) Pos {
	if off > len(p.data) {
		off = len(p.data)
	}
	if p.colLine != p.line || off < p.colOff || p.colOff < p.lineStart {
		p.colLine, p.colOff, p.colRune = p.line, p.lineStart, 1
	}
	if off < p.colOff { // off before the line start: cannot happen; be safe
		return Pos{Line: p.line, Col: 1, Offset: off}
	}
	p.colRune += utf8.RuneCount(p.data[p.colOff:off])
	p.colOff = off
	return Pos{Line: p.line, Col: p.colRune, Offset: off}
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &SyntaxError{Pos: p.pos(off), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) describe(off int) string {
	if off >= len(p.data) {
		return "end of input"
	}
	c := p.data[off]
	if c < 0x20 || c == 0x7f {
		return fmt.Sprintf("character %U", rune(c))
	}
	r, _ := utf8.DecodeRune(p.data[off:])
	if r == utf8.RuneError {
		return fmt.Sprintf("byte 0x%02x", c)
	}
	return fmt.Sprintf("%q", r)
}

func (p *parser) skipSpace() {
	for p.off < len(p.data) {
		switch p.data[p.off] {
		case ' ', '\t', '\r':
			p.off++
		case '\n':
			p.off++
			p.line++
			p.lineStart = p.off
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (*Value, error) {
	if p.off >= len(p.data) {
		return nil, p.errorf(p.off, "unexpected end of input, want a value")
	}
	start := p.off
	switch c := p.data[p.off]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		pos := p.pos(start)
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &Value{Kind: String, Pos: pos, Str: s, End: p.off}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		pos := p.pos(start)
		if err := p.number(); err != nil {
			return nil, err
		}
		return &Value{Kind: Number, Pos: pos, Num: string(p.data[start:p.off]), End: p.off}, nil
	case c == 't':
		return p.literal("true", &Value{Kind: Bool, Bool: true})
	case c == 'f':
		return p.literal("false", &Value{Kind: Bool})
	case c == 'n':
		return p.literal("null", &Value{Kind: Null})
	default:
		return nil, p.errorf(start, "unexpected %s, want a value", p.describe(start))
	}
}

func (p *parser) literal(word string, v *Value) (*Value, error) {
	start := p.off
	if !strings.HasPrefix(string(p.data[start:min(len(p.data), start+len(word))]), word) {
		return nil, p.errorf(start, "invalid literal, want %s", word)
	}
	p.off += len(word)
	if p.off < len(p.data) && isIdentByte(p.data[p.off]) {
		return nil, p.errorf(start, "invalid literal, want %s", word)
	}
	v.Pos = p.pos(start)
	v.End = p.off
	return v, nil
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func (p *parser) object(depth int) (*Value, error) {
	if depth >= MaxDepth {
		return nil, p.errorf(p.off, "nesting deeper than %d levels", MaxDepth)
	}
	v := &Value{Kind: Object, Pos: p.pos(p.off)}
	p.off++ // {
	p.skipSpace()
	if p.off < len(p.data) && p.data[p.off] == '}' {
		p.off++
		v.End = p.off
		return v, nil
	}
	for {
		if p.off >= len(p.data) {
			return nil, p.errorf(p.off, "unexpected end of input in object started at %d:%d", v.Pos.Line, v.Pos.Col)
		}
		if p.data[p.off] != '"' {
			return nil, p.errorf(p.off, "unexpected %s, want a string key", p.describe(p.off))
		}
		kpos := p.pos(p.off)
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.off >= len(p.data) || p.data[p.off] != ':' {
			return nil, p.errorf(p.off, "unexpected %s after key %q, want ':'", p.describe(p.off), key)
		}
		p.off++
		p.skipSpace()
		mv, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.Members = append(v.Members, Member{Key: key, KeyPos: kpos, Value: mv})
		p.skipSpace()
		if p.off >= len(p.data) {
			return nil, p.errorf(p.off, "unexpected end of input in object started at %d:%d", v.Pos.Line, v.Pos.Col)
		}
		switch p.data[p.off] {
		case ',':
			p.off++
			p.skipSpace()
			if p.off < len(p.data) && p.data[p.off] == '}' {
				return nil, p.errorf(p.off, "trailing comma before '}'")
			}
		case '}':
			p.off++
			v.End = p.off
			return v, nil
		default:
			return nil, p.errorf(p.off, "unexpected %s in object, want ',' or '}'", p.describe(p.off))
		}
	}
}

func (p *parser) array(depth int) (*Value, error) {
	if depth >= MaxDepth {
		return nil, p.errorf(p.off, "nesting deeper than %d levels", MaxDepth)
	}
	v := &Value{Kind: Array, Pos: p.pos(p.off)}
	p.off++ // [
	p.skipSpace()
	if p.off < len(p.data) && p.data[p.off] == ']' {
		p.off++
		v.End = p.off
		v.Elems = []*Value{}
		return v, nil
	}
	for {
		ev, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.Elems = append(v.Elems, ev)
		p.skipSpace()
		if p.off >= len(p.data) {
			return nil, p.errorf(p.off, "unexpected end of input in array started at %d:%d", v.Pos.Line, v.Pos.Col)
		}
		switch p.data[p.off] {
		case ',':
			p.off++
			p.skipSpace()
			if p.off < len(p.data) && p.data[p.off] == ']' {
				return nil, p.errorf(p.off, "trailing comma before ']'")
			}
		case ']':
			p.off++
			v.End = p.off
			return v, nil
		default:
			return nil, p.errorf(p.off, "unexpected %s in array, want ',' or ']'", p.describe(p.off))
		}
	}
}

// number scans an RFC 8259 number at p.off.
func (p *parser) number() error {
	d := p.data
	i := p.off
	start := i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return p.errorf(start, "invalid number: want a digit after '-'")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return p.errorf(start, "invalid number: want a digit after '.'")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return p.errorf(start, "invalid number: want a digit in the exponent")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (isIdentByte(d[i]) || d[i] == '.' || d[i] == '-' || d[i] == '+') {
		return p.errorf(start, "invalid number")
	}
	p.off = i
	return nil
}

// str scans a string at p.off (which holds '"') and returns its decoded text.
func (p *parser) str() (string, error) {
	d := p.data
	start := p.off
	i := start + 1
	// Fast path: no escapes, all ASCII printable or valid UTF-8.
	simple := true
	for ; i < len(d); i++ {
		c := d[i]
		if c == '"' {
			break
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			simple = false
			break
		}
	}
	if simple {
		if i >= len(d) {
			return "", p.errorf(start, "unterminated string")
		}
		p.off = i + 1
		return string(d[start+1 : i]), nil
	}
	var b strings.Builder
	b.Write(d[start+1 : i])
	for {
		if i >= len(d) {
			return "", p.errorf(start, "unterminated string")
		}
		c := d[i]
		switch {
		case c == '"':
			p.off = i + 1
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf(i, "control character %U in string (escape it)", rune(c))
		case c == '\\':
			if i+1 >= len(d) {
				return "", p.errorf(start, "unterminated string")
			}
			esc := d[i+1]
			switch esc {
			case '"', '\\', '/':
				b.WriteByte(esc)
				i += 2
			case 'b':
				b.WriteByte('\b')
				i += 2
			case 'f':
				b.WriteByte('\f')
				i += 2
			case 'n':
				b.WriteByte('\n')
				i += 2
			case 'r':
				b.WriteByte('\r')
				i += 2
			case 't':
				b.WriteByte('\t')
				i += 2
			case 'u':
				r, ok := hex4(d, i+2)
				if !ok {
					return "", p.errorf(i, "invalid \\u escape: want four hex digits")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(0), false
					if i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
						r2, ok2 = hex4(d, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b.WriteRune(r)
			default:
				return "", p.errorf(i, "invalid escape '\\%c' in string", esc)
			}
		case c < 0x80:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.errorf(i, "invalid UTF-8 byte 0x%02x in string", c)
			}
			b.Write(d[i : i+size])
			i += size
		}
	}
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
