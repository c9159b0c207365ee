package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"unicode/utf8"

	"github.com/orgguard/orgguard/internal/org"
)

var _ org.Backend = (*Org)(nil)

// AttachPolicy attaches a policy to the root, an OU or an account.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html
func (o *Org) AttachPolicy(ctx context.Context, policyID, targetID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	p := o.policies[policyID]
	if p == nil {
		return notFound(org.CodePolicyNotFound, "We can't find a policy with the PolicyId %s.", policyID)
	}
	if !o.exists(targetID) {
		return notFound(org.CodeTargetNotFound, "We can't find a root, OU, account, or email target with the TargetId %s.", targetID)
	}
	if !o.root.PolicyTypeEnabled(p.Type) {
		return org.NewAPIError(org.CodePolicyTypeNotEnabled, fmt.Sprintf("The policy type %s is not enabled in the root %s.", p.Type, o.root.ID))
	}
	if o.attached[targetID][policyID] {
		return org.NewAPIError(org.CodeDuplicatePolicyAttachment, fmt.Sprintf("The policy %s is already attached to %s.", policyID, targetID))
	}
	if o.countAttached(targetID, p.Type) >= MaxPoliciesPerTarget {
		return org.NewConstraintViolation(org.ReasonMaxPolicyTypeAttachment,
			fmt.Sprintf("%s already has %d policies of type %s attached; the limit is %d.", targetID, MaxPoliciesPerTarget, p.Type, MaxPoliciesPerTarget))
	}
	addTo(o.attached, targetID, policyID)
	addTo(o.targets, policyID, targetID)
	return o.commit(func() {
		removeFrom(o.attached, targetID, policyID)
		removeFrom(o.targets, policyID, targetID)
	})
}

// DetachPolicy detaches a policy from a target. The last SCP of a target
// and RCPFullAWSAccess cannot be detached.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html
func (o *Org) DetachPolicy(ctx context.Context, policyID, targetID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	p := o.policies[policyID]
	if p == nil {
		return notFound(org.CodePolicyNotFound, "We can't find a policy with the PolicyId %s.", policyID)
	}
	if !o.exists(targetID) {
		return notFound(org.CodeTargetNotFound, "We can't find a root, OU, account, or email target with the TargetId %s.", targetID)
	}
	if !o.attached[targetID][policyID] {
		return org.NewAPIError(org.CodePolicyNotAttached, fmt.Sprintf("The policy %s is not attached to %s.", policyID, targetID))
	}
	if policyID == org.RCPFullAWSAccessID {
		return org.NewConstraintViolation(org.ReasonMinPolicyTypeAttachment,
			"RCPFullAWSAccess is attached to every root, OU and account while resource control policies are enabled and cannot be detached.")
	}
	if p.Type == org.ServiceControlPolicy && o.countAttached(targetID, p.Type) <= 1 {
		return org.NewConstraintViolation(org.ReasonMinPolicyTypeAttachment,
			fmt.Sprintf("%s is the last service control policy attached to %s; every root, OU and account must have at least one. Attach another SCP first.", policyID, targetID))
	}
	removeFrom(o.attached, targetID, policyID)
	removeFrom(o.targets, policyID, targetID)
	return o.commit(func() {
		addTo(o.attached, targetID, policyID)
		addTo(o.targets, policyID, targetID)
	})
}

// MoveAccount moves an account from sourceParentID to
// destinationParentID. The source must be the account's current parent.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html
func (o *Org) MoveAccount(ctx context.Context, accountID, sourceParentID, destinationParentID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	a := o.accounts[accountID]
	if a == nil {
		return notFound(org.CodeAccountNotFound, "We can't find an AWS account with the AccountId %s.", accountID)
	}
	if !o.isParent(sourceParentID) {
		return notFound(org.CodeSourceParentNotFound, "We can't find a source root or OU with the ParentId %s.", sourceParentID)
	}
	if !o.isParent(destinationParentID) {
		return notFound(org.CodeDestinationParentNotFound, "We can't find the destination container (a root or OU) with the ParentId %s.", destinationParentID)
	}
	if a.ParentID != sourceParentID {
		return notFound(org.CodeAccountNotFound, "We can't find an AWS account with the AccountId %s in the source parent %s.", accountID, sourceParentID)
	}
	if sourceParentID == destinationParentID {
		return org.NewAPIError(org.CodeDuplicateAccount, fmt.Sprintf("The account %s is already present in %s.", accountID, destinationParentID))
	}
	a.ParentID = destinationParentID
	removeFrom(o.children, sourceParentID, accountID)
	addTo(o.children, destinationParentID, accountID)
	return o.commit(func() {
		a.ParentID = sourceParentID
		removeFrom(o.children, destinationParentID, accountID)
		addTo(o.children, sourceParentID, accountID)
	})
}

