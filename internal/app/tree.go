package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// Tree is an organization drawn for people: the root, its OUs and
// accounts in name order (OUs first), each with the SCPs and RCPs
// attached to it directly, and the member accounts beneath every OU.
// Overlay marks a plan's blast radius on it. The team dashboard draws
// it; it is plain data, built once per request.
type Tree struct {
	Root        *TreeNode
	Source      string
	TakenAt     time.Time
	Fingerprint string
	// Stored says the tree was drawn from the latest whole read kept in
	// the store (an AWS organization), not read for this request.
	Stored   bool
	Accounts int // member accounts (the management account excluded)
	OUs      int
	Policies int
	// SCPs says service control policies are enabled at the root (a
	// node without FullAWSAccess then matters).
	SCPs bool
	// Impact is the overlaid blast radius, nil without Overlay.
	Impact *TreeImpact
	index  *org.Index
	byID   map[string]*TreeNode
}

// TreeImpact summarises the overlaid blast radius.
type TreeImpact struct {
	Affected int // member accounts whose access changes
	Losing   int // of those, accounts that lose access (actions newly denied or conditional)
	// Elsewhere are the affected nodes the tree does not hold: OUs the
	// change creates (a quarantine OU), accounts that join.
	Elsewhere []impact.NodeImpact
}

// TreeNode is the root, an OU or an account.
type TreeNode struct {
	ID   string
	Name string
	Kind string // "root", "ou" or "account"
	Path string
	// Status is an account's status (ACTIVE, SUSPENDED, ...).
	Status     string
	Management bool
	// SCPs and RCPs are the policies attached directly, except the
	// AWS-managed defaults every node carries: FullAWSAccess (whose
	// absence matters: NoFullAWSAccess) and RCPFullAWSAccess (which
	// cannot be detached).
	SCPs, RCPs []TreePolicy
	// NoFullAWSAccess says SCPs are enabled and FullAWSAccess is not
	// attached to the node: only what its other SCPs allow passes.
	NoFullAWSAccess bool
	OUs             []*TreeNode // child OUs, by name
	Accounts        []*TreeNode // child accounts, by name
	Members         int         // member accounts at or below the node

	// Set by Overlay.
	Affected int                   // member accounts at or below whose access changes
	Losing   int                   // of those, accounts losing access
	Impact   *impact.AccountImpact // an affected account's change
	Target   bool                  // a step of the plan acts on this node directly
}

// TreePolicy is a policy attached to a node.
type TreePolicy struct {
	ID         string
	Name       string
	AWSManaged bool
}

// NewTree draws snapshot s as a tree.
func NewTree(s *org.Snapshot) (*Tree, error) {
	x, err := org.NewIndex(s)
	if err != nil {
		return nil, fmt.Errorf("drawing the organization: %w", err)
	}
	t := &Tree{Source: s.Source, TakenAt: s.TakenAt, Fingerprint: s.Fingerprint, OUs: len(s.OUs), Policies: len(s.Policies),
		SCPs:  s.Root.PolicyTypeEnabled(org.ServiceControlPolicy),
		index: x, byID: make(map[string]*TreeNode, 1+len(s.OUs)+len(s.Accounts))}
	t.Root = t.node(x, x.Root())
	t.Accounts = t.Root.Members
	return t, nil
}

