package simserver

import (
	"context"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/sim"
)

// Source is the organization a Server serves; *sim.Org implements it.
// List methods return whole, unpaged lists; errors are *org.APIError values
// shaped like AWS's (anything else becomes a ServiceException).
type Source interface {
	org.Writer
	DescribeOrganization(ctx context.Context) (org.Organization, error)
	ListRoots(ctx context.Context) ([]org.Root, error)
	ListChildren(ctx context.Context, parentID, childType string) ([]sim.Child, error)
	ListParents(ctx context.Context, childID string) ([]sim.Parent, error)
	ListOrganizationalUnitsForParent(ctx context.Context, parentID string) ([]org.OU, error)
	ListAccountsForParent(ctx context.Context, parentID string) ([]org.Account, error)
	ListAccounts(ctx context.Context) ([]org.Account, error)
	DescribeAccount(ctx context.Context, accountID string) (org.Account, error)
	DescribeOrganizationalUnit(ctx context.Context, ouID string) (org.OU, error)
	UpdateOrganizationalUnit(ctx context.Context, ouID, name string) (org.OU, error)
	ListPolicies(ctx context.Context, t org.PolicyType) ([]org.Policy, error)
	ListPoliciesForTarget(ctx context.Context, targetID string, t org.PolicyType) ([]org.Policy, error)
	ListTargetsForPolicy(ctx context.Context, policyID string) ([]sim.Target, error)
	DescribePolicy(ctx context.Context, policyID string) (org.Policy, error)
	TagResource(ctx context.Context, resourceID string, tags map[string]string) error
	UntagResource(ctx context.Context, resourceID string, keys []string) error
	ListTagsForResource(ctx context.Context, resourceID string) (map[string]string, error)
	serviceSource   // ops_services.go
	lifecycleSource // ops_accounts.go
}

var _ Source = (*sim.Org)(nil)
