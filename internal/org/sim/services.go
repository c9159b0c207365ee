package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgguard/orgguard/internal/org"
)

// Trusted access for AWS services, delegated administrators, effective
// management policies and the organization's resource policy. Errors and
// limits follow the Organizations API reference (linked on each method)
// and its service model (botocore's organizations/service-2.json).

// Codes and reasons of the errors of these operations that package org
// does not name.
const (
	CodeAccountAlreadyRegistered       = "AccountAlreadyRegisteredException"
	CodeAccountNotRegistered           = "AccountNotRegisteredException"
	CodeResourcePolicyNotFound         = "ResourcePolicyNotFoundException"
	ReasonUnrecognizedServicePrincipal = "UNRECOGNIZED_SERVICE_PRINCIPAL"
	ReasonInvalidPattern               = "INVALID_PATTERN"
	ReasonTargetNotSupported           = "TARGET_NOT_SUPPORTED"
	ReasonInvalidResourcePolicyJSON    = "INVALID_RESOURCE_POLICY_JSON"
	ReasonUpdateResourcePolicyTags     = "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED"
	ReasonNotAllFeatures               = "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE"
	ReasonRegisterManagement           = "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"
	ReasonRegisterSuspended            = "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR"
	ReasonServiceAccessNotEnabled      = "SERVICE_ACCESS_NOT_ENABLED"
	ReasonInvalidEnumPolicyType        = "INVALID_ENUM_POLICY_TYPE"
)

// MaxResourcePolicyChars is the largest resource policy document.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_PutResourcePolicy.html
const MaxResourcePolicyChars = 40000

// servicePrincipalPattern is the pattern of ServicePrincipal members
// ([\w+=,.@-], 1 to 128 characters). The simulator recognises any
// "<service>.amazonaws.com" principal; AWS knows the exact list.
var servicePrincipalPattern = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

func checkServicePrincipal(p string) error {
	if !servicePrincipalPattern.MatchString(p) {
		return org.NewInvalidInput(ReasonInvalidPattern, fmt.Sprintf("ServicePrincipal %q must be 1 to 128 letters, digits and +=,.@-_ characters.", p))
	}
	if !strings.HasSuffix(p, ".amazonaws.com") || len(p) == len(".amazonaws.com") {
		return org.NewInvalidInput(ReasonUnrecognizedServicePrincipal, fmt.Sprintf("You specified an unrecognized service principal: %s.", p))
	}
	return nil
}

func (o *Org) allFeatures() error {
	if o.organization.FeatureSet == "CONSOLIDATED_BILLING" {
		return org.NewConstraintViolation(ReasonNotAllFeatures, "This operation needs an organization with all features enabled.")
	}
	return nil
}

// ListAWSServiceAccess returns the services trusted by the organization,
// in principal order.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAWSServiceAccessForOrganization.html
func (o *Org) ListAWSServiceAccess(ctx context.Context) ([]org.ServiceAccess, error) {
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	return slices.Clone(o.serviceAccess), nil
}

// EnableAWSServiceAccess trusts a service; enabling it again changes
// nothing.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_EnableAWSServiceAccess.html
func (o *Org) EnableAWSServiceAccess(ctx context.Context, principal string) error {
	if err := checkServicePrincipal(principal); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	if err := o.allFeatures(); err != nil {
		return err
	}
	if o.serviceEnabled(principal) {
		return nil
	}
	prev := o.serviceAccess
	next := append(slices.Clone(prev), org.ServiceAccess{ServicePrincipal: principal, EnabledAt: o.opts.Now().UTC()})
	slices.SortFunc(next, func(a, b org.ServiceAccess) int { return strings.Compare(a.ServicePrincipal, b.ServicePrincipal) })
	o.serviceAccess = next
	return o.commit(func() { o.serviceAccess = prev })
}