// checkName validates a name parameter (1 to 128 characters).
func checkName(what, name string) error {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return org.NewInvalidInput(org.ReasonMinLengthExceeded, fmt.Sprintf("The %s name must not be empty.", what))
	case n > MaxNameLength:
		return org.NewInvalidInput(org.ReasonMaxLengthExceeded, fmt.Sprintf("The %s name is %d characters long; the limit is %d.", what, n, MaxNameLength))
	}
	return nil
}

// checkContent applies the size and syntax rules to a policy document.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
func checkContent(t org.PolicyType, content string) error {
	if n := utf8.RuneCountInString(content); (t == org.ServiceControlPolicy || t == org.ResourceControlPolicy) && n > MaxPolicyContentChars {
		return org.NewConstraintViolation(org.ReasonPolicyContent,
			fmt.Sprintf("The policy document is %d characters long; the limit for %s is %d.", n, t, MaxPolicyContentChars))
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return org.NewAPIError(org.CodeMalformedPolicyDocument, "The provided policy document does not meet the requirements of the specified policy type: it is not a JSON object: "+err.Error())
	}
	if t == org.ServiceControlPolicy || t == org.ResourceControlPolicy {
		st, ok := doc["Statement"]
		if !ok {
			return org.NewAPIError(org.CodeMalformedPolicyDocument, "The provided policy document does not meet the requirements of the specified policy type: it has no Statement.")
		}
		if t == org.ResourceControlPolicy && rcpAllows(st) {
			return org.NewAPIError(org.CodeMalformedPolicyDocument, "The provided policy document does not meet the requirements of the specified policy type: customer-managed resource control policies can only contain Deny statements.")
		}
	}
	return nil
}

// rcpAllows reports whether an RCP's Statement has an Allow statement.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
func rcpAllows(raw json.RawMessage) bool {
	var one struct{ Effect string }
	var many []struct{ Effect string }
	if json.Unmarshal(raw, &many) == nil {
		for _, s := range many {
			if s.Effect == "Allow" {
				return true
			}
		}
		return false
	}
	return json.Unmarshal(raw, &one) == nil && one.Effect == "Allow"
}

// CreatePolicy creates a customer-managed policy.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreatePolicy.html
func (o *Org) CreatePolicy(ctx context.Context, spec org.PolicySpec) (org.Policy, error) {
	if err := ctx.Err(); err != nil {
		return org.Policy{}, err
	}
	if err := checkName("policy", spec.Name); err != nil {
		return org.Policy{}, err
	}
	if utf8.RuneCountInString(spec.Description) > MaxPolicyDescriptionLen {
		return org.Policy{}, org.NewInvalidInput(org.ReasonMaxLengthExceeded, fmt.Sprintf("The policy description is longer than %d characters.", MaxPolicyDescriptionLen))
	}
	if !knownType(spec.Type) {
		return org.Policy{}, org.NewInvalidInput(org.ReasonInvalidEnum, fmt.Sprintf("%q is not a policy type.", spec.Type))
	}
	if err := checkContent(spec.Type, spec.Content); err != nil {
		return org.Policy{}, err
	}
	if len(spec.Tags) > MaxTagsPerResource {
		return org.Policy{}, org.NewConstraintViolation(org.ReasonMaxTagLimit, fmt.Sprintf("A resource can have at most %d tags.", MaxTagsPerResource))
	}
	if err := o.lockWrite(ctx); err != nil {
		return org.Policy{}, err
	}
	defer o.unlockWrite()
	n := 0
	for _, p := range o.policies {
		if p.Type == spec.Type && !p.AWSManaged {
			n++
		}
		if p.Type == spec.Type && p.Name == spec.Name {
			return org.Policy{}, org.NewAPIError(org.CodeDuplicatePolicy, fmt.Sprintf("A policy named %q of type %s already exists (%s).", spec.Name, spec.Type, p.ID))
		}
	}
	limit := 1000
	if spec.Type == org.ServiceControlPolicy {
		limit = MaxSCPs
	}
	if n >= limit {
		return org.Policy{}, org.NewConstraintViolation(org.ReasonPolicyNumber, fmt.Sprintf("The organization already has %d policies of type %s; the limit is %d.", n, spec.Type, limit))
	}
	id := o.newPolicyID()
	p := &org.Policy{
		ID:          id,
		ARN:         org.PolicyARN(o.organization.ManagementAccountID, o.organization.ID, spec.Type, id),
		Name:        spec.Name,
		Description: spec.Description,
		Type:        spec.Type,
		Content:     spec.Content,
		Tags:        cloneTags(spec.Tags),
	}
	o.policies[id] = p
	if err := o.commit(func() { delete(o.policies, id) }); err != nil {
		return org.Policy{}, err
	}
	return *p, nil
}

