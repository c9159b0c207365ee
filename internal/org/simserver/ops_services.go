package simserver

import (
	"context"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/sim"
)

// Trusted access, delegated administrators, effective policies and the
// resource policy. Required members, enums and shapes follow the
// Organizations API reference (linked on each operation); the organization
// (internal/org/sim) checks the rest.

// serviceSource is the part of Source these operations use.
type serviceSource interface {
	ListAWSServiceAccess(ctx context.Context) ([]org.ServiceAccess, error)
	EnableAWSServiceAccess(ctx context.Context, principal string) error
	DisableAWSServiceAccess(ctx context.Context, principal string) error
	RegisterDelegatedAdministrator(ctx context.Context, accountID, principal string) error
	DeregisterDelegatedAdministrator(ctx context.Context, accountID, principal string) error
	ListDelegatedAdministrators(ctx context.Context, principal string) ([]sim.DelegatedAdmin, error)
	ListDelegatedServicesForAccount(ctx context.Context, accountID string) ([]org.DelegatedAdministrator, error)
	DescribeEffectivePolicy(ctx context.Context, t org.PolicyType, targetID string) (sim.EffectivePolicy, error)
	PutResourcePolicy(ctx context.Context, content string, tags map[string]string) (org.ResourcePolicy, error)
	DescribeResourcePolicy(ctx context.Context) (org.ResourcePolicy, error)
	DeleteResourcePolicy(ctx context.Context) error
}

type (
	servicePrincipalIn struct {
		ServicePrincipal *string `json:"ServicePrincipal"`
	}
	delegatedAdminIn struct {
		AccountId        *string `json:"AccountId"`
		ServicePrincipal *string `json:"ServicePrincipal"`
	}
	listDelegatedAdminsIn struct {
		pageReq
		ServicePrincipal *string `json:"ServicePrincipal"`
	}
	listDelegatedServicesIn struct {
		pageReq
		AccountId *string `json:"AccountId"`
	}
	effectivePolicyIn struct {
		PolicyType *string `json:"PolicyType"`
		TargetId   *string `json:"TargetId"`
	}
	putResourcePolicyIn struct {
		Content *string   `json:"Content"`
		Tags    []wireTag `json:"Tags"`
	}
)

type wireEnabledServicePrincipal struct {
	ServicePrincipal string       `json:"ServicePrincipal"`
	DateEnabled      epochSeconds `json:"DateEnabled"`
}

type wireDelegatedAdministrator struct {
	wireAccount
	DelegationEnabledDate epochSeconds `json:"DelegationEnabledDate"`
}

type wireDelegatedService struct {
	ServicePrincipal      string       `json:"ServicePrincipal"`
	DelegationEnabledDate epochSeconds `json:"DelegationEnabledDate"`
}

type wireResourcePolicy struct {
	Content               string `json:"Content"`
	ResourcePolicySummary struct {
		Arn string `json:"Arn"`
		Id  string `json:"Id"`
	} `json:"ResourcePolicySummary"`
}

