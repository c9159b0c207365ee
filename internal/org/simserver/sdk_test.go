package simserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/simserver"
)

// sdkClient serves a fresh simulated organization of n accounts on
// 127.0.0.1 (behind the Host guard) and returns the AWS SDK's client for it.
func sdkClient(t *testing.T, n int) (*organizations.Client, *org.Snapshot) {
	t.Helper()
	o, s := newSim(t, n)
	srv := httptest.NewServer(simserver.HostGuard(simserver.New(o, simserver.Options{}), "127.0.0.1:0"))
	t.Cleanup(srv.Close)
	return organizations.New(organizations.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	}), s
}

// codeReason returns the AWS error code of err and, for the exceptions
// that carry one, its reason.
func codeReason(err error) (string, string) {
	var (
		cv *types.ConstraintViolationException
		ii *types.InvalidInputException
		hc *types.HandshakeConstraintViolationException
		ae smithy.APIError
	)
	switch {
	case errors.As(err, &cv):
		return cv.ErrorCode(), string(cv.Reason)
	case errors.As(err, &ii):
		return ii.ErrorCode(), string(ii.Reason)
	case errors.As(err, &hc):
		return hc.ErrorCode(), string(hc.Reason)
	case errors.As(err, &ae):
		return ae.ErrorCode(), ""
	case err == nil:
		return "", ""
	}
	return "not an API error: " + err.Error(), ""
}

// step is one call of a scenario and the error code (and reason) AWS
// documents for it; empty for success.
type step struct {
	name         string
	call         func(ctx context.Context, c *organizations.Client) error
	code, reason string
}

func runSteps(t *testing.T, c *organizations.Client, steps []step) {
	t.Helper()
	for _, s := range steps {
		err := s.call(t.Context(), c)
		if code, reason := codeReason(err); code != s.code || (s.reason != "" && reason != s.reason) {
			t.Errorf("%s: error %q (%s), want %q (%s); err = %v", s.name, code, reason, s.code, s.reason, err)
		}
	}
}