// UpdatePolicy changes a customer-managed policy's name, description or
// content. AWS-managed policies cannot be changed.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_UpdatePolicy.html
func (o *Org) UpdatePolicy(ctx context.Context, policyID string, upd org.PolicyUpdate) (org.Policy, error) {
	if err := ctx.Err(); err != nil {
		return org.Policy{}, err
	}
	if err := o.lockWrite(ctx); err != nil {
		return org.Policy{}, err
	}
	defer o.unlockWrite()
	p := o.policies[policyID]
	if p == nil {
		return org.Policy{}, notFound(org.CodePolicyNotFound, "We can't find a policy with the PolicyId %s.", policyID)
	}
	if p.AWSManaged {
		return org.Policy{}, org.NewInvalidInput(org.ReasonImmutablePolicy, fmt.Sprintf("%s is managed by AWS and can't be modified.", policyID))
	}
	next := *p
	if upd.Name != nil {
		if err := checkName("policy", *upd.Name); err != nil {
			return org.Policy{}, err
		}
		for _, q := range o.policies {
			if q.ID != p.ID && q.Type == p.Type && q.Name == *upd.Name {
				return org.Policy{}, org.NewAPIError(org.CodeDuplicatePolicy, fmt.Sprintf("A policy named %q of type %s already exists (%s).", *upd.Name, p.Type, q.ID))
			}
		}
		next.Name = *upd.Name
	}
	if upd.Description != nil {
		if utf8.RuneCountInString(*upd.Description) > MaxPolicyDescriptionLen {
			return org.Policy{}, org.NewInvalidInput(org.ReasonMaxLengthExceeded, fmt.Sprintf("The policy description is longer than %d characters.", MaxPolicyDescriptionLen))
		}
		next.Description = *upd.Description
	}
	if upd.Content != nil {
		if err := checkContent(p.Type, *upd.Content); err != nil {
			return org.Policy{}, err
		}
		next.Content = *upd.Content
	}
	prev := *p
	*p = next
	if err := o.commit(func() { *p = prev }); err != nil {
		return org.Policy{}, err
	}
	out := *p
	out.Tags = cloneTags(p.Tags)
	return out, nil
}

// DeletePolicy deletes a customer-managed policy that is attached nowhere.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeletePolicy.html
func (o *Org) DeletePolicy(ctx context.Context, policyID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	p := o.policies[policyID]
	if p == nil {
		return notFound(org.CodePolicyNotFound, "We can't find a policy with the PolicyId %s.", policyID)
	}
	if p.AWSManaged {
		return org.NewInvalidInput(org.ReasonImmutablePolicy, fmt.Sprintf("%s is managed by AWS and can't be deleted.", policyID))
	}
	if n := len(o.targets[policyID]); n > 0 {
		return org.NewAPIError(org.CodePolicyInUse, fmt.Sprintf("The policy %s is attached to %d targets; detach it before deleting it.", policyID, n))
	}
	delete(o.policies, policyID)
	return o.commit(func() { o.policies[policyID] = p })
}

