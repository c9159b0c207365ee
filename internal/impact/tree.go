package impact

import (
	"errors"
	"fmt"

	"github.com/orgguard/orgguard/internal/org"
)

// ErrInvalidInput marks a snapshot or option the blast radius cannot be
// computed from (a dangling parent, a cycle, an attachment of an unknown
// policy, a policy document the engine cannot read).
var ErrInvalidInput = errors.New("invalid blast-radius input")

// maxDepth bounds the walk up the tree; AWS allows five OU levels, and a
// deeper chain in a snapshot means a cycle or a broken file.
const maxDepth = 64

// view is one snapshot laid out for classification: the root, OUs and
// accounts in an order where every parent comes before its children, with
// the SCP and RCP class of every node.
type view struct {
	snap  *org.Snapshot
	nodes []vnode
	byID  map[string]int32
	mgmt  string
}

type vnode struct {
	id, name string
	kind     org.NodeKind
	parent   int32  // -1 for the root
	path     string // filled on demand by pathOf
	scp, rcp int32  // cumulative class ids
	mgmt     bool
}

// buildView lays out s and classifies every node with the analyzer's memo tables.
func (a *Analyzer) buildView(s *org.Snapshot) (*view, error) {
	if s == nil {
		return nil, fmt.Errorf("reading the organization tree: no snapshot: %w", ErrInvalidInput)
	}
	v := &view{
		snap:  s,
		nodes: make([]vnode, 0, 1+len(s.OUs)+len(s.Accounts)),
		byID:  make(map[string]int32, 1+len(s.OUs)+len(s.Accounts)),
		mgmt:  s.Organization.ManagementAccountID,
	}
	if s.Root.ID == "" {
		return nil, fmt.Errorf("reading the organization tree: the snapshot has no root: %w", ErrInvalidInput)
	}
	v.nodes = append(v.nodes, vnode{id: s.Root.ID, name: s.Root.Name, kind: org.KindRoot, parent: -1})
	v.byID[s.Root.ID] = 0

	// OUs may be listed in any order: place each after its parent, walking up
	// the chain of parents not yet placed.
	ouIdx := make(map[string]int, len(s.OUs))
	for i, o := range s.OUs {
		if o.ID == "" {
			return nil, fmt.Errorf("reading the organization tree: OU %q has no ID: %w", o.Name, ErrInvalidInput)
		}
		if _, dup := ouIdx[o.ID]; dup {
			return nil, fmt.Errorf("reading the organization tree: OU %s is listed twice: %w", o.ID, ErrInvalidInput)
		}
		ouIdx[o.ID] = i
	}
	var stack []int
	for i := range s.OUs {
		if _, done := v.byID[s.OUs[i].ID]; done {
			continue
		}
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			o := s.OUs[stack[len(stack)-1]]
			if p, ok := v.byID[o.ParentID]; ok {
				v.add(o.ID, o.Name, org.KindOU, p)
				stack = stack[:len(stack)-1]
				continue
			}
			pi, ok := ouIdx[o.ParentID]
			if !ok {
				return nil, fmt.Errorf("reading the organization tree: OU %s (%s) has unknown parent %q: %w", o.ID, o.Name, o.ParentID, ErrInvalidInput)
			}
			if len(stack) > len(s.OUs) || len(stack) > maxDepth {
				return nil, fmt.Errorf("reading the organization tree: OU %s (%s) is in a parent cycle: %w", o.ID, o.Name, ErrInvalidInput)
			}
			stack = append(stack, pi)
		}
	}
	for _, ac := range s.Accounts {
		if ac.ID == "" {
			return nil, fmt.Errorf("reading the organization tree: account %q has no ID: %w", ac.Name, ErrInvalidInput)
		}
		p, ok := v.byID[ac.ParentID]
		if !ok || v.nodes[p].kind == org.KindAccount {
			return nil, fmt.Errorf("reading the organization tree: account %s (%s) has unknown parent %q: %w", ac.ID, ac.Name, ac.ParentID, ErrInvalidInput)
		}
		if _, dup := v.byID[ac.ID]; dup {
			return nil, fmt.Errorf("reading the organization tree: %s is listed twice: %w", ac.ID, ErrInvalidInput)
		}
		i := v.add(ac.ID, ac.Name, org.KindAccount, p)
		v.nodes[i].mgmt = ac.ID == v.mgmt
	}

	// Attachments: the effect of each attached SCP and RCP, per node, kept
	// in one flat slice per type grouped by node (counted first).
	scpOn := s.Root.PolicyTypeEnabled(org.ServiceControlPolicy)
	rcpOn := s.Root.PolicyTypeEnabled(org.ResourceControlPolicy)
	// Policy ID -> index, and the effect id of each policy once read (-1:
	// not yet), so that each policy's content is looked up once per view.
	pols := make(map[string]int, len(s.Policies))
	effOf := make([]int32, len(s.Policies))
	for i := range s.Policies {
		pols[s.Policies[i].ID] = i
		effOf[i] = -1
	}
	effect := func(dim dimension, pi int) (int32, error) {
		if effOf[pi] < 0 {
			id, err := a.policyEffect(dim, &s.Policies[pi])
			if err != nil {
				return 0, err
			}
			effOf[pi] = id
		}
		return effOf[pi], nil
	}
	type att struct {
		node int32
		eff  int32
		dim  dimension
	}
	atts := make([]att, 0, len(s.Attachments))
	lastPolicy, pi := "", 0 // attachments are usually sorted by policy
	for _, at := range s.Attachments {
		ni, ok := v.byID[at.TargetID]
		if !ok {
			return nil, fmt.Errorf("reading attachments: policy %s is attached to unknown target %q: %w", at.PolicyID, at.TargetID, ErrInvalidInput)
		}
		if at.PolicyID != lastPolicy || lastPolicy == "" {
			if pi, ok = pols[at.PolicyID]; !ok {
				return nil, fmt.Errorf("reading attachments: unknown policy %q is attached to %s: %w", at.PolicyID, at.TargetID, ErrInvalidInput)
			}
			lastPolicy = at.PolicyID
		}
		var dim dimension
		switch t := s.Policies[pi].Type; {
		case t == org.ServiceControlPolicy && scpOn:
			dim = dimSCP
		case t == org.ResourceControlPolicy && rcpOn:
			dim = dimRCP
		default:
			continue
		}
		id, err := effect(dim, pi)
		if err != nil {
			return nil, err
		}
		atts = append(atts, att{ni, id, dim})
	}
	// Group by node: start[i]..start[i+1] in effs are node i's effects,
	// SCPs first, then RCPs (nscp[i] of them SCPs).
	start := make([]int32, len(v.nodes)+1)
	nscp := make([]int32, len(v.nodes))
	for _, a := range atts {
		start[a.node+1]++
		if a.dim == dimSCP {
			nscp[a.node]++
		}
	}
	for i := range v.nodes {
		start[i+1] += start[i]
	}
	effs := make([]int32, len(atts))
	fillS := make([]int32, len(v.nodes))
	fillR := make([]int32, len(v.nodes))
	for _, a := range atts {
		if a.dim == dimSCP {
			effs[start[a.node]+fillS[a.node]] = a.eff
			fillS[a.node]++
		} else {
			effs[start[a.node]+nscp[a.node]+fillR[a.node]] = a.eff
			fillR[a.node]++
		}
	}

	// Classes, top down: each node's class is its parent's combined with
	// its own level. Parents precede children in v.nodes.
	e := a.eng
	for i := range v.nodes {
		n := &v.nodes[i]
		ps, pr := topID, topID
		if n.parent >= 0 {
			ps, pr = v.nodes[n.parent].scp, v.nodes[n.parent].rcp
		}
		n.scp, n.rcp = topID, topID
		mid := start[i] + nscp[i]
		if scpOn {
			n.scp = e.combine(ps, e.level(dimSCP, effs[start[i]:mid]))
		}
		if rcpOn {
			n.rcp = e.combine(pr, e.level(dimRCP, effs[mid:start[i+1]]))
		}
	}
	return v, nil
}

