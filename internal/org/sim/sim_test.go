package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/atomicfile"
	"github.com/orgguard/orgguard/internal/org"
)

const (
	rootID   = "r-test"
	ouWork   = "ou-test-aaaaaaaa" // Workloads, under the root
	ouEmpty  = "ou-test-bbbbbbbb" // Empty, under the root
	acctWork = "111111111111"     // in Workloads
	acctMgmt = "999999999999"     // at the root
	scpDeny  = "p-denyall0"       // customer SCP, attached nowhere
	rcpDeny  = "p-rcpdeny0"       // customer RCP, attached nowhere
)

var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// testSnapshot is a small organization with SCPs and RCPs enabled and the
// default policies attached everywhere.
func testSnapshot() *org.Snapshot {
	s := &org.Snapshot{
		FormatVersion: org.FormatVersion,
		Organization:  org.Organization{ID: "o-testtestte", FeatureSet: "ALL", ManagementAccountID: acctMgmt},
		Root: org.Root{ID: rootID, Name: "Root", PolicyTypes: []org.PolicyTypeStatus{
			{Type: org.ServiceControlPolicy, Status: org.PolicyTypeEnabled},
			{Type: org.ResourceControlPolicy, Status: org.PolicyTypeEnabled},
		}},
		OUs: []org.OU{
			{ID: ouWork, Name: "Workloads", ParentID: rootID},
			{ID: ouEmpty, Name: "Empty", ParentID: rootID},
		},
		Accounts: []org.Account{
			{ID: acctWork, Name: "work", Email: "work@example.com", Status: org.AccountActive, ParentID: ouWork},
			{ID: acctMgmt, Name: "management", Email: "mgmt@example.com", Status: org.AccountActive, ParentID: rootID},
		},
		Policies: []org.Policy{
			org.FullAWSAccessPolicy(), org.RCPFullAWSAccessPolicy(),
			{ID: scpDeny, Name: "deny-all", Type: org.ServiceControlPolicy, Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`},
			{ID: rcpDeny, Name: "rcp-deny", Type: org.ResourceControlPolicy, Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`},
		},
	}
	for _, t := range []string{rootID, ouWork, ouEmpty, acctWork, acctMgmt} {
		s.Attachments = append(s.Attachments,
			org.Attachment{PolicyID: org.FullAWSAccessID, TargetID: t},
			org.Attachment{PolicyID: org.RCPFullAWSAccessID, TargetID: t})
	}
	s.Normalize()
	return s
}

func testOptions(path string) Options {
	return Options{StatePath: path, Now: func() time.Time { return fixedNow }, IDs: rand.New(rand.NewPCG(1, 2))}
}

