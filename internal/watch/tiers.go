package watch

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/orgguard/orgguard/internal/org"
)

// readFast re-reads the cheap surfaces — the root and its policy types,
// the first-level OUs, the policy list and every policy's content, the
// SCPs and RCPs attached to the root and to each first-level OU — and
// returns known with them replaced. Calls: 1 + 1 + (policy types, 2
// pages or more) + p + 2·(1 + first-level OUs).
func readFast(ctx context.Context, r Reader, known *org.Snapshot) (*org.Snapshot, error) {
	root, err := r.Root(ctx)
	if err != nil {
		return nil, err
	}
	top, err := r.OUsUnder(ctx, root.ID)
	if err != nil {
		return nil, err
	}
	types := []org.PolicyType{org.ServiceControlPolicy, org.ResourceControlPolicy}
	var policies []org.Policy
	for _, t := range types {
		ps, err := r.PolicyList(ctx, t)
		if err != nil {
			return nil, err
		}
		policies = append(policies, ps...)
	}
	for i, p := range policies {
		full, err := r.Policy(ctx, p.ID)
		if errors.Is(err, org.ErrNotFound) {
			policies[i].ID = "" // deleted since the list: dropped below
			continue
		}
		if err != nil {
			return nil, err
		}
		policies[i] = full
	}
	policies = slices.DeleteFunc(policies, func(p org.Policy) bool { return p.ID == "" })

	targets := []string{root.ID}
	for _, u := range top {
		targets = append(targets, u.ID)
	}
	attached := map[string][]org.Attachment{}
	for _, t := range targets {
		for _, pt := range types {
			if !root.PolicyTypeEnabled(pt) {
				continue
			}
			ids, err := r.Attached(ctx, t, pt)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				attached[t] = append(attached[t], org.Attachment{PolicyID: id, TargetID: t})
			}
		}
	}

	next := known.Clone()
	root.Tags = known.Root.Tags
	next.Root = root
	// First-level OUs: names from the read; OUs gone from the root are
	// deleted (AWS deletes only empty OUs); new ones are added.
	isTop := map[string]bool{}
	for _, u := range top {
		isTop[u.ID] = true
	}
	byID := map[string]int{}
	for i, u := range next.OUs {
		byID[u.ID] = i
	}
	next.OUs = slices.DeleteFunc(next.OUs, func(u org.OU) bool { return u.ParentID == known.Root.ID && !isTop[u.ID] })
	for _, u := range top {
		if i, ok := indexOU(next.OUs, u.ID); ok {
			next.OUs[i].Name = u.Name
			next.OUs[i].ParentID = root.ID
			continue
		}
		next.OUs = append(next.OUs, u)
	}
	tags := map[string]map[string]string{}
	for _, p := range known.Policies {
		tags[p.ID] = p.Tags
	}
	for i := range policies {
		policies[i].Tags = tags[policies[i].ID]
	}
	next.Policies = policies
	exists := map[string]bool{}
	for _, p := range policies {
		exists[p.ID] = true
	}
	fast := map[string]bool{}
	for _, t := range targets {
		fast[t] = true
	}
	next.Attachments = slices.DeleteFunc(next.Attachments, func(a org.Attachment) bool {
		return fast[a.TargetID] || !exists[a.PolicyID]
	})
	for _, t := range targets {
		for _, a := range attached[t] {
			if exists[a.PolicyID] {
				next.Attachments = append(next.Attachments, a)
			}
		}
	}
	return finish(next)
}

func indexOU(ous []org.OU, id string) (int, bool) {
	for i, u := range ous {
		if u.ID == id {
			return i, true
		}
	}
	return 0, false
}

// finish normalizes next, checks it and sets its fingerprint.
func finish(next *org.Snapshot) (*org.Snapshot, error) {
	next.Normalize()
	if err := org.Validate(next); err != nil {
		return nil, fmt.Errorf("assembling the organization from its parts: %w", err)
	}
	next.Fingerprint = org.ComputeFingerprint(next)
	return next, nil
}

// refreshEvent re-reads what one event names (beyond the cheap surfaces,
// which every event refreshes anyway: readFast must follow) and returns
// known with it replaced, and the IDs it refreshed.
// x indexes the last known state, for lookups.
func refreshEvent(ctx context.Context, r Reader, x *org.Index, known *org.Snapshot, ev Event) (*org.Snapshot, []string, error) {
	next := known.Clone()
	var touched []string
	switch ev.Name {
	case "AttachPolicy", "DetachPolicy":
		target, pid := ev.Param("targetId"), ev.Param("policyId")
		if target == "" || pid == "" {
			break
		}
		t := org.ServiceControlPolicy
		if p, ok := x.Policy(pid); ok {
			t = p.Type
		}
		ids, err := r.Attached(ctx, target, t)
		if errors.Is(err, org.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		typeOf := func(id string) org.PolicyType {
			if p, ok := x.Policy(id); ok {
				return p.Type
			}
			return t
		}
		next.Attachments = slices.DeleteFunc(next.Attachments, func(a org.Attachment) bool {
			return a.TargetID == target && typeOf(a.PolicyID) == t
		})
		for _, id := range ids {
			next.Attachments = append(next.Attachments, org.Attachment{PolicyID: id, TargetID: target})
		}
		touched = append(touched, target)
	case "MoveAccount", "CloseAccount", "RemoveAccountFromOrganization", "InviteAccountToOrganization", "AcceptHandshake":
		id := ev.Param("accountId")
		if !org.IsAccountID(id) {
			break
		}
		parent, err := r.Parent(ctx, id)
		if errors.Is(err, org.ErrNotFound) {
			next.Accounts = slices.DeleteFunc(next.Accounts, func(a org.Account) bool { return a.ID == id })
			next.Attachments = slices.DeleteFunc(next.Attachments, func(a org.Attachment) bool { return a.TargetID == id })
			touched = append(touched, id)
			break
		}
		if err != nil {
			return nil, nil, err
		}
		acct, err := r.Account(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		acct.ParentID = parent
		if old, ok := x.Account(id); ok {
			acct.Tags = old.Tags
		}
		next.Accounts = slices.DeleteFunc(next.Accounts, func(a org.Account) bool { return a.ID == id })
		next.Accounts = append(next.Accounts, acct)
		touched = append(touched, id)
	case "CreateOrganizationalUnit", "UpdateOrganizationalUnit", "DeleteOrganizationalUnit":
		parent := ev.Param("parentId")
		if parent == "" {
			if u, ok := x.OU(ev.Param("organizationalUnitId")); ok {
				parent = u.ParentID
			}
		}
		if parent == "" || parent == known.Root.ID {
			break // the first level is in the cheap tier
		}
		ous, err := r.OUsUnder(ctx, parent)
		if errors.Is(err, org.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		present := map[string]bool{}
		for _, u := range ous {
			present[u.ID] = true
		}
		// Only empty OUs can be deleted, so dropping one drops no child.
		next.OUs = slices.DeleteFunc(next.OUs, func(u org.OU) bool { return u.ParentID == parent && !present[u.ID] })
		for _, u := range ous {
			if i, ok := indexOU(next.OUs, u.ID); ok {
				next.OUs[i].Name = u.Name
			} else {
				next.OUs = append(next.OUs, u)
			}
			touched = append(touched, u.ID)
		}
		touched = append(touched, parent)
	}
	// Not validated here: an attachment may name a policy the cheap tier,
	// which always follows, has not listed yet.
	next.Normalize()
	return next, touched, nil
}