// DisableAWSServiceAccess stops trusting a service; its delegated
// administrators are deregistered with it. Disabling a service that is
// not enabled changes nothing.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DisableAWSServiceAccess.html
func (o *Org) DisableAWSServiceAccess(ctx context.Context, principal string) error {
	if err := checkServicePrincipal(principal); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	if !o.serviceEnabled(principal) {
		return nil
	}
	prevAccess, prevDelegated := o.serviceAccess, o.delegated
	o.serviceAccess = slices.DeleteFunc(slices.Clone(prevAccess), func(s org.ServiceAccess) bool { return s.ServicePrincipal == principal })
	o.delegated = slices.DeleteFunc(slices.Clone(prevDelegated), func(d org.DelegatedAdministrator) bool { return d.ServicePrincipal == principal })
	return o.commit(func() { o.serviceAccess, o.delegated = prevAccess, prevDelegated })
}

func (o *Org) serviceEnabled(principal string) bool {
	return slices.ContainsFunc(o.serviceAccess, func(s org.ServiceAccess) bool { return s.ServicePrincipal == principal })
}

// DelegatedAdmin is an entry of ListDelegatedAdministrators: the account
// and when it was first made a delegated administrator (of the service
// asked about, or of any).
type DelegatedAdmin struct {
	Account     org.Account
	DelegatedAt time.Time
}

// RegisterDelegatedAdministrator makes a member account a delegated
// administrator of a trusted service.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_RegisterDelegatedAdministrator.html
func (o *Org) RegisterDelegatedAdministrator(ctx context.Context, accountID, principal string) error {
	if !org.IsAccountID(accountID) {
		return org.NewInvalidInput(ReasonInvalidPattern, fmt.Sprintf("AccountId %q must be 12 digits.", accountID))
	}
	if err := checkServicePrincipal(principal); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	if err := o.allFeatures(); err != nil {
		return err
	}
	a := o.accounts[accountID]
	switch {
	case a == nil:
		return notFound(org.CodeAccountNotFound, "We can't find an AWS account with the AccountId %s.", accountID)
	case accountID == o.organization.ManagementAccountID:
		return org.NewConstraintViolation(ReasonRegisterManagement, "You can't register the management account as a delegated administrator.")
	case a.Status != org.AccountActive:
		return org.NewConstraintViolation(ReasonRegisterSuspended, fmt.Sprintf("The account %s is %s and can't be registered as a delegated administrator.", accountID, a.Status))
	case !o.serviceEnabled(principal):
		return org.NewConstraintViolation(ReasonServiceAccessNotEnabled, fmt.Sprintf("Trusted access for %s is not enabled; enable it with EnableAWSServiceAccess first.", principal))
	case o.isDelegated(accountID, principal):
		return org.NewAPIError(CodeAccountAlreadyRegistered, fmt.Sprintf("The account %s is already a delegated administrator for %s.", accountID, principal))
	}
	prev := o.delegated
	o.delegated = append(slices.Clone(prev), org.DelegatedAdministrator{AccountID: accountID, ServicePrincipal: principal, DelegatedAt: o.opts.Now().UTC()})
	return o.commit(func() { o.delegated = prev })
}

// DeregisterDelegatedAdministrator removes a delegated administrator.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeregisterDelegatedAdministrator.html
func (o *Org) DeregisterDelegatedAdministrator(ctx context.Context, accountID, principal string) error {
	if !org.IsAccountID(accountID) {
		return org.NewInvalidInput(ReasonInvalidPattern, fmt.Sprintf("AccountId %q must be 12 digits.", accountID))
	}
	if err := checkServicePrincipal(principal); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	if o.accounts[accountID] == nil {
		return notFound(org.CodeAccountNotFound, "We can't find an AWS account with the AccountId %s.", accountID)
	}
	if !o.isDelegated(accountID, principal) {
		return org.NewAPIError(CodeAccountNotRegistered, fmt.Sprintf("The account %s is not a delegated administrator for %s.", accountID, principal))
	}
	prev := o.delegated
	o.delegated = slices.DeleteFunc(slices.Clone(prev), func(d org.DelegatedAdministrator) bool {
		return d.AccountID == accountID && d.ServicePrincipal == principal
	})
	return o.commit(func() { o.delegated = prev })
}

