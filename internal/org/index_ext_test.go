package org_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
)

// TestIndexAnswersAsTheSnapshotSays checks every query of an index of a
// generated organization against the snapshot itself, read the slow way.
func TestIndexAnswersAsTheSnapshotSays(t *testing.T) {
	s, err := generate.Organization(generate.Options{Accounts: 400, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	x, err := org.NewIndex(s)
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		kind             org.NodeKind
		id, name, parent string
	}
	nodes := map[string]node{s.Root.ID: {org.KindRoot, s.Root.ID, s.Root.Name, ""}}
	for _, o := range s.OUs {
		nodes[o.ID] = node{org.KindOU, o.ID, o.Name, o.ParentID}
	}
	for _, a := range s.Accounts {
		nodes[a.ID] = node{org.KindAccount, a.ID, a.Name, a.ParentID}
	}
	path := func(id string) string {
		var parts []string
		for n := nodes[id]; n.kind != org.KindRoot; n = nodes[n.parent] {
			parts = append(parts, n.name)
		}
		if len(parts) == 0 {
			return "/"
		}
		slices.Reverse(parts)
		return "/" + strings.Join(parts, "/")
	}
	under := func(id, anc string) bool {
		for n := nodes[id]; ; n = nodes[n.parent] {
			if n.id == anc {
				return true
			}
			if n.kind == org.KindRoot {
				return false
			}
		}
	}
	for id, n := range nodes {
		gotNode, ok := x.Node(id)
		if !ok || gotNode.Kind != n.kind || gotNode.Name != n.name || gotNode.ParentID != n.parent {
			t.Fatalf("Node(%s) = %+v, %v; want %+v", id, gotNode, ok, n)
		}
		if p := x.PathString(id); p != path(id) {
			t.Errorf("PathString(%s) = %q, want %q", id, p, path(id))
		}
		if id != s.Root.ID {
			if r, err := x.Resolve(path(id)); err != nil || r.ID != id {
				if n.kind == org.KindOU || err != nil {
					t.Errorf("Resolve(%q) = %v, %v; want %s", path(id), r.ID, err, id)
				}
			}
		}
		// Children: OUs first, then accounts, each by lower-case name, then ID.
		var kids []node
		for _, c := range nodes {
			if c.parent == id && c.kind != org.KindRoot {
				kids = append(kids, c)
			}
		}
		slices.SortFunc(kids, func(a, b node) int {
			if a.kind != b.kind {
				return int(a.kind) - int(b.kind)
			}
			if c := strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		gotKids := x.Children(id)
		if len(gotKids) != len(kids) {
			t.Fatalf("Children(%s) has %d nodes, want %d", id, len(gotKids), len(kids))
		}
		for i := range kids {
			if gotKids[i].ID != kids[i].id {
				t.Fatalf("Children(%s)[%d] = %s, want %s", id, i, gotKids[i].ID, kids[i].id)
			}
		}
		// Accounts and members under it.
		var want []string
		members := 0
		for _, a := range s.Accounts {
			if under(a.ID, id) {
				want = append(want, a.ID)
				if a.ID != s.Organization.ManagementAccountID {
					members++
				}
			}
		}
		var got []string
		for _, a := range x.AccountsUnder(id) {
			got = append(got, a.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("AccountsUnder(%s) = %d accounts, want %d", id, len(got), len(want))
		}
		if m := x.MemberAccountsUnder(id); m != members {
			t.Errorf("MemberAccountsUnder(%s) = %d, want %d", id, m, members)
		}
		// Policies attached, by ID.
		var pols []string
		for _, at := range s.Attachments {
			if at.TargetID == id {
				pols = append(pols, at.PolicyID)
			}
		}
		slices.Sort(pols)
		var gotPols []string
		for _, p := range x.PoliciesAttached(id, "") {
			gotPols = append(gotPols, p.ID)
		}
		if !slices.Equal(gotPols, pols) {
			t.Errorf("PoliciesAttached(%s) = %v, want %v", id, gotPols, pols)
		}
	}
	for _, p := range s.Policies {
		var want []string
		for _, at := range s.Attachments {
			if at.PolicyID == p.ID {
				want = append(want, at.TargetID)
			}
		}
		slices.Sort(want)
		if got := x.TargetsOf(p.ID); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("TargetsOf(%s) = %d targets, want %d", p.ID, len(got), len(want))
		}
	}
}