func newTestOrg(t testing.TB) *Org {
	t.Helper()
	o, err := New(testSnapshot(), testOptions(filepath.Join(t.TempDir(), "state.json")))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func policyContent(sid string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"` + sid + `","Effect":"Deny","Action":"ec2:*","Resource":"*"}]}`
}

// mustCreateSCP creates a customer SCP named name.
func mustCreateSCP(t *testing.T, o *Org, name string) string {
	t.Helper()
	p, err := o.CreatePolicy(context.Background(), org.PolicySpec{Name: name, Type: org.ServiceControlPolicy, Content: policyContent(strings.ReplaceAll(name, "-", ""))})
	if err != nil {
		t.Fatalf("CreatePolicy(%s): %v", name, err)
	}
	return p.ID
}

// TestConstraints pins one AWS rule per row: the operation must fail with
// the error code (and reason) AWS documents, and leave the organization
// unchanged.
func TestConstraints(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		doc        string
		setup      func(t *testing.T, o *Org)
		op         func(o *Org) error
		wantCode   string
		wantReason string
	}{
		{
			name:     "attaching an unknown policy fails with PolicyNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html",
			op:       func(o *Org) error { return o.AttachPolicy(ctx, "p-nosuchp0", ouWork) },
			wantCode: org.CodePolicyNotFound,
		},
		{
			name:     "attaching to an unknown target fails with TargetNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html",
			op:       func(o *Org) error { return o.AttachPolicy(ctx, scpDeny, "ou-test-zzzzzzzz") },
			wantCode: org.CodeTargetNotFound,
		},
		{
			name:     "attaching a policy twice fails with DuplicatePolicyAttachmentException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html",
			op:       func(o *Org) error { return o.AttachPolicy(ctx, org.FullAWSAccessID, ouWork) },
			wantCode: org.CodeDuplicatePolicyAttachment,
		},
		{
			name: "a sixth SCP on one target fails with MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
			doc:  "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html",
			setup: func(t *testing.T, o *Org) {
				for i := range 4 { // FullAWSAccess + 4 = 5
					if err := o.AttachPolicy(ctx, mustCreateSCP(t, o, fmt.Sprintf("extra-%d", i)), ouWork); err != nil {
						t.Fatal(err)
					}
				}
			},
			op:         func(o *Org) error { return o.AttachPolicy(ctx, scpDeny, ouWork) },
			wantCode:   org.CodeConstraintViolation,
			wantReason: org.ReasonMaxPolicyTypeAttachment,
		},
		{
			name: "a sixth RCP on one target fails with MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
			doc:  "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html",
			setup: func(t *testing.T, o *Org) {
				for i := range 4 { // RCPFullAWSAccess + 4 = 5
					p, err := o.CreatePolicy(ctx, org.PolicySpec{Name: fmt.Sprintf("rcp-%d", i), Type: org.ResourceControlPolicy,
						Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"*"}]}`})
					if err != nil {
						t.Fatal(err)
					}
					if err := o.AttachPolicy(ctx, p.ID, ouWork); err != nil {
						t.Fatal(err)
					}
				}
			},
			op:         func(o *Org) error { return o.AttachPolicy(ctx, rcpDeny, ouWork) },
			wantCode:   org.CodeConstraintViolation,
			wantReason: org.ReasonMaxPolicyTypeAttachment,
		},
		{
			name:       "detaching the last SCP fails with MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
			doc:        "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html",
			op:         func(o *Org) error { return o.DetachPolicy(ctx, org.FullAWSAccessID, acctWork) },
			wantCode:   org.CodeConstraintViolation,
			wantReason: org.ReasonMinPolicyTypeAttachment,
		},
		{
			name:     "detaching a policy that is not attached fails with PolicyNotAttachedException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html",
			op:       func(o *Org) error { return o.DetachPolicy(ctx, scpDeny, ouWork) },
			wantCode: org.CodePolicyNotAttached,
		},
		{
			name:       "RCPFullAWSAccess cannot be detached",
			doc:        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html",
			op:         func(o *Org) error { return o.DetachPolicy(ctx, org.RCPFullAWSAccessID, ouWork) },
			wantCode:   org.CodeConstraintViolation,
			wantReason: org.ReasonMinPolicyTypeAttachment,
		},
		{
			name: "attaching a policy of a disabled type fails with PolicyTypeNotEnabledException",
			doc:  "https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html",
			setup: func(t *testing.T, o *Org) {
				if err := o.DisablePolicyType(ctx, rootID, org.ResourceControlPolicy); err != nil {
					t.Fatal(err)
				}
			},
			op:       func(o *Org) error { return o.AttachPolicy(ctx, rcpDeny, ouWork) },
			wantCode: org.CodePolicyTypeNotEnabled,
		},
		{
			name: "a sixth level of OUs fails with OU_DEPTH_LIMIT_EXCEEDED",
			doc:  "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html",
			setup: func(t *testing.T, o *Org) {
				parent := ouWork // depth 1
				for i := 2; i <= 5; i++ {
					u, err := o.CreateOU(ctx, parent, fmt.Sprintf("level-%d", i))
					if err != nil {
						t.Fatalf("creating OU at depth %d: %v", i, err)
					}
					parent = u.ID
				}
			},
			op: func(o *Org) error {
				deepest := ""
				for id := range o.ous {
					if o.depth(id) == 5 {
						deepest = id
					}
				}
				_, err := o.CreateOU(ctx, deepest, "level-6")
				return err
			},
			wantCode:   org.CodeConstraintViolation,
			wantReason: org.ReasonOUDepth,
		},
		{
			name:     "an OU name already used under the parent fails with DuplicateOrganizationalUnitException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateOrganizationalUnit.html",
			op:       func(o *Org) error { _, err := o.CreateOU(ctx, rootID, "Workloads"); return err },
			wantCode: org.CodeDuplicateOrganizationalUnit,
		},
		{
			name:     "renaming an OU to a sibling's name fails with DuplicateOrganizationalUnitException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_UpdateOrganizationalUnit.html",
			op:       func(o *Org) error { _, err := o.UpdateOrganizationalUnit(ctx, ouEmpty, "Workloads"); return err },
			wantCode: org.CodeDuplicateOrganizationalUnit,
		},
		{
			name:     "creating an OU under an unknown parent fails with ParentNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateOrganizationalUnit.html",
			op:       func(o *Org) error { _, err := o.CreateOU(ctx, "ou-test-zzzzzzzz", "x"); return err },
			wantCode: org.CodeParentNotFound,
		},
		{
			name:     "deleting an OU that holds accounts fails with OrganizationalUnitNotEmptyException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeleteOrganizationalUnit.html",
			op:       func(o *Org) error { return o.DeleteOU(ctx, ouWork) },
			wantCode: org.CodeOrganizationalUnitNotEmpty,
		},
		{
			name:     "deleting an unknown OU fails with OrganizationalUnitNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeleteOrganizationalUnit.html",
			op:       func(o *Org) error { return o.DeleteOU(ctx, "ou-test-zzzzzzzz") },
			wantCode: org.CodeOrganizationalUnitNotFound,
		},
		{
			name: "an SCP longer than 5,120 characters fails with POLICY_CONTENT_LIMIT_EXCEEDED",
			doc:  "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html",
			op: func(o *Org) error {
				big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("A", 5100) + `","Effect":"Deny","Action":"*","Resource":"*"}]}`
				_, err := o.CreatePolicy(ctx, org.PolicySpec{Name: "big", Type: org.ServiceControlPolicy, Content: big})
				return err
			},
			wantCode:   org.CodeConstraintViolation,
			wantReason: org.ReasonPolicyContent,
		},
		{
			name: "growing an SCP past 5,120 characters fails with POLICY_CONTENT_LIMIT_EXCEEDED",
			doc:  "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html",
			op: func(o *Org) error {
				big := strings.Repeat(" ", 5121)
				_, err := o.UpdatePolicy(ctx, scpDeny, org.PolicyUpdate{Content: &big})
				return err
			},
			wantCode:   org.CodeConstraintViolation,
			wantReason: org.ReasonPolicyContent,
		},
		{
			name: "a policy that is not JSON fails with MalformedPolicyDocumentException",
			doc:  "https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreatePolicy.html",
			op: func(o *Org) error {
				_, err := o.CreatePolicy(ctx, org.PolicySpec{Name: "bad", Type: org.ServiceControlPolicy, Content: `{"Version": "2012-10-17", "Statement": [`})
				return err
			},
			wantCode: org.CodeMalformedPolicyDocument,
		},
		{
			name: "a customer RCP with an Allow statement fails with MalformedPolicyDocumentException",
			doc:  "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html",
			op: func(o *Org) error {
				_, err := o.CreatePolicy(ctx, org.PolicySpec{Name: "allow", Type: org.ResourceControlPolicy,
					Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`})
				return err
			},
			wantCode: org.CodeMalformedPolicyDocument,
		},
		{
			name: "a second policy with the same name and type fails with DuplicatePolicyException",
			doc:  "https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreatePolicy.html",
			op: func(o *Org) error {
				_, err := o.CreatePolicy(ctx, org.PolicySpec{Name: "deny-all", Type: org.ServiceControlPolicy, Content: policyContent("x")})
				return err
			},
			wantCode: org.CodeDuplicatePolicy,
		},
		{
			name: "an AWS-managed policy cannot be updated (IMMUTABLE_POLICY)",
			doc:  "https://docs.aws.amazon.com/organizations/latest/APIReference/API_UpdatePolicy.html",
			op: func(o *Org) error {
				n := "mine"
				_, err := o.UpdatePolicy(ctx, org.FullAWSAccessID, org.PolicyUpdate{Name: &n})
				return err
			},
			wantCode:   org.CodeInvalidInput,
			wantReason: org.ReasonImmutablePolicy,
		},
		{
			name:       "an AWS-managed policy cannot be deleted (IMMUTABLE_POLICY)",
			doc:        "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeletePolicy.html",
			op:         func(o *Org) error { return o.DeletePolicy(ctx, org.FullAWSAccessID) },
			wantCode:   org.CodeInvalidInput,
			wantReason: org.ReasonImmutablePolicy,
		},
		{
			name: "deleting an attached policy fails with PolicyInUseException",
			doc:  "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeletePolicy.html",
			setup: func(t *testing.T, o *Org) {
				if err := o.AttachPolicy(ctx, scpDeny, ouEmpty); err != nil {
					t.Fatal(err)
				}
			},
			op:       func(o *Org) error { return o.DeletePolicy(ctx, scpDeny) },
			wantCode: org.CodePolicyInUse,
		},
		{
			name:     "deleting an unknown policy fails with PolicyNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeletePolicy.html",
			op:       func(o *Org) error { return o.DeletePolicy(ctx, "p-nosuchp0") },
			wantCode: org.CodePolicyNotFound,
		},
		{
			name:     "moving an unknown account fails with AccountNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html",
			op:       func(o *Org) error { return o.MoveAccount(ctx, "123123123123", ouWork, ouEmpty) },
			wantCode: org.CodeAccountNotFound,
		},
		{
			name:     "moving from an unknown source fails with SourceParentNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html",
			op:       func(o *Org) error { return o.MoveAccount(ctx, acctWork, "ou-test-zzzzzzzz", ouEmpty) },
			wantCode: org.CodeSourceParentNotFound,
		},
		{
			name:     "moving to an unknown destination fails with DestinationParentNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html",
			op:       func(o *Org) error { return o.MoveAccount(ctx, acctWork, ouWork, "ou-test-zzzzzzzz") },
			wantCode: org.CodeDestinationParentNotFound,
		},
		{
			name:     "moving from a parent that does not hold the account fails with AccountNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html",
			op:       func(o *Org) error { return o.MoveAccount(ctx, acctWork, ouEmpty, rootID) },
			wantCode: org.CodeAccountNotFound,
		},
		{
			name:     "moving an account to where it is fails with DuplicateAccountException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html",
			op:       func(o *Org) error { return o.MoveAccount(ctx, acctWork, ouWork, ouWork) },
			wantCode: org.CodeDuplicateAccount,
		},
		{
			name:     "enabling an enabled policy type fails with PolicyTypeAlreadyEnabledException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_EnablePolicyType.html",
			op:       func(o *Org) error { return o.EnablePolicyType(ctx, rootID, org.ServiceControlPolicy) },
			wantCode: org.CodePolicyTypeAlreadyEnabled,
		},
		{
			name: "disabling a disabled policy type fails with PolicyTypeNotEnabledException",
			doc:  "https://docs.aws.amazon.com/organizations/latest/APIReference/API_DisablePolicyType.html",
			setup: func(t *testing.T, o *Org) {
				if err := o.DisablePolicyType(ctx, rootID, org.ResourceControlPolicy); err != nil {
					t.Fatal(err)
				}
			},
			op:       func(o *Org) error { return o.DisablePolicyType(ctx, rootID, org.ResourceControlPolicy) },
			wantCode: org.CodePolicyTypeNotEnabled,
		},
		{
			name:     "enabling a policy type on an unknown root fails with RootNotFoundException",
			doc:      "https://docs.aws.amazon.com/organizations/latest/APIReference/API_EnablePolicyType.html",
			op:       func(o *Org) error { return o.EnablePolicyType(ctx, "r-zzzz", org.ServiceControlPolicy) },
			wantCode: org.CodeRootNotFound,
		},
		{
			name: "an OU name longer than 128 characters fails with InvalidInputException",
			doc:  "https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateOrganizationalUnit.html",
			op: func(o *Org) error {
				_, err := o.CreateOU(ctx, rootID, strings.Repeat("n", 129))
				return err
			},
			wantCode:   org.CodeInvalidInput,
			wantReason: org.ReasonMaxLengthExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOrg(t)
			if tt.setup != nil {
				tt.setup(t, o)
			}
			before := fingerprint(t, o)
			beforeFile, _ := os.ReadFile(o.opts.StatePath)
			err := tt.op(o)
			var ae *org.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v, want an *org.APIError %s (%s)", err, tt.wantCode, tt.doc)
			}
			if ae.Code != tt.wantCode || ae.Reason != tt.wantReason {
				t.Errorf("error = %s (%s), want %s (%s); see %s", ae.Code, ae.Reason, tt.wantCode, tt.wantReason, tt.doc)
			}
			if ae.Message == "" {
				t.Error("error has no message")
			}
			if after := fingerprint(t, o); after != before {
				t.Error("a failed operation changed the organization")
			}
			afterFile, _ := os.ReadFile(o.opts.StatePath)
			if string(afterFile) != string(beforeFile) {
				t.Error("a failed operation rewrote the state file")
			}
		})
	}
}

func fingerprint(t testing.TB, o *Org) string {
	t.Helper()
	s, err := o.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Fingerprint
}

func snapIndex(t *testing.T, o *Org) *org.Index {
	t.Helper()
	s, err := o.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x, err := org.NewIndex(s)
	if err != nil {
		t.Fatalf("the simulator's snapshot is invalid: %v", err)
	}
	return x
}

func policyNames(ps []org.Policy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestDefaultPolicies(t *testing.T) {
	ctx := context.Background()
	// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
	t.Run("a new OU gets FullAWSAccess and RCPFullAWSAccess", func(t *testing.T) {
		o := newTestOrg(t)
		u, err := o.CreateOU(ctx, ouWork, "Team")
		if err != nil {
			t.Fatal(err)
		}
		if !org.IsOUID(u.ID) || !strings.HasPrefix(u.ID, "ou-test-") {
			t.Errorf("new OU ID %q is not shaped like ou-<root>-<suffix>", u.ID)
		}
		got := policyNames(snapIndex(t, o).PoliciesAttached(u.ID, ""))
		if diff := cmp.Diff(got, []string{"FullAWSAccess", "RCPFullAWSAccess"}); diff != "" {
			t.Errorf("policies on a new OU (-got +want):\n%s", diff)
		}
	})
	t.Run("a new account gets the defaults of the enabled types only", func(t *testing.T) {
		o := newTestOrg(t)
		if err := o.DisablePolicyType(ctx, rootID, org.ResourceControlPolicy); err != nil {
			t.Fatal(err)
		}
		a, err := o.AddAccount(ctx, "new", "new@example.com", ouWork)
		if err != nil {
			t.Fatal(err)
		}
		if !org.IsAccountID(a.ID) {
			t.Errorf("new account ID %q is not 12 digits", a.ID)
		}
		got := policyNames(snapIndex(t, o).PoliciesAttached(a.ID, ""))
		if diff := cmp.Diff(got, []string{"FullAWSAccess"}); diff != "" {
			t.Errorf("policies on a new account (-got +want):\n%s", diff)
		}
	})
	t.Run("disabling a type detaches every policy of that type", func(t *testing.T) {
		o := newTestOrg(t)
		if err := o.AttachPolicy(ctx, rcpDeny, ouWork); err != nil {
			t.Fatal(err)
		}
		if err := o.DisablePolicyType(ctx, rootID, org.ResourceControlPolicy); err != nil {
			t.Fatal(err)
		}
		s, _ := o.Snapshot(ctx)
		for _, a := range s.Attachments {
			if a.PolicyID == rcpDeny || a.PolicyID == org.RCPFullAWSAccessID {
				t.Errorf("RCP %s still attached to %s", a.PolicyID, a.TargetID)
			}
		}
		if s.Root.PolicyTypeEnabled(org.ResourceControlPolicy) {
			t.Error("RCPs still enabled")
		}
	})
	t.Run("enabling a type attaches its default policy everywhere", func(t *testing.T) {
		o := newTestOrg(t)
		if err := o.DisablePolicyType(ctx, rootID, org.ServiceControlPolicy); err != nil {
			t.Fatal(err)
		}
		if err := o.EnablePolicyType(ctx, rootID, org.ServiceControlPolicy); err != nil {
			t.Fatal(err)
		}
		targets, err := o.ListTargetsForPolicy(ctx, org.FullAWSAccessID)
		if err != nil {
			t.Fatal(err)
		}
		if len(targets) != 5 {
			t.Errorf("FullAWSAccess is on %d targets, want 5 (root, 2 OUs, 2 accounts)", len(targets))
		}
	})
	t.Run("an allow-list replaces FullAWSAccess once attached", func(t *testing.T) {
		// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html
		o := newTestOrg(t)
		allow, err := o.CreatePolicy(ctx, org.PolicySpec{Name: "allow-s3", Type: org.ServiceControlPolicy,
			Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.AttachPolicy(ctx, allow.ID, ouWork); err != nil {
			t.Fatal(err)
		}
		if err := o.DetachPolicy(ctx, org.FullAWSAccessID, ouWork); err != nil {
			t.Errorf("DetachPolicy(FullAWSAccess) with another SCP attached: %v", err)
		}
	})
}

func TestWritesArePersisted(t *testing.T) {
	ctx := context.Background()
	o := newTestOrg(t)
	if err := o.MoveAccount(ctx, acctWork, ouWork, ouEmpty); err != nil {
		t.Fatal(err)
	}
	u, err := o.CreateOU(ctx, ouEmpty, "Team")
	if err != nil {
		t.Fatal(err)
	}
	if err := o.AttachPolicy(ctx, scpDeny, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := o.TagResource(ctx, acctWork, map[string]string{"Owner": "team"}); err != nil {
		t.Fatal(err)
	}
	want := fingerprint(t, o)
	again, err := Open(Options{StatePath: o.opts.StatePath})
	if err != nil {
		t.Fatal(err)
	}
	if got := fingerprint(t, again); got != want {
		t.Errorf("reopened state fingerprint = %s, want %s", got, want)
	}
	a, err := again.DescribeAccount(ctx, acctWork)
	if err != nil || a.ParentID != ouEmpty || a.Tags["Owner"] != "team" {
		t.Errorf("DescribeAccount after reopening = %+v, %v; want parent %s and tag Owner=team", a, err, ouEmpty)
	}
}

func TestCorruptStateIsReportedAndKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	o, err := New(testSnapshot(), testOptions(path))
	if err != nil {
		t.Fatal(err)
	}
	_ = o
	good, _ := os.ReadFile(path)
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{"a truncated state file (a crash without atomic writes) is reported", good[:len(good)*2/3], "truncated"},
		{"garbage is reported", []byte("not json"), "malformed JSON"},
		{"a state with a dangling parent is reported", []byte(strings.Replace(string(good), `"parentId":"`+ouWork+`"`, `"parentId":"ou-test-gone0000"`, 1)), "parentId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(Options{StatePath: path})
			if err == nil {
				t.Fatal("Open of a corrupt state succeeded")
			}
			if !errors.Is(err, org.ErrInvalidSnapshot) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error = %q; want ErrInvalidSnapshot naming %s and %q", err, path, tt.want)
			}
			_, err = OpenOrCreate(Options{StatePath: path}, func() (*org.Snapshot, error) { return testSnapshot(), nil })
			if err == nil {
				t.Error("OpenOrCreate replaced a corrupt state")
			}
			after, _ := os.ReadFile(path)
			if string(after) != string(tt.content) {
				t.Error("the corrupt state file was modified")
			}
		})
	}
}

func TestLeftoverTempFileIsIgnoredAndCleaned(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if _, err := New(testSnapshot(), testOptions(path)); err != nil {
		t.Fatal(err)
	}
	// A crash between creating the temporary file and renaming it leaves a
	// partial file next to the state.
	tmp := path + atomicfile.TempSuffix + "999"
	if err := os.WriteFile(tmp, []byte(`{"formatVersion":1,"root":`), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := Open(Options{StatePath: path})
	if err != nil {
		t.Fatalf("Open with a leftover temporary file: %v", err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file still there: %v", err)
	}
	if _, err := o.DescribeAccount(context.Background(), acctWork); err != nil {
		t.Errorf("the state read is not the saved one: %v", err)
	}
}

func TestFailedSaveRollsBack(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	o, err := New(testSnapshot(), testOptions(filepath.Join(dir, "state.json")))
	if err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, o)
	if err := os.RemoveAll(dir); err != nil { // saving now fails
		t.Fatal(err)
	}
	err = o.AttachPolicy(ctx, scpDeny, ouWork)
	var ae *org.APIError
	if !errors.As(err, &ae) || ae.Code != org.CodeService {
		t.Fatalf("AttachPolicy with an unwritable state = %v, want ServiceException", err)
	}
	if got := fingerprint(t, o); got != before {
		t.Error("a change that could not be saved stayed in memory")
	}
	if _, err := o.CreateOU(ctx, rootID, "x"); err == nil {
		t.Error("CreateOU with an unwritable state succeeded")
	}
	if got := fingerprint(t, o); got != before {
		t.Error("an OU that could not be saved stayed in memory")
	}
}

func TestDeterministicIDs(t *testing.T) {
	ctx := context.Background()
	ids := func() []string {
		o, err := New(testSnapshot(), Options{IDs: rand.New(rand.NewPCG(7, 7))})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := o.CreateOU(ctx, rootID, "A")
		p, _ := o.CreatePolicy(ctx, org.PolicySpec{Name: "x", Type: org.ServiceControlPolicy, Content: policyContent("x")})
		a, _ := o.AddAccount(ctx, "n", "n@example.com", rootID)
		return []string{u.ID, p.ID, a.ID}
	}
	first, second := ids(), ids()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("IDs from the same seed differ (-first +second):\n%s", diff)
	}
	if !org.IsPolicyID(first[1]) {
		t.Errorf("policy ID %q is not shaped like p-xxxxxxxx", first[1])
	}
}

func TestReadOperations(t *testing.T) {
	ctx := context.Background()
	o := newTestOrg(t)
	t.Run("ListChildren lists OUs and accounts separately", func(t *testing.T) {
		ous, err := o.ListChildren(ctx, rootID, TypeOU)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ous, []Child{{ouWork, TypeOU}, {ouEmpty, TypeOU}}); diff != "" {
			t.Errorf("OU children (-got +want):\n%s", diff)
		}
		accts, _ := o.ListChildren(ctx, rootID, TypeAccount)
		if diff := cmp.Diff(accts, []Child{{acctMgmt, TypeAccount}}); diff != "" {
			t.Errorf("account children (-got +want):\n%s", diff)
		}
		if _, err := o.ListChildren(ctx, "ou-test-zzzzzzzz", TypeOU); !errors.Is(err, org.ErrNotFound) {
			t.Errorf("ListChildren(unknown) error = %v, want not found", err)
		}
	})
	t.Run("ListParents names the parent and its type", func(t *testing.T) {
		p, err := o.ListParents(ctx, acctWork)
		if err != nil || len(p) != 1 || p[0] != (Parent{ouWork, TypeOU}) {
			t.Errorf("ListParents(work) = %v, %v", p, err)
		}
		p, _ = o.ListParents(ctx, ouWork)
		if len(p) != 1 || p[0] != (Parent{rootID, TypeRoot}) {
			t.Errorf("ListParents(Workloads) = %v", p)
		}
		if _, err := o.ListParents(ctx, "123123123123"); err == nil || !strings.Contains(err.Error(), org.CodeChildNotFound) {
			t.Errorf("ListParents(unknown) error = %v, want ChildNotFoundException", err)
		}
	})
	t.Run("ListPoliciesForTarget returns direct attachments of one type", func(t *testing.T) {
		ps, err := o.ListPoliciesForTarget(ctx, acctWork, org.ServiceControlPolicy)
		if err != nil || len(ps) != 1 || ps[0].ID != org.FullAWSAccessID {
			t.Errorf("ListPoliciesForTarget(work, SCP) = %v, %v", ps, err)
		}
	})
	t.Run("ListPolicies filters by type", func(t *testing.T) {
		ps, _ := o.ListPolicies(ctx, org.ResourceControlPolicy)
		if diff := cmp.Diff(policyNames(ps), []string{"RCPFullAWSAccess", "rcp-deny"}); diff != "" {
			t.Errorf("ListPolicies(RCP) (-got +want):\n%s", diff)
		}
	})
	t.Run("tags can be added, listed and removed", func(t *testing.T) {
		if err := o.TagResource(ctx, ouWork, map[string]string{"a": "1", "b": "2"}); err != nil {
			t.Fatal(err)
		}
		if err := o.UntagResource(ctx, ouWork, []string{"a"}); err != nil {
			t.Fatal(err)
		}
		got, _ := o.ListTagsForResource(ctx, ouWork)
		if diff := cmp.Diff(got, map[string]string{"b": "2"}); diff != "" {
			t.Errorf("tags (-got +want):\n%s", diff)
		}
		if err := o.TagResource(ctx, org.FullAWSAccessID, map[string]string{"a": "1"}); err == nil {
			t.Error("tagging an AWS-managed policy succeeded")
		}
	})
	t.Run("DescribeOrganization returns the management account", func(t *testing.T) {
		d, _ := o.DescribeOrganization(ctx)
		if d.ManagementAccountID != acctMgmt {
			t.Errorf("management account = %s", d.ManagementAccountID)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	o := newTestOrg(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				if i%2 == 0 {
					_, _ = o.CreateOU(ctx, ouEmpty, fmt.Sprintf("ou-%d-%d", i, j))
				} else {
					_ = o.AttachPolicy(ctx, scpDeny, ouWork)
					_ = o.DetachPolicy(ctx, scpDeny, ouWork)
					_, _ = o.Snapshot(ctx)
				}
			}
		}()
	}
	wg.Wait()
	x := snapIndex(t, o)
	if n := len(x.OUsUnder(ouEmpty)); n != 20 {
		t.Errorf("OUs created concurrently = %d, want 20", n)
	}
	reopened, err := Open(Options{StatePath: o.opts.StatePath})
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(t, reopened) != fingerprint(t, o) {
		t.Error("the saved state differs from memory after concurrent writes")
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := newTestOrg(t)
	if err := o.AttachPolicy(ctx, scpDeny, ouWork); !errors.Is(err, context.Canceled) {
		t.Errorf("AttachPolicy with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestAttachmentSetsMirrorEachOther checks after every operation of a
// random sequence that the two views of the attachments — target to
// policies and policy to targets — hold the same pairs (Snapshot writes
// the attachments from the second).
func TestAttachmentSetsMirrorEachOther(t *testing.T) {
	ctx := context.Background()
	o := newTestOrg(t)
	r := rand.New(rand.NewPCG(3, 4))
	scp := mustCreateSCP(t, o, "deny-ec2")
	ou, err := o.CreateOU(ctx, rootID, "Extra")
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{rootID, ouWork, ouEmpty, ou.ID, acctWork}
	policies := []string{scp, scpDeny, rcpDeny, org.FullAWSAccessID}
	ops := []func() error{
		func() error { return o.AttachPolicy(ctx, pick(r, policies), pick(r, targets)) },
		func() error { return o.DetachPolicy(ctx, pick(r, policies), pick(r, targets)) },
		func() error { return o.DisablePolicyType(ctx, rootID, org.ResourceControlPolicy) },
		func() error { return o.EnablePolicyType(ctx, rootID, org.ResourceControlPolicy) },
		func() error { return o.MoveAccount(ctx, acctWork, pick(r, targets[:4]), pick(r, targets[:4])) },
		func() error {
			_, err := o.CreateAccount(ctx, AccountSpec{Name: fmt.Sprintf("new-%d", r.IntN(1000)), Email: fmt.Sprintf("new%d@example.com", r.IntN(1000))})
			return err
		},
	}
	for i := range 300 {
		_ = ops[r.IntN(len(ops))]() // AWS's refusals are part of the sequence
		o.mu.RLock()
		for tid, ps := range o.attached {
			for pid := range ps {
				if !o.targets[pid][tid] {
					t.Fatalf("step %d: %s is attached to %s, but %s's targets lack it", i, pid, tid, pid)
				}
			}
		}
		for pid, ts := range o.targets {
			for tid := range ts {
				if !o.attached[tid][pid] {
					t.Fatalf("step %d: %s lists target %s, which does not list it", i, pid, tid)
				}
			}
		}
		o.mu.RUnlock()
	}
	s, err := o.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := org.Validate(s); err != nil {
		t.Fatalf("the snapshot after the sequence is invalid: %v", err)
	}
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// TestSharedTagMapsAreNeverChanged: an organization made FromIndex shares
// the snapshot's tag maps, and SnapshotShared shares the organization's;
// tag writes must replace maps, never change them, so neither the base
// nor an earlier snapshot sees a later write.
func TestSharedTagMapsAreNeverChanged(t *testing.T) {
	ctx := context.Background()
	base := testSnapshot()
	base.Accounts[0].Tags = map[string]string{"env": "prod"}
	base.OUs[0].Tags = map[string]string{"tier": "gold"}
	base.Root.Tags = map[string]string{"org": "test"}
	o, err := FromIndex(org.MustIndex(base), Options{IDs: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	before, err := o.SnapshotShared(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{acctWork, ouWork, rootID} {
		if err := o.TagResource(ctx, id, map[string]string{"env": "test", "new": "x"}); err != nil {
			t.Fatalf("TagResource(%s): %v", id, err)
		}
		if err := o.UntagResource(ctx, id, []string{"tier", "org"}); err != nil {
			t.Fatalf("UntagResource(%s): %v", id, err)
		}
	}
	want := map[string]map[string]string{acctWork: {"env": "prod"}, ouWork: {"tier": "gold"}, rootID: {"org": "test"}}
	for name, s := range map[string]*org.Snapshot{"the base": base, "the earlier snapshot": before} {
		got := map[string]map[string]string{rootID: s.Root.Tags}
		for _, a := range s.Accounts {
			if a.ID == acctWork {
				got[acctWork] = a.Tags
			}
		}
		for _, u := range s.OUs {
			if u.ID == ouWork {
				got[ouWork] = u.Tags
			}
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("tags of %s changed after tag writes (-got +want):\n%s", name, diff)
		}
	}
	after, err := o.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range after.Accounts {
		if a.ID == acctWork && (a.Tags["env"] != "test" || a.Tags["new"] != "x") {
			t.Errorf("account tags after the writes = %v, want env=test and new=x", a.Tags)
		}
	}
}
