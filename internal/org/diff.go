package org

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ChangeKind names one kind of difference between two snapshots.
type ChangeKind string

// Kinds of change, in the order Diff reports them.
const (
	PolicyTypeEnabledChange  ChangeKind = "policy-type-enabled"
	PolicyTypeDisabledChange ChangeKind = "policy-type-disabled"
	OUAdded                  ChangeKind = "ou-added"
	OURemoved                ChangeKind = "ou-removed"
	OUMoved                  ChangeKind = "ou-moved"
	OURenamed                ChangeKind = "ou-renamed"
	AccountAdded             ChangeKind = "account-added"
	AccountRemoved           ChangeKind = "account-removed"
	AccountMoved             ChangeKind = "account-moved"
	AccountRenamed           ChangeKind = "account-renamed"
	AccountStatusChanged     ChangeKind = "account-status-changed"
	PolicyAdded              ChangeKind = "policy-added"
	PolicyRemoved            ChangeKind = "policy-removed"
	PolicyRenamed            ChangeKind = "policy-renamed"
	PolicyContentChanged     ChangeKind = "policy-content-changed"
	AttachmentAdded          ChangeKind = "attachment-added"
	AttachmentRemoved        ChangeKind = "attachment-removed"
)

var changeOrder = []ChangeKind{
	PolicyTypeEnabledChange, PolicyTypeDisabledChange,
	OUAdded, OURemoved, OUMoved, OURenamed,
	AccountAdded, AccountRemoved, AccountMoved, AccountRenamed, AccountStatusChanged,
	PolicyAdded, PolicyRemoved, PolicyRenamed, PolicyContentChanged,
	AttachmentAdded, AttachmentRemoved,
}

// Change is one difference between two snapshots. ID and Name identify the
// OU, account or policy (the policy, for attachments); From and To hold the
// old and new value where there is one (a path, a name, a status); Target
// and TargetName identify the target of an attachment.
type Change struct {
	Kind       ChangeKind `json:"kind"`
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	From       string     `json:"from,omitempty"`
	To         string     `json:"to,omitempty"`
	Target     string     `json:"target,omitempty"`
	TargetName string     `json:"targetName,omitempty"`
}

// String renders a change on one line.
func (c Change) String() string {
	switch c.Kind {
	case PolicyTypeEnabledChange, PolicyTypeDisabledChange:
		return fmt.Sprintf("%s %s", c.Kind, c.ID)
	case OUAdded, AccountAdded, OURemoved, AccountRemoved:
		return fmt.Sprintf("%s %s %s", c.Kind, c.ID, c.To+c.From)
	case PolicyAdded, PolicyRemoved, PolicyContentChanged:
		return fmt.Sprintf("%s %s %s", c.Kind, c.ID, c.Name)
	case AttachmentAdded, AttachmentRemoved:
		return fmt.Sprintf("%s %s %s -> %s %s", c.Kind, c.ID, c.Name, c.Target, c.TargetName)
	}
	return fmt.Sprintf("%s %s %s: %s -> %s", c.Kind, c.ID, c.Name, c.From, c.To)
}

