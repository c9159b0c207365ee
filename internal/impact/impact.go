package impact

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/orgguard/orgguard/internal/org"
)

// Class is what SCPs or RCPs leave of one action for one account.
type Class uint8

// Classes of an action.
const (
	// Allowed: the policies allow the action for every principal (SCPs) or
	// on every resource (RCPs) of the account, unconditionally.
	Allowed Class = iota + 1
	// Conditional: allowed only under some conditions, or only for some
	// resources or principals.
	Conditional
	// Denied: denied (explicitly or implicitly) whatever the request.
	Denied
)

func (c Class) String() string {
	switch c {
	case Allowed:
		return "allowed"
	case Conditional:
		return "conditional"
	case Denied:
		return "denied"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// DefaultCritical returns the default list of critical action patterns: the
// permissions whose loss locks people out of an account or the organization.
func DefaultCritical() []string {
	return []string{
		"sts:AssumeRole",
		"iam:*",
		"organizations:*",
		"sso:*",
		"signin:*", // console sign-in
		"aws-portal:*",
		"billing:*",
		"account:*",
	}
}

// Options tune Compute.
type Options struct {
	// Critical lists the action patterns (IAM wildcards allowed) whose loss
	// the report names per account. Empty means DefaultCritical().
	Critical []string
}

// Counts are the numbers of catalog actions whose class changed, by the
// class they changed to.
//
// NewlyDenied and NewlyConditional are losses: actions not denied before
// that are denied after, and actions allowed before that are only
// conditional after. NewlyAllowed and PartlyRestored are gains: actions
// not allowed before that are allowed after, and actions denied before that
// are conditional after (a rollback of a deny-all restores access; it
// restricts nothing).
type Counts struct {
	NewlyDenied      int `json:"newlyDenied"`
	NewlyConditional int `json:"newlyConditional"`
	NewlyAllowed     int `json:"newlyAllowed"`
	PartlyRestored   int `json:"partlyRestored"`
}

// Restricted is the number of actions that lose access: newly denied, or
// newly conditional after being allowed (PartlyRestored, denied before and
// conditional now, is a gain).
func (c Counts) Restricted() int { return c.NewlyDenied + c.NewlyConditional }

// IsZero reports whether no action changed class.
func (c Counts) IsZero() bool { return c == Counts{} }

// CriticalLoss names the actions of one critical pattern that became denied.
// When All is true every action the pattern matches is denied after the
// change and Actions is left empty (Count says how many of them became
// denied), which keeps the report of a deny-all on a large organization
// small; otherwise Actions lists the newly denied ones.
type CriticalLoss struct {
	Pattern string   `json:"pattern"`
	Count   int      `json:"count"`             // actions of Pattern newly denied
	Actions []string `json:"actions,omitempty"` // those actions, in catalog order, unless All
	All     bool     `json:"all"`               // every action Pattern matches is denied after the change
}

// AccountImpact is the blast radius on one member account.
//
// The embedded Counts are the combined dimension: an action counts as
// denied for the account when SCPs deny it to the account's principals or
// RCPs deny it on the account's resources, allowed when both allow it, and
// conditional otherwise. SCP and RCP give each dimension alone; RCP counts
// only cover actions of RCP-supported services.
type AccountImpact struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Path string `json:"path"`
	Counts
	SCP          Counts         `json:"scp"`
	RCP          Counts         `json:"rcp"`
	CriticalLost []CriticalLoss `json:"criticalLost"`
	// ServicesLost are the services (prefixes, in catalog order) every
	// action of which is denied after the change and was not before. It is
	// left empty when DeniedEverything is true.
	ServicesLost []string `json:"servicesLost,omitempty"`
	// DeniedEverything is true when every catalog action is denied to the
	// account after the change (a deny-all): every service not already
	// entirely denied before is then lost.
	DeniedEverything bool    `json:"deniedEverything,omitempty"`
	NewlyDeniedShare float64 `json:"newlyDeniedShare"` // NewlyDenied / catalog size
	// Group is the account's index in Report.Groups: the accounts whose
	// actions changed in exactly the same way, with those actions.
	Group int `json:"group"`
	// Presence says whether the account is in both snapshots ("member"),
	// joined ("added") or left ("removed"); an account outside the
	// organization is restricted by nothing.
	Presence string `json:"presence"`
}

// NodeImpact is a root or OU with affected accounts beneath it.
type NodeImpact struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Path             string `json:"path"`
	Kind             string `json:"kind"` // "root" or "ou"
	AccountsAffected int    `json:"accountsAffected"`
	AccountsTotal    int    `json:"accountsTotal"` // member accounts beneath it after the change
	// AccountsBefore are the member accounts beneath it before the change:
	// a node that accounts left (a release, a quarantine's undo) has more
	// before than after.
	AccountsBefore int `json:"accountsBefore"`
	// Removed is true for a node the change deletes (its counts are those
	// before the change).
	Removed bool `json:"removed,omitempty"`
}

