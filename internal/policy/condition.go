package policy

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Condition operators.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html

// valType is how an operator reads its values.
type valType uint8

const (
	tString valType = iota + 1
	tStringFold
	tLike
	tNumeric
	tDate
	tBool
	tBinary
	tIP
	tArn
	tNull
)

// cmpOp is the comparison of Numeric and Date operators.
type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// opInfo describes a base operator (without IfExists or a set qualifier).
type opInfo struct {
	name    string
	typ     valType
	cmp     cmpOp
	negated bool // the operator is the negation of a positive one
}

var operators = []opInfo{
	{name: "StringEquals", typ: tString},
	{name: "StringNotEquals", typ: tString, negated: true},
	{name: "StringEqualsIgnoreCase", typ: tStringFold},
	{name: "StringNotEqualsIgnoreCase", typ: tStringFold, negated: true},
	{name: "StringLike", typ: tLike},
	{name: "StringNotLike", typ: tLike, negated: true},
	{name: "NumericEquals", typ: tNumeric, cmp: cmpEq},
	{name: "NumericNotEquals", typ: tNumeric, cmp: cmpEq, negated: true},
	{name: "NumericLessThan", typ: tNumeric, cmp: cmpLt},
	{name: "NumericLessThanEquals", typ: tNumeric, cmp: cmpLe},
	{name: "NumericGreaterThan", typ: tNumeric, cmp: cmpGt},
	{name: "NumericGreaterThanEquals", typ: tNumeric, cmp: cmpGe},
	{name: "DateEquals", typ: tDate, cmp: cmpEq},
	{name: "DateNotEquals", typ: tDate, cmp: cmpEq, negated: true},
	{name: "DateLessThan", typ: tDate, cmp: cmpLt},
	{name: "DateLessThanEquals", typ: tDate, cmp: cmpLe},
	{name: "DateGreaterThan", typ: tDate, cmp: cmpGt},
	{name: "DateGreaterThanEquals", typ: tDate, cmp: cmpGe},
	{name: "Bool", typ: tBool},
	{name: "BinaryEquals", typ: tBinary},
	{name: "IpAddress", typ: tIP},
	{name: "NotIpAddress", typ: tIP, negated: true},
	{name: "ArnEquals", typ: tArn},
	{name: "ArnLike", typ: tArn},
	{name: "ArnNotEquals", typ: tArn, negated: true},
	{name: "ArnNotLike", typ: tArn, negated: true},
	{name: "Null", typ: tNull},
}

// setMode is the set qualifier of an operator.
type setMode uint8

const (
	setNone setMode = iota
	setAny          // ForAnyValue:
	setAll          // ForAllValues:
)

// opSpec is a parsed operator name.
type opSpec struct {
	info     *opInfo
	set      setMode
	ifExists bool
	caseHint bool // the name differs from the canonical spelling only in case
}

// parseOperator parses a condition operator name such as
// "ForAllValues:StringLikeIfExists".
func parseOperator(name string) (opSpec, error) {
	var spec opSpec
	rest := name
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		q := rest[:i]
		switch {
		case strings.EqualFold(q, "ForAnyValue"):
			spec.set = setAny
			spec.caseHint = q != "ForAnyValue"
		case strings.EqualFold(q, "ForAllValues"):
			spec.set = setAll
			spec.caseHint = q != "ForAllValues"
		default:
			return spec, fmt.Errorf("unknown set qualifier %q in condition operator %q; want ForAnyValue or ForAllValues", q, name)
		}
		rest = rest[i+1:]
	}
	if len(rest) > len("IfExists") && strings.EqualFold(rest[len(rest)-len("IfExists"):], "IfExists") {
		spec.ifExists = true
		if rest[len(rest)-len("IfExists"):] != "IfExists" {
			spec.caseHint = true
		}
		rest = rest[:len(rest)-len("IfExists")]
	}
	for i := range operators {
		if strings.EqualFold(operators[i].name, rest) {
			spec.info = &operators[i]
			if operators[i].name != rest {
				spec.caseHint = true
			}
			break
		}
	}
	if spec.info == nil {
		return spec, fmt.Errorf("unknown condition operator %q", name)
	}
	if spec.info.typ == tNull && spec.ifExists {
		return spec, fmt.Errorf("condition operator %q: Null cannot take the IfExists suffix", name)
	}
	return spec, nil
}

// cval is a compiled condition value.
type cval struct {
	s    string    // String: as written; IgnoreCase: lowercased; Like and Arn: wildcards encoded; Binary: decoded bytes
	tmpl *template // policy variables (String and Arn operators, Version 2012-10-17)
	num  float64
	t    time.Time
	pfx  netip.Prefix
	b    bool
	arn  resPattern // Arn operators: the value compiled as an ARN pattern
}

// ccond is one compiled operator/key pair. All the ccond of a statement
// must hold (AND); a ccond holds when the request value matches any of its
// values (OR), with the negation, IfExists and set rules applied.
type ccond struct {
	spec opSpec
	key  string // lowercased
	vals []cval
}

