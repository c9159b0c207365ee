package org

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// NodeKind says what a node of the organization tree is.
type NodeKind int

// Node kinds.
const (
	KindRoot NodeKind = iota + 1
	KindOU
	KindAccount
)

func (k NodeKind) String() string {
	switch k {
	case KindRoot:
		return "root"
	case KindOU:
		return "ou"
	case KindAccount:
		return "account"
	}
	return fmt.Sprintf("NodeKind(%d)", int(k))
}

// Node is a root, an OU or an account, by ID and name.
type Node struct {
	Kind     NodeKind
	ID       string
	Name     string
	ParentID string // empty for the root
}

// ChainLevel is one level of an account's effective policy chain: a node
// (the root, an OU, or the account) and the policies of one type attached
// directly to it. It carries the raw policy documents; the policy engine
// compiles them.
type ChainLevel struct {
	NodeID   string
	NodeName string
	Kind     NodeKind
	Policies []Policy
}

// Errors returned by Index queries.
var (
	ErrUnknownNode   = errors.New("unknown node")
	ErrAmbiguousNode = errors.New("ambiguous node name")
)

// ResolveError explains why a node reference did not resolve to one node.
type ResolveError struct {
	Ref        string
	Ambiguous  bool     // true: several nodes match; false: none does
	Candidates []string // matching nodes (ambiguous) or close names (unknown), described
}

func (e *ResolveError) Error() string {
	if e.Ambiguous {
		return fmt.Sprintf("%q names %d nodes; use an ID or an OU path: %s", e.Ref, len(e.Candidates), strings.Join(e.Candidates, ", "))
	}
	if len(e.Candidates) > 0 {
		return fmt.Sprintf("no node named %q; did you mean %s?", e.Ref, strings.Join(e.Candidates, ", "))
	}
	return fmt.Sprintf("no node named %q", e.Ref)
}

// Is makes errors.Is match ErrAmbiguousNode or ErrUnknownNode.
func (e *ResolveError) Is(target error) bool {
	if e.Ambiguous {
		return target == ErrAmbiguousNode
	}
	return target == ErrUnknownNode || target == ErrNotFound
}

// Index is a read-only, indexed view of a Snapshot for tree queries. Build it
// once with NewIndex; it is safe for concurrent use. It must not outlive
// changes to the snapshot it was built from.
//
// Nodes are numbered: the root is 0, then the OUs and the accounts in the
// snapshot's order. The tree and the attachments hang off those numbers
// in a few flat slices rather than off maps of IDs: indexing 10,000
// accounts makes one map and a handful of allocations.
type Index struct {
	snap   *Snapshot
	ids    map[string]int32 // node ID -> number
	nodes  []Node
	parent []int32 // node -> its parent's number (-1: the root, or none)
	// Node p's children are kids[kidStart[p]:kidStart[p+1]], in tree
	// order (OUs first, then accounts, each by lower-case name, then ID)
	// once sortKids has run.
	kids     []int32
	kidStart []int32
	// Node p's policies are pols[polStart[p]:polStart[p+1]], by ID.
	pols     []string
	polStart []int32
	policies map[string]int      // policy ID -> index in snap.Policies
	targets  map[string][]string // policy ID -> target IDs, by ID
	mgmtID   string

	// Made when first asked for (an index of a planned after-state is
	// mostly asked about IDs).
	sortOnce  sync.Once
	namesOnce sync.Once
	byName    map[string][]string // lower-case name -> node IDs
	byPath    map[string]string   // lower-case OU path -> OU ID
	paths     []string            // node -> display path
}

// NewIndex validates s (see Validate) and indexes it.
//
// The index checks what Validate checks as it is built, so a valid
// snapshot is not walked twice; at the first sign of a problem Validate
// itself runs, for the full report.
func NewIndex(s *Snapshot) (*Index, error) {
	x := &Index{snap: s}
	if !x.build(true) {
		if err := Validate(s); err != nil {
			return nil, err
		}
		// Validate found nothing: build is stricter than it needs to be
		// somewhere; index the snapshot without the checks.
		x = &Index{snap: s}
		x.build(false)
	}
	return x, nil
}

