package simserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/sim"
)

// operation is one Organizations operation: whether it writes (conflicts
// are injected only into writes) and how to run it on a request body.
type operation struct {
	write bool
	run   func(ctx context.Context, s *Server, body []byte) (any, error)
}

// op adapts a typed handler: it decodes the body into In first.
func op[In any](write bool, f func(ctx context.Context, s *Server, in *In) (any, error)) operation {
	return operation{write: write, run: func(ctx context.Context, s *Server, body []byte) (any, error) {
		in := new(In)
		if err := decodeRequest(body, in); err != nil {
			return nil, err
		}
		return f(ctx, s, in)
	}}
}

// decodeRequest parses an AWS JSON request body into v. An empty body is
// an empty object; anything but one JSON object of the right member types
// is a SerializationException saying where it went wrong.
func decodeRequest(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return apiErr(codeSerialization, "", "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return apiErr(codeSerialization, "", "member %s: cannot use a JSON %s as %s", te.Field, te.Value, te.Type)
		case errors.As(err, &se):
			return apiErr(codeSerialization, "", "malformed JSON at byte %d: %v", se.Offset, se)
		}
		return apiErr(codeSerialization, "", "malformed JSON: %v", err)
	}
	if dec.More() {
		return apiErr(codeSerialization, "", "request body has data after the JSON object")
	}
	return nil
}

// required checks that each named member is present and not empty.
func required(pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		name := pairs[i].(string)
		switch v := pairs[i+1].(type) {
		case *string:
			if v == nil || *v == "" {
				return apiErr(org.CodeInvalidInput, org.ReasonInputRequired, "You must specify a value for %s", name)
			}
		case []wireTag:
			if v == nil {
				return apiErr(org.CodeInvalidInput, org.ReasonInputRequired, "You must specify a value for %s", name)
			}
		case []string:
			if v == nil {
				return apiErr(org.CodeInvalidInput, org.ReasonInputRequired, "You must specify a value for %s", name)
			}
		}
	}
	return nil
}

func policyTypeOf(name string, v *string) (org.PolicyType, error) {
	if err := required(name, v); err != nil {
		return "", err
	}
	if !slices.Contains(policyTypes, *v) {
		return "", apiErr(org.CodeInvalidInput, "INVALID_ENUM_POLICY_TYPE", "%s %q is not a policy type (one of %s)", name, *v, strings.Join(policyTypes, ", "))
	}
	return org.PolicyType(*v), nil
}

func tagMap(tags []wireTag) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		if t.Key == "" {
			return nil, apiErr(org.CodeInvalidInput, org.ReasonMinLengthExceeded, "a tag key must not be empty")
		}
		if _, dup := m[t.Key]; dup {
			return nil, apiErr(org.CodeInvalidInput, org.ReasonDuplicateTagKey, "tag key %q appears more than once", t.Key)
		}
		m[t.Key] = t.Value
	}
	return m, nil
}

func sortByID[T any](items []T, id func(T) string) []T {
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	return items
}

// Request shapes. Members AWS marks required are pointers so that absence
// can be told from emptiness.
type (
	noInput       struct{}
	listRootsIn   struct{ pageReq }
	listAccountIn struct{ pageReq }
	parentIn      struct {
		pageReq
		ParentId *string `json:"ParentId"`
	}
	listChildrenIn struct {
		pageReq
		ParentId  *string `json:"ParentId"`
		ChildType *string `json:"ChildType"`
	}
	listParentsIn struct {
		pageReq
		ChildId *string `json:"ChildId"`
	}
	accountIn struct {
		AccountId *string `json:"AccountId"`
	}
	ouIn struct {
		OrganizationalUnitId *string `json:"OrganizationalUnitId"`
	}
	createOUIn struct {
		ParentId *string   `json:"ParentId"`
		Name     *string   `json:"Name"`
		Tags     []wireTag `json:"Tags"`
	}
	updateOUIn struct {
		OrganizationalUnitId *string `json:"OrganizationalUnitId"`
		Name                 *string `json:"Name"`
	}
	moveAccountIn struct {
		AccountId           *string `json:"AccountId"`
		SourceParentId      *string `json:"SourceParentId"`
		DestinationParentId *string `json:"DestinationParentId"`
	}
	listPoliciesIn struct {
		pageReq
		Filter *string `json:"Filter"`
	}
	listPoliciesForTargetIn struct {
		pageReq
		TargetId *string `json:"TargetId"`
		Filter   *string `json:"Filter"`
	}
	policyIn struct {
		pageReq
		PolicyId *string `json:"PolicyId"`
	}
	createPolicyIn struct {
		Content     *string   `json:"Content"`
		Description *string   `json:"Description"`
		Name        *string   `json:"Name"`
		Type        *string   `json:"Type"`
		Tags        []wireTag `json:"Tags"`
	}
	updatePolicyIn struct {
		PolicyId    *string `json:"PolicyId"`
		Name        *string `json:"Name"`
		Description *string `json:"Description"`
		Content     *string `json:"Content"`
	}
	attachIn struct {
		PolicyId *string `json:"PolicyId"`
		TargetId *string `json:"TargetId"`
	}
	policyTypeIn struct {
		RootId     *string `json:"RootId"`
		PolicyType *string `json:"PolicyType"`
	}
	tagIn struct {
		ResourceId *string   `json:"ResourceId"`
		Tags       []wireTag `json:"Tags"`
	}
	untagIn struct {
		ResourceId *string  `json:"ResourceId"`
		TagKeys    []string `json:"TagKeys"`
	}
	resourceIn struct {
		pageReq
		ResourceId *string `json:"ResourceId"`
	}
)

