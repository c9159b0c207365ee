package sim

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/org"
)

// Child and parent types, as the Organizations API spells them.
const (
	TypeAccount = "ACCOUNT"
	TypeOU      = "ORGANIZATIONAL_UNIT"
	TypeRoot    = "ROOT"
)

// Child is an entry of ListChildren.
type Child struct {
	ID   string
	Type string // TypeAccount or TypeOU
}

// Parent is an entry of ListParents.
type Parent struct {
	ID   string
	Type string // TypeRoot or TypeOU
}

// Target is an entry of ListTargetsForPolicy.
type Target struct {
	TargetID string
	ARN      string
	Name     string
	Type     string // TypeRoot, TypeOU or TypeAccount
}

// Every list is sorted by ID so that pages are stable.

// DescribeOrganization returns the organization.
func (o *Org) DescribeOrganization(ctx context.Context) (org.Organization, error) {
	if err := ctx.Err(); err != nil {
		return org.Organization{}, err
	}
	if err := o.lockRead(ctx); err != nil {
		return org.Organization{}, err
	}
	defer o.mu.RUnlock()
	return o.organization, nil
}

// ListRoots returns the root.
func (o *Org) ListRoots(ctx context.Context) ([]org.Root, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	r := o.root
	r.PolicyTypes = slices.Clone(o.root.PolicyTypes)
	r.Tags = cloneTags(o.root.Tags)
	return []org.Root{r}, nil
}