// compileCondValue compiles one value for an operator; the error says why
// the value is not valid for it.
func compileCondValue(info *opInfo, s string, vars bool) (cval, error) {
	var v cval
	switch info.typ {
	case tString:
		v.s = s
		if vars {
			v.tmpl = compileTemplate(s, false)
		}
	case tStringFold:
		v.s = strings.ToLower(s)
		if vars {
			v.tmpl = compileTemplate(s, false)
		}
	case tLike, tArn:
		v.s = encodeWild(s)
		if vars {
			v.tmpl = compileTemplate(s, true)
		}
		if info.typ == tArn {
			v.arn = compileResource(s, false)
		}
	case tNumeric:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, fmt.Errorf("%q is not a number", s)
		}
		v.num = f
	case tDate:
		t, ok := parseDate(s)
		if !ok {
			return v, fmt.Errorf("%q is not an ISO 8601 date (2006-01-02T15:04:05Z) or epoch seconds", s)
		}
		v.t = t
	case tBool, tNull:
		switch strings.ToLower(s) {
		case "true":
			v.b = true
		case "false":
		default:
			return v, fmt.Errorf("%q is not true or false", s)
		}
		v.s = strings.ToLower(s)
	case tBinary:
		b, ok := decodeBase64(s)
		if !ok {
			return v, fmt.Errorf("%q is not base64", s)
		}
		v.s = string(b)
	case tIP:
		t := strings.TrimSpace(s)
		if !strings.Contains(t, "/") {
			a, err := netip.ParseAddr(t)
			if err != nil {
				return v, fmt.Errorf("%q is not an IP address or CIDR block", s)
			}
			a = a.Unmap()
			v.pfx = netip.PrefixFrom(a, a.BitLen())
			break
		}
		p, err := netip.ParsePrefix(t)
		if err != nil {
			return v, fmt.Errorf("%q is not an IP address or CIDR block", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		v.pfx = p.Masked()
	}
	return v, nil
}

// eval reports whether the condition holds for rc.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
func (c *ccond) eval(st *evalState) bool {
	vals := st.lookup(c.key)
	info := c.spec.info
	if info.typ == tNull {
		// Null: true means "the key is absent", false "the key is present".
		present := len(vals) > 0
		for i := range c.vals {
			if c.vals[i].b != present {
				return true
			}
		}
		return false
	}
	if len(vals) == 0 {
		switch {
		case c.spec.ifExists:
			return true
		case c.spec.set == setAll:
			return true // ForAllValues: an absent or empty key matches
		case c.spec.set == setAny:
			return false // ForAnyValue: an absent or empty key does not
		}
		return info.negated // absent key: positive operators fail, negated ones hold
	}
	switch c.spec.set {
	case setAny:
		for i := range vals {
			if c.matchOne(st, &vals[i]) != info.negated {
				return true
			}
		}
		return false
	case setAll:
		for i := range vals {
			if c.matchOne(st, &vals[i]) == info.negated {
				return false
			}
		}
		return true
	}
	for i := range vals {
		if c.matchOne(st, &vals[i]) {
			return !info.negated
		}
	}
	return info.negated
}

// matchOne reports whether one request value matches any policy value
// under the positive form of the operator.
func (c *ccond) matchOne(st *evalState, cv *ctxValue) bool {
	info := c.spec.info
	for i := range c.vals {
		pv := &c.vals[i]
		if pv.tmpl != nil {
			var buf [256]byte
			b, ok := pv.tmpl.resolve(st, buf[:0])
			if !ok {
				continue // an unresolvable variable matches nothing
			}
			s := bytesString(b)
			switch info.typ {
			case tString:
				if cv.s == s {
					return true
				}
			case tStringFold:
				if strings.EqualFold(cv.s, s) {
					return true
				}
			case tLike:
				if globMatch(s, cv.s) {
					return true
				}
			case tArn:
				if arnGlob(s, cv.s) {
					return true
				}
			}
			continue
		}
		switch info.typ {
		case tString:
			if cv.s == pv.s {
				return true
			}
		case tStringFold:
			if cv.lower == pv.s {
				return true
			}
		case tLike:
			if globMatch(pv.s, cv.s) {
				return true
			}
		case tArn:
			if pv.arn.matchParts(cv.s, cv.arnOK, &cv.arnSeg, cv.arnRes) {
				return true
			}
		case tNumeric:
			if cv.numOK && compareFloat(info.cmp, cv.num, pv.num) {
				return true
			}
		case tDate:
			if cv.tOK && compareTime(info.cmp, cv.t, pv.t) {
				return true
			}
		case tBool:
			if cv.lower == pv.s {
				return true
			}
		case tBinary:
			if binaryEquals(cv.s, pv.s) {
				return true
			}
		case tIP:
			if cv.addrOK && pv.pfx.Contains(cv.addr) {
				return true
			}
		}
	}
	return false
}

// binaryEquals reports whether the base64 text enc decodes to the bytes
// want, decoding into a stack buffer.
func binaryEquals(enc, want string) bool {
	var buf [512]byte
	if base64.StdEncoding.DecodedLen(len(enc)) > len(buf) {
		b, ok := decodeBase64(enc)
		return ok && string(b) == want
	}
	src := unsafe.Slice(unsafe.StringData(enc), len(enc)) // read only
	n, err := base64.StdEncoding.Decode(buf[:], src)
	if err != nil {
		if n, err = base64.RawStdEncoding.Decode(buf[:], src); err != nil {
			return false
		}
	}
	return string(buf[:n]) == want
}

func compareFloat(op cmpOp, a, b float64) bool {
	switch op {
	case cmpLt:
		return a < b
	case cmpLe:
		return a <= b
	case cmpGt:
		return a > b
	case cmpGe:
		return a >= b
	}
	return a == b
}

func compareTime(op cmpOp, a, b time.Time) bool {
	switch op {
	case cmpLt:
		return a.Before(b)
	case cmpLe:
		return !a.After(b)
	case cmpGt:
		return a.After(b)
	case cmpGe:
		return !a.Before(b)
	}
	return a.Equal(b)
}
