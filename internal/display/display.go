// Package display is how values reach people: counts with thousands
// separators, and names — which come from the organization and from users,
// and are data, never markup — escaped for the medium they are shown in.
//
// An OU, policy or account name can hold terminal escape sequences (which
// can clear a reviewer's screen, hide text or retitle the window),
// bidirectional overrides (which reorder what is shown), Markdown (which
// GitHub renders in a pull-request comment: "iam:*, organizations:*" turns
// italic, "@team" pings people) or HTML. Text, Markdown, MarkdownCode and
// HTML make such a name show as what it is.
package display

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Thousands formats n with comma separators: 10000 -> "10,000".
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// unsafeRune reports whether r must not reach a terminal or a page as it
// is: C0 and C1 control characters and DEL (except newline and tab, which
// callers handle), and the bidirectional embedding, override and isolate
// characters.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20 && r != '\n' && r != '\t':
		return true
	case r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == utf8.RuneError:
		return true
	}
	return false
}

// escapeRune writes r as a visible \u escape: valid inside a JSON string
// as well as readable in text.
func escapeRune(b *strings.Builder, r rune) {
	fmt.Fprintf(b, `\u%04x`, r)
}

// Text returns s for a terminal line: control characters (newline and tab
// included), DEL, C1 controls, bidirectional overrides and invalid UTF-8
// are shown as \u escapes ("\u001b[2J" instead of clearing the screen).
func Text(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i])
				continue
			}
		}
		if unsafeRune(r) || r == '\n' || r == '\t' {
			escapeRune(&b, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII (the common case, returned
// as is).
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// markdownSpecial are the characters escaped with a backslash anywhere in
// Markdown text: those that open or close emphasis, code, links and
// strike-through in CommonMark and GitHub Flavored Markdown, "|" (GitHub
// tables) and "@" (GitHub mentions). Characters that are markup only at the
// start of a line ("-", "+", "#", "1.") are escaped there (see Markdown).
const markdownSpecial = "\\`*_[]|~@"

// Markdown returns s as Markdown text that renders as exactly s on one
// line: Markdown punctuation backslash-escaped, HTML special characters as
// entities, newlines as spaces, control characters as in Text.
func Markdown(s string) string {
	s = Text(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s))
	var b strings.Builder
	b.Grow(len(s) + 8)
	if lineStartMarkup(s) {
		b.WriteByte('\\')
	}
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r < utf8.RuneSelf && strings.IndexByte(markdownSpecial, byte(r)) >= 0:
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// lineStartMarkup reports whether s, placed at the start of a line or of a
// list item, would start a list, a heading or a numbered item.
func lineStartMarkup(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '-', '+', '#', '=':
		return true
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')')
}

// MarkdownCode returns s as an inline code span (backticks included) that
// shows exactly s inside a GitHub table cell: the fence is longer than any
// run of backticks in s, and "|" is escaped as GitHub tables require even
// inside code spans.
func MarkdownCode(s string) string {
	s = Text(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s))
	s = strings.ReplaceAll(s, "|", `\|`)
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// HTML returns s escaped for HTML text and attribute values, control
// characters as in Text.
func HTML(s string) string { return html.EscapeString(Text(s)) }
