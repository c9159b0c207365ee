package awsorg

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/orgguard/orgguard/internal/org"
)

// AttachPolicy attaches policyID to targetID (the root, an OU or an account).
func (b *Backend) AttachPolicy(ctx context.Context, policyID, targetID string) error {
	out, err := b.client.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(policyID), TargetId: aws.String(targetID)})
	if err != nil {
		return apiError(fmt.Sprintf("attaching policy %s to %s", policyID, targetID), err)
	}
	recordRequestID(ctx, "AttachPolicy", out.ResultMetadata)
	return nil
}

// DetachPolicy detaches policyID from targetID.
func (b *Backend) DetachPolicy(ctx context.Context, policyID, targetID string) error {
	out, err := b.client.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(policyID), TargetId: aws.String(targetID)})
	if err != nil {
		return apiError(fmt.Sprintf("detaching policy %s from %s", policyID, targetID), err)
	}
	recordRequestID(ctx, "DetachPolicy", out.ResultMetadata)
	return nil
}

// MoveAccount moves accountID from sourceParentID to destinationParentID.
func (b *Backend) MoveAccount(ctx context.Context, accountID, sourceParentID, destinationParentID string) error {
	out, err := b.client.MoveAccount(ctx, &organizations.MoveAccountInput{
		AccountId: aws.String(accountID), SourceParentId: aws.String(sourceParentID), DestinationParentId: aws.String(destinationParentID),
	})
	if err != nil {
		return apiError(fmt.Sprintf("moving account %s from %s to %s", accountID, sourceParentID, destinationParentID), err)
	}
	recordRequestID(ctx, "MoveAccount", out.ResultMetadata)
	return nil
}

// CreatePolicy creates a customer-managed policy.
func (b *Backend) CreatePolicy(ctx context.Context, spec org.PolicySpec) (org.Policy, error) {
	in := &organizations.CreatePolicyInput{
		Name: aws.String(spec.Name), Description: aws.String(spec.Description),
		Content: aws.String(spec.Content), Type: types.PolicyType(spec.Type), Tags: sdkTags(spec.Tags),
	}
	out, err := b.client.CreatePolicy(ctx, in)
	if err != nil {
		return org.Policy{}, apiError(fmt.Sprintf("creating policy %q", spec.Name), err)
	}
	recordRequestID(ctx, "CreatePolicy", out.ResultMetadata)
	if out.Policy == nil || out.Policy.PolicySummary == nil {
		return org.Policy{}, fmt.Errorf("creating policy %q: the response has no policy", spec.Name)
	}
	p := policyFrom(out.Policy)
	if len(spec.Tags) > 0 {
		p.Tags = maps.Clone(spec.Tags)
	}
	return p, nil
}

// UpdatePolicy changes the name, description or content of a policy.
func (b *Backend) UpdatePolicy(ctx context.Context, policyID string, upd org.PolicyUpdate) (org.Policy, error) {
	out, err := b.client.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{
		PolicyId: aws.String(policyID), Name: upd.Name, Description: upd.Description, Content: upd.Content,
	})
	if err != nil {
		return org.Policy{}, apiError("updating policy "+policyID, err)
	}
	recordRequestID(ctx, "UpdatePolicy", out.ResultMetadata)
	if out.Policy == nil || out.Policy.PolicySummary == nil {
		return org.Policy{}, fmt.Errorf("updating policy %s: the response has no policy", policyID)
	}
	return policyFrom(out.Policy), nil
}

// DeletePolicy deletes a customer-managed policy that is attached nowhere.
func (b *Backend) DeletePolicy(ctx context.Context, policyID string) error {
	out, err := b.client.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(policyID)})
	if err != nil {
		return apiError("deleting policy "+policyID, err)
	}
	recordRequestID(ctx, "DeletePolicy", out.ResultMetadata)
	return nil
}

// CreateOU creates an OU named name under parentID.
func (b *Backend) CreateOU(ctx context.Context, parentID, name string) (org.OU, error) {
	out, err := b.client.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(parentID), Name: aws.String(name)})
	if err != nil {
		return org.OU{}, apiError(fmt.Sprintf("creating OU %q under %s", name, parentID), err)
	}
	recordRequestID(ctx, "CreateOrganizationalUnit", out.ResultMetadata)
	if out.OrganizationalUnit == nil {
		return org.OU{}, fmt.Errorf("creating OU %q under %s: the response has no OU", name, parentID)
	}
	u := out.OrganizationalUnit
	return org.OU{ID: aws.ToString(u.Id), ARN: aws.ToString(u.Arn), Name: aws.ToString(u.Name), ParentID: parentID}, nil
}

// DeleteOU deletes an empty OU.
func (b *Backend) DeleteOU(ctx context.Context, ouID string) error {
	out, err := b.client.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(ouID)})
	if err != nil {
		return apiError("deleting OU "+ouID, err)
	}
	recordRequestID(ctx, "DeleteOrganizationalUnit", out.ResultMetadata)
	return nil
}

// EnablePolicyType enables policy type t at the root.
func (b *Backend) EnablePolicyType(ctx context.Context, rootID string, t org.PolicyType) error {
	out, err := b.client.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyType(t)})
	if err != nil {
		return apiError(fmt.Sprintf("enabling %s at %s", t, rootID), err)
	}
	recordRequestID(ctx, "EnablePolicyType", out.ResultMetadata)
	return nil
}

// DisablePolicyType disables policy type t at the root, which detaches
// every policy of that type.
func (b *Backend) DisablePolicyType(ctx context.Context, rootID string, t org.PolicyType) error {
	out, err := b.client.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyType(t)})
	if err != nil {
		return apiError(fmt.Sprintf("disabling %s at %s", t, rootID), err)
	}
	recordRequestID(ctx, "DisablePolicyType", out.ResultMetadata)
	return nil
}

// recordRequestID reports the request ID of a successful write, read from
// the response's metadata, to the sink ctx carries (org.WithRequestIDs).
func recordRequestID(ctx context.Context, op string, md middleware.Metadata) {
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		org.RecordRequestID(ctx, op, id)
	}
}

func sdkTags(m map[string]string) []types.Tag {
	if len(m) == 0 {
		return nil
	}
	out := make([]types.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}