// node draws n and everything beneath it.
func (t *Tree) node(x *org.Index, n org.Node) *TreeNode {
	tn := &TreeNode{ID: n.ID, Name: n.Name, Kind: n.Kind.String(), Path: x.PathString(n.ID)}
	t.byID[n.ID] = tn
	tn.NoFullAWSAccess = t.SCPs
	for _, p := range x.PoliciesAttached(n.ID, "") {
		switch p.ID {
		case org.FullAWSAccessID:
			tn.NoFullAWSAccess = false
			continue
		case org.RCPFullAWSAccessID:
			continue
		}
		tp := TreePolicy{ID: p.ID, Name: p.Name, AWSManaged: p.AWSManaged}
		switch p.Type {
		case org.ServiceControlPolicy:
			tn.SCPs = append(tn.SCPs, tp)
		case org.ResourceControlPolicy:
			tn.RCPs = append(tn.RCPs, tp)
		}
	}
	if n.Kind == org.KindAccount {
		acc, _ := x.Account(n.ID)
		tn.Status = acc.Status
		tn.Management = x.IsManagementAccount(n.ID)
		if !tn.Management {
			tn.Members = 1
		}
		return tn
	}
	for _, c := range x.Children(n.ID) {
		child := t.node(x, c)
		tn.Members += child.Members
		if c.Kind == org.KindAccount {
			tn.Accounts = append(tn.Accounts, child)
		} else {
			tn.OUs = append(tn.OUs, child)
		}
	}
	return tn
}

// Node returns the node with ID id.
func (t *Tree) Node(id string) (*TreeNode, bool) {
	n, ok := t.byID[id]
	return n, ok
}

// Policy returns the policy with ID id and the nodes it is attached to
// directly.
func (t *Tree) Policy(id string) (org.Policy, []*TreeNode, bool) {
	p, ok := t.index.Policy(id)
	if !ok {
		return org.Policy{}, nil, false
	}
	var on []*TreeNode
	for _, tid := range t.index.TargetsOf(id) {
		if n, ok := t.byID[tid]; ok {
			on = append(on, n)
		}
	}
	return p, on, true
}

// Overlay marks a blast radius on the tree: each affected account with
// its change, and on the root and every OU the number of accounts beneath
// whose access changes and of those that lose access. targets are the
// nodes the plan acts on directly. Call it once.
func (t *Tree) Overlay(rep impact.Report, targets []string) {
	ti := &TreeImpact{Affected: rep.AccountsAffected}
	for i := range rep.Accounts {
		ai := &rep.Accounts[i]
		n, ok := t.byID[ai.ID]
		if !ok {
			continue
		}
		n.Impact = ai
		losing := ai.Restricted() > 0
		if losing {
			ti.Losing++
		}
		for id := ai.ID; id != ""; {
			m := t.byID[id]
			m.Affected++
			if losing {
				m.Losing++
			}
			nd, _ := t.index.Node(id)
			id = nd.ParentID
		}
	}
	for _, nd := range rep.Nodes {
		if _, ok := t.byID[nd.ID]; !ok {
			ti.Elsewhere = append(ti.Elsewhere, nd)
		}
	}
	for _, id := range targets {
		if n, ok := t.byID[id]; ok {
			n.Target = true
		}
	}
	t.Impact = ti
}

// OrgTree draws the organization as it is: on AWS, from the latest whole
// read kept in the store when there is one (a read of 10,000 accounts
// takes thousands of calls; plans and applies keep it fresh), else from a
// whole read, which is then kept; on the simulated organization, from a
// read of it.
func (a *App) OrgTree(ctx context.Context) (*Tree, error) {
	b, err := a.Backend(ctx)
	if err != nil {
		return nil, err
	}
	if ab, ok := b.(*awsorg.Backend); ok {
		if st, err := a.existingStore(ctx); err == nil && st != nil {
			s, err := latestStored(ctx, st, ab.Source())
			if err != nil {
				return nil, err
			}
			if s != nil {
				t, err := NewTree(s)
				if t != nil {
					t.Stored = true
				}
				return t, err
			}
		}
	}
	s, err := a.Snapshot(ctx, "")
	if err != nil {
		return nil, err
	}
	return NewTree(s)
}

// latestStored returns the latest whole read of source kept in st, or nil.
func latestStored(ctx context.Context, st store.Store, source string) (*org.Snapshot, error) {
	fp, _, err := st.LatestSnapshot(ctx, source)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("finding the latest read of the organization: %w", err)
	}
	s, err := review.Base(ctx, st, fp)
	if err != nil {
		return nil, fmt.Errorf("reading the latest read of the organization: %w", err)
	}
	return s, nil
}
