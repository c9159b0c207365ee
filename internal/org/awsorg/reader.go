package awsorg

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgguard/orgguard/internal/org"
)

// Parts reads single parts of the organization — the root, the children
// of one parent, the policy list, one policy, the attachments of one
// target or one policy, the parent of one child — for callers that refresh
// an organization piecemeal (the watcher's tiers) instead of reading all
// of it. It counts every call and attempt (pages and retries included) and
// can hold each call back to fit a budget. It is safe for concurrent use.
type Parts struct {
	b   *Backend
	cnt *counter
}

// Parts returns a part reader on b. wait, when not nil, is called before
// every API call (pages included, retries not) and may block to pace the
// calls; an error from it fails the call.
func (b *Backend) Parts(wait func(ctx context.Context) error) *Parts {
	c := newCounter()
	c.wait = wait
	return &Parts{b: b, cnt: c}
}

// Calls returns the calls and HTTP attempts made so far.
func (p *Parts) Calls() (calls, attempts int64) {
	st := p.cnt.stats()
	return int64(st.TotalCalls()), int64(sum(st.Attempts))
}

// Stats returns the calls made so far per operation.
func (p *Parts) Stats() Stats { return p.cnt.stats() }

func (p *Parts) ctx(ctx context.Context) context.Context { return withCounter(ctx, p.cnt) }

// Root reads the root with its policy types (ListRoots).
func (p *Parts) Root(ctx context.Context) (org.Root, error) {
	out, err := p.b.client.ListRoots(p.ctx(ctx), &organizations.ListRootsInput{MaxResults: aws.Int32(maxPage)})
	if err != nil {
		return org.Root{}, apiError("listing roots", err)
	}
	if len(out.Roots) != 1 {
		return org.Root{}, fmt.Errorf("listing roots: got %d roots, want 1", len(out.Roots))
	}
	rt := out.Roots[0]
	r := org.Root{ID: aws.ToString(rt.Id), ARN: aws.ToString(rt.Arn), Name: aws.ToString(rt.Name)}
	for _, pt := range rt.PolicyTypes {
		r.PolicyTypes = append(r.PolicyTypes, org.PolicyTypeStatus{Type: org.PolicyType(pt.Type), Status: string(pt.Status)})
	}
	return r, nil
}

// OUsUnder lists the OUs directly under parentID.
func (p *Parts) OUsUnder(ctx context.Context, parentID string) ([]org.OU, error) {
	var out []org.OU
	in := &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parentID), MaxResults: aws.Int32(maxPage)}
	for pg := organizations.NewListOrganizationalUnitsForParentPaginator(p.b.client, in); pg.HasMorePages(); {
		page, err := pg.NextPage(p.ctx(ctx))
		if err != nil {
			return nil, apiError("listing the OUs under "+parentID, err)
		}
		for _, u := range page.OrganizationalUnits {
			out = append(out, org.OU{ID: aws.ToString(u.Id), ARN: aws.ToString(u.Arn), Name: aws.ToString(u.Name), ParentID: parentID})
		}
	}
	return out, nil
}

// AccountsUnder lists the accounts directly under parentID.
func (p *Parts) AccountsUnder(ctx context.Context, parentID string) ([]org.Account, error) {
	var out []org.Account
	in := &organizations.ListAccountsForParentInput{ParentId: aws.String(parentID), MaxResults: aws.Int32(maxPage)}
	for pg := organizations.NewListAccountsForParentPaginator(p.b.client, in); pg.HasMorePages(); {
		page, err := pg.NextPage(p.ctx(ctx))
		if err != nil {
			return nil, apiError("listing the accounts under "+parentID, err)
		}
		for _, a := range page.Accounts {
			out = append(out, accountFrom(a, parentID))
		}
	}
	return out, nil
}