// build indexes x.snap. With check it reports false as soon as it meets
// something Validate would report: a wrong format version, a missing or
// misshapen ID or name, an ID used twice, a parent that is not the root
// or an OU, an OU that is its own ancestor, an attachment naming nothing
// or given twice, a management account that is not an account. Without
// check (for a snapshot Validate passed) it does not stop.
func (x *Index) build(check bool) bool {
	s := x.snap
	bad := func() bool { return check }
	n := 1 + len(s.OUs) + len(s.Accounts)
	x.ids = make(map[string]int32, n)
	x.nodes = make([]Node, 0, n)
	x.policies = make(map[string]int, len(s.Policies))
	x.mgmtID = s.Organization.ManagementAccountID
	if s.FormatVersion != FormatVersion || !strings.HasPrefix(s.Root.ID, "r-") {
		if bad() {
			return false
		}
	}
	for _, t := range s.Root.PolicyTypes {
		if t.Type == "" && bad() {
			return false
		}
	}
	add := func(n Node) {
		x.ids[n.ID] = int32(len(x.nodes))
		x.nodes = append(x.nodes, n)
	}
	add(Node{Kind: KindRoot, ID: s.Root.ID, Name: s.Root.Name})
	for _, o := range s.OUs {
		if (!strings.HasPrefix(o.ID, "ou-") || o.Name == "") && bad() {
			return false
		}
		add(Node{Kind: KindOU, ID: o.ID, Name: o.Name, ParentID: o.ParentID})
	}
	for _, a := range s.Accounts {
		if !IsAccountID(a.ID) && bad() {
			return false
		}
		add(Node{Kind: KindAccount, ID: a.ID, Name: a.Name, ParentID: a.ParentID})
	}
	for i, p := range s.Policies {
		if (!strings.HasPrefix(p.ID, "p-") || p.Type == "") && bad() {
			return false
		}
		x.policies[p.ID] = i
	}
	// IDs of different kinds differ by their prefixes (checked above), so
	// an ID used twice shows as fewer entries than elements. Without the
	// checks IDs are unique (Validate passed).
	if (len(x.ids) != n || len(x.policies) != len(s.Policies)) && bad() {
		return false
	}
	if m := x.mgmtID; m != "" && check {
		if i, ok := x.ids[m]; !ok || x.nodes[i].Kind != KindAccount {
			return false
		}
	}
	// Parents; then the children of each node, counted and placed.
	x.parent = make([]int32, n)
	x.kidStart = make([]int32, n+1)
	x.parent[0] = -1
	for i := 1; i < n; i++ {
		p, ok := x.ids[x.nodes[i].ParentID]
		if !ok || x.nodes[p].Kind == KindAccount {
			if bad() {
				return false
			}
			x.parent[i] = -1
			continue
		}
		x.parent[i] = p
		x.kidStart[p+1]++
	}
	for p := range n {
		x.kidStart[p+1] += x.kidStart[p]
	}
	x.kids = make([]int32, x.kidStart[n])
	fill := make([]int32, n)
	for i := 1; i < n; i++ {
		if p := x.parent[i]; p >= 0 {
			x.kids[x.kidStart[p]+fill[p]] = int32(i)
			fill[p]++
		}
	}
	// Every node is reached from the root exactly once unless an OU is its
	// own ancestor (with IDs unique, a reachable node is on no cycle).
	if check && x.reachable() != n {
		return false
	}
	// Attachments: each node's policies and each policy's targets, counted
	// and placed. A policy is looked up only when it changes from one
	// attachment to the next (attachments are sorted by policy).
	target := make([]int32, len(s.Attachments)) // -1: names nothing
	policy := make([]int32, len(s.Attachments))
	perPolicy := make([]int32, len(s.Policies))
	x.polStart = make([]int32, n+1)
	last, pi := "", int32(-1)
	for k, at := range s.Attachments {
		if at.PolicyID != last || pi < 0 {
			i, ok := x.policies[at.PolicyID]
			pi, last = int32(i), at.PolicyID
			if !ok {
				pi = -1
			}
		}
		t, ok := x.ids[at.TargetID]
		if !ok || pi < 0 {
			if bad() {
				return false
			}
			target[k] = -1
			continue
		}
		target[k], policy[k] = t, pi
		x.polStart[t+1]++
		perPolicy[pi]++
	}
	for p := range n {
		x.polStart[p+1] += x.polStart[p]
	}
	x.pols = make([]string, x.polStart[n])
	clear(fill)
	targets := make([][]string, len(s.Policies))
	for i, c := range perPolicy {
		if c > 0 {
			targets[i] = make([]string, 0, c)
		}
	}
	for k, at := range s.Attachments {
		t := target[k]
		if t < 0 {
			continue
		}
		x.pols[x.polStart[t]+fill[t]] = at.PolicyID
		fill[t]++
		targets[policy[k]] = append(targets[policy[k]], at.TargetID)
	}
	for t := range int32(n) {
		l := x.policiesOf(t)
		if !slices.IsSorted(l) {
			slices.Sort(l)
		}
		for i := 1; i < len(l); i++ {
			if l[i] == l[i-1] && bad() {
				return false // an attachment given twice
			}
		}
	}
	x.targets = make(map[string][]string, len(s.Policies))
	for i, l := range targets {
		if l != nil {
			if !slices.IsSorted(l) {
				slices.Sort(l)
			}
			x.targets[s.Policies[i].ID] = l
		}
	}
	return true
}

