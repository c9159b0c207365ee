// Package identity turns the names people act under (plan authors,
// approvers, appliers) into a form that compares safely. Two names that a
// reviewer cannot tell apart on screen must never count as two people:
// "the author cannot approve" and "approvals from distinct people" depend
// on it.
//
// Parse normalises a name to Unicode NFKC, refuses control, format
// (zero-width, bidirectional) and other invisible characters, and refuses
// names that mix scripts a reader could confuse (Latin with Cyrillic or
// Greek, following the "highly restrictive" level of Unicode Technical
// Standard #39, which allows the Han/Kana and Han/Hangul mixes of Japanese
// and Korean names). Key gives the form names are compared by: case-folded
// and with the letters of other scripts that look like Latin letters
// replaced by them (the UTS #39 skeleton idea on a built-in table), so
// "Alice", "alice" and a Cyrillic "аlice" have one key.
package identity

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxLen is the longest name accepted, in bytes after normalisation (an
// IAM role session ARN is at most 2,048 characters).
const MaxLen = 2048

// ErrInvalid marks every refusal; the error is an *Error.
var ErrInvalid = errors.New("invalid identity")

// Error says why a name was refused.
type Error struct {
	Name   string // as given, quoted when shown
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("identity %s: %s", quote(e.Name), e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// quote shows a name with every non-printable character escaped.
func quote(s string) string { return fmt.Sprintf("%+q", s) }

// Parse normalises name and checks that it is safe to compare: the result
// is the name to record and show.
func Parse(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", &Error{Name: name, Reason: "not valid UTF-8"}
	}
	n := strings.TrimSpace(norm.NFKC.String(name))
	if n == "" {
		return "", &Error{Name: name, Reason: "empty"}
	}
	if len(n) > MaxLen {
		return "", &Error{Name: name, Reason: fmt.Sprintf("longer than %d bytes", MaxLen)}
	}
	for i, r := range n {
		if reason := invisible(r); reason != "" {
			return "", &Error{Name: name, Reason: fmt.Sprintf("contains %s U+%04X at byte %d", reason, r, i)}
		}
	}
	if mix := scripts(n); !allowedMix(mix) {
		return "", &Error{Name: name, Reason: "mixes scripts a reader could confuse (" + strings.Join(mix.names(), " and ") + ")"}
	}
	return n, nil
}

// invisible says what kind of character r is when it must not appear in a
// name, else "".
func invisible(r rune) string {
	switch {
	case r == ' ':
		return ""
	case unicode.IsControl(r):
		return "the control character"
	case unicode.Is(unicode.Cf, r):
		return "the invisible formatting character"
	case unicode.IsSpace(r):
		return "the space character"
	case unicode.Is(unicode.Co, r):
		return "the private-use character"
	case unicode.Is(unicode.Mn, r) && r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
		return "the variation selector"
	case r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, r == 0x2800, r == 0x180E, r == 0x17B4, r == 0x17B5:
		return "the blank character"
	case !unicode.IsPrint(r) && !unicode.Is(unicode.Mn, r):
		return "the unassigned or non-printing character"
	}
	return ""
}

// Key returns the form a name is compared by. Names with equal keys are
// one person. name should have come from Parse; a name recorded before
// identities were normalised still gets a comparable key.
func Key(name string) string {
	n := strings.TrimSpace(norm.NFKC.String(name))
	n = cases.Fold().String(n)
	var b strings.Builder
	b.Grow(len(n))
	for _, r := range n {
		if r == 0x200B || r == 0x200C || r == 0x200D || r == 0x2060 || r == 0xFEFF || unicode.Is(unicode.Cf, r) {
			continue // a name recorded with invisible characters compares as without them
		}
		if l, ok := confusable[r]; ok {
			b.WriteString(l)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Same reports whether a and b name the same person.
func Same(a, b string) bool { return Key(a) == Key(b) }

// scriptSet is the set of scripts a name's letters come from (Common and
// Inherited characters — digits, punctuation, combining marks — belong to
// none).
type scriptSet uint16

const (
	sLatin scriptSet = 1 << iota
	sCyrillic
	sGreek
	sHan
	sHiragana
	sKatakana
	sHangul
	sBopomofo
	sArmenian
	sOther
)

var scriptNames = [...]struct {
	s    scriptSet
	name string
	tab  *unicode.RangeTable
}{
	{sLatin, "Latin", unicode.Latin},
	{sCyrillic, "Cyrillic", unicode.Cyrillic},
	{sGreek, "Greek", unicode.Greek},
	{sHan, "Han", unicode.Han},
	{sHiragana, "Hiragana", unicode.Hiragana},
	{sKatakana, "Katakana", unicode.Katakana},
	{sHangul, "Hangul", unicode.Hangul},
	{sBopomofo, "Bopomofo", unicode.Bopomofo},
	{sArmenian, "Armenian", unicode.Armenian},
}

func scripts(s string) scriptSet {
	var set scriptSet
	for _, r := range s {
		if unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
			continue
		}
		found := false
		for _, sn := range scriptNames {
			if unicode.Is(sn.tab, r) {
				set |= sn.s
				found = true
				break
			}
		}
		if !found {
			set |= sOther
		}
	}
	return set
}

func (set scriptSet) names() []string {
	var out []string
	for _, sn := range scriptNames {
		if set&sn.s != 0 {
			out = append(out, sn.name)
		}
	}
	if set&sOther != 0 {
		out = append(out, "another script")
	}
	return out
}

// allowedMix implements UTS #39's "highly restrictive" level: one script,
// or Latin with Han and Hiragana/Katakana (Japanese), Han and Bopomofo
// (Chinese), or Han and Hangul (Korean). A name from one script other than
// those named above (sOther alone) is allowed too.
func allowedMix(set scriptSet) bool {
	if set&(set-1) == 0 { // zero or one script
		return true
	}
	if set&sOther != 0 {
		return false
	}
	for _, allowed := range []scriptSet{
		sLatin | sHan | sHiragana | sKatakana,
		sLatin | sHan | sBopomofo,
		sLatin | sHan | sHangul,
	} {
		if set&^allowed == 0 {
			return true
		}
	}
	return false
}

// confusable maps letters of other scripts (after case folding) that look
// like Latin letters to those letters: the lowercase subset of the Unicode
// confusables data (confusables.txt) for Cyrillic, Greek and Armenian that
// matters for names.
var confusable = map[rune]string{
	// Cyrillic
	'а': "a", 'в': "b", 'е': "e", 'ё': "e", 'һ': "h", 'і': "i", 'ї': "i", 'ј': "j", 'к': "k", 'м': "m", 'н': "h",
	'о': "o", 'р': "p", 'с': "c", 'ԛ': "q", 'ѕ': "s", 'т': "t", 'у': "y", 'ԝ': "w", 'х': "x", 'ү': "y", 'ԁ': "d",
	'ӏ': "l", 'ɡ': "g", 'ո': "n", 'ս': "u", 'օ': "o", 'զ': "q", 'ց': "g", 'հ': "h",
	// Greek
	'α': "a", 'β': "b", 'ε': "e", 'η': "n", 'ι': "i", 'κ': "k", 'ν': "v", 'ο': "o", 'ρ': "p", 'τ': "t",
	'υ': "u", 'χ': "x", 'γ': "y", 'ω': "w", 'ϲ': "c", 'ϳ': "j",
	// Latin look-alikes within Latin
	'ı': "i", 'ł': "l", 'ſ': "s",
}
