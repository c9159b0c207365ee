package impact

import (
	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/policy"
)

// universeOf adapts the action catalog.
func universeOf(c *catalog.Catalog) *universe {
	n := c.Len()
	u := &universe{
		n:        n,
		all:      fullBitset(n),
		rcp:      fromSet(c.RCPActions(), n),
		expand:   func(p string) bitset { return fromSet(c.Expand(p), n) },
		name:     c.Name,
		patterns: map[string]bitset{},
		free:     newBitset(n),
	}
	// sts:GetCallerIdentity needs no permission: no SCP or RCP can deny it.
	// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
	for i := 0; i < n; i++ {
		if policy.NoPermissionsRequired(c.Name(i)) {
			u.free.add(i)
		}
	}
	for _, p := range c.Services() {
		first, last, ok := c.ServiceRange(p)
		if !ok {
			continue
		}
		u.services = append(u.services, service{prefix: p, lo: first, hi: last + 1})
	}
	return u
}

func fromSet(s catalog.Set, n int) bitset {
	b := newBitset(n)
	s.ForEach(b.add)
	return b
}

func toSet(b bitset, n int) catalog.Set {
	s := catalog.NewSet(n)
	b.each(s.Add)
	return s
}