// children returns node p's children (in tree order once sortKids ran).
func (x *Index) children(p int32) []int32 { return x.kids[x.kidStart[p]:x.kidStart[p+1]] }

// policiesOf returns the IDs of the policies attached to node p.
func (x *Index) policiesOf(p int32) []string { return x.pols[x.polStart[p]:x.polStart[p+1]] }

// reachable counts the nodes reached from the root through the children
// lists, the root included.
func (x *Index) reachable() int {
	n := 1
	stack := []int32{0}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range x.children(p) {
			n++
			if x.nodes[c].Kind == KindOU {
				stack = append(stack, c)
			}
		}
	}
	return n
}

// sortKids puts every node's children in tree order: OUs before
// accounts, then by lower-case name, then by ID.
func (x *Index) sortKids() {
	x.sortOnce.Do(func() {
		var keys []childKey
		for p := range int32(len(x.nodes)) {
			kids := x.children(p)
			if len(kids) < 2 {
				continue
			}
			// Sort keys are made once per child, not per comparison.
			keys = keys[:0]
			for _, c := range kids {
				n := &x.nodes[c]
				keys = append(keys, childKey{kind: n.Kind, lower: strings.ToLower(n.Name), id: n.ID, pos: c})
			}
			slices.SortFunc(keys, func(a, b childKey) int {
				if a.kind != b.kind {
					return int(a.kind) - int(b.kind)
				}
				if c := strings.Compare(a.lower, b.lower); c != 0 {
					return c
				}
				return strings.Compare(a.id, b.id)
			})
			for i, k := range keys {
				kids[i] = k.pos
			}
		}
	})
}