// Report is the blast radius of a change: how the classes of every catalog
// action changed for every member account between two snapshots.
type Report struct {
	AccountsAffected int             `json:"accountsAffected"`
	AccountsTotal    int             `json:"accountsTotal"` // member accounts (the management account excluded)
	Accounts         []AccountImpact `json:"accounts"`      // affected accounts, in tree order (by path)
	Nodes            []NodeImpact    `json:"nodes"`         // root and OUs with affected accounts beneath, by path
	// Groups gather the affected accounts with the same change and name
	// the actions it changes, folded (largest group first).
	Groups []Group `json:"groups"`
	// MaxNewlyDeniedShare is the largest share of the catalog newly denied
	// (combined dimension) on any one account.
	MaxNewlyDeniedShare       float64 `json:"maxNewlyDeniedShare"`
	ManagementAccountID       string  `json:"managementAccountId"`
	ManagementAccountAffected bool    `json:"managementAccountAffected"`
	// RecoveryPathIntact says the management account can still run every
	// organizations:* action after the change (SCPs and RCPs never restrict
	// it), so the change can be undone.
	RecoveryPathIntact bool `json:"recoveryPathIntact"`
	CatalogActions     int  `json:"catalogActions"`
	RCPActions         int  `json:"rcpActions"`
}

// Impact is a computed blast radius: the Report plus the classes of every
// account before and after, for later queries (health probes).
type Impact struct {
	Report
	an            *Analyzer
	before, after *view
}

// Analyzer computes blast radii against one catalog, keeping its memo tables
// (pattern expansions, policy effects, level and chain classes) between
// calls so that repeated computations share work. The tables grow with the
// distinct policies and classes seen, so a long-running caller should start
// a new Analyzer now and then (per run, per day). It is safe for concurrent
// use; calls are serialised.
type Analyzer struct {
	mu       sync.Mutex
	u        *universe
	eng      *engine
	read     func(dim dimension, p *org.Policy, orgID string) ([]statement, error)
	orgID    string // the organization the memo tables were filled for
	critical []criticalSet
	diffs    map[[4]int32]*accountDiff
	deltas   map[[2]int32]*delta
	segs     [][]segment
	orgs     bitset // organizations:* for the recovery check
}

type criticalSet struct {
	pattern string
	set     bitset
}

// accountDiff is the change between two (SCP, RCP) class pairs; accounts
// with the same pairs share one.
type accountDiff struct {
	scp, rcp, combined Counts
	critical           []CriticalLoss
	services           []string
	everything         bool // every action denied after
	share              float64
	delta              *delta
}

func newAnalyzer(u *universe, read func(dimension, *org.Policy, string) ([]statement, error), opts Options) (*Analyzer, error) {
	a := &Analyzer{u: u, eng: newEngine(u), read: read, diffs: map[[4]int32]*accountDiff{}, deltas: map[[2]int32]*delta{}}
	pats := opts.Critical
	user := len(pats) > 0
	if !user {
		pats = DefaultCritical()
	}
	for _, p := range pats {
		s := u.pattern(p)
		if s.empty() {
			if user {
				return nil, fmt.Errorf("reading critical action %q: it matches no action in the catalog: %w", p, ErrInvalidInput)
			}
			continue
		}
		a.critical = append(a.critical, criticalSet{p, s})
	}
	a.orgs = u.pattern("organizations:*")
	return a, nil
}

func (a *Analyzer) policyEffect(dim dimension, p *org.Policy) (int32, error) {
	// Conditions on aws:PrincipalOrgID depend on the organization, so the
	// memo key holds its ID with the content.
	return a.eng.effectOf(dim, a.orgID+"\x00"+p.Content, func() ([]statement, error) {
		st, err := a.read(dim, p, a.orgID)
		if err != nil {
			return nil, fmt.Errorf("reading policy %s (%s): %w: %w", p.ID, p.Name, ErrInvalidInput, err)
		}
		return st, nil
	})
}