func member(s *org.Snapshot, i int) string {
	n := 0
	for _, a := range s.Accounts {
		if a.ID == s.Organization.ManagementAccountID {
			continue
		}
		if n == i {
			return a.ID
		}
		n++
	}
	panic("not enough accounts")
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_EnableAWSServiceAccess.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_RegisterDelegatedAdministrator.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListDelegatedServicesForAccount.html
func TestSDKTrustedAccessAndDelegatedAdministrators(t *testing.T) {
	c, s := sdkClient(t, 20)
	const svc = "securityhub.amazonaws.com"
	admin, mgmt := member(s, 0), s.Organization.ManagementAccountID
	enable := func(p string) func(context.Context, *organizations.Client) error {
		return func(ctx context.Context, c *organizations.Client) error {
			_, err := c.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(p)})
			return err
		}
	}
	register := func(acct, p string) func(context.Context, *organizations.Client) error {
		return func(ctx context.Context, c *organizations.Client) error {
			_, err := c.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(acct), ServicePrincipal: aws.String(p)})
			return err
		}
	}
	deregister := func(acct, p string) func(context.Context, *organizations.Client) error {
		return func(ctx context.Context, c *organizations.Client) error {
			_, err := c.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(acct), ServicePrincipal: aws.String(p)})
			return err
		}
	}
	services := func(acct string) func(context.Context, *organizations.Client) error {
		return func(ctx context.Context, c *organizations.Client) error {
			out, err := c.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(acct)})
			if err == nil && (len(out.DelegatedServices) != 1 || aws.ToString(out.DelegatedServices[0].ServicePrincipal) != svc) {
				return fmt.Errorf("delegated services = %+v, want %s", out.DelegatedServices, svc)
			}
			return err
		}
	}
	runSteps(t, c, []step{
		{"registering before trusted access is enabled", register(admin, svc), "ConstraintViolationException", "SERVICE_ACCESS_NOT_ENABLED"},
		{"enabling a principal that is not a service", enable("not a principal"), "InvalidInputException", "INVALID_PATTERN"},
		{"enabling an unknown service", enable("example.com"), "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL"},
		{"enabling trusted access", enable(svc), "", ""},
		{"enabling it again changes nothing", enable(svc), "", ""},
		{"listing trusted services", func(ctx context.Context, c *organizations.Client) error {
			out, err := c.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
			if err == nil && (len(out.EnabledServicePrincipals) != 1 || out.EnabledServicePrincipals[0].DateEnabled == nil) {
				return fmt.Errorf("enabled = %+v, want %s with its date", out.EnabledServicePrincipals, svc)
			}
			return err
		}, "", ""},
		{"registering the management account", register(mgmt, svc), "ConstraintViolationException", "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"},
		{"registering an unknown account", register("123456789012", svc), "AccountNotFoundException", ""},
		{"registering a member", register(admin, svc), "", ""},
		{"registering it twice", register(admin, svc), "AccountAlreadyRegisteredException", ""},
		{"listing the delegated administrators", func(ctx context.Context, c *organizations.Client) error {
			out, err := c.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String(svc)})
			if err == nil && (len(out.DelegatedAdministrators) != 1 || aws.ToString(out.DelegatedAdministrators[0].Id) != admin || out.DelegatedAdministrators[0].DelegationEnabledDate == nil) {
				return fmt.Errorf("delegated administrators = %+v, want %s", out.DelegatedAdministrators, admin)
			}
			return err
		}, "", ""},
		{"listing the services of the administrator", services(admin), "", ""},
		{"removing a delegated administrator from the organization", func(ctx context.Context, c *organizations.Client) error {
			_, err := c.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(admin)})
			return err
		}, "ConstraintViolationException", "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG"},
		{"deregistering it", deregister(admin, svc), "", ""},
		{"deregistering it twice", deregister(admin, svc), "AccountNotRegisteredException", ""},
		{"listing the services of an account that administers none", services(admin), "AccountNotRegisteredException", ""},
		{"disabling trusted access", func(ctx context.Context, c *organizations.Client) error {
			_, err := c.DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String(svc)})
			return err
		}, "", ""},
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeEffectivePolicy.html
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_inheritance_mgmt.html
func TestSDKEffectivePolicyMergesInheritedManagementPolicies(t *testing.T) {
	c, s := sdkClient(t, 20)
	ctx := t.Context()
	acct := member(s, 0)
	describe := func(pt types.EffectivePolicyType, target string) func(context.Context, *organizations.Client) error {
		return func(ctx context.Context, c *organizations.Client) error {
			_, err := c.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: pt, TargetId: aws.String(target)})
			return err
		}
	}
	runSteps(t, c, []step{
		{"an SCP has no effective policy", describe("SERVICE_CONTROL_POLICY", acct), "InvalidInputException", ""},
		{"a type that is not enabled", describe(types.EffectivePolicyTypeTagPolicy, acct), "EffectivePolicyNotFoundException", ""},
	})
	if _, err := c.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(s.Root.ID), PolicyType: types.PolicyTypeTagPolicy}); err != nil {
		t.Fatal(err)
	}
	runSteps(t, c, []step{{"no tag policy attached", describe(types.EffectivePolicyTypeTagPolicy, acct), "EffectivePolicyNotFoundException", ""}})
	attach := func(content, target string) {
		p, err := c.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("tags-" + target), Description: aws.String(""),
			Type: types.PolicyTypeTagPolicy, Content: aws.String(content)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: p.Policy.PolicySummary.Id, TargetId: aws.String(target)}); err != nil {
			t.Fatal(err)
		}
	}
	attach(`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["100","200"]}}}}`, s.Root.ID)
	attach(`{"tags":{"costcenter":{"tag_value":{"@@append":["300"]}},"team":{"tag_key":{"@@assign":"Team"}}}}`, acct)
	out, err := c.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: aws.String(acct)})
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	_ = json.Unmarshal([]byte(aws.ToString(out.EffectivePolicy.PolicyContent)), &got)
	_ = json.Unmarshal([]byte(`{"tags":{"costcenter":{"tag_key":"CostCenter","tag_value":["100","200","300"]},"team":{"tag_key":"Team"}}}`), &want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("effective tag policy = %v, want %v", got, want)
	}
	if aws.ToString(out.EffectivePolicy.TargetId) != acct || out.EffectivePolicy.PolicyType != types.EffectivePolicyTypeTagPolicy {
		t.Errorf("effective policy names %s/%s, want %s/TAG_POLICY", aws.ToString(out.EffectivePolicy.TargetId), out.EffectivePolicy.PolicyType, acct)
	}
	runSteps(t, c, []step{{"a root is not a supported target", describe(types.EffectivePolicyTypeTagPolicy, s.Root.ID), "InvalidInputException", "TARGET_NOT_SUPPORTED"}})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_PutResourcePolicy.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeResourcePolicy.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeleteResourcePolicy.html
