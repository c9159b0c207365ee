package impact

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
)

// Group is a set of affected accounts whose actions changed class in exactly
// the same way, with the actions of each change folded to patterns: a
// reviewer reads what is lost once per group instead of once per account.
type Group struct {
	// Accounts are the group's account IDs, in report (path) order.
	Accounts []string `json:"accounts"`
	Counts
	// DeniedActions, ConditionalActions, AllowedActions and
	// PartlyRestoredActions fold the actions
	// counted by NewlyDenied, NewlyConditional, NewlyAllowed and
	// PartlyRestored: largest first.
	DeniedActions         []Fold `json:"deniedActions"`
	ConditionalActions    []Fold `json:"conditionalActions"`
	AllowedActions        []Fold `json:"allowedActions"`
	PartlyRestoredActions []Fold `json:"partlyRestoredActions"`
	// DeniedExcept is set when more than half of the catalog is newly
	// denied: the newly denied actions are then every action a policy can
	// deny except these — which reads better than hundreds of services.
	// DeniedActions is then left empty.
	DeniedExcept *Complement `json:"deniedExcept,omitempty"`
}

// Complement names the deniable actions a large change leaves out, folded:
// those already denied before the change, and those still not denied after.
type Complement struct {
	AlreadyDenied []Fold `json:"alreadyDenied"`
	NotDenied     []Fold `json:"notDenied"`
}

// Fold is one entry of a folded action list: "*" (every action), a whole
// service ("s3:*"), every action of a service starting with a word
// ("s3:Get*"), or one action ("s3:PutObject"), with how many of the
// changed actions it stands for. For denied actions, the actions no policy
// can deny (sts:GetCallerIdentity) never keep a pattern from folding.
type Fold struct {
	Pattern string `json:"pattern"`
	Count   int    `json:"count"`
}

// segment is a run of one service's actions sharing a leading word
// ("Get" in GetObject); pattern is true when "service:Word*" matches
// exactly the run.
type segment struct {
	word    string
	lo, hi  int
	pattern bool
}

// delta is the change of one combined class pair: the four sets of changed
// actions and their folds (shared by the accounts with that change).
type delta struct {
	sets   [4]bitset // denied, conditional, allowed, partly restored
	hash   uint64
	folds  [4][]Fold
	except *Complement
}

// delta returns the change from combined class cb to ca, memoised.
func (a *Analyzer) delta(cb, ca int32) *delta {
	k := [2]int32{cb, ca}
	if d, ok := a.deltas[k]; ok {
		return d
	}
	e, u := a.eng, a.u
	b, af := &e.classes[cb], &e.classes[ca]
	d := &delta{}
	for i := range d.sets {
		d.sets[i] = newBitset(u.n)
	}
	for i := range b.allowed {
		ab, pb, aa, pa := b.allowed[i], b.possible[i], af.allowed[i], af.possible[i]
		d.sets[0][i] = pb &^ pa
		d.sets[1][i] = (pa &^ aa) & ab
		d.sets[2][i] = aa &^ ab
		d.sets[3][i] = (pa &^ aa) &^ pb
	}
	for i, s := range d.sets {
		d.hash = s.hash(d.hash + uint64(i))
		var free bitset
		if i == 0 {
			free = u.free
		}
		d.folds[i] = a.fold(s, free)
	}
	if deniable := u.n - u.free.count(); 2*d.sets[0].count() > deniable {
		rest := newBitset(u.n)
		andNotInto(rest, u.all, d.sets[0])
		rest.andNotWith(u.free)
		if !rest.empty() {
			already, kept := newBitset(u.n), newBitset(u.n)
			andNotInto(already, rest, b.possible)
			andNotInto(kept, rest, already)
			d.except = &Complement{AlreadyDenied: a.fold(already, nil), NotDenied: a.fold(kept, nil)}
			// The complement says it in far fewer entries (a plan of
			// thousands of accounts stays small).
			d.folds[0] = []Fold{}
		}
	}
	a.deltas[k] = d
	return d
}