// Diff returns the differences from a to b, ordered by kind and then ID.
// Moves are reported with the old and new paths; a node both moved and
// renamed appears twice.
func Diff(a, b *Index) []Change {
	var out []Change
	sa, sb := a.snap, b.snap
	for _, t := range unionTypes(sa.Root, sb.Root) {
		ea, eb := sa.Root.PolicyTypeEnabled(t), sb.Root.PolicyTypeEnabled(t)
		switch {
		case !ea && eb:
			out = append(out, Change{Kind: PolicyTypeEnabledChange, ID: string(t)})
		case ea && !eb:
			out = append(out, Change{Kind: PolicyTypeDisabledChange, ID: string(t)})
		}
	}
	for _, o := range sa.OUs {
		n, ok := b.OU(o.ID)
		if !ok {
			out = append(out, Change{Kind: OURemoved, ID: o.ID, Name: o.Name, From: a.PathString(o.ID)})
			continue
		}
		if n.ParentID != o.ParentID {
			out = append(out, Change{Kind: OUMoved, ID: o.ID, Name: n.Name, From: a.PathString(o.ParentID), To: b.PathString(n.ParentID)})
		}
		if n.Name != o.Name {
			out = append(out, Change{Kind: OURenamed, ID: o.ID, Name: n.Name, From: o.Name, To: n.Name})
		}
	}
	for _, o := range sb.OUs {
		if _, ok := a.OU(o.ID); !ok {
			out = append(out, Change{Kind: OUAdded, ID: o.ID, Name: o.Name, To: b.PathString(o.ID)})
		}
	}
	for _, x := range sa.Accounts {
		n, ok := b.Account(x.ID)
		if !ok {
			out = append(out, Change{Kind: AccountRemoved, ID: x.ID, Name: x.Name, From: a.PathString(x.ID)})
			continue
		}
		if n.ParentID != x.ParentID {
			out = append(out, Change{Kind: AccountMoved, ID: x.ID, Name: n.Name, From: a.PathString(x.ParentID), To: b.PathString(n.ParentID)})
		}
		if n.Name != x.Name {
			out = append(out, Change{Kind: AccountRenamed, ID: x.ID, Name: n.Name, From: x.Name, To: n.Name})
		}
		if n.Status != x.Status {
			out = append(out, Change{Kind: AccountStatusChanged, ID: x.ID, Name: n.Name, From: x.Status, To: n.Status})
		}
	}
	for _, x := range sb.Accounts {
		if _, ok := a.Account(x.ID); !ok {
			out = append(out, Change{Kind: AccountAdded, ID: x.ID, Name: x.Name, To: b.PathString(x.ID)})
		}
	}
	for _, p := range sa.Policies {
		n, ok := b.Policy(p.ID)
		if !ok {
			out = append(out, Change{Kind: PolicyRemoved, ID: p.ID, Name: p.Name, From: p.Type.Short()})
			continue
		}
		if n.Name != p.Name {
			out = append(out, Change{Kind: PolicyRenamed, ID: p.ID, Name: n.Name, From: p.Name, To: n.Name})
		}
		if n.Content != p.Content {
			out = append(out, Change{Kind: PolicyContentChanged, ID: p.ID, Name: n.Name,
				From: fmt.Sprintf("%d characters", len(p.Content)), To: fmt.Sprintf("%d characters", len(n.Content))})
		}
	}
	for _, p := range sb.Policies {
		if _, ok := a.Policy(p.ID); !ok {
			out = append(out, Change{Kind: PolicyAdded, ID: p.ID, Name: p.Name, To: p.Type.Short()})
		}
	}
	inA := make(map[Attachment]bool, len(sa.Attachments))
	for _, at := range sa.Attachments {
		inA[at] = true
	}
	inB := make(map[Attachment]bool, len(sb.Attachments))
	for _, at := range sb.Attachments {
		inB[at] = true
		if !inA[at] {
			p, _ := b.Policy(at.PolicyID)
			out = append(out, Change{Kind: AttachmentAdded, ID: at.PolicyID, Name: p.Name, Target: at.TargetID, TargetName: nodeLabel(b, at.TargetID)})
		}
	}
	for _, at := range sa.Attachments {
		if !inB[at] {
			p, _ := a.Policy(at.PolicyID)
			out = append(out, Change{Kind: AttachmentRemoved, ID: at.PolicyID, Name: p.Name, Target: at.TargetID, TargetName: nodeLabel(a, at.TargetID)})
		}
	}
	rank := make(map[ChangeKind]int, len(changeOrder))
	for i, k := range changeOrder {
		rank[k] = i
	}
	slices.SortStableFunc(out, func(x, y Change) int {
		if x.Kind != y.Kind {
			return rank[x.Kind] - rank[y.Kind]
		}
		if c := strings.Compare(x.ID, y.ID); c != 0 {
			return c
		}
		return strings.Compare(x.Target, y.Target)
	})
	return out
}

func nodeLabel(x *Index, id string) string {
	n, ok := x.Node(id)
	if !ok {
		return ""
	}
	if n.Kind == KindAccount {
		return n.Name
	}
	return x.PathString(id)
}

func unionTypes(a, b Root) []PolicyType {
	set := map[PolicyType]bool{}
	for _, t := range a.PolicyTypes {
		set[t.Type] = true
	}
	for _, t := range b.PolicyTypes {
		set[t.Type] = true
	}
	return slices.Sorted(maps.Keys(set))
}