// operations is the table of served operations, built once.
var operations = sync.OnceValue(func() map[string]operation {
	return map[string]operation{
		"DescribeOrganization": op(false, func(ctx context.Context, s *Server, _ *noInput) (any, error) {
			o, err := s.src.DescribeOrganization(ctx)
			if err != nil {
				return nil, err
			}
			return map[string]any{"Organization": wireOrganization{
				Arn: o.ARN, FeatureSet: o.FeatureSet, Id: o.ID, MasterAccountArn: o.ManagementAccountARN,
				MasterAccountEmail: o.ManagementAccountEmail, MasterAccountId: o.ManagementAccountID,
			}}, nil
		}),
		"ListRoots": op(false, func(ctx context.Context, s *Server, in *listRootsIn) (any, error) {
			items, next, err := page(s, "ListRoots", "", in.pageReq, func() ([]org.Root, error) {
				roots, err := s.src.ListRoots(ctx)
				return sortByID(roots, func(r org.Root) string { return r.ID }), err
			})
			if err != nil {
				return nil, err
			}
			out := make([]wireRoot, 0, len(items))
			for _, r := range items {
				out = append(out, toRoot(r))
			}
			return listOut("Roots", out, next), nil
		}),
		"ListChildren": op(false, func(ctx context.Context, s *Server, in *listChildrenIn) (any, error) {
			if err := required("ParentId", in.ParentId, "ChildType", in.ChildType); err != nil {
				return nil, err
			}
			items, next, err := page(s, "ListChildren", *in.ParentId+"|"+*in.ChildType, in.pageReq, func() ([]sim.Child, error) {
				children, err := s.src.ListChildren(ctx, *in.ParentId, *in.ChildType)
				return sortByID(children, func(c sim.Child) string { return c.ID }), err
			})
			if err != nil {
				return nil, err
			}
			out := make([]wireChild, 0, len(items))
			for _, c := range items {
				out = append(out, wireChild{Id: c.ID, Type: c.Type})
			}
			return listOut("Children", out, next), nil
		}),
		"ListOrganizationalUnitsForParent": op(false, func(ctx context.Context, s *Server, in *parentIn) (any, error) {
			if err := required("ParentId", in.ParentId); err != nil {
				return nil, err
			}
			items, next, err := page(s, "ListOrganizationalUnitsForParent", *in.ParentId, in.pageReq, func() ([]org.OU, error) {
				ous, err := s.src.ListOrganizationalUnitsForParent(ctx, *in.ParentId)
				return sortByID(ous, func(u org.OU) string { return u.ID }), err
			})
			if err != nil {
				return nil, err
			}
			out := make([]wireOU, 0, len(items))
			for _, u := range items {
				out = append(out, toOU(u))
			}
			return listOut("OrganizationalUnits", out, next), nil
		}),
		"ListAccountsForParent": op(false, func(ctx context.Context, s *Server, in *parentIn) (any, error) {
			if err := required("ParentId", in.ParentId); err != nil {
				return nil, err
			}
			return accountPage(s, "ListAccountsForParent", *in.ParentId, in.pageReq, func() ([]org.Account, error) {
				return s.src.ListAccountsForParent(ctx, *in.ParentId)
			})
		}),
		"ListAccounts": op(false, func(ctx context.Context, s *Server, in *listAccountIn) (any, error) {
			return accountPage(s, "ListAccounts", "", in.pageReq, func() ([]org.Account, error) {
				return s.src.ListAccounts(ctx)
			})
		}),
		"ListParents": op(false, func(ctx context.Context, s *Server, in *listParentsIn) (any, error) {
			if err := required("ChildId", in.ChildId); err != nil {
				return nil, err
			}
			items, next, err := page(s, "ListParents", *in.ChildId, in.pageReq, func() ([]sim.Parent, error) {
				parents, err := s.src.ListParents(ctx, *in.ChildId)
				return sortByID(parents, func(p sim.Parent) string { return p.ID }), err
			})
			if err != nil {
				return nil, err
			}
			out := make([]wireChild, 0, len(items))
			for _, p := range items {
				out = append(out, wireChild{Id: p.ID, Type: p.Type})
			}
			return listOut("Parents", out, next), nil
		}),
		"DescribeAccount": op(false, func(ctx context.Context, s *Server, in *accountIn) (any, error) {
			if err := required("AccountId", in.AccountId); err != nil {
				return nil, err
			}
			a, err := s.src.DescribeAccount(ctx, *in.AccountId)
			if err != nil {
				return nil, err
			}
			return map[string]any{"Account": toAccount(a)}, nil
		}),
		"DescribeOrganizationalUnit": op(false, func(ctx context.Context, s *Server, in *ouIn) (any, error) {
			if err := required("OrganizationalUnitId", in.OrganizationalUnitId); err != nil {
				return nil, err
			}
			u, err := s.src.DescribeOrganizationalUnit(ctx, *in.OrganizationalUnitId)
			if err != nil {
				return nil, err
			}
			return map[string]any{"OrganizationalUnit": toOU(u)}, nil
		}),
		"CreateOrganizationalUnit": op(true, func(ctx context.Context, s *Server, in *createOUIn) (any, error) {
			if err := required("ParentId", in.ParentId, "Name", in.Name); err != nil {
				return nil, err
			}
			tags, err := tagMap(in.Tags)
			if err != nil {
				return nil, err
			}
			u, err := s.src.CreateOU(ctx, *in.ParentId, *in.Name)
			if err != nil {
				return nil, err
			}
			if len(tags) > 0 {
				if err := s.src.TagResource(ctx, u.ID, tags); err != nil {
					// Keep the request atomic as AWS does: no OU without its tags.
					if derr := s.src.DeleteOU(ctx, u.ID); derr != nil {
						return nil, fmt.Errorf("removing OU %s after tagging it failed (%v): %w", u.ID, err, derr)
					}
					return nil, err
				}
			}
			return map[string]any{"OrganizationalUnit": toOU(u)}, nil
		}),
		"UpdateOrganizationalUnit": op(true, func(ctx context.Context, s *Server, in *updateOUIn) (any, error) {
			if err := required("OrganizationalUnitId", in.OrganizationalUnitId); err != nil {
				return nil, err
			}
			var u org.OU
			var err error
			if in.Name == nil {
				u, err = s.src.DescribeOrganizationalUnit(ctx, *in.OrganizationalUnitId)
			} else {
				u, err = s.src.UpdateOrganizationalUnit(ctx, *in.OrganizationalUnitId, *in.Name)
			}
			if err != nil {
				return nil, err
			}
			return map[string]any{"OrganizationalUnit": toOU(u)}, nil
		}),
		"DeleteOrganizationalUnit": op(true, func(ctx context.Context, s *Server, in *ouIn) (any, error) {
			if err := required("OrganizationalUnitId", in.OrganizationalUnitId); err != nil {
				return nil, err
			}
			return struct{}{}, s.src.DeleteOU(ctx, *in.OrganizationalUnitId)
		}),
		"MoveAccount": op(true, func(ctx context.Context, s *Server, in *moveAccountIn) (any, error) {
			if err := required("AccountId", in.AccountId, "SourceParentId", in.SourceParentId, "DestinationParentId", in.DestinationParentId); err != nil {
				return nil, err
			}
			return struct{}{}, s.src.MoveAccount(ctx, *in.AccountId, *in.SourceParentId, *in.DestinationParentId)
		}),
		"ListPolicies": op(false, func(ctx context.Context, s *Server, in *listPoliciesIn) (any, error) {
			t, err := policyTypeOf("Filter", in.Filter)
			if err != nil {
				return nil, err
			}
			return policySummaryPage(s, "ListPolicies", string(t), in.pageReq, func() ([]org.Policy, error) {
				return s.src.ListPolicies(ctx, t)
			})
		}),
		"ListPoliciesForTarget": op(false, func(ctx context.Context, s *Server, in *listPoliciesForTargetIn) (any, error) {
			if err := required("TargetId", in.TargetId); err != nil {
				return nil, err
			}
			t, err := policyTypeOf("Filter", in.Filter)
			if err != nil {
				return nil, err
			}
			return policySummaryPage(s, "ListPoliciesForTarget", *in.TargetId+"|"+string(t), in.pageReq, func() ([]org.Policy, error) {
				return s.src.ListPoliciesForTarget(ctx, *in.TargetId, t)
			})
		}),
		"ListTargetsForPolicy": op(false, func(ctx context.Context, s *Server, in *policyIn) (any, error) {
			if err := required("PolicyId", in.PolicyId); err != nil {
				return nil, err
			}
			items, next, err := page(s, "ListTargetsForPolicy", *in.PolicyId, in.pageReq, func() ([]sim.Target, error) {
				targets, err := s.src.ListTargetsForPolicy(ctx, *in.PolicyId)
				return sortByID(targets, func(t sim.Target) string { return t.TargetID }), err
			})
			if err != nil {
				return nil, err
			}
			out := make([]wireTarget, 0, len(items))
			for _, t := range items {
				out = append(out, wireTarget{Arn: t.ARN, Name: t.Name, TargetId: t.TargetID, Type: t.Type})
			}
			return listOut("Targets", out, next), nil
		}),
		"DescribePolicy": op(false, func(ctx context.Context, s *Server, in *policyIn) (any, error) {
			if err := required("PolicyId", in.PolicyId); err != nil {
				return nil, err
			}
			p, err := s.src.DescribePolicy(ctx, *in.PolicyId)
			if err != nil {
				return nil, err
			}
			return map[string]any{"Policy": toPolicy(p)}, nil
		}),
		"CreatePolicy": op(true, func(ctx context.Context, s *Server, in *createPolicyIn) (any, error) {
			if err := required("Content", in.Content, "Name", in.Name); err != nil {
				return nil, err
			}
			// Description is required but may be empty (PolicyDescription
			// has no minimum length): Terraform and orgguard send "".
			// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreatePolicy.html
			if in.Description == nil {
				return nil, apiErr(org.CodeInvalidInput, org.ReasonInputRequired, "You must specify a value for Description")
			}
			t, err := policyTypeOf("Type", in.Type)
			if err != nil {
				return nil, err
			}
			tags, err := tagMap(in.Tags)
			if err != nil {
				return nil, err
			}
			p, err := s.src.CreatePolicy(ctx, org.PolicySpec{Name: *in.Name, Description: *in.Description, Content: *in.Content, Type: t, Tags: tags})
			if err != nil {
				return nil, err
			}
			return map[string]any{"Policy": toPolicy(p)}, nil
		}),
		"UpdatePolicy": op(true, func(ctx context.Context, s *Server, in *updatePolicyIn) (any, error) {
			if err := required("PolicyId", in.PolicyId); err != nil {
				return nil, err
			}
			p, err := s.src.UpdatePolicy(ctx, *in.PolicyId, org.PolicyUpdate{Name: in.Name, Description: in.Description, Content: in.Content})
			if err != nil {
				return nil, err
			}
			return map[string]any{"Policy": toPolicy(p)}, nil
		}),
		"DeletePolicy": op(true, func(ctx context.Context, s *Server, in *policyIn) (any, error) {
			if err := required("PolicyId", in.PolicyId); err != nil {
				return nil, err
			}
			return struct{}{}, s.src.DeletePolicy(ctx, *in.PolicyId)
		}),
		"AttachPolicy": op(true, func(ctx context.Context, s *Server, in *attachIn) (any, error) {
			if err := required("PolicyId", in.PolicyId, "TargetId", in.TargetId); err != nil {
				return nil, err
			}
			return struct{}{}, s.src.AttachPolicy(ctx, *in.PolicyId, *in.TargetId)
		}),
		"DetachPolicy": op(true, func(ctx context.Context, s *Server, in *attachIn) (any, error) {
			if err := required("PolicyId", in.PolicyId, "TargetId", in.TargetId); err != nil {
				return nil, err
			}
			return struct{}{}, s.src.DetachPolicy(ctx, *in.PolicyId, *in.TargetId)
		}),
		"EnablePolicyType": op(true, func(ctx context.Context, s *Server, in *policyTypeIn) (any, error) {
			return changePolicyType(ctx, s, in, s.src.EnablePolicyType)
		}),
		"DisablePolicyType": op(true, func(ctx context.Context, s *Server, in *policyTypeIn) (any, error) {
			return changePolicyType(ctx, s, in, s.src.DisablePolicyType)
		}),
		"TagResource": op(true, func(ctx context.Context, s *Server, in *tagIn) (any, error) {
			if err := required("ResourceId", in.ResourceId, "Tags", in.Tags); err != nil {
				return nil, err
			}
			tags, err := tagMap(in.Tags)
			if err != nil {
				return nil, err
			}
			return struct{}{}, s.src.TagResource(ctx, *in.ResourceId, tags)
		}),
		"UntagResource": op(true, func(ctx context.Context, s *Server, in *untagIn) (any, error) {
			if err := required("ResourceId", in.ResourceId, "TagKeys", in.TagKeys); err != nil {
				return nil, err
			}
			return struct{}{}, s.src.UntagResource(ctx, *in.ResourceId, in.TagKeys)
		}),
		"ListTagsForResource": op(false, func(ctx context.Context, s *Server, in *resourceIn) (any, error) {
			if err := required("ResourceId", in.ResourceId); err != nil {
				return nil, err
			}
			items, next, err := page(s, "ListTagsForResource", *in.ResourceId, in.pageReq, func() ([]wireTag, error) {
				tags, err := s.src.ListTagsForResource(ctx, *in.ResourceId)
				return toTags(tags), err
			})
			if err != nil {
				return nil, err
			}
			return listOut("Tags", items, next), nil
		}),
		"ListAWSServiceAccessForOrganization": listAWSServiceAccessOp(),
		"EnableAWSServiceAccess":              serviceAccessOp(true),
		"DisableAWSServiceAccess":             serviceAccessOp(false),
		"RegisterDelegatedAdministrator":      delegatedAdminOp(true),
		"DeregisterDelegatedAdministrator":    delegatedAdminOp(false),
		"ListDelegatedAdministrators":         listDelegatedAdministratorsOp(),
		"ListDelegatedServicesForAccount":     listDelegatedServicesOp(),
		"DescribeEffectivePolicy":             describeEffectivePolicyOp(),
		"PutResourcePolicy":                   putResourcePolicyOp(),
		"DescribeResourcePolicy":              describeResourcePolicyOp(),
		"DeleteResourcePolicy":                deleteResourcePolicyOp(),
		"CreateAccount":                       createAccountOp(),
		"DescribeCreateAccountStatus":         describeCreateAccountStatusOp(),
		"CloseAccount":                        accountExitOp(true),
		"RemoveAccountFromOrganization":       accountExitOp(false),
		"InviteAccountToOrganization":         inviteAccountOp(),
		"ListHandshakesForOrganization":       listHandshakesOp(),
	}
})