// segments returns the runs of actions sharing a leading word, per service
// (computed once per analyzer).
func (a *Analyzer) segments() [][]segment {
	if a.segs != nil {
		return a.segs
	}
	u := a.u
	a.segs = make([][]segment, len(u.services))
	for si, s := range u.services {
		var out []segment
		prev := ""
		for i := s.lo; i < s.hi; {
			name := actionPart(u.name(i))
			w := strings.ToLower(leadingWord(name))
			j := i + 1
			for j < s.hi && strings.HasPrefix(strings.ToLower(actionPart(u.name(j))), w) {
				j++
			}
			out = append(out, segment{word: leadingWord(name), lo: i, hi: j,
				pattern: j-i > 1 && !strings.HasPrefix(prev, w)})
			prev = strings.ToLower(actionPart(u.name(j - 1)))
			i = j
		}
		a.segs[si] = out
	}
	return a.segs
}

func actionPart(name string) string {
	_, act, _ := strings.Cut(name, ":")
	return act
}

// leadingWord returns the first word of an action name: its first letter
// and the lower-case letters after it ("Get" of "GetObject").
func leadingWord(name string) string {
	for i, r := range name {
		if i > 0 && !unicode.IsLower(r) {
			return name[:i]
		}
	}
	return name
}

// fold folds the actions of s to patterns. free (may be nil) are actions
// that count as covered without being in s.
func (a *Analyzer) fold(s, free bitset) []Fold {
	out := []Fold{}
	if s.empty() {
		return out
	}
	u := a.u
	covered := s
	if free != nil {
		covered = newBitset(u.n)
		orInto(covered, s, free)
	}
	if covered.equal(u.all) {
		return append(out, Fold{Pattern: "*", Count: s.count()})
	}
	segs := a.segments()
	for si, sv := range u.services {
		n := countRange(s, sv.lo, sv.hi)
		if n == 0 {
			continue
		}
		if countRange(covered, sv.lo, sv.hi) == sv.hi-sv.lo {
			out = append(out, Fold{Pattern: sv.prefix + ":*", Count: n})
			continue
		}
		for _, g := range segs[si] {
			m := countRange(s, g.lo, g.hi)
			if m == 0 {
				continue
			}
			if g.pattern && countRange(covered, g.lo, g.hi) == g.hi-g.lo {
				out = append(out, Fold{Pattern: sv.prefix + ":" + g.word + "*", Count: m})
				continue
			}
			for i := g.lo; i < g.hi; i++ {
				if s.has(i) {
					out = append(out, Fold{Pattern: u.name(i), Count: 1})
				}
			}
		}
	}
	slices.SortStableFunc(out, func(x, y Fold) int { return cmp.Compare(y.Count, x.Count) })
	return out
}

// countRange counts the members of s in lo..hi-1.
func countRange(s bitset, lo, hi int) int {
	n := 0
	for i := lo; i < hi; {
		if i&63 == 0 && i+64 <= hi {
			n += popcount(s[i>>6])
			i += 64
			continue
		}
		if s.has(i) {
			n++
		}
		i++
	}
	return n
}

// groupAccounts groups the affected accounts (in report order) by their change.
func groupAccounts(accounts []AccountImpact, deltas []*delta) ([]Group, []int) {
	groups := []Group{}
	index := make([]int, len(accounts))
	byHash := map[uint64][]int{}
	var reps []*delta
	for k, acct := range accounts {
		d := deltas[k]
		gi := -1
		for _, c := range byHash[d.hash] {
			if reps[c] == d || sameSets(reps[c], d) {
				gi = c
				break
			}
		}
		if gi < 0 {
			gi = len(groups)
			byHash[d.hash] = append(byHash[d.hash], gi)
			reps = append(reps, d)
			groups = append(groups, Group{Counts: acct.Counts,
				DeniedActions: d.folds[0], ConditionalActions: d.folds[1], AllowedActions: d.folds[2], PartlyRestoredActions: d.folds[3],
				DeniedExcept: d.except})
		}
		groups[gi].Accounts = append(groups[gi].Accounts, acct.ID)
		index[k] = gi
	}
	// Largest groups first; ties keep report order.
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(len(groups[y].Accounts), len(groups[x].Accounts)) })
	renum := make([]int, len(groups))
	sorted := make([]Group, len(groups))
	for to, from := range order {
		renum[from] = to
		sorted[to] = groups[from]
	}
	for k := range index {
		index[k] = renum[index[k]]
	}
	return sorted, index
}

func sameSets(x, y *delta) bool {
	for i := range x.sets {
		if !x.sets[i].equal(y.sets[i]) {
			return false
		}
	}
	return true
}

// AccountByID returns the affected account with that ID.
func (r *Report) AccountByID(id string) (AccountImpact, bool) {
	for _, a := range r.Accounts {
		if a.ID == id {
			return a, true
		}
	}
	return AccountImpact{}, false
}