// names makes the name and path maps.
func (x *Index) names() {
	x.namesOnce.Do(func() {
		x.sortKids()
		x.byName = make(map[string][]string, len(x.nodes))
		x.byPath = make(map[string]string, len(x.snap.OUs))
		x.paths = make([]string, len(x.nodes))
		for _, n := range x.nodes[1:] {
			lower := strings.ToLower(n.Name)
			x.byName[lower] = append(x.byName[lower], n.ID)
		}
		// Paths: walk from the root so that every node's path is built once.
		x.paths[0] = "/"
		var walk func(p int32, prefix string)
		walk = func(p int32, prefix string) {
			for _, c := range x.children(p) {
				n := &x.nodes[c]
				path := prefix + "/" + n.Name
				x.paths[c] = path
				if n.Kind == KindOU {
					x.byPath[strings.ToLower(path)] = n.ID
					walk(c, path)
				}
			}
		}
		walk(0, "")
	})
}

// childKey orders a parent's children: OUs before accounts, then by
// lower-case name, then by ID.
type childKey struct {
	kind  NodeKind
	lower string
	id    string
	pos   int32
}

// MustIndex is NewIndex for snapshots known to be valid (tests, generated
// organizations); it panics on an invalid snapshot.
func MustIndex(s *Snapshot) *Index {
	x, err := NewIndex(s)
	if err != nil {
		panic(err)
	}
	return x
}

// Snapshot returns the snapshot the index was built from.
func (x *Index) Snapshot() *Snapshot { return x.snap }

// Root returns the root node.
func (x *Index) Root() Node { return x.nodes[0] }

// Node returns the node with ID id.
func (x *Index) Node(id string) (Node, bool) {
	p, ok := x.ids[id]
	if !ok {
		return Node{}, false
	}
	return x.nodes[p], true
}

// OU returns the OU with ID id.
func (x *Index) OU(id string) (OU, bool) {
	p, ok := x.ids[id]
	if !ok || x.nodes[p].Kind != KindOU {
		return OU{}, false
	}
	return x.snap.OUs[p-1], true
}

// Account returns the account with ID id.
func (x *Index) Account(id string) (Account, bool) {
	p, ok := x.ids[id]
	if !ok || x.nodes[p].Kind != KindAccount {
		return Account{}, false
	}
	return x.account(p), true
}

// account returns the account numbered p.
func (x *Index) account(p int32) Account { return x.snap.Accounts[int(p)-1-len(x.snap.OUs)] }

// Policy returns the policy with ID id.
func (x *Index) Policy(id string) (Policy, bool) {
	i, ok := x.policies[id]
	if !ok {
		return Policy{}, false
	}
	return x.snap.Policies[i], true
}

// IsManagementAccount reports whether id is the management account, which
// SCPs and RCPs never affect.
func (x *Index) IsManagementAccount(id string) bool { return id != "" && id == x.mgmtID }

// PathString returns the display path of a node: "/" for the root,
// "/Customers/Acme" for an OU, "/Customers/Acme/acme-prod" for an account.
func (x *Index) PathString(id string) string {
	p, ok := x.ids[id]
	if !ok {
		return ""
	}
	x.names()
	return x.paths[p]
}

// Path returns the nodes from the root down to id, both included.
func (x *Index) Path(id string) ([]Node, error) {
	p, ok := x.ids[id]
	if !ok {
		return nil, fmt.Errorf("finding the path to %s: %w", id, ErrUnknownNode)
	}
	var rev []Node
	for ; p >= 0; p = x.parent[p] {
		rev = append(rev, x.nodes[p])
	}
	slices.Reverse(rev)
	return rev, nil
}

// Depth returns the number of OUs on the path to id, id included when it
// is an OU: 0 for the root, 1 for an OU directly under the root.
func (x *Index) Depth(id string) int {
	p, err := x.Path(id)
	if err != nil {
		return 0
	}
	d := 0
	for _, n := range p {
		if n.Kind == KindOU {
			d++
		}
	}
	return d
}

// Children returns the direct children of a node: OUs first, then
// accounts, each sorted by name.
func (x *Index) Children(id string) []Node {
	p, ok := x.ids[id]
	if !ok {
		return []Node{}
	}
	x.sortKids()
	kids := x.children(p)
	out := make([]Node, len(kids))
	for i, c := range kids {
		out[i] = x.nodes[c]
	}
	return out
}