// CreateOU creates an OU under the root or another OU, with the default
// policies of every enabled type attached.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateOrganizationalUnit.html
func (o *Org) CreateOU(ctx context.Context, parentID, name string) (org.OU, error) {
	if err := ctx.Err(); err != nil {
		return org.OU{}, err
	}
	if err := checkName("OU", name); err != nil {
		return org.OU{}, err
	}
	if err := o.lockWrite(ctx); err != nil {
		return org.OU{}, err
	}
	defer o.unlockWrite()
	if !o.isParent(parentID) {
		return org.OU{}, notFound(org.CodeParentNotFound, "We can't find a root or OU with the ParentId %s.", parentID)
	}
	for c := range o.children[parentID] {
		if u := o.ous[c]; u != nil && u.Name == name {
			return org.OU{}, org.NewAPIError(org.CodeDuplicateOrganizationalUnit, fmt.Sprintf("An OU named %q already exists in %s (%s).", name, parentID, u.ID))
		}
	}
	if o.depth(parentID)+1 > MaxOUDepth {
		return org.OU{}, org.NewConstraintViolation(org.ReasonOUDepth, fmt.Sprintf("OUs can be nested at most %d levels below the root; %s is already at depth %d.", MaxOUDepth, parentID, o.depth(parentID)))
	}
	if len(o.ous) >= MaxOUs {
		return org.OU{}, org.NewConstraintViolation(org.ReasonOUNumber, fmt.Sprintf("The organization already has %d OUs; the limit is %d.", len(o.ous), MaxOUs))
	}
	id := o.newOUID()
	u := &org.OU{ID: id, ARN: org.OUARN(o.organization.ManagementAccountID, o.organization.ID, id), Name: name, ParentID: parentID}
	o.ous[id] = u
	addTo(o.children, parentID, id)
	o.attachDefaults(id)
	if err := o.commit(func() {
		o.detachAll(id)
		removeFrom(o.children, parentID, id)
		delete(o.ous, id)
	}); err != nil {
		return org.OU{}, err
	}
	return *u, nil
}

// UpdateOrganizationalUnit renames an OU.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_UpdateOrganizationalUnit.html
func (o *Org) UpdateOrganizationalUnit(ctx context.Context, ouID, name string) (org.OU, error) {
	if err := ctx.Err(); err != nil {
		return org.OU{}, err
	}
	if err := checkName("OU", name); err != nil {
		return org.OU{}, err
	}
	if err := o.lockWrite(ctx); err != nil {
		return org.OU{}, err
	}
	defer o.unlockWrite()
	u := o.ous[ouID]
	if u == nil {
		return org.OU{}, notFound(org.CodeOrganizationalUnitNotFound, "We can't find an OU with the OrganizationalUnitId %s.", ouID)
	}
	for c := range o.children[u.ParentID] {
		if s := o.ous[c]; s != nil && s.ID != ouID && s.Name == name {
			return org.OU{}, org.NewAPIError(org.CodeDuplicateOrganizationalUnit, fmt.Sprintf("An OU named %q already exists in %s (%s).", name, u.ParentID, s.ID))
		}
	}
	prev := u.Name
	u.Name = name
	if err := o.commit(func() { u.Name = prev }); err != nil {
		return org.OU{}, err
	}
	out := *u
	out.Tags = cloneTags(u.Tags)
	return out, nil
}

// DeleteOU deletes an empty OU.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeleteOrganizationalUnit.html
func (o *Org) DeleteOU(ctx context.Context, ouID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	u := o.ous[ouID]
	if u == nil {
		return notFound(org.CodeOrganizationalUnitNotFound, "We can't find an OU with the OrganizationalUnitId %s.", ouID)
	}
	if n := len(o.children[ouID]); n > 0 {
		return org.NewAPIError(org.CodeOrganizationalUnitNotEmpty, fmt.Sprintf("The OU %s still contains %d accounts or OUs; move or delete them first.", ouID, n))
	}
	pids := maps.Clone(o.attached[ouID])
	o.detachAll(ouID)
	delete(o.ous, ouID)
	removeFrom(o.children, u.ParentID, ouID)
	return o.commit(func() {
		o.ous[ouID] = u
		addTo(o.children, u.ParentID, ouID)
		o.restoreAttachments(ouID, pids)
	})
}

// EnablePolicyType enables a policy type at the root and attaches its
// AWS-managed default policy to the root and every OU and account.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_EnablePolicyType.html
func (o *Org) EnablePolicyType(ctx context.Context, rootID string, t org.PolicyType) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !knownType(t) {
		return org.NewInvalidInput(org.ReasonInvalidEnum, fmt.Sprintf("%q is not a policy type.", t))
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	if rootID != o.root.ID {
		return notFound(org.CodeRootNotFound, "We can't find a root with the RootId %s.", rootID)
	}
	if o.organization.FeatureSet == "CONSOLIDATED_BILLING" {
		return org.NewAPIError(org.CodePolicyTypeNotAvailableForOrg, "Policy types are available only in an organization with all features enabled.")
	}
	if o.root.PolicyTypeEnabled(t) {
		return org.NewAPIError(org.CodePolicyTypeAlreadyEnabled, fmt.Sprintf("The policy type %s is already enabled in the root %s.", t, rootID))
	}
	prevTypes := o.root.PolicyTypes
	o.root.PolicyTypes = append(append([]org.PolicyTypeStatus(nil), prevTypes...), org.PolicyTypeStatus{Type: t, Status: org.PolicyTypeEnabled})
	def, hasDef := org.DefaultPolicy(t)
	_, hadDef := o.policies[def.ID]
	if hasDef {
		o.ensurePolicy(def)
		for _, id := range o.allTargets() {
			addTo(o.attached, id, def.ID)
			addTo(o.targets, def.ID, id)
		}
	}
	return o.commit(func() {
		o.root.PolicyTypes = prevTypes
		if hasDef {
			for id := range o.targets[def.ID] {
				removeFrom(o.attached, id, def.ID)
			}
			delete(o.targets, def.ID)
			if !hadDef {
				delete(o.policies, def.ID)
			}
		}
	})
}