func TestSDKResourcePolicy(t *testing.T) {
	c, _ := sdkClient(t, 5)
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"organizations:DescribeOrganization","Resource":"*"}]}`
	put := func(content string, tags ...types.Tag) func(context.Context, *organizations.Client) error {
		return func(ctx context.Context, c *organizations.Client) error {
			out, err := c.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(content), Tags: tags})
			if err == nil && (out.ResourcePolicy == nil || out.ResourcePolicy.ResourcePolicySummary == nil || aws.ToString(out.ResourcePolicy.ResourcePolicySummary.Id) == "") {
				return fmt.Errorf("PutResourcePolicy answered %+v, want a policy with an ID", out.ResourcePolicy)
			}
			return err
		}
	}
	describe := func(ctx context.Context, c *organizations.Client) error {
		out, err := c.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
		if err == nil && aws.ToString(out.ResourcePolicy.Content) != doc {
			return fmt.Errorf("content = %s", aws.ToString(out.ResourcePolicy.Content))
		}
		return err
	}
	del := func(ctx context.Context, c *organizations.Client) error {
		_, err := c.DeleteResourcePolicy(ctx, &organizations.DeleteResourcePolicyInput{})
		return err
	}
	runSteps(t, c, []step{
		{"describing before there is one", describe, "ResourcePolicyNotFoundException", ""},
		{"deleting before there is one", del, "ResourcePolicyNotFoundException", ""},
		{"a document that is not JSON", put("{not json"), "InvalidInputException", "INVALID_RESOURCE_POLICY_JSON"},
		{"creating it with tags", put(doc, types.Tag{Key: aws.String("owner"), Value: aws.String("platform")}), "", ""},
		{"replacing it with tags", put(doc, types.Tag{Key: aws.String("x"), Value: aws.String("y")}), "InvalidInputException", "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED"},
		{"replacing it", put(doc), "", ""},
		{"describing it", describe, "", ""},
		{"deleting it", del, "", ""},
		{"deleting it twice", del, "ResourcePolicyNotFoundException", ""},
	})
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccount.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeCreateAccountStatus.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_RemoveAccountFromOrganization.html
func TestSDKAccountLifecycle(t *testing.T) {
	c, s := sdkClient(t, 30)
	ctx := t.Context()
	created, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("new@example.com"), AccountName: aws.String("new account")})
	if err != nil {
		t.Fatal(err)
	}
	if created.CreateAccountStatus.State != types.CreateAccountStateInProgress {
		t.Errorf("CreateAccount state = %s, want IN_PROGRESS (AWS creates accounts asynchronously)", created.CreateAccountStatus.State)
	}
	st, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: created.CreateAccountStatus.Id})
	if err != nil {
		t.Fatal(err)
	}
	if st.CreateAccountStatus.State != types.CreateAccountStateSucceeded || st.CreateAccountStatus.AccountId == nil {
		t.Fatalf("DescribeCreateAccountStatus = %+v, want SUCCEEDED with an account ID", st.CreateAccountStatus)
	}
	newID := aws.ToString(st.CreateAccountStatus.AccountId)
	dup, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("NEW@example.com"), AccountName: aws.String("again")})
	if err != nil {
		t.Fatal(err)
	}
	st, err = c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: dup.CreateAccountStatus.Id})
	if err != nil || st.CreateAccountStatus.State != types.CreateAccountStateFailed || st.CreateAccountStatus.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists {
		t.Errorf("a second account with the same email: %+v, %v; want FAILED with EMAIL_ALREADY_EXISTS", st.CreateAccountStatus, err)
	}
	closeAccount := func(id string) func(context.Context, *organizations.Client) error {
		return func(ctx context.Context, c *organizations.Client) error {
			_, err := c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(id)})
			return err
		}
	}
	runSteps(t, c, []step{
		{"an invalid email", func(ctx context.Context, c *organizations.Client) error {
			_, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("nobody"), AccountName: aws.String("x")})
			return err
		}, "InvalidInputException", ""},
		{"a malformed request ID", func(ctx context.Context, c *organizations.Client) error {
			_, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("req-1")})
			return err
		}, "InvalidInputException", "INVALID_PATTERN"},
		{"an unknown request ID", func(ctx context.Context, c *organizations.Client) error {
			_, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-0000000000")})
			return err
		}, "CreateAccountStatusNotFoundException", ""},
		{"closing the new account", closeAccount(newID), "", ""},
		{"closing it twice", closeAccount(newID), "AccountAlreadyClosedException", ""},
		{"closing the management account", closeAccount(s.Organization.ManagementAccountID), "ConstraintViolationException", "CANNOT_CLOSE_MANAGEMENT_ACCOUNT"},
		{"the closed account is SUSPENDED and CLOSED", func(ctx context.Context, c *organizations.Client) error {
			out, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(newID)})
			if err == nil && (out.Account.Status != types.AccountStatusSuspended || out.Account.State != types.AccountStateClosed) {
				return fmt.Errorf("closed account status %s, state %s", out.Account.Status, out.Account.State)
			}
			return err
		}, "", ""},
	})
	// 31 members: the quota is max(10% of 31, 10) = 10 in 30 days; one is used.
	var steps []step
	for i := range 9 {
		steps = append(steps, step{fmt.Sprintf("closing member %d", i), closeAccount(member(s, i+1)), "", ""})
	}
	steps = append(steps, step{"closing past the 30-day quota", closeAccount(member(s, 10)), "ConstraintViolationException", "CLOSE_ACCOUNT_QUOTA_EXCEEDED"})
	remove := func(id string) func(context.Context, *organizations.Client) error {
		return func(ctx context.Context, c *organizations.Client) error {
			_, err := c.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(id)})
			return err
		}
	}
	steps = append(steps,
		step{"removing the management account", remove(s.Organization.ManagementAccountID), "MasterCannotLeaveOrganizationException", ""},
		step{"removing a member", remove(member(s, 12)), "", ""},
		step{"the removed member is gone", func(ctx context.Context, c *organizations.Client) error {
			_, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(member(s, 12))})
			return err
		}, "AccountNotFoundException", ""},
		step{"removing it twice", remove(member(s, 12)), "AccountNotFoundException", ""},
	)
	runSteps(t, c, steps)
}

// https://docs.aws.amazon.com/organizations/latest/APIReference/API_InviteAccountToOrganization.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListHandshakesForOrganization.html
func TestSDKInvitations(t *testing.T) {
	c, s := sdkClient(t, 5)
	invite := func(id string, typ types.HandshakePartyType) func(context.Context, *organizations.Client) error {
		return func(ctx context.Context, c *organizations.Client) error {
			out, err := c.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
				Target: &types.HandshakeParty{Id: aws.String(id), Type: typ}, Notes: aws.String("welcome")})
			if err == nil && (out.Handshake.State != types.HandshakeStateOpen || out.Handshake.Action != types.ActionTypeInviteAccountToOrganization) {
				return fmt.Errorf("handshake %+v, want an OPEN INVITE", out.Handshake)
			}
			return err
		}
	}
	steps := []step{
		{"inviting an account", invite("210987654321", types.HandshakePartyTypeAccount), "", ""},
		{"inviting it again while the invitation is open", invite("210987654321", types.HandshakePartyTypeAccount), "DuplicateHandshakeException", ""},
		{"inviting by email", invite("someone@example.org", types.HandshakePartyTypeEmail), "", ""},
		{"inviting a member", invite(member(s, 0), types.HandshakePartyTypeAccount), "HandshakeConstraintViolationException", "ALREADY_IN_AN_ORGANIZATION"},
		{"inviting an organization", invite("o-abcdefghij", types.HandshakePartyTypeOrganization), "InvalidInputException", "INVALID_PARTY_TYPE_TARGET"},
		{"inviting a malformed email", invite("no-at-sign", types.HandshakePartyTypeEmail), "InvalidInputException", "INVALID_EMAIL_ADDRESS_TARGET"},
	}
	for i := range 18 {
		steps = append(steps, step{fmt.Sprintf("invitation %d of the day", i+3), invite(fmt.Sprintf("2100000000%02d", i), types.HandshakePartyTypeAccount), "", ""})
	}
	steps = append(steps, step{"the 21st invitation of the day", invite("219999999999", types.HandshakePartyTypeAccount), "HandshakeConstraintViolationException", "HANDSHAKE_RATE_LIMIT_EXCEEDED"})
	runSteps(t, c, steps)

	var all []types.Handshake
	p := organizations.NewListHandshakesForOrganizationPaginator(c, &organizations.ListHandshakesForOrganizationInput{
		Filter: &types.HandshakeFilter{ActionType: types.ActionTypeInviteAccountToOrganization}, MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.Handshakes...)
	}
	if len(all) != 20 {
		t.Errorf("ListHandshakesForOrganization (pages of 7) = %d handshakes, want 20", len(all))
	}
	_, err := c.ListHandshakesForOrganization(t.Context(), &organizations.ListHandshakesForOrganizationInput{
		Filter: &types.HandshakeFilter{ActionType: types.ActionTypeInviteAccountToOrganization, ParentHandshakeId: aws.String("h-0000000000")}})
	if code, _ := codeReason(err); code != "InvalidInputException" {
		t.Errorf("a filter with both ActionType and ParentHandshakeId: %v, want InvalidInputException", err)
	}
}

// Issue 17: CreatePolicy with an empty Description is valid, as in AWS
// (PolicyDescription has no minimum length; Terraform sends "").
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreatePolicy.html
func TestSDKCreatePolicyWithAnEmptyDescription(t *testing.T) {
	c, _ := sdkClient(t, 5)
	out, err := c.CreatePolicy(t.Context(), &organizations.CreatePolicyInput{Name: aws.String("no-description"), Description: aws.String(""),
		Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatalf("CreatePolicy with Description \"\": %v", err)
	}
	if d := aws.ToString(out.Policy.PolicySummary.Description); d != "" {
		t.Errorf("description = %q, want empty", d)
	}
}