// PolicyList lists the policies of type t without their content. A type
// the organization cannot use gives an empty list.
func (p *Parts) PolicyList(ctx context.Context, t org.PolicyType) ([]org.Policy, error) {
	var out []org.Policy
	in := &organizations.ListPoliciesInput{Filter: types.PolicyType(t), MaxResults: aws.Int32(maxPage)}
	for pg := organizations.NewListPoliciesPaginator(p.b.client, in); pg.HasMorePages(); {
		page, err := pg.NextPage(p.ctx(ctx))
		if err != nil {
			var ae *org.APIError
			err = apiError("listing policies of type "+string(t), err)
			if errors.As(err, &ae) && ae.Code == org.CodePolicyTypeNotAvailableForOrg {
				return nil, nil
			}
			return nil, err
		}
		for _, s := range page.Policies {
			out = append(out, org.Policy{ID: aws.ToString(s.Id), ARN: aws.ToString(s.Arn), Name: aws.ToString(s.Name),
				Description: aws.ToString(s.Description), Type: org.PolicyType(s.Type), AWSManaged: s.AwsManaged})
		}
	}
	return out, nil
}

// Policy reads one policy with its content (DescribePolicy).
func (p *Parts) Policy(ctx context.Context, id string) (org.Policy, error) {
	out, err := p.b.client.DescribePolicy(p.ctx(ctx), &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	if err != nil {
		return org.Policy{}, apiError("describing policy "+id, err)
	}
	if out.Policy == nil || out.Policy.PolicySummary == nil {
		return org.Policy{}, fmt.Errorf("describing policy %s: the response has no policy", id)
	}
	return policyFrom(out.Policy), nil
}

// Attached lists the IDs of the policies of type t attached directly to
// targetID.
func (p *Parts) Attached(ctx context.Context, targetID string, t org.PolicyType) ([]string, error) {
	var out []string
	in := &organizations.ListPoliciesForTargetInput{TargetId: aws.String(targetID), Filter: types.PolicyType(t), MaxResults: aws.Int32(maxPage)}
	for pg := organizations.NewListPoliciesForTargetPaginator(p.b.client, in); pg.HasMorePages(); {
		page, err := pg.NextPage(p.ctx(ctx))
		if err != nil {
			return nil, apiError(fmt.Sprintf("listing the %s policies attached to %s", t.Short(), targetID), err)
		}
		for _, s := range page.Policies {
			out = append(out, aws.ToString(s.Id))
		}
	}
	return out, nil
}

// TargetsOf lists the targets policyID is attached to.
func (p *Parts) TargetsOf(ctx context.Context, policyID string) ([]string, error) {
	var out []string
	in := &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(policyID), MaxResults: aws.Int32(maxPage)}
	for pg := organizations.NewListTargetsForPolicyPaginator(p.b.client, in); pg.HasMorePages(); {
		page, err := pg.NextPage(p.ctx(ctx))
		if err != nil {
			return nil, apiError("listing the targets of policy "+policyID, err)
		}
		for _, t := range page.Targets {
			out = append(out, aws.ToString(t.TargetId))
		}
	}
	return out, nil
}

// Parent returns the parent of an OU or account (ListParents).
func (p *Parts) Parent(ctx context.Context, childID string) (string, error) {
	out, err := p.b.client.ListParents(p.ctx(ctx), &organizations.ListParentsInput{ChildId: aws.String(childID)})
	if err != nil {
		return "", apiError("listing the parents of "+childID, err)
	}
	if len(out.Parents) != 1 {
		return "", fmt.Errorf("listing the parents of %s: got %d, want 1", childID, len(out.Parents))
	}
	return aws.ToString(out.Parents[0].Id), nil
}

// Account reads one account (DescribeAccount); its ParentID is left empty.
func (p *Parts) Account(ctx context.Context, id string) (org.Account, error) {
	out, err := p.b.client.DescribeAccount(p.ctx(ctx), &organizations.DescribeAccountInput{AccountId: aws.String(id)})
	if err != nil {
		return org.Account{}, apiError("describing account "+id, err)
	}
	if out.Account == nil {
		return org.Account{}, fmt.Errorf("describing account %s: the response has no account", id)
	}
	return accountFrom(*out.Account, ""), nil
}