func (o *Org) isDelegated(accountID, principal string) bool {
	return slices.ContainsFunc(o.delegated, func(d org.DelegatedAdministrator) bool {
		return d.AccountID == accountID && (principal == "" || d.ServicePrincipal == principal)
	})
}

// ListDelegatedAdministrators returns the delegated administrators of one
// service, or of any service when principal is empty, in account order.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListDelegatedAdministrators.html
func (o *Org) ListDelegatedAdministrators(ctx context.Context, principal string) ([]DelegatedAdmin, error) {
	if principal != "" {
		if err := checkServicePrincipal(principal); err != nil {
			return nil, err
		}
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	first := map[string]time.Time{}
	for _, d := range o.delegated {
		if principal != "" && d.ServicePrincipal != principal {
			continue
		}
		if t, ok := first[d.AccountID]; !ok || d.DelegatedAt.Before(t) {
			first[d.AccountID] = d.DelegatedAt
		}
	}
	out := make([]DelegatedAdmin, 0, len(first))
	for id, t := range first {
		if a := o.accounts[id]; a != nil {
			out = append(out, DelegatedAdmin{Account: copyAccount(a), DelegatedAt: t})
		}
	}
	slices.SortFunc(out, func(a, b DelegatedAdmin) int { return strings.Compare(a.Account.ID, b.Account.ID) })
	return out, nil
}

// ListDelegatedServicesForAccount returns the services an account is a
// delegated administrator of, in principal order.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListDelegatedServicesForAccount.html
func (o *Org) ListDelegatedServicesForAccount(ctx context.Context, accountID string) ([]org.DelegatedAdministrator, error) {
	if !org.IsAccountID(accountID) {
		return nil, org.NewInvalidInput(ReasonInvalidPattern, fmt.Sprintf("AccountId %q must be 12 digits.", accountID))
	}
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	if o.accounts[accountID] == nil {
		return nil, notFound(org.CodeAccountNotFound, "We can't find an AWS account with the AccountId %s.", accountID)
	}
	var out []org.DelegatedAdministrator
	for _, d := range o.delegated {
		if d.AccountID == accountID {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, org.NewAPIError(CodeAccountNotRegistered, fmt.Sprintf("The account %s is not a delegated administrator for any service.", accountID))
	}
	slices.SortFunc(out, func(a, b org.DelegatedAdministrator) int {
		return strings.Compare(a.ServicePrincipal, b.ServicePrincipal)
	})
	return out, nil
}

// EffectivePolicyTypes are the management policy types DescribeEffectivePolicy
// accepts (not SCPs or RCPs).
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeEffectivePolicy.html
var EffectivePolicyTypes = []org.PolicyType{
	"TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2",
	"SECURITYHUB_POLICY", "INSPECTOR_POLICY", "UPGRADE_ROLLOUT_POLICY", "BEDROCK_POLICY", "S3_POLICY",
	"NETWORK_SECURITY_DIRECTOR_POLICY",
}

// EffectivePolicy is the answer of DescribeEffectivePolicy.
type EffectivePolicy struct {
	TargetID    string
	Type        org.PolicyType
	Content     string
	LastUpdated time.Time
}

// DescribeEffectivePolicy returns the effective management policy of type
// t for an account (the management account when targetID is empty): the
// policies attached from the root down to the account merged with the
// inheritance operators @@assign, @@append and @@remove (a plain value
// counts as @@assign). @@operators_allowed_for_child_policies is not
// enforced.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeEffectivePolicy.html
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_inheritance_mgmt.html
func (o *Org) DescribeEffectivePolicy(ctx context.Context, t org.PolicyType, targetID string) (EffectivePolicy, error) {
	if !slices.Contains(EffectivePolicyTypes, t) {
		return EffectivePolicy{}, org.NewInvalidInput(ReasonInvalidEnumPolicyType,
			fmt.Sprintf("%q is not a management policy type; effective policies do not exist for SCPs and RCPs.", t))
	}
	if err := o.lockRead(ctx); err != nil {
		return EffectivePolicy{}, err
	}
	defer o.mu.RUnlock()
	if targetID == "" {
		targetID = o.organization.ManagementAccountID
	}
	a := o.accounts[targetID]
	switch {
	case a == nil && (targetID == o.root.ID || o.ous[targetID] != nil):
		return EffectivePolicy{}, org.NewInvalidInput(ReasonTargetNotSupported, "Effective policies can be described for accounts only, not for a root or an OU.")
	case a == nil:
		return EffectivePolicy{}, notFound(org.CodeTargetNotFound, "We can't find a root, OU, account, or email target with the TargetId %s.", targetID)
	}
	if !o.root.PolicyTypeEnabled(t) {
		return EffectivePolicy{}, org.NewAPIError(org.CodeEffectivePolicyNotFound, fmt.Sprintf("No effective policy of type %s: the type is not enabled.", t))
	}
	chain := []string{targetID}
	for id := a.ParentID; id != ""; {
		chain = append(chain, id)
		if id == o.root.ID {
			break
		}
		u := o.ous[id]
		if u == nil {
			break
		}
		id = u.ParentID
	}
	slices.Reverse(chain)
	var merged map[string]any
	found := false
	for _, id := range chain {
		var ids []string
		for pid := range o.attached[id] {
			if p := o.policies[pid]; p != nil && p.Type == t {
				ids = append(ids, pid)
			}
		}
		slices.Sort(ids)
		for _, pid := range ids {
			var doc map[string]any
			if err := json.Unmarshal([]byte(o.policies[pid].Content), &doc); err != nil {
				continue // validated at creation; unreadable ones do not count
			}
			merged = mergePolicy(merged, doc)
			found = true
		}
	}
	if !found {
		return EffectivePolicy{}, org.NewAPIError(org.CodeEffectivePolicyNotFound, fmt.Sprintf("No policy of type %s applies to %s.", t, targetID))
	}
	content, err := json.Marshal(resolveOperators(merged))
	if err != nil {
		return EffectivePolicy{}, fmt.Errorf("encoding the effective %s of %s: %w", t, targetID, err)
	}
	return EffectivePolicy{TargetID: targetID, Type: t, Content: string(content), LastUpdated: o.opts.Now().UTC()}, nil
}

// mergePolicy applies child (a management policy document) on top of
// parent, the merge so far.
func mergePolicy(parent, child map[string]any) map[string]any {
	out := make(map[string]any, len(parent)+len(child))
	for k, v := range parent {
		out[k] = v
	}
	for k, cv := range child {
		cm, childIsObj := cv.(map[string]any)
		switch {
		case !childIsObj:
			out[k] = cv
		case hasOperator(cm, "@@assign"):
			out[k] = cv
		case hasOperator(cm, "@@append"):
			out[k] = map[string]any{"@@assign": appendValues(valueOf(out[k]), cm["@@append"])}
		case hasOperator(cm, "@@remove"):
			out[k] = map[string]any{"@@assign": removeValues(valueOf(out[k]), cm["@@remove"])}
		default:
			pm, _ := out[k].(map[string]any)
			out[k] = mergePolicy(pm, cm)
		}
	}
	return out
}

func hasOperator(m map[string]any, op string) bool { _, ok := m[op]; return ok }

// valueOf returns the value a merged member stands for.
func valueOf(v any) any {
	if m, ok := v.(map[string]any); ok {
		if a, ok := m["@@assign"]; ok {
			return a
		}
	}
	return v
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

func appendValues(base, add any) []any {
	out := slices.Clone(asList(base))
	for _, v := range asList(add) {
		if !slices.ContainsFunc(out, func(w any) bool { return fmt.Sprint(w) == fmt.Sprint(v) }) {
			out = append(out, v)
		}
	}
	return out
}

func removeValues(base, rm any) []any {
	gone := asList(rm)
	return slices.DeleteFunc(slices.Clone(asList(base)), func(v any) bool {
		return slices.ContainsFunc(gone, func(w any) bool { return fmt.Sprint(w) == fmt.Sprint(v) })
	})
}

// resolveOperators replaces {"@@assign": v} by v and drops the other
// operator keys, giving the effective policy as AWS shows it.
func resolveOperators(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if a, ok := m["@@assign"]; ok {
		return resolveOperators(a)
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if strings.HasPrefix(k, "@@") {
			continue
		}
		out[k] = resolveOperators(x)
	}
	return out
}

// PutResourcePolicy creates or replaces the organization's resource
// policy. Tags are accepted only when creating it.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_PutResourcePolicy.html
func (o *Org) PutResourcePolicy(ctx context.Context, content string, tags map[string]string) (org.ResourcePolicy, error) {
	if n := utf8.RuneCountInString(content); n > MaxResourcePolicyChars {
		return org.ResourcePolicy{}, org.NewInvalidInput(org.ReasonMaxLengthExceeded, fmt.Sprintf("The resource policy is %d characters long; the limit is %d.", n, MaxResourcePolicyChars))
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return org.ResourcePolicy{}, org.NewInvalidInput(ReasonInvalidResourcePolicyJSON, "The resource policy is not a JSON object: "+err.Error())
	}
	if _, ok := doc["Statement"]; !ok {
		return org.ResourcePolicy{}, org.NewInvalidInput(ReasonInvalidResourcePolicyJSON, "The resource policy has no Statement.")
	}
	if len(tags) > MaxTagsPerResource {
		return org.ResourcePolicy{}, org.NewConstraintViolation(org.ReasonMaxTagLimit, fmt.Sprintf("A resource can have at most %d tags.", MaxTagsPerResource))
	}
	if err := o.lockWrite(ctx); err != nil {
		return org.ResourcePolicy{}, err
	}
	defer o.unlockWrite()
	prev := o.resourcePolicy
	var next org.ResourcePolicy
	if prev != nil {
		if len(tags) > 0 {
			return org.ResourcePolicy{}, org.NewInvalidInput(ReasonUpdateResourcePolicyTags, "Tags can't be given when replacing an existing resource policy; use TagResource.")
		}
		next = *prev
		next.Tags = cloneTags(prev.Tags)
	} else {
		id := "rp-" + o.randomString(8)
		next = org.ResourcePolicy{
			ID:   id,
			ARN:  "arn:aws:organizations::" + o.organization.ManagementAccountID + ":resourcepolicy/" + o.organization.ID + "/" + id,
			Tags: cloneTags(tags),
		}
	}
	next.Content = content
	o.resourcePolicy = &next
	if err := o.commit(func() { o.resourcePolicy = prev }); err != nil {
		return org.ResourcePolicy{}, err
	}
	out := next
	out.Tags = cloneTags(next.Tags)
	return out, nil
}

// DescribeResourcePolicy returns the organization's resource policy.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeResourcePolicy.html
func (o *Org) DescribeResourcePolicy(ctx context.Context) (org.ResourcePolicy, error) {
	if err := o.lockRead(ctx); err != nil {
		return org.ResourcePolicy{}, err
	}
	defer o.mu.RUnlock()
	if o.resourcePolicy == nil {
		return org.ResourcePolicy{}, org.NewAPIError(CodeResourcePolicyNotFound, "The organization has no resource policy.")
	}
	out := *o.resourcePolicy
	out.Tags = cloneTags(out.Tags)
	return out, nil
}

// DeleteResourcePolicy deletes the organization's resource policy.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeleteResourcePolicy.html
func (o *Org) DeleteResourcePolicy(ctx context.Context) error {
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	prev := o.resourcePolicy
	if prev == nil {
		return org.NewAPIError(CodeResourcePolicyNotFound, "The organization has no resource policy.")
	}
	o.resourcePolicy = nil
	return o.commit(func() { o.resourcePolicy = prev })
}
