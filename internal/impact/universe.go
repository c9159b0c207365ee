package impact

// universe is the action catalog as the classification sees it: dense
// action indices 0..n-1, wildcard expansion, names, services and the
// RCP-supported actions. It memoises the expansion of every pattern.
type universe struct {
	n        int
	all      bitset
	rcp      bitset // actions of RCP-supported services
	expand   func(pattern string) bitset
	name     func(i int) string
	services []service // sorted by name
	patterns map[string]bitset
}

// service is one service prefix and its actions.
type service struct {
	prefix string
	set    bitset
}

// actionsOf returns the actions a statement's Action (or NotAction, the
// complement) element covers. The result must not be modified.
func (u *universe) actionsOf(patterns []string, not bool) bitset {
	if len(patterns) == 1 && !not {
		return u.pattern(patterns[0])
	}
	s := newBitset(u.n)
	for _, p := range patterns {
		s.orWith(u.pattern(p))
	}
	if not {
		return complementIn(s, u.all)
	}
	return s
}

// pattern returns the actions one pattern matches (memoised).
func (u *universe) pattern(p string) bitset {
	if s, ok := u.patterns[p]; ok {
		return s
	}
	s := u.expand(p)
	u.patterns[p] = s
	return s
}