// Compute returns the blast radius of going from before to after.
func (a *Analyzer) Compute(before, after *org.Snapshot) (*Impact, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.orgID = before.Organization.ID
	vb, err := a.buildView(before)
	if err != nil {
		return nil, fmt.Errorf("classifying the snapshot before the change: %w", err)
	}
	va, err := a.buildView(after)
	if err != nil {
		return nil, fmt.Errorf("classifying the snapshot after the change: %w", err)
	}
	im := &Impact{an: a, before: vb, after: va}
	r := &im.Report
	r.CatalogActions = a.u.n
	r.RCPActions = a.u.rcp.count()
	r.ManagementAccountID = va.mgmt

	// Tree bookkeeping on the after view: member accounts beneath each node.
	total := make([]int, len(va.nodes))
	for i := range va.nodes {
		n := &va.nodes[i]
		if n.kind != org.KindAccount || n.mgmt {
			continue
		}
		for p := n.parent; p >= 0; p = va.nodes[p].parent {
			total[p]++
		}
	}
	totalBefore := make([]int, len(vb.nodes))
	for i := range vb.nodes {
		n := &vb.nodes[i]
		if n.kind != org.KindAccount || n.mgmt {
			continue
		}
		for p := n.parent; p >= 0; p = vb.nodes[p].parent {
			totalBefore[p]++
		}
	}
	beforeTotal := func(id string) int {
		if i, ok := vb.byID[id]; ok {
			return totalBefore[i]
		}
		return 0
	}
	// Affected accounts beneath each node of the after view; nodes that
	// exist only before the change (an account left or moved out of them)
	// are kept aside.
	affected := make([]int, len(va.nodes))
	stamp := make([]int32, len(va.nodes))
	gone := map[string]*NodeImpact{}
	goneStamp := map[string]int32{}
	var seq int32
	mark := func(v *view, i int32) {
		for p := v.nodes[i].parent; p >= 0; p = v.nodes[p].parent {
			ai := p
			if v != va {
				var ok bool
				if ai, ok = va.byID[v.nodes[p].id]; !ok {
					vn := &v.nodes[p]
					if goneStamp[vn.id] == seq {
						continue
					}
					goneStamp[vn.id] = seq
					ni := gone[vn.id]
					if ni == nil {
						ni = &NodeImpact{ID: vn.id, Name: vn.name, Path: v.pathOf(p), Kind: vn.kind.String(),
							AccountsBefore: totalBefore[p], Removed: true}
						gone[vn.id] = ni
					}
					ni.AccountsAffected++
					continue
				}
			}
			if stamp[ai] == seq {
				continue
			}
			stamp[ai] = seq
			affected[ai]++
		}
	}

	type foundAccount struct {
		id, path string
		v        *view
		i        int32
		d        *accountDiff
		presence string
	}
	var found []foundAccount
	visit := func(id string) {
		sb, rb, inB := vb.classesOf(id)
		sa, ra, inA := va.classesOf(id)
		if id == va.mgmt || (!inA && id == vb.mgmt) {
			r.ManagementAccountAffected = sb != sa || rb != ra
			return
		}
		r.AccountsTotal++
		if sb == sa && rb == ra {
			return
		}
		d := a.diff(sb, sa, rb, ra)
		v, i := va, va.byID[id]
		presence := "member"
		switch {
		case !inB:
			presence = "added"
		case !inA:
			v, i = vb, vb.byID[id]
			presence = "removed"
		}
		found = append(found, foundAccount{id: id, path: v.pathOf(i), v: v, i: i, d: d, presence: presence})
		r.MaxNewlyDeniedShare = max(r.MaxNewlyDeniedShare, d.share)
		// Mark the nodes above the account after the change, and before it
		// when it moved (OUs themselves cannot move in AWS Organizations).
		seq++
		ia, ib := va.byID[id], vb.byID[id]
		if inA {
			mark(va, ia)
		}
		if inB && (!inA || vb.nodes[vb.nodes[ib].parent].id != va.nodes[va.nodes[ia].parent].id) {
			mark(vb, ib)
		}
	}
	for i := range va.nodes {
		if va.nodes[i].kind == org.KindAccount {
			visit(va.nodes[i].id)
		}
	}
	for i := range vb.nodes {
		if n := &vb.nodes[i]; n.kind == org.KindAccount {
			if _, ok := va.byID[n.id]; !ok {
				visit(n.id)
			}
		}
	}
	r.AccountsAffected = len(found)
	// Report the affected accounts by path.
	slices.SortFunc(found, func(x, y foundAccount) int {
		return cmp.Or(cmp.Compare(x.path, y.path), cmp.Compare(x.id, y.id))
	})
	r.Accounts = make([]AccountImpact, len(found))
	deltas := make([]*delta, len(found))
	for k, f := range found {
		d := f.d
		r.Accounts[k] = AccountImpact{
			ID: f.id, Name: f.v.nodes[f.i].name, Path: f.path,
			Counts: d.combined, SCP: d.scp, RCP: d.rcp,
			CriticalLost: d.critical, ServicesLost: d.services, DeniedEverything: d.everything,
			NewlyDeniedShare: d.share, Presence: f.presence,
		}
		deltas[k] = d.delta
	}
	var groupOf []int
	r.Groups, groupOf = groupAccounts(r.Accounts, deltas)
	for k, g := range groupOf {
		r.Accounts[k].Group = g
	}
	r.Nodes = []NodeImpact{}
	for i := range va.nodes {
		if affected[i] > 0 {
			vn := &va.nodes[i]
			r.Nodes = append(r.Nodes, NodeImpact{ID: vn.id, Name: vn.name, Path: va.pathOf(int32(i)), Kind: vn.kind.String(),
				AccountsAffected: affected[i], AccountsTotal: total[i], AccountsBefore: beforeTotal(vn.id)})
		}
	}
	for _, n := range gone {
		r.Nodes = append(r.Nodes, *n)
	}
	slices.SortFunc(r.Nodes, func(x, y NodeImpact) int {
		return cmp.Or(cmp.Compare(x.Path, y.Path), cmp.Compare(x.ID, y.ID))
	})

	// Recovery: the management account must still be able to run every
	// Organizations action (detach, attach, move...) after the change.
	if s, rr, ok := va.classesOf(va.mgmt); ok && va.mgmt != "" && !a.orgs.empty() {
		c := &a.eng.classes[a.eng.combine(s, rr)]
		r.RecoveryPathIntact = containsAll(c.allowed, a.orgs)
	}
	return im, nil
}

