package source

import (
	"errors"
	"fmt"
	"testing"
)

var errTest = errors.New("test sentinel")

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"file, line, column and path", &Error{Pos: Pos{File: "a.yaml", Line: 3, Col: 5, Path: "backend.type"}, Msg: "bad"}, "a.yaml:3:5: backend.type: bad"},
		{"file and position without a path", &Error{Pos: Pos{File: "a.yaml", Line: 3, Col: 5}, Msg: "bad"}, "a.yaml:3:5: bad"},
		{"a file without a line", &Error{Pos: Pos{File: "a.yaml", Path: "expect.count"}, Msg: "bad"}, "a.yaml: expect.count: bad"},
		{"a line without a file", &Error{Pos: Pos{Line: 2, Col: 3}, Msg: "bad"}, "line 2, column 3: bad"},
		{"nothing but a message", &Error{Msg: "bad"}, "bad"},
		{"a path alone", &Error{Pos: Pos{Path: "x"}, Msg: "bad"}, "x: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPosString(t *testing.T) {
	if got, want := (Pos{File: "p.json", Line: 1, Col: 2, Path: "Statement[0]"}).String(), "p.json:1:2 (Statement[0])"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := (Pos{Line: 1, Col: 2}).String(), "1:2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestErrorsAreFoundThroughWrapping(t *testing.T) {
	first := &Error{Pos: Pos{File: "f", Line: 1, Col: 1}, Msg: "one", Err: errTest}
	list := Errors{first, {Pos: Pos{File: "f", Line: 2, Col: 1}, Msg: "two", Err: errTest}}
	wrapped := fmt.Errorf("loading: %w", list)
	if !errors.Is(wrapped, errTest) {
		t.Errorf("errors.Is(wrapped list, sentinel) = false")
	}
	var e *Error
	if !errors.As(wrapped, &e) || e != first {
		t.Errorf("errors.As(wrapped list, *Error) = %v, want the first error", e)
	}
	var l Errors
	if !errors.As(wrapped, &l) || len(l) != 2 {
		t.Errorf("errors.As(wrapped list, Errors) = %v, want both", l)
	}
	if got, want := list.Error(), "f:1:1: one\nf:2:1: two"; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
	if errors.Is(&Error{Msg: "x"}, errTest) {
		t.Errorf("an Error without Err matches a sentinel")
	}
}
