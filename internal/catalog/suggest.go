package catalog

import (
	"cmp"
	"slices"
	"strings"
)

// Suggest returns up to n catalog names nearest to a pattern that matches
// nothing (by edit distance, case-insensitive): actions of the pattern's
// service ("s3:GetObjekt" → s3:GetObject), or services when the prefix is
// unknown ("s4:GetObject" → s3:GetObject, …). Wildcards are compared as
// they are written. Names farther than about a third of the pattern's
// length are not suggested.
func (c *Catalog) Suggest(pattern string, n int) []string {
	if n <= 0 {
		return nil
	}
	prefix, action, ok := strings.Cut(lowerASCII(pattern), ":")
	if !ok {
		return nil
	}
	type cand struct {
		name string
		d    int
	}
	var cands []cand
	limit := func(s string) int { return max(2, len(s)/3) }
	if first, last, ok := c.ServiceRange(prefix); ok {
		for i := first; i <= last; i++ {
			name := c.Name(i)
			if d := editDistance(action, lowerASCII(c.actions[i].name)); d <= limit(action) {
				cands = append(cands, cand{name, d})
			}
		}
	} else {
		for _, s := range c.Services() {
			d := editDistance(prefix, s)
			if d > limit(prefix) {
				continue
			}
			// The same action in the nearest services, else the service.
			name := s + ":*"
			if first, last, ok := c.ServiceRange(s); ok {
				for i := first; i <= last; i++ {
					if lowerASCII(c.actions[i].name) == action {
						name = c.Name(i)
					}
				}
			}
			cands = append(cands, cand{name, d})
		}
	}
	slices.SortStableFunc(cands, func(x, y cand) int { return cmp.Compare(x.d, y.d) })
	out := make([]string, 0, min(n, len(cands)))
	for _, k := range cands[:min(n, len(cands))] {
		out = append(out, k.name)
	}
	return out
}

// editDistance is the Levenshtein distance between two byte strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// CheckAction reports whether an action pattern matches some catalog
// action; when it does not, why says so with the nearest names, e.g.
// `action "s3:GetObjekt" is not in catalog dated 2026-09-26; did you mean s3:GetObject?`.
func (c *Catalog) CheckAction(pattern string) (ok bool, why string) {
	if _, err := c.ExpandReport(pattern); err == nil {
		return true, ""
	} else {
		why = err.Error()
	}
	if near := c.Suggest(pattern, 3); len(near) > 0 {
		why += "; did you mean " + strings.Join(near, ", ") + "?"
	}
	return false, why
}
