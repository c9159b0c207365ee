package display

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Writer is the last line of defence between orgguard and a terminal:
// everything written through it reaches the underlying writer with control
// characters (other than newline and tab), C1 controls, bidirectional
// overrides and invalid UTF-8 shown as escapes, as Text does — whichever
// command printed a name without escaping it. When SGR is set it lets the
// colour sequences orgguard itself emits (ESC [ n m with n one of 0, 1, 2,
// 31, 32, 33) through unchanged.
//
// JSON output passes through unchanged in meaning: encoding/json already
// escapes C0 controls, and the \u escapes this writer adds are valid JSON.
// Call Flush when done: a write ending inside a UTF-8 sequence keeps those
// bytes until the next write or Flush.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	sgr     bool
	pending []byte
}

// Unwrap returns the underlying writer (to ask whether it is a terminal).
func (w *Writer) Unwrap() io.Writer { return w.w }

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer, sgr bool) *Writer { return &Writer{w: w, sgr: sgr} }

// allowedSGR are the colour sequences orgguard's renderings use.
var allowedSGR = [...]string{"\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m"}

// Write implements io.Writer. It reports len(p) written unless the
// underlying writer fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := p
	if len(w.pending) > 0 {
		data = append(w.pending, p...)
		w.pending = nil
	}
	if isPlainBytes(data) {
		if _, err := w.w.Write(data); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	var out bytes.Buffer
	out.Grow(len(data) + 16)
	for i := 0; i < len(data); {
		c := data[i]
		if c == 0x1b && w.sgr {
			if n := sgrAt(data[i:]); n > 0 {
				out.Write(data[i : i+n])
				i += n
				continue
			}
			if len(data)-i < 5 && isSGRPrefix(data[i:]) {
				w.pending = append([]byte(nil), data[i:]...)
				break
			}
		}
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
				var b strings.Builder
				escapeRune(&b, rune(c))
				out.WriteString(b.String())
			} else {
				out.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			if !utf8.FullRune(data[i:]) {
				w.pending = append([]byte(nil), data[i:]...)
				break
			}
			out.WriteString(`\x` + hex2(data[i]))
			i++
			continue
		}
		if unsafeRune(r) {
			var b strings.Builder
			escapeRune(&b, r)
			out.WriteString(b.String())
		} else {
			out.Write(data[i : i+size])
		}
		i += size
	}
	if _, err := w.w.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what a write left pending, escaped.
func (w *Writer) Flush() error {
	w.mu.Lock()
	p := w.pending
	w.pending = nil
	w.mu.Unlock()
	if len(p) == 0 {
		return nil
	}
	_, err := io.WriteString(w.w, Text(string(p)))
	return err
}

func isPlainBytes(p []byte) bool {
	for _, c := range p {
		if c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f {
			return false
		}
	}
	return true
}

// sgrAt returns the length of the allowed colour sequence p starts with, or 0.
func sgrAt(p []byte) int {
	for _, s := range allowedSGR {
		if bytes.HasPrefix(p, []byte(s)) {
			return len(s)
		}
	}
	return 0
}

// isSGRPrefix reports whether p could be the start of an allowed sequence
// cut by the end of a write.
func isSGRPrefix(p []byte) bool {
	for _, s := range allowedSGR {
		if len(p) < len(s) && strings.HasPrefix(s, string(p)) {
			return true
		}
	}
	return false
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