// listOut is the response of a list operation: the items under name and
// NextToken when there are more.
func listOut[T any](name string, items []T, next *string) map[string]any {
	out := map[string]any{name: items}
	if next != nil {
		out["NextToken"] = *next
	}
	return out
}

func accountPage(s *Server, op, scope string, p pageReq, load func() ([]org.Account, error)) (any, error) {
	items, next, err := page(s, op, scope, p, func() ([]org.Account, error) {
		accts, err := load()
		return sortByID(accts, func(a org.Account) string { return a.ID }), err
	})
	if err != nil {
		return nil, err
	}
	out := make([]wireAccount, 0, len(items))
	for _, a := range items {
		out = append(out, toAccount(a))
	}
	return listOut("Accounts", out, next), nil
}

func policySummaryPage(s *Server, op, scope string, p pageReq, load func() ([]org.Policy, error)) (any, error) {
	items, next, err := page(s, op, scope, p, func() ([]org.Policy, error) {
		ps, err := load()
		return sortByID(ps, func(p org.Policy) string { return p.ID }), err
	})
	if err != nil {
		return nil, err
	}
	out := make([]wirePolicySummary, 0, len(items))
	for _, p := range items {
		out = append(out, toPolicySummary(p))
	}
	return listOut("Policies", out, next), nil
}

func changePolicyType(ctx context.Context, s *Server, in *policyTypeIn, change func(context.Context, string, org.PolicyType) error) (any, error) {
	if err := required("RootId", in.RootId); err != nil {
		return nil, err
	}
	t, err := policyTypeOf("PolicyType", in.PolicyType)
	if err != nil {
		return nil, err
	}
	if err := change(ctx, *in.RootId, t); err != nil {
		return nil, err
	}
	roots, err := s.src.ListRoots(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range roots {
		if r.ID == *in.RootId {
			return map[string]any{"Root": toRoot(r)}, nil
		}
	}
	return nil, fmt.Errorf("root %s vanished after changing its policy types", *in.RootId)
}
