package impact

// universe is the action catalog as the classification sees it: dense
// action indices 0..n-1, wildcard expansion, names, services and the
// RCP-supported actions. It memoises the expansion of every pattern.
type universe struct {
	n   int
	all bitset
	rcp bitset // actions of RCP-supported services
	// free are the actions no policy can deny (sts:GetCallerIdentity): they
	// stay allowed in every class.
	free     bitset
	expand   func(pattern string) bitset
	name     func(i int) string
	services []service // sorted by name
	patterns map[string]bitset
}

// service is one service prefix and its actions, indices lo..hi-1 (the
// catalog keeps each service's actions together).
type service struct {
	prefix string
	lo, hi int
}

// anyInRange reports whether s has a member in lo..hi-1.
func anyInRange(s bitset, lo, hi int) bool {
	if lo >= hi {
		return false
	}
	fw, lw := lo>>6, (hi-1)>>6
	for w := fw; w <= lw; w++ {
		m := ^uint64(0)
		if w == fw {
			m &= ^uint64(0) << (uint(lo) & 63)
		}
		if w == lw {
			m &= ^uint64(0) >> (63 - (uint(hi-1) & 63))
		}
		if s[w]&m != 0 {
			return true
		}
	}
	return false
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