func toResourcePolicy(p org.ResourcePolicy) wireResourcePolicy {
	w := wireResourcePolicy{Content: p.Content}
	w.ResourcePolicySummary.Arn, w.ResourcePolicySummary.Id = p.ARN, p.ID
	return w
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAWSServiceAccessForOrganization.html
func listAWSServiceAccessOp() operation {
	return op(false, func(ctx context.Context, s *Server, in *listAccountIn) (any, error) {
		items, next, err := page(s, "ListAWSServiceAccessForOrganization", "", in.pageReq, func() ([]org.ServiceAccess, error) {
			return s.src.ListAWSServiceAccess(ctx)
		})
		if err != nil {
			return nil, err
		}
		out := make([]wireEnabledServicePrincipal, 0, len(items))
		for _, a := range items {
			out = append(out, wireEnabledServicePrincipal{ServicePrincipal: a.ServicePrincipal, DateEnabled: epochSeconds(a.EnabledAt)})
		}
		return listOut("EnabledServicePrincipals", out, next), nil
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_EnableAWSServiceAccess.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DisableAWSServiceAccess.html
func serviceAccessOp(enable bool) operation {
	return op(true, func(ctx context.Context, s *Server, in *servicePrincipalIn) (any, error) {
		if err := required("ServicePrincipal", in.ServicePrincipal); err != nil {
			return nil, err
		}
		if enable {
			return struct{}{}, s.src.EnableAWSServiceAccess(ctx, *in.ServicePrincipal)
		}
		return struct{}{}, s.src.DisableAWSServiceAccess(ctx, *in.ServicePrincipal)
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_RegisterDelegatedAdministrator.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeregisterDelegatedAdministrator.html
func delegatedAdminOp(register bool) operation {
	return op(true, func(ctx context.Context, s *Server, in *delegatedAdminIn) (any, error) {
		if err := required("AccountId", in.AccountId, "ServicePrincipal", in.ServicePrincipal); err != nil {
			return nil, err
		}
		if register {
			return struct{}{}, s.src.RegisterDelegatedAdministrator(ctx, *in.AccountId, *in.ServicePrincipal)
		}
		return struct{}{}, s.src.DeregisterDelegatedAdministrator(ctx, *in.AccountId, *in.ServicePrincipal)
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListDelegatedAdministrators.html
func listDelegatedAdministratorsOp() operation {
	return op(false, func(ctx context.Context, s *Server, in *listDelegatedAdminsIn) (any, error) {
		principal := ""
		if in.ServicePrincipal != nil {
			principal = *in.ServicePrincipal
		}
		items, next, err := page(s, "ListDelegatedAdministrators", principal, in.pageReq, func() ([]sim.DelegatedAdmin, error) {
			return s.src.ListDelegatedAdministrators(ctx, principal)
		})
		if err != nil {
			return nil, err
		}
		out := make([]wireDelegatedAdministrator, 0, len(items))
		for _, d := range items {
			out = append(out, wireDelegatedAdministrator{wireAccount: toAccount(d.Account), DelegationEnabledDate: epochSeconds(d.DelegatedAt)})
		}
		return listOut("DelegatedAdministrators", out, next), nil
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListDelegatedServicesForAccount.html
func listDelegatedServicesOp() operation {
	return op(false, func(ctx context.Context, s *Server, in *listDelegatedServicesIn) (any, error) {
		if err := required("AccountId", in.AccountId); err != nil {
			return nil, err
		}
		items, next, err := page(s, "ListDelegatedServicesForAccount", *in.AccountId, in.pageReq, func() ([]org.DelegatedAdministrator, error) {
			return s.src.ListDelegatedServicesForAccount(ctx, *in.AccountId)
		})
		if err != nil {
			return nil, err
		}
		out := make([]wireDelegatedService, 0, len(items))
		for _, d := range items {
			out = append(out, wireDelegatedService{ServicePrincipal: d.ServicePrincipal, DelegationEnabledDate: epochSeconds(d.DelegatedAt)})
		}
		return listOut("DelegatedServices", out, next), nil
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeEffectivePolicy.html
func describeEffectivePolicyOp() operation {
	return op(false, func(ctx context.Context, s *Server, in *effectivePolicyIn) (any, error) {
		if err := required("PolicyType", in.PolicyType); err != nil {
			return nil, err
		}
		target := ""
		if in.TargetId != nil {
			target = *in.TargetId
		}
		p, err := s.src.DescribeEffectivePolicy(ctx, org.PolicyType(*in.PolicyType), target)
		if err != nil {
			return nil, err
		}
		return map[string]any{"EffectivePolicy": map[string]any{
			"PolicyContent": p.Content, "LastUpdatedTimestamp": epochSeconds(p.LastUpdated),
			"TargetId": p.TargetID, "PolicyType": string(p.Type),
		}}, nil
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_PutResourcePolicy.html
func putResourcePolicyOp() operation {
	return op(true, func(ctx context.Context, s *Server, in *putResourcePolicyIn) (any, error) {
		if err := required("Content", in.Content); err != nil {
			return nil, err
		}
		tags, err := tagMap(in.Tags)
		if err != nil {
			return nil, err
		}
		p, err := s.src.PutResourcePolicy(ctx, *in.Content, tags)
		if err != nil {
			return nil, err
		}
		return map[string]any{"ResourcePolicy": toResourcePolicy(p)}, nil
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeResourcePolicy.html
func describeResourcePolicyOp() operation {
	return op(false, func(ctx context.Context, s *Server, _ *noInput) (any, error) {
		p, err := s.src.DescribeResourcePolicy(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]any{"ResourcePolicy": toResourcePolicy(p)}, nil
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeleteResourcePolicy.html
func deleteResourcePolicyOp() operation {
	return op(true, func(ctx context.Context, s *Server, _ *noInput) (any, error) {
		return struct{}{}, s.src.DeleteResourcePolicy(ctx)
	})
}
