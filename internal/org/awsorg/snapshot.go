package awsorg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/orgguard/orgguard/internal/org"
)

// maxPage is the largest MaxResults the Organizations list operations accept.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html
const maxPage = 20

// snapshotPolicyTypes are always listed, enabled or not, so that policies of
// a type disabled at the root still appear in the snapshot.
var snapshotPolicyTypes = []org.PolicyType{org.ServiceControlPolicy, org.ResourceControlPolicy}

// Snapshot reads the whole organization. See ReadSnapshot.
func (b *Backend) Snapshot(ctx context.Context) (*org.Snapshot, error) {
	s, _, err := b.ReadSnapshot(ctx)
	return s, err
}

// ReadSnapshot reads the whole organization and counts the API calls it
// made. The calls, with n accounts, u OUs, p policies and t attachments:
//
//	DescribeOrganization, ListRoots                  2
//	ListOrganizationalUnitsForParent per parent      ≥ 1 + u
//	ListAccountsForParent per parent                 ≥ 1 + u, + n/20 at most
//	ListPolicies per policy type                     ≥ 2
//	DescribePolicy per policy (its content)          p
//	ListTargetsForPolicy per policy                  ≥ p, + t/20 at most
//
// Walking the tree with ListAccountsForParent reads every account with its
// parent in ⌈k/20⌉ calls per parent of k accounts; ListAccounts followed by
// ListParents per account would cost n/20 + n. Attachments are read per
// policy because a few dozen policies have far fewer pages of targets than
// there are targets to ask ListPoliciesForTarget about. With ReadTags, one
// ListTagsForResource per resource is added.
func (b *Backend) ReadSnapshot(ctx context.Context) (*org.Snapshot, Stats, error) {
	start := b.opts.Now()
	cnt := newCounter()
	ctx = withCounter(ctx, cnt)
	prog := newProgress(b.opts.Progress)

	r := &reader{b: b, prog: prog}
	err := r.read(ctx)
	prog.done(err)

	st := cnt.stats()
	st.Elapsed = b.opts.Now().Sub(start)
	if err != nil {
		return nil, st, err
	}
	snap := &org.Snapshot{
		FormatVersion: org.FormatVersion,
		TakenAt:       start.UTC(),
		Source:        b.source,
		Organization:  r.organization,
		Root:          r.root,
		OUs:           r.ous,
		Accounts:      r.accounts,
		Policies:      r.policies,
		Attachments:   r.attachments,
	}
	snap.Normalize()
	snap.Fingerprint = org.ComputeFingerprint(snap)
	st.Accounts, st.OUs, st.Policies, st.Attachments = len(snap.Accounts), len(snap.OUs), len(snap.Policies), len(snap.Attachments)
	b.mu.Lock()
	b.last = st.clone()
	b.mu.Unlock()
	return snap, st, nil
}

// reader holds the results of one snapshot read while its tasks run.
type reader struct {
	b    *Backend
	prog *progress

	organization org.Organization
	root         org.Root

	mu          sync.Mutex
	ous         []org.OU
	accounts    []org.Account
	policies    []org.Policy
	attachments []org.Attachment
}

func (r *reader) read(ctx context.Context) error {
	c := r.b.client
	do, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return apiError("describing the organization", err)
	}
	if do.Organization == nil {
		return errors.New("describing the organization: the response has no organization")
	}
	o := do.Organization
	r.organization = org.Organization{
		ID:                     aws.ToString(o.Id),
		ARN:                    aws.ToString(o.Arn),
		FeatureSet:             string(o.FeatureSet),
		ManagementAccountID:    aws.ToString(o.MasterAccountId),
		ManagementAccountARN:   aws.ToString(o.MasterAccountArn),
		ManagementAccountEmail: aws.ToString(o.MasterAccountEmail),
	}

	var roots []types.Root
	for p := organizations.NewListRootsPaginator(c, &organizations.ListRootsInput{MaxResults: aws.Int32(maxPage)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError("listing roots", err)
		}
		roots = append(roots, page.Roots...)
	}
	if len(roots) != 1 {
		return fmt.Errorf("listing roots: got %d roots, want 1", len(roots))
	}
	rt := roots[0]
	r.root = org.Root{ID: aws.ToString(rt.Id), ARN: aws.ToString(rt.Arn), Name: aws.ToString(rt.Name)}
	for _, pt := range rt.PolicyTypes {
		r.root.PolicyTypes = append(r.root.PolicyTypes, org.PolicyTypeStatus{Type: org.PolicyType(pt.Type), Status: string(pt.Status)})
	}

	g := newGroup(ctx, r.b.opts.Concurrency)
	r.walk(g, r.root.ID)
	ptypes := slices.Clone(snapshotPolicyTypes)
	for _, pt := range r.root.PolicyTypes {
		if !slices.Contains(ptypes, pt.Type) {
			ptypes = append(ptypes, pt.Type)
		}
	}
	for _, t := range ptypes {
		g.Go(func(ctx context.Context) error { return r.listPolicies(ctx, g, t) })
	}
	if r.b.opts.ReadTags {
		g.Go(func(ctx context.Context) error {
			tags, err := r.tags(ctx, r.root.ID)
			r.root.Tags = tags // only this task writes the root after the walk began
			return err
		})
	}
	return g.Wait()
}