func (v *view) add(id, name string, kind org.NodeKind, parent int32) int32 {
	i := int32(len(v.nodes))
	v.nodes = append(v.nodes, vnode{id: id, name: name, kind: kind, parent: parent})
	v.byID[id] = i
	return i
}

// pathOf returns the display path of node i, as org.Index.PathString
// writes it: "/" for the root, "/Customers/Acme" for an OU,
// "/Customers/Acme/acme-prod" for an account. Paths are built on demand
// (only reported nodes need one) and kept.
func (v *view) pathOf(i int32) string {
	n := &v.nodes[i]
	if n.path != "" {
		return n.path
	}
	if n.parent < 0 {
		n.path = "/"
		return n.path
	}
	pp := v.pathOf(n.parent)
	if pp == "/" {
		pp = ""
	}
	n = &v.nodes[i]
	n.path = pp + "/" + n.name
	return n.path
}

// classesOf returns the SCP and RCP class ids of account id as the
// classification defines them: the management account is exempt (nothing
// restricted), and an account absent from the snapshot is outside the
// organization (nothing restricted either). ok is false when absent.
func (v *view) classesOf(id string) (scp, rcp int32, ok bool) {
	i, ok := v.byID[id]
	if !ok || v.nodes[i].kind != org.KindAccount {
		return topID, topID, false
	}
	n := &v.nodes[i]
	if n.mgmt {
		return topID, topID, true
	}
	return n.scp, n.rcp, true
}