// AccountsUnder returns the accounts at or below a node (the account itself
// when id is an account), in tree order.
func (x *Index) AccountsUnder(id string) []Account {
	p, ok := x.ids[id]
	if !ok {
		return nil
	}
	if x.nodes[p].Kind == KindAccount {
		return []Account{x.account(p)}
	}
	x.sortKids()
	var out []Account
	var walk func(int32)
	walk = func(p int32) {
		for _, c := range x.children(p) {
			if x.nodes[c].Kind == KindAccount {
				out = append(out, x.account(c))
			} else {
				walk(c)
			}
		}
	}
	walk(p)
	return out
}

// MemberAccountsUnder counts the accounts at or below a node (the account
// itself when id is an account) other than the management account: the
// accounts SCPs and RCPs there reach. It is AccountsUnder without
// copying the accounts.
func (x *Index) MemberAccountsUnder(id string) int {
	p, ok := x.ids[id]
	if !ok {
		return 0
	}
	member := func(c int32) int {
		if x.IsManagementAccount(x.nodes[c].ID) {
			return 0
		}
		return 1
	}
	if x.nodes[p].Kind == KindAccount {
		return member(p)
	}
	count := 0
	stack := []int32{p}
	for len(stack) > 0 {
		q := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range x.children(q) {
			if x.nodes[c].Kind == KindAccount {
				count += member(c)
			} else {
				stack = append(stack, c)
			}
		}
	}
	return count
}

// OUsUnder returns the OUs strictly below a node, in tree order.
func (x *Index) OUsUnder(id string) []OU {
	p, ok := x.ids[id]
	if !ok {
		return nil
	}
	x.sortKids()
	var out []OU
	var walk func(int32)
	walk = func(p int32) {
		for _, c := range x.children(p) {
			if x.nodes[c].Kind == KindOU {
				out = append(out, x.snap.OUs[c-1])
				walk(c)
			}
		}
	}
	walk(p)
	return out
}

// PoliciesAttached returns the policies of type t attached directly to a
// target, sorted by ID. An empty t means every type.
func (x *Index) PoliciesAttached(targetID string, t PolicyType) []Policy {
	p, ok := x.ids[targetID]
	if !ok {
		return nil
	}
	var out []Policy
	for _, pid := range x.policiesOf(p) {
		pol, ok := x.Policy(pid)
		if ok && (t == "" || pol.Type == t) {
			out = append(out, pol)
		}
	}
	return out
}

// TargetsOf returns the IDs of the targets a policy is attached to directly.
func (x *Index) TargetsOf(policyID string) []string {
	return slices.Clone(x.targets[policyID])
}

// EffectiveChain returns the levels whose policies of type t apply to an
// account: the root first, then each OU on the path, then the account
// itself. A request is allowed by SCPs only if every level allows it.
//
// If t is not enabled at the root the chain is nil and the error wraps
// ErrPolicyTypeNotEnabled: the type then restricts nothing. The management
// account gets its chain like any other; callers exempt it
// (IsManagementAccount), as AWS does.
func (x *Index) EffectiveChain(accountID string, t PolicyType) ([]ChainLevel, error) {
	n, ok := x.Node(accountID)
	if !ok || n.Kind != KindAccount {
		return nil, fmt.Errorf("building the %s chain of %s: no such account: %w", t.Short(), accountID, ErrUnknownNode)
	}
	if !x.snap.Root.PolicyTypeEnabled(t) {
		return nil, fmt.Errorf("building the %s chain of %s: %w", t.Short(), accountID, ErrPolicyTypeNotEnabled)
	}
	path, err := x.Path(accountID)
	if err != nil {
		return nil, err
	}
	chain := make([]ChainLevel, len(path))
	for i, p := range path {
		chain[i] = ChainLevel{NodeID: p.ID, NodeName: p.Name, Kind: p.Kind, Policies: x.PoliciesAttached(p.ID, t)}
	}
	return chain, nil
}

