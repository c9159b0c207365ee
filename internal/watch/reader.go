package watch

import (
	"context"
	"sync/atomic"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/sim"
)

// Reader reads single parts of the organization, one API call (plus its
// pages) per method on AWS. The watcher's tiers are built from these.
// awsorg.Parts implements it on the AWS Organizations API; SimReader on a
// simulated organization in the same process.
type Reader interface {
	Root(ctx context.Context) (org.Root, error)                                        // ListRoots
	OUsUnder(ctx context.Context, parentID string) ([]org.OU, error)                   // ListOrganizationalUnitsForParent
	AccountsUnder(ctx context.Context, parentID string) ([]org.Account, error)         // ListAccountsForParent
	PolicyList(ctx context.Context, t org.PolicyType) ([]org.Policy, error)            // ListPolicies: no content
	Policy(ctx context.Context, policyID string) (org.Policy, error)                   // DescribePolicy
	Attached(ctx context.Context, targetID string, t org.PolicyType) ([]string, error) // ListPoliciesForTarget
	TargetsOf(ctx context.Context, policyID string) ([]string, error)                  // ListTargetsForPolicy
	Parent(ctx context.Context, childID string) (string, error)                        // ListParents
	Account(ctx context.Context, accountID string) (org.Account, error)                // DescribeAccount
}

// CallCounter is implemented by readers that count their API calls
// exactly (pages and retries included): calls and HTTP attempts so far.
type CallCounter interface {
	Calls() (calls, attempts int64)
}

// SimReader reads a simulated organization in this process. It counts one
// call per method, as the API would for an answer of one page.
type SimReader struct {
	Org   *sim.Org
	calls atomic.Int64
}

var _ Reader = (*SimReader)(nil)

// Calls implements CallCounter.
func (r *SimReader) Calls() (int64, int64) { n := r.calls.Load(); return n, n }

func (r *SimReader) Root(ctx context.Context) (org.Root, error) {
	r.calls.Add(1)
	roots, err := r.Org.ListRoots(ctx)
	if err != nil {
		return org.Root{}, err
	}
	return roots[0], nil
}

func (r *SimReader) OUsUnder(ctx context.Context, parentID string) ([]org.OU, error) {
	r.calls.Add(1)
	return r.Org.ListOrganizationalUnitsForParent(ctx, parentID)
}

func (r *SimReader) AccountsUnder(ctx context.Context, parentID string) ([]org.Account, error) {
	r.calls.Add(1)
	return r.Org.ListAccountsForParent(ctx, parentID)
}

func (r *SimReader) PolicyList(ctx context.Context, t org.PolicyType) ([]org.Policy, error) {
	r.calls.Add(1)
	ps, err := r.Org.ListPolicies(ctx, t)
	for i := range ps {
		ps[i].Content = ""
	}
	return ps, err
}

func (r *SimReader) Policy(ctx context.Context, id string) (org.Policy, error) {
	r.calls.Add(1)
	return r.Org.DescribePolicy(ctx, id)
}

func (r *SimReader) Attached(ctx context.Context, targetID string, t org.PolicyType) ([]string, error) {
	r.calls.Add(1)
	ps, err := r.Org.ListPoliciesForTarget(ctx, targetID, t)
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids, err
}

func (r *SimReader) TargetsOf(ctx context.Context, policyID string) ([]string, error) {
	r.calls.Add(1)
	ts, err := r.Org.ListTargetsForPolicy(ctx, policyID)
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.TargetID
	}
	return ids, err
}

func (r *SimReader) Parent(ctx context.Context, childID string) (string, error) {
	r.calls.Add(1)
	ps, err := r.Org.ListParents(ctx, childID)
	if err != nil {
		return "", err
	}
	return ps[0].ID, nil
}

func (r *SimReader) Account(ctx context.Context, id string) (org.Account, error) {
	r.calls.Add(1)
	return r.Org.DescribeAccount(ctx, id)
}