func containsAll(s, sub bitset) bool {
	for i := range sub {
		if sub[i]&^s[i] != 0 {
			return false
		}
	}
	return true
}

// counts returns the class changes from class b to class a.
func (a *Analyzer) counts(b, af int32) Counts {
	if b == af {
		return Counts{}
	}
	cb, ca := &a.eng.classes[b], &a.eng.classes[af]
	var c Counts
	for i := range cb.allowed {
		ab, pb, aa, pa := cb.allowed[i], cb.possible[i], ca.allowed[i], ca.possible[i]
		c.NewlyDenied += popcount(pb &^ pa)
		c.NewlyAllowed += popcount(aa &^ ab)
		c.NewlyConditional += popcount((pa &^ aa) & ab)
		c.PartlyRestored += popcount((pa &^ aa) &^ pb)
	}
	return c
}

// diff returns the change of one account whose SCP class goes from sb to sa
// and RCP class from rb to ra, memoised by those four ids.
func (a *Analyzer) diff(sb, sa, rb, ra int32) *accountDiff {
	k := [4]int32{sb, sa, rb, ra}
	if d, ok := a.diffs[k]; ok {
		return d
	}
	e := a.eng
	d := &accountDiff{scp: a.counts(sb, sa), rcp: a.counts(rb, ra)}
	cb, ca := e.combine(sb, rb), e.combine(sa, ra)
	d.combined = a.counts(cb, ca)
	d.delta = a.delta(cb, ca)
	// Actions no policy can deny (sts:GetCallerIdentity) stay allowed: a
	// deny-all still denies "everything", and shares count the rest.
	if deniable := a.u.n - a.u.free.count(); deniable > 0 {
		d.share = float64(d.combined.NewlyDenied) / float64(deniable)
	}
	pb, pa := e.classes[cb].possible, e.classes[ca].possible
	paDeniable := newBitset(a.u.n)
	andNotInto(paDeniable, pa, a.u.free)
	d.everything = paDeniable.empty()
	lost := newBitset(a.u.n)
	andNotInto(lost, pb, pa)
	if !lost.empty() {
		for _, c := range a.critical {
			cl := CriticalLoss{Pattern: c.pattern, All: disjoint(c.set, paDeniable)}
			for i, w := range c.set {
				w &= lost[i]
				cl.Count += popcount(w)
				for ; w != 0 && !cl.All; w &= w - 1 {
					cl.Actions = append(cl.Actions, a.u.name(i*64+trailingZeros(w)))
				}
			}
			if cl.Count > 0 {
				d.critical = append(d.critical, cl)
			}
		}
		if !d.everything {
			for _, s := range a.u.services {
				if anyInRange(lost, s.lo, s.hi) && !anyInRange(paDeniable, s.lo, s.hi) {
					d.services = append(d.services, s.prefix)
				}
			}
		}
	}
	if d.critical == nil {
		d.critical = []CriticalLoss{}
	}
	if d.services == nil {
		d.services = []string{}
	}
	a.diffs[k] = d
	return d
}

func disjoint(s, t bitset) bool {
	for i := range s {
		if s[i]&t[i] != 0 {
			return false
		}
	}
	return true
}