// Describe returns a short human description of a node, for messages:
// "OU /Customers/Acme (ou-ab12-34cd56ef)".
func (x *Index) Describe(id string) string {
	n, ok := x.Node(id)
	if !ok {
		return id
	}
	switch n.Kind {
	case KindRoot:
		return "Root (" + id + ")"
	case KindOU:
		return "OU " + x.PathString(id) + " (" + id + ")"
	default:
		return "account " + n.Name + " (" + id + ", " + x.PathString(id) + ")"
	}
}

// Resolve finds one node by reference. A reference is, in order of
// precedence: a node ID (root, OU or account ID); "Root" or "/"; an OU
// path starting with "/" ("/Customers/Acme"), or an account path
// ("/Customers/Acme/acme-prod"); or a bare OU or account name, which must
// be unique. Names compare case-insensitively. An ambiguous reference
// returns a *ResolveError listing the candidates; an unknown one lists
// close matches.
func (x *Index) Resolve(ref string) (Node, error) {
	r := strings.TrimSpace(ref)
	if n, ok := x.Node(r); ok {
		return n, nil
	}
	if r == "/" || strings.EqualFold(r, "root") {
		return x.Root(), nil
	}
	x.names()
	if strings.HasPrefix(r, "/") {
		p := strings.ToLower(strings.TrimSuffix(r, "/"))
		if id, ok := x.byPath[p]; ok {
			return x.nodes[x.ids[id]], nil
		}
		// An account path: the parent's path plus the account name.
		if i := strings.LastIndex(p, "/"); i >= 0 {
			parent, name := p[:i], p[i+1:]
			parentID := x.snap.Root.ID
			if parent != "" {
				parentID = x.byPath[parent]
			}
			if pp, ok := x.ids[parentID]; ok && parentID != "" {
				for _, c := range x.children(pp) {
					if n := x.nodes[c]; n.Kind == KindAccount && strings.ToLower(n.Name) == name {
						return n, nil
					}
				}
			}
		}
		return Node{}, &ResolveError{Ref: ref, Candidates: x.closeMatches(r)}
	}
	ids := x.byName[strings.ToLower(r)]
	switch len(ids) {
	case 1:
		return x.nodes[x.ids[ids[0]]], nil
	case 0:
		return Node{}, &ResolveError{Ref: ref, Candidates: x.closeMatches(r)}
	}
	cands := make([]string, len(ids))
	for i, id := range ids {
		cands[i] = x.Describe(id)
	}
	slices.Sort(cands)
	return Node{}, &ResolveError{Ref: ref, Ambiguous: true, Candidates: cands}
}

// closeMatches returns up to five names or paths near ref.
func (x *Index) closeMatches(ref string) []string {
	x.names()
	q := strings.ToLower(ref)
	type cand struct {
		s string
		d int
	}
	var cs []cand
	consider := func(s string) {
		ls := strings.ToLower(s)
		d := editDistance(q, ls, 3)
		if strings.Contains(ls, q) && len(q) >= 3 {
			d = min(d, 1)
		}
		if d <= max(2, len(q)/4) {
			cs = append(cs, cand{s, d})
		}
	}
	if strings.HasPrefix(ref, "/") {
		for _, p := range x.paths {
			if p != "/" {
				consider(p)
			}
		}
	} else {
		seen := map[string]bool{}
		for _, n := range x.nodes {
			if n.Kind != KindRoot && !seen[n.Name] {
				seen[n.Name] = true
				consider(n.Name)
			}
		}
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.s, b.s)
	})
	out := make([]string, 0, 5)
	for i := 0; i < len(cs) && i < 5; i++ {
		out = append(out, cs[i].s)
	}
	return out
}

// editDistance returns the Levenshtein distance between a and b, or a
// value above limit as soon as it is known to exceed it.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
