package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// Expand returns the set of catalog actions an IAM action pattern matches.
//
// Matching follows IAM's Action element: the service prefix and the action
// name are case-insensitive, "*" matches any run of characters (also none)
// and "?" exactly one; "*" alone matches every action. The pattern is
// matched against the whole "service:action" name, so "s3:Get*" matches
// s3:GetObject, "*:Describe*" every Describe action and "s3:*" all of s3.
//
// Only the services the pattern's service part can match are scanned, and
// within a service only the actions sharing the pattern's literal prefix
// (actions are sorted), so "s3:Get*" costs a binary search and one range.
//
// A pattern that matches nothing gives an empty set; use ExpandReport to
// tell the caller why.
func (c *Catalog) Expand(pattern string) Set {
	s := c.NewSet()
	c.ExpandInto(&s, pattern)
	return s
}

// ExpandReport is Expand that also reports a pattern matching no action of
// the catalog, with an error that wraps ErrNotInCatalog (a *NotInCatalogError).
// The set is always usable (empty in that case).
func (c *Catalog) ExpandReport(pattern string) (Set, error) {
	s := c.NewSet()
	if c.ExpandInto(&s, pattern) > 0 {
		return s, nil
	}
	e := &NotInCatalogError{Pattern: pattern, Date: c.date, Version: c.version}
	if prefix, _, ok := strings.Cut(pattern, ":"); ok && !strings.ContainsAny(prefix, "*?") && !c.HasService(prefix) {
		e.UnknownService = prefix
	}
	return s, e
}

// ExpandInto adds the actions pattern matches (see Expand) to dst, in place,
// and returns how many catalog actions the pattern matches (whether or not
// dst had them already). dst must be a set over this catalog.
func (c *Catalog) ExpandInto(dst *Set, pattern string) int {
	if dst.n != len(c.actions) {
		panic("catalog: ExpandInto with a set of another size")
	}
	p := lowerASCII(pattern)
	if p == "*" {
		dst.Fill()
		return len(c.actions)
	}
	colon := strings.IndexByte(p, ':')
	if colon < 0 {
		// No literal colon: the name's only colon must be matched by a
		// wildcard, so match the whole "service:action" name.
		if !strings.ContainsAny(p, "*?") {
			return 0
		}
		count := 0
		var buf [256]byte
		for si := range c.services {
			sv := &c.services[si]
			for i := sv.first; i < sv.end; i++ {
				full := append(append(append(buf[:0], sv.prefix...), ':'), c.actions[i].lname...)
				if match(p, full) {
					dst.Add(i)
					count++
				}
			}
		}
		return count
	}
	// With exactly one literal colon, it must match the name's only colon:
	// the part before matches the prefix, the part after the action name.
	// Two colons can never match.
	sp, ap := p[:colon], p[colon+1:]
	if strings.IndexByte(ap, ':') >= 0 {
		return 0
	}
	if !strings.ContainsAny(sp, "*?") {
		si, ok := c.svcIndex[sp]
		if !ok {
			return 0
		}
		return c.expandService(dst, si, ap)
	}
	count := 0
	for si := range c.services {
		if match(sp, c.services[si].prefix) {
			count += c.expandService(dst, si, ap)
		}
	}
	return count
}

// expandService adds the actions of service si whose lower-case name
// matches the lower-case pattern ap.
func (c *Catalog) expandService(dst *Set, si int, ap string) int {
	sv := &c.services[si]
	if ap == "*" {
		dst.AddRange(sv.first, sv.end)
		return sv.end - sv.first
	}
	lit := ap
	if w := strings.IndexAny(ap, "*?"); w >= 0 {
		lit = ap[:w]
	}
	// The first action whose name is >= lit: every name starting with lit
	// follows it contiguously.
	lo, hi := sv.first, sv.end
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.actions[m].lname < lit {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lit == ap { // no wildcard
		if lo < sv.end && c.actions[lo].lname == ap {
			dst.Add(lo)
			return 1
		}
		return 0
	}
	rest := ap[len(lit):]
	if rest == "*" {
		end := lo
		for end < sv.end && strings.HasPrefix(c.actions[end].lname, lit) {
			end++
		}
		dst.AddRange(lo, end)
		return end - lo
	}
	count := 0
	for i := lo; i < sv.end && strings.HasPrefix(c.actions[i].lname, lit); i++ {
		if match(rest, c.actions[i].lname[len(lit):]) {
			dst.Add(i)
			count++
		}
	}
	return count
}

// match reports whether s matches the glob pattern p ("*" any run, "?" one
// byte), comparing bytes exactly; callers lower-case both. It runs in
// O(len(p)·len(s)) at worst and does not allocate.
func match[S string | []byte](p string, s S) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; {
			case c == '*':
				starP, starS = px, sx
				px++
				continue
			case sx < len(s) && (c == '?' || c == s[sx]):
				px++
				sx++
				continue
			}
		}
		if starP >= 0 && starS < len(s) {
			starS++
			px, sx = starP+1, starS
			continue
		}
		return false
	}
	return true
}

// ErrNotInCatalog is wrapped by the errors of patterns and names that match
// no action in the catalog.
var ErrNotInCatalog = errors.New("not in catalog")

// NotInCatalogError reports an action pattern that matches nothing in the
// catalog: either an action AWS does not have, or one newer than the
// catalog's data.
type NotInCatalogError struct {
	Pattern string
	Date    string // the catalog's data date, YYYY-MM-DD
	Version string // the catalog's source version
	// UnknownService is the pattern's service prefix when the catalog has no
	// such service (and the prefix has no wildcard); empty otherwise.
	UnknownService string
}

func (e *NotInCatalogError) Error() string {
	what := "action"
	if strings.ContainsAny(e.Pattern, "*?") {
		what = "action pattern"
	}
	if e.UnknownService != "" {
		return fmt.Sprintf("%s %q is not in catalog dated %s (no service %q)", what, e.Pattern, e.Date, e.UnknownService)
	}
	return fmt.Sprintf("%s %q is not in catalog dated %s", what, e.Pattern, e.Date)
}

// Is makes errors.Is(err, ErrNotInCatalog) true.
func (e *NotInCatalogError) Is(target error) bool { return target == ErrNotInCatalog }
