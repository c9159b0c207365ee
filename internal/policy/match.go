package policy

import (
	"strings"
	"unicode/utf8"
)

// Compiled wildcard patterns encode the wildcards of the policy text as
// the bytes wildStar and wildQuest, so that text that must match literally
// (the special variables ${*} and ${?}, and substituted variable values)
// can hold '*' and '?' without their wildcard meaning.
const (
	wildStar  = 0x00
	wildQuest = 0x01
)

// encodeWild turns the wildcards of policy text into their encoded bytes.
func encodeWild(s string) string {
	if !strings.ContainsAny(s, "*?") {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '*':
			b[i] = wildStar
		case '?':
			b[i] = wildQuest
		}
	}
	return string(b)
}

func hasWild(p string) bool {
	return strings.IndexByte(p, wildStar) >= 0 || strings.IndexByte(p, wildQuest) >= 0
}

// globMatch reports whether s matches the encoded pattern p, in which
// wildStar matches any run of characters (including none) and wildQuest
// exactly one character. Matching is case-sensitive and runs in
// O(len(p)*len(s)) at worst without allocating.
func globMatch(p, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case wildStar:
				starPx, starSx = px, sx
				px++
				continue
			case wildQuest:
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			_, n := utf8.DecodeRuneInString(s[starSx:])
			starSx += n
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

// strPattern is a precompiled wildcard pattern over a string.
type strPattern struct {
	p    string // encoded pattern
	kind uint8  // patAny, patExact, patPrefix, patGlob
}

const (
	patGlob uint8 = iota
	patAny
	patExact
	patPrefix
)

func compileStrPattern(encoded string) strPattern {
	switch {
	case encoded == string(rune(wildStar)):
		return strPattern{p: encoded, kind: patAny}
	case !hasWild(encoded):
		return strPattern{p: encoded, kind: patExact}
	case encoded[len(encoded)-1] == wildStar && !hasWild(encoded[:len(encoded)-1]):
		return strPattern{p: encoded[:len(encoded)-1], kind: patPrefix}
	}
	return strPattern{p: encoded, kind: patGlob}
}

func (sp *strPattern) match(s string) bool {
	switch sp.kind {
	case patAny:
		return true
	case patExact:
		return s == sp.p
	case patPrefix:
		return strings.HasPrefix(s, sp.p)
	}
	return globMatch(sp.p, s)
}

// actionPattern matches lowercased action names ("s3:getobject").
type actionPattern struct{ strPattern }

func compileAction(s string) actionPattern {
	return actionPattern{compileStrPattern(encodeWild(strings.ToLower(s)))}
}

// arnParts splits an ARN into partition, service, region and account, and
// the resource part (which may hold colons). ok is false when s is not an
// ARN of at least six colon-delimited parts.
func arnParts(s string) (parts [4]string, resource string, ok bool) {
	if len(s) < 4 || s[:4] != "arn:" {
		return parts, "", false
	}
	rest := s[4:]
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return parts, "", false
		}
		parts[i] = rest[:j]
		rest = rest[j+1:]
	}
	return parts, rest, true
}

// arnGlob matches subject against an encoded ARN pattern as AWS matches
// resources and ARN condition values: when both are ARNs, each of the first
// five colon-delimited segments is matched separately (a wildcard does not
// cross a colon there) and the resource part as a whole (where '*' spans
// '/' and ':'); otherwise the pattern is matched against the whole string.
// Matching is case-sensitive.
func arnGlob(pattern, subject string) bool {
	pp, pres, pok := arnParts(pattern)
	sp, sres, sok := arnParts(subject)
	if !pok {
		// A pattern that is not a six-part ARN never matches an ARN (an
		// ARN-like pattern with too few parts is matched segment by
		// segment by AWS, so it cannot match).
		return !sok && (len(pattern) < 4 || pattern[:4] != "arn:") && globMatch(pattern, subject)
	}
	if !sok {
		return false
	}
	for i := range pp {
		if !globMatch(pp[i], sp[i]) {
			return false
		}
	}
	return globMatch(pres, sres)
}

// resPattern is a compiled Resource / NotResource entry.
type resPattern struct {
	any   bool // "*": matches every resource
	never bool // malformed ARN: matches nothing
	arn   bool // the pattern is an ARN: segments below are used
	seg   [4]strPattern
	res   strPattern
	whole strPattern // not an ARN: matched against the whole resource string
	tmpl  *template  // the resource part when it holds policy variables
}

func compileResource(s string, vars bool) resPattern {
	if s == "*" {
		return resPattern{any: true}
	}
	enc := encodeWild(s)
	parts, res, ok := arnParts(enc)
	if !ok {
		if strings.HasPrefix(enc, "arn:") {
			return resPattern{never: true} // an ARN of fewer than six parts matches nothing
		}
		return resPattern{whole: compileStrPattern(enc)}
	}
	rp := resPattern{arn: true, res: compileStrPattern(res)}
	for i := range parts {
		rp.seg[i] = compileStrPattern(parts[i])
	}
	// Policy variables are substituted only in the resource part of the
	// ARN, after the fifth colon; elsewhere "${...}" is literal text.
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
	if vars {
		if _, rawRes, ok := arnParts(s); ok {
			rp.tmpl = compileTemplate(rawRes, true)
		}
	}
	return rp
}

// match reports whether the request's resource matches.
func (rp *resPattern) match(st *evalState) bool {
	rc := st.rc
	switch {
	case rp.any:
		return true
	case rp.never:
		return false
	case rp.tmpl != nil:
		if !rc.resIsARN {
			return false
		}
		for i := range rp.seg {
			if !rp.seg[i].match(rc.resSeg[i]) {
				return false
			}
		}
		var buf [256]byte
		b, ok := rp.tmpl.resolve(st, buf[:0])
		if !ok {
			return false // an unresolvable variable: the entry does not match
		}
		return globMatch(bytesString(b), rc.resRes)
	}
	return rp.matchParts(rc.resource, rc.resIsARN, &rc.resSeg, rc.resRes)
}

// matchParts matches a static pattern against a subject split by arnParts.
func (rp *resPattern) matchParts(whole string, isARN bool, seg *[4]string, res string) bool {
	switch {
	case rp.any:
		return true
	case rp.never:
		return false
	case rp.arn:
		if !isARN {
			return false
		}
		for i := range rp.seg {
			if !rp.seg[i].match(seg[i]) {
				return false
			}
		}
		return rp.res.match(res)
	}
	return !isARN && rp.whole.match(whole)
}