// walk starts the tasks reading the OUs and the accounts directly under
// parentID; each OU found is walked in turn.
func (r *reader) walk(g *group, parentID string) {
	r.prog.parentQueued()
	g.Go(func(ctx context.Context) error {
		in := &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parentID), MaxResults: aws.Int32(maxPage)}
		for p := organizations.NewListOrganizationalUnitsForParentPaginator(r.b.client, in); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return apiError("listing the OUs under "+parentID, err)
			}
			for _, u := range page.OrganizationalUnits {
				ou := org.OU{ID: aws.ToString(u.Id), ARN: aws.ToString(u.Arn), Name: aws.ToString(u.Name), ParentID: parentID}
				if r.b.opts.ReadTags {
					tags, err := r.tags(ctx, ou.ID)
					if err != nil {
						return err
					}
					ou.Tags = tags
				}
				r.mu.Lock()
				r.ous = append(r.ous, ou)
				r.mu.Unlock()
				r.walk(g, ou.ID)
			}
		}
		return nil
	})
	g.Go(func(ctx context.Context) error {
		defer r.prog.parentDone()
		in := &organizations.ListAccountsForParentInput{ParentId: aws.String(parentID), MaxResults: aws.Int32(maxPage)}
		for p := organizations.NewListAccountsForParentPaginator(r.b.client, in); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return apiError("listing the accounts under "+parentID, err)
			}
			batch := make([]org.Account, 0, len(page.Accounts))
			for _, a := range page.Accounts {
				acct := org.Account{
					ID: aws.ToString(a.Id), ARN: aws.ToString(a.Arn), Name: aws.ToString(a.Name),
					Email: aws.ToString(a.Email), Status: string(a.Status), ParentID: parentID,
				}
				if a.JoinedTimestamp != nil {
					acct.JoinedAt = a.JoinedTimestamp.UTC()
				}
				if r.b.opts.ReadTags {
					tags, err := r.tags(ctx, acct.ID)
					if err != nil {
						return err
					}
					acct.Tags = tags
				}
				batch = append(batch, acct)
			}
			r.mu.Lock()
			r.accounts = append(r.accounts, batch...)
			r.mu.Unlock()
			r.prog.accountsRead(len(batch))
		}
		return nil
	})
}

// listPolicies lists the policies of type t and starts, per policy, a task
// reading its content and one reading its targets.
func (r *reader) listPolicies(ctx context.Context, g *group, t org.PolicyType) error {
	in := &organizations.ListPoliciesInput{Filter: types.PolicyType(t), MaxResults: aws.Int32(maxPage)}
	for p := organizations.NewListPoliciesPaginator(r.b.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			var ae *org.APIError
			err = apiError("listing policies of type "+string(t), err)
			if errors.As(err, &ae) && ae.Code == org.CodePolicyTypeNotAvailableForOrg {
				return nil // e.g. RCPs in an organization with consolidated billing only
			}
			return err
		}
		for _, ps := range page.Policies {
			id := aws.ToString(ps.Id)
			g.Go(func(ctx context.Context) error { return r.describePolicy(ctx, id) })
			g.Go(func(ctx context.Context) error { return r.listTargets(ctx, id) })
		}
	}
	return nil
}

func (r *reader) describePolicy(ctx context.Context, id string) error {
	out, err := r.b.client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	if err != nil {
		return apiError("describing policy "+id, err)
	}
	if out.Policy == nil || out.Policy.PolicySummary == nil {
		return fmt.Errorf("describing policy %s: the response has no policy", id)
	}
	p := policyFrom(out.Policy)
	if r.b.opts.ReadTags && !p.AWSManaged {
		// AWS-managed policies belong to AWS; they cannot be tagged.
		tags, err := r.tags(ctx, id)
		if err != nil {
			return err
		}
		p.Tags = tags
	}
	r.mu.Lock()
	r.policies = append(r.policies, p)
	r.mu.Unlock()
	return nil
}

func (r *reader) listTargets(ctx context.Context, id string) error {
	in := &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(id), MaxResults: aws.Int32(maxPage)}
	for p := organizations.NewListTargetsForPolicyPaginator(r.b.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return apiError("listing the targets of policy "+id, err)
		}
		r.mu.Lock()
		for _, t := range page.Targets {
			r.attachments = append(r.attachments, org.Attachment{PolicyID: id, TargetID: aws.ToString(t.TargetId)})
		}
		r.mu.Unlock()
	}
	return nil
}

// tags reads the tags of one resource; nil when it has none.
func (r *reader) tags(ctx context.Context, id string) (map[string]string, error) {
	var out map[string]string
	in := &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)}
	for p := organizations.NewListTagsForResourcePaginator(r.b.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiError("listing the tags of "+id, err)
		}
		for _, t := range page.Tags {
			if out == nil {
				out = map[string]string{}
			}
			out[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return out, nil
}

func policyFrom(p *types.Policy) org.Policy {
	s := p.PolicySummary
	return org.Policy{
		ID: aws.ToString(s.Id), ARN: aws.ToString(s.Arn), Name: aws.ToString(s.Name),
		Description: aws.ToString(s.Description), Type: org.PolicyType(s.Type),
		AWSManaged: s.AwsManaged, Content: aws.ToString(p.Content),
	}
}