// ListChildren returns the OUs or accounts (childType TypeOU or
// TypeAccount) directly under a parent.
func (o *Org) ListChildren(ctx context.Context, parentID, childType string) ([]Child, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if childType != TypeOU && childType != TypeAccount {
		return nil, org.NewInvalidInput(org.ReasonInvalidEnum, fmt.Sprintf("ChildType must be %s or %s, not %q.", TypeAccount, TypeOU, childType))
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	if !o.isParent(parentID) {
		return nil, notFound(org.CodeParentNotFound, "We can't find a root or OU with the ParentId %s.", parentID)
	}
	var out []Child
	for id := range o.children[parentID] {
		if (childType == TypeOU) == (o.ous[id] != nil) {
			out = append(out, Child{ID: id, Type: childType})
		}
	}
	slices.SortFunc(out, func(a, b Child) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ListOrganizationalUnitsForParent returns the OUs directly under a parent.
func (o *Org) ListOrganizationalUnitsForParent(ctx context.Context, parentID string) ([]org.OU, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	if !o.isParent(parentID) {
		return nil, notFound(org.CodeParentNotFound, "We can't find a root or OU with the ParentId %s.", parentID)
	}
	var out []org.OU
	for id := range o.children[parentID] {
		if u := o.ous[id]; u != nil {
			c := *u
			c.Tags = cloneTags(u.Tags)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b org.OU) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ListAccountsForParent returns the accounts directly under a parent.
func (o *Org) ListAccountsForParent(ctx context.Context, parentID string) ([]org.Account, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	if !o.isParent(parentID) {
		return nil, notFound(org.CodeParentNotFound, "We can't find a root or OU with the ParentId %s.", parentID)
	}
	var out []org.Account
	for id := range o.children[parentID] {
		if a := o.accounts[id]; a != nil {
			out = append(out, copyAccount(a))
		}
	}
	slices.SortFunc(out, func(a, b org.Account) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func copyAccount(a *org.Account) org.Account {
	c := *a
	c.Tags = cloneTags(a.Tags)
	return c
}

// ListAccounts returns every account.
func (o *Org) ListAccounts(ctx context.Context) ([]org.Account, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	out := make([]org.Account, 0, len(o.accounts))
	for _, a := range o.accounts {
		out = append(out, copyAccount(a))
	}
	slices.SortFunc(out, func(a, b org.Account) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ListParents returns the parent of an OU or account (a list of one, as in
// the API).
func (o *Org) ListParents(ctx context.Context, childID string) ([]Parent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	var pid string
	switch {
	case o.ous[childID] != nil:
		pid = o.ous[childID].ParentID
	case o.accounts[childID] != nil:
		pid = o.accounts[childID].ParentID
	default:
		return nil, notFound(org.CodeChildNotFound, "We can't find an organizational unit (OU) or AWS account with the ChildId %s.", childID)
	}
	t := TypeOU
	if pid == o.root.ID {
		t = TypeRoot
	}
	return []Parent{{ID: pid, Type: t}}, nil
}

// DescribeAccount returns one account.
func (o *Org) DescribeAccount(ctx context.Context, accountID string) (org.Account, error) {
	if err := ctx.Err(); err != nil {
		return org.Account{}, err
	}
	if err := o.lockRead(ctx); err != nil {
		return org.Account{}, err
	}
	defer o.mu.RUnlock()
	a := o.accounts[accountID]
	if a == nil {
		return org.Account{}, notFound(org.CodeAccountNotFound, "We can't find an AWS account with the AccountId %s.", accountID)
	}
	return copyAccount(a), nil
}

// DescribeOrganizationalUnit returns one OU.
func (o *Org) DescribeOrganizationalUnit(ctx context.Context, ouID string) (org.OU, error) {
	if err := ctx.Err(); err != nil {
		return org.OU{}, err
	}
	if err := o.lockRead(ctx); err != nil {
		return org.OU{}, err
	}
	defer o.mu.RUnlock()
	u := o.ous[ouID]
	if u == nil {
		return org.OU{}, notFound(org.CodeOrganizationalUnitNotFound, "We can't find an OU with the OrganizationalUnitId %s.", ouID)
	}
	c := *u
	c.Tags = cloneTags(u.Tags)
	return c, nil
}

// ListPolicies returns every policy of type t (AWS-managed ones included).
func (o *Org) ListPolicies(ctx context.Context, t org.PolicyType) ([]org.Policy, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !knownType(t) {
		return nil, org.NewInvalidInput(org.ReasonInvalidEnum, fmt.Sprintf("%q is not a policy type.", t))
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	var out []org.Policy
	for _, p := range o.policies {
		if p.Type == t {
			out = append(out, copyPolicy(p))
		}
	}
	slices.SortFunc(out, func(a, b org.Policy) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func copyPolicy(p *org.Policy) org.Policy {
	c := *p
	c.Tags = cloneTags(p.Tags)
	return c
}

// ListPoliciesForTarget returns the policies of type t attached directly
// to a target.
func (o *Org) ListPoliciesForTarget(ctx context.Context, targetID string, t org.PolicyType) ([]org.Policy, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !knownType(t) {
		return nil, org.NewInvalidInput(org.ReasonInvalidEnum, fmt.Sprintf("%q is not a policy type.", t))
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	if !o.exists(targetID) {
		return nil, notFound(org.CodeTargetNotFound, "We can't find a root, OU, account, or email target with the TargetId %s.", targetID)
	}
	var out []org.Policy
	for pid := range o.attached[targetID] {
		if p := o.policies[pid]; p != nil && p.Type == t {
			out = append(out, copyPolicy(p))
		}
	}
	slices.SortFunc(out, func(a, b org.Policy) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ListTargetsForPolicy returns the roots, OUs and accounts a policy is
// attached to directly.
func (o *Org) ListTargetsForPolicy(ctx context.Context, policyID string) ([]Target, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	if o.policies[policyID] == nil {
		return nil, notFound(org.CodePolicyNotFound, "We can't find a policy with the PolicyId %s.", policyID)
	}
	out := make([]Target, 0, len(o.targets[policyID]))
	for id := range o.targets[policyID] {
		switch {
		case id == o.root.ID:
			out = append(out, Target{TargetID: id, ARN: o.root.ARN, Name: o.root.Name, Type: TypeRoot})
		case o.ous[id] != nil:
			out = append(out, Target{TargetID: id, ARN: o.ous[id].ARN, Name: o.ous[id].Name, Type: TypeOU})
		case o.accounts[id] != nil:
			out = append(out, Target{TargetID: id, ARN: o.accounts[id].ARN, Name: o.accounts[id].Name, Type: TypeAccount})
		}
	}
	slices.SortFunc(out, func(a, b Target) int { return cmp.Compare(a.TargetID, b.TargetID) })
	return out, nil
}

// DescribePolicy returns one policy with its content.
func (o *Org) DescribePolicy(ctx context.Context, policyID string) (org.Policy, error) {
	if err := ctx.Err(); err != nil {
		return org.Policy{}, err
	}
	if err := o.lockRead(ctx); err != nil {
		return org.Policy{}, err
	}
	defer o.mu.RUnlock()
	p := o.policies[policyID]
	if p == nil {
		return org.Policy{}, notFound(org.CodePolicyNotFound, "We can't find a policy with the PolicyId %s.", policyID)
	}
	return copyPolicy(p), nil
}

// tagsOf returns a pointer to the tag map of a taggable resource (the
// root, an OU, an account or a customer-managed policy). o.mu held.
func (o *Org) tagsOf(id string) (*map[string]string, error) {
	switch {
	case id == o.root.ID:
		return &o.root.Tags, nil
	case o.ous[id] != nil:
		return &o.ous[id].Tags, nil
	case o.accounts[id] != nil:
		return &o.accounts[id].Tags, nil
	case o.policies[id] != nil:
		if o.policies[id].AWSManaged {
			return nil, org.NewInvalidInput(org.ReasonImmutablePolicy, fmt.Sprintf("%s is managed by AWS and can't be tagged.", id))
		}
		return &o.policies[id].Tags, nil
	case o.resourcePolicy != nil && id == o.resourcePolicy.ID:
		return &o.resourcePolicy.Tags, nil
	}
	return nil, notFound(org.CodeTargetNotFound, "We can't find a root, OU, account, or policy with the ResourceId %s.", id)
}

// TagResource adds or replaces tags on a resource.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_TagResource.html
func (o *Org) TagResource(ctx context.Context, resourceID string, tags map[string]string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return org.NewInvalidInput(org.ReasonInvalidName, fmt.Sprintf("Tag %q=%q: keys are 1 to 128 characters, values at most 256.", k, v))
		}
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	m, err := o.tagsOf(resourceID)
	if err != nil {
		return err
	}
	prev := cloneTags(*m)
	next := cloneTags(*m)
	if next == nil {
		next = map[string]string{}
	}
	for k, v := range tags {
		next[k] = v
	}
	if len(next) > MaxTagsPerResource {
		return org.NewConstraintViolation(org.ReasonMaxTagLimit, fmt.Sprintf("A resource can have at most %d tags.", MaxTagsPerResource))
	}
	*m = next
	return o.commit(func() { *m = prev })
}

// UntagResource removes tags by key.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_UntagResource.html
func (o *Org) UntagResource(ctx context.Context, resourceID string, keys []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	m, err := o.tagsOf(resourceID)
	if err != nil {
		return err
	}
	prev := cloneTags(*m)
	next := cloneTags(*m)
	for _, k := range keys {
		delete(next, k)
	}
	if len(next) == 0 {
		next = nil
	}
	*m = next
	return o.commit(func() { *m = prev })
}

// ListTagsForResource returns a resource's tags.
func (o *Org) ListTagsForResource(ctx context.Context, resourceID string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	switch {
	case resourceID == o.root.ID:
		return cloneTags(o.root.Tags), nil
	case o.ous[resourceID] != nil:
		return cloneTags(o.ous[resourceID].Tags), nil
	case o.accounts[resourceID] != nil:
		return cloneTags(o.accounts[resourceID].Tags), nil
	case o.policies[resourceID] != nil:
		return cloneTags(o.policies[resourceID].Tags), nil
	case o.resourcePolicy != nil && resourceID == o.resourcePolicy.ID:
		return cloneTags(o.resourcePolicy.Tags), nil
	}
	return nil, notFound(org.CodeTargetNotFound, "We can't find a root, OU, account, or policy with the ResourceId %s.", resourceID)
}
