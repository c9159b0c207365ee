package awsorg

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgguard/orgguard/internal/org"
)

// The partial reads below read single parts of the organization, a few
// calls each, for health checks between the steps of an apply (they
// implement the apply engine's Parts interface), for verifying a stored
// snapshot before planning on it, and for the watcher's tiered polling.
// Not-found answers are *org.APIError values matching org.ErrNotFound.
// Every call is counted in Calls.

// Source names the organization the backend reads ("aws:PROFILE/REGION",
// with "@ENDPOINT" when one is set), as its snapshots' Source does.
func (b *Backend) Source() string { return b.source }

// AttachedPolicies lists the policies of type t attached directly to a
// target (the root, an OU or an account): ListPoliciesForTarget, one call
// per 20 policies. The policies carry no content (see Policy).
func (b *Backend) AttachedPolicies(ctx context.Context, targetID string, t org.PolicyType) ([]org.Policy, error) {
	var out []org.Policy
	in := &organizations.ListPoliciesForTargetInput{TargetId: aws.String(targetID), Filter: types.PolicyType(t), MaxResults: aws.Int32(maxPage)}
	for p := organizations.NewListPoliciesForTargetPaginator(b.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiError(fmt.Sprintf("listing the %s policies attached to %s", t, targetID), err)
		}
		for _, s := range page.Policies {
			out = append(out, org.Policy{ID: aws.ToString(s.Id), ARN: aws.ToString(s.Arn), Name: aws.ToString(s.Name),
				Description: aws.ToString(s.Description), Type: org.PolicyType(s.Type), AWSManaged: s.AwsManaged})
		}
	}
	return out, nil
}

// Parent returns the parent of an account or OU: one ListParents call.
func (b *Backend) Parent(ctx context.Context, childID string) (string, error) {
	out, err := b.client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(childID)})
	if err != nil {
		return "", apiError("listing the parents of "+childID, err)
	}
	if len(out.Parents) != 1 {
		return "", fmt.Errorf("listing the parents of %s: got %d parents, want 1", childID, len(out.Parents))
	}
	return aws.ToString(out.Parents[0].Id), nil
}

// Policy describes a policy, with its content: one DescribePolicy call.
func (b *Backend) Policy(ctx context.Context, policyID string) (org.Policy, error) {
	out, err := b.client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(policyID)})
	if err != nil {
		return org.Policy{}, apiError("describing policy "+policyID, err)
	}
	if out.Policy == nil || out.Policy.PolicySummary == nil {
		return org.Policy{}, fmt.Errorf("describing policy %s: the response has no policy", policyID)
	}
	return policyFrom(out.Policy), nil
}

// OU describes an OU with its parent: DescribeOrganizationalUnit and
// ListParents.
func (b *Backend) OU(ctx context.Context, ouID string) (org.OU, error) {
	out, err := b.client.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(ouID)})
	if err != nil {
		return org.OU{}, apiError("describing OU "+ouID, err)
	}
	if out.OrganizationalUnit == nil {
		return org.OU{}, fmt.Errorf("describing OU %s: the response has no OU", ouID)
	}
	u := out.OrganizationalUnit
	ou := org.OU{ID: aws.ToString(u.Id), ARN: aws.ToString(u.Arn), Name: aws.ToString(u.Name)}
	if ou.ParentID, err = b.Parent(ctx, ouID); err != nil {
		return org.OU{}, err
	}
	return ou, nil
}

// Root returns the organization's root with its policy types: ListRoots.
func (b *Backend) Root(ctx context.Context) (org.Root, error) {
	var roots []types.Root
	for p := organizations.NewListRootsPaginator(b.client, &organizations.ListRootsInput{MaxResults: aws.Int32(maxPage)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return org.Root{}, apiError("listing roots", err)
		}
		roots = append(roots, page.Roots...)
	}
	if len(roots) != 1 {
		return org.Root{}, fmt.Errorf("listing roots: got %d roots, want 1", len(roots))
	}
	return rootFrom(roots[0]), nil
}

// Children lists the OUs and the accounts directly under a parent (the
// root or an OU): ListOrganizationalUnitsForParent and
// ListAccountsForParent, one call per 20 of each.
func (b *Backend) Children(ctx context.Context, parentID string) ([]org.OU, []org.Account, error) {
	var ous []org.OU
	var accounts []org.Account
	in := &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parentID), MaxResults: aws.Int32(maxPage)}
	for p := organizations.NewListOrganizationalUnitsForParentPaginator(b.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, apiError("listing the OUs under "+parentID, err)
		}
		for _, u := range page.OrganizationalUnits {
			ous = append(ous, org.OU{ID: aws.ToString(u.Id), ARN: aws.ToString(u.Arn), Name: aws.ToString(u.Name), ParentID: parentID})
		}
	}
	ain := &organizations.ListAccountsForParentInput{ParentId: aws.String(parentID), MaxResults: aws.Int32(maxPage)}
	for p := organizations.NewListAccountsForParentPaginator(b.client, ain); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, apiError("listing the accounts under "+parentID, err)
		}
		for _, a := range page.Accounts {
			accounts = append(accounts, accountFrom(a, parentID))
		}
	}
	return ous, accounts, nil
}

func rootFrom(rt types.Root) org.Root {
	r := org.Root{ID: aws.ToString(rt.Id), ARN: aws.ToString(rt.Arn), Name: aws.ToString(rt.Name)}
	for _, pt := range rt.PolicyTypes {
		r.PolicyTypes = append(r.PolicyTypes, org.PolicyTypeStatus{Type: org.PolicyType(pt.Type), Status: string(pt.Status)})
	}
	return r
}

func accountFrom(a types.Account, parentID string) org.Account {
	acct := org.Account{
		ID: aws.ToString(a.Id), ARN: aws.ToString(a.Arn), Name: aws.ToString(a.Name),
		Email: aws.ToString(a.Email), Status: string(a.Status), ParentID: parentID,
	}
	if a.JoinedTimestamp != nil {
		acct.JoinedAt = a.JoinedTimestamp.UTC()
	}
	return acct
}