// DisablePolicyType disables a policy type at the root, detaching every
// policy of that type from every target.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DisablePolicyType.html
func (o *Org) DisablePolicyType(ctx context.Context, rootID string, t org.PolicyType) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	if rootID != o.root.ID {
		return notFound(org.CodeRootNotFound, "We can't find a root with the RootId %s.", rootID)
	}
	if !o.root.PolicyTypeEnabled(t) {
		return org.NewAPIError(org.CodePolicyTypeNotEnabled, fmt.Sprintf("The policy type %s is not enabled in the root %s.", t, rootID))
	}
	prevTypes := o.root.PolicyTypes
	var kept []org.PolicyTypeStatus
	for _, s := range prevTypes {
		if s.Type != t {
			kept = append(kept, s)
		}
	}
	if kept == nil {
		kept = []org.PolicyTypeStatus{}
	}
	o.root.PolicyTypes = kept
	removed := map[string]map[string]bool{}
	for pid, ts := range o.targets {
		if p := o.policies[pid]; p != nil && p.Type == t {
			removed[pid] = ts
		}
	}
	for pid, ts := range removed {
		for tid := range ts {
			removeFrom(o.attached, tid, pid)
		}
		delete(o.targets, pid)
	}
	return o.commit(func() {
		o.root.PolicyTypes = prevTypes
		for pid, ts := range removed {
			for tid := range ts {
				addTo(o.attached, tid, pid)
				addTo(o.targets, pid, tid)
			}
		}
	})
}

func (o *Org) allTargets() []string {
	ids := make([]string, 0, 1+len(o.ous)+len(o.accounts))
	ids = append(ids, o.root.ID)
	for id := range o.ous {
		ids = append(ids, id)
	}
	for id := range o.accounts {
		ids = append(ids, id)
	}
	return ids
}

// AddAccount adds a member account under parentID, as if it had been
// created or had accepted an invitation, with the default policies of
// every enabled type attached. It is not part of org.Backend; tests and
// the demo use it.
func (o *Org) AddAccount(ctx context.Context, name, email, parentID string) (org.Account, error) {
	if err := ctx.Err(); err != nil {
		return org.Account{}, err
	}
	if err := checkName("account", name); err != nil {
		return org.Account{}, err
	}
	if !strings.Contains(email, "@") {
		return org.Account{}, org.NewInvalidInput(org.ReasonInvalidName, fmt.Sprintf("%q is not an email address.", email))
	}
	if err := o.lockWrite(ctx); err != nil {
		return org.Account{}, err
	}
	defer o.unlockWrite()
	if !o.isParent(parentID) {
		return org.Account{}, notFound(org.CodeParentNotFound, "We can't find a root or OU with the ParentId %s.", parentID)
	}
	for _, a := range o.accounts {
		if strings.EqualFold(a.Email, email) {
			return org.Account{}, org.NewAPIError(org.CodeDuplicateAccount, fmt.Sprintf("An account with the email address %s already exists (%s).", email, a.ID))
		}
	}
	id := o.newAccountID()
	a := &org.Account{
		ID: id, ARN: org.AccountARN(o.organization.ManagementAccountID, o.organization.ID, id),
		Name: name, Email: email, Status: org.AccountActive, ParentID: parentID, JoinedAt: o.opts.Now().UTC(),
	}
	o.accounts[id] = a
	addTo(o.children, parentID, id)
	o.attachDefaults(id)
	if err := o.commit(func() {
		o.detachAll(id)
		removeFrom(o.children, parentID, id)
		delete(o.accounts, id)
	}); err != nil {
		return org.Account{}, err
	}
	return *a, nil
}
