// Package source names places in the files people give orgguard — the
// configuration, change files, case files, policy documents — and the
// problems found there: a Pos (file, line, column and the YAML or JSON path
// of the element) and an Error carrying one. Every reader of such files
// reports through *Error, so that callers find the place of a problem with
// errors.As whichever file it was in.
//
// The package depends on the standard library only: the policy engine's
// positions are Pos values. Strict decoding of YAML and JSON into these
// errors is in internal/decode.
package source

import (
	"strconv"
	"strings"
)

// Pos is a place in a file: the file name, the 1-based line and column (in
// runes; 0 when unknown) and the path of the element, such as
// "backend.sim.accounts" or "cases[3].scps[0][1].Statement[0].Effect".
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Path string `json:"path,omitempty"`
}

// String formats the position as "file:line:col (path)".
func (p Pos) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
	}
	b.WriteString(strconv.Itoa(p.Line))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(p.Col))
	if p.Path != "" {
		b.WriteString(" (")
		b.WriteString(p.Path)
		b.WriteByte(')')
	}
	return b.String()
}

// Error is one problem at one place in a file.
type Error struct {
	Pos Pos
	Msg string
	// Err classifies the problem for errors.Is, typically the reading
	// package's sentinel (config.ErrInvalid, conformance.ErrMalformed). It
	// may be nil.
	Err error
}

// Error formats the problem as "file:line:col: path: message". Without a
// line it is "file: path: message"; without a file name the place is
// "line L, column C", as YAML decoders write it.
func (e *Error) Error() string {
	var b strings.Builder
	p := e.Pos
	switch {
	case p.File != "" && p.Line > 0:
		b.WriteString(p.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Col))
	case p.File != "":
		b.WriteString(p.File)
	case p.Line > 0:
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteString(", column ")
		b.WriteString(strconv.Itoa(p.Col))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in one file, in the order found. Its
// Unwrap lets errors.Is and errors.As see each *Error.
type Errors []*Error

// Error lists the problems, one per line.
func (l Errors) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems.
func (l Errors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}
