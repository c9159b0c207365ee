package change

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
)

func testOrg(t *testing.T, accounts int) *org.Snapshot {
	t.Helper()
	s, err := generate.Organization(generate.Options{Accounts: accounts, Seed: 1})
	if err != nil {
		t.Fatalf("generate.Organization: %v", err)
	}
	return s
}

// firstAccountUnder returns an account directly under the OU at path.
func firstAccountUnder(t *testing.T, s *org.Snapshot, path string) org.Node {
	t.Helper()
	x := org.MustIndex(s)
	n, err := x.Resolve(path)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", path, err)
	}
	for _, c := range x.Children(n.ID) {
		if c.Kind == org.KindAccount {
			return c
		}
	}
	t.Fatalf("no account directly under %s", path)
	return org.Node{}
}

func fingerprint(t *testing.T, s *org.Snapshot) string {
	t.Helper()
	return org.ComputeFingerprint(s)
}

// TestPlanInversesRestoreTheOrganization runs every kind of operation on a
// simulated organization, then its recorded inverses in reverse order, and
// checks that the organization is exactly as before.
func TestPlanInversesRestoreTheOrganization(t *testing.T) {
	base := testOrg(t, 60)
	acct := firstAccountUnder(t, base, "/Infrastructure")
	acct2 := firstAccountUnder(t, base, "/Sandbox")
	tests := []struct {
		name string
		ops  []Operation
	}{
		{"attach the deny-all SCP to Root", []Operation{{Op: OpAttachPolicy, Policy: "deny-all", Target: "Root"}}},
		{"detach a guardrail from its OU", []Operation{{Op: OpDetachPolicy, Policy: "deny-leave-organization", Target: "Root"}}},
		{"create a policy and attach it to an OU", []Operation{
			{Op: OpCreatePolicy, Name: "deny-s3", Type: "SCP", Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`},
			{Op: OpAttachPolicy, Policy: "deny-s3", Target: "/Sandbox"},
		}},
		{"update a policy's content", []Operation{{Op: OpUpdatePolicy, Policy: "deny-ai-services",
			Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"bedrock:*","Resource":"*"}]}`}}},
		{"delete an attached policy", []Operation{{Op: OpDeletePolicy, Policy: "deny-marketplace"}}},
		{"create an OU and move an account into it", []Operation{
			{Op: OpCreateOU, Parent: "Root", Name: "Staging"},
			{Op: OpMoveAccount, Accounts: []string{acct.ID}, To: "/Staging"},
		}},
		{"quarantine two accounts", []Operation{{Op: OpQuarantine, Accounts: []string{acct.ID, acct2.Name}}}},
		{"disable and keep RCPs off", []Operation{{Op: OpDisablePolicyType, Type: "RCP"}}},
	}
	ctx := context.Background()
	want := fingerprint(t, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Planner{}
			plan, err := p.Plan(ctx, base, tt.ops)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if fingerprint(t, base) != want {
				t.Fatal("Plan modified its base snapshot")
			}
			live, err := sim.New(base.Clone(), sim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			b := Bindings{}
			for i, s := range plan.Steps {
				if _, err := Run(ctx, live, s.Step, b); err != nil {
					t.Fatalf("step %d: %v", i+1, err)
				}
			}
			after, _ := live.Snapshot(ctx)
			afterPlanned := fingerprint(t, plan.After)
			if got := fingerprint(t, after); got == want {
				t.Fatalf("the steps changed nothing")
			} else if !strings.Contains(tt.name, "create") && !strings.Contains(tt.name, "quarantine") && got != afterPlanned {
				t.Errorf("live after-state fingerprint %s, planned %s", got, afterPlanned)
			}
			if err := Rollback(ctx, live, plan.Steps, len(plan.Steps), b); err != nil {
				t.Fatalf("Rollback: %v", err)
			}
			restored, _ := live.Snapshot(ctx)
			// AWS cannot re-create a deleted policy under its old ID: the
			// rollback re-creates it with a new one, bound in b.
			renameRestored(restored, b)
			if got := fingerprint(t, restored); got != want {
				d := org.Diff(org.MustIndex(base), org.MustIndex(restored))
				t.Errorf("after rollback the organization differs from before:\n%v", d)
			}
		})
	}
}

func TestQuarantineStepsAttachBeforeMoving(t *testing.T) {
	base := testOrg(t, 60)
	a1 := firstAccountUnder(t, base, "/Infrastructure")
	a2 := firstAccountUnder(t, base, "/Sandbox")
	plan, err := (&Planner{}).Plan(context.Background(), base, []Operation{{Op: OpQuarantine, Accounts: []string{a1.ID, a2.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []Kind
	for _, s := range plan.Steps {
		kinds = append(kinds, s.Kind)
	}
	want := []Kind{CreateOU, CreatePolicy, AttachPolicy, MoveAccount, MoveAccount}
	if !slices.Equal(kinds, want) {
		t.Fatalf("step kinds = %v, want %v", kinds, want)
	}
	if got := plan.Quarantined; !slices.Equal(got, []string{a1.ID, a2.ID}) {
		t.Errorf("Quarantined = %v, want %v", got, []string{a1.ID, a2.ID})
	}
	if !plan.IsQuarantine {
		t.Error("IsQuarantine = false, want true")
	}
	if plan.Steps[3].SourceParentID != a1.ParentID {
		t.Errorf("move records source %s, want %s", plan.Steps[3].SourceParentID, a1.ParentID)
	}
	x := org.MustIndex(plan.After)
	for _, a := range []org.Node{a1, a2} {
		n, _ := x.Node(a.ID)
		if n.ParentID != plan.QuarantineOU {
			t.Errorf("%s is under %s after the plan, want the quarantine OU %s", a.ID, n.ParentID, plan.QuarantineOU)
		}
	}
	// A second quarantine reuses the OU and the policy.
	a3 := firstAccountUnder(t, base, "/Security")
	again, err := (&Planner{}).Plan(context.Background(), plan.After, []Operation{{Op: OpQuarantine, Accounts: []string{a3.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Steps) != 1 || again.Steps[0].Kind != MoveAccount {
		t.Errorf("second quarantine steps = %+v, want one move", again.Steps)
	}
}

func TestPlanRefusesWhatAWSWouldReject(t *testing.T) {
	base := testOrg(t, 60)
	mgmt := base.Organization.ManagementAccountID
	tests := []struct {
		name      string
		ops       []Operation
		rejected  bool   // AWS would reject (RejectedError)
		wantInErr string // part of the message
	}{
		{"detaching the last SCP of a target", []Operation{{Op: OpDetachPolicy, Policy: "FullAWSAccess", Target: firstAccountUnder(t, base, "/Infrastructure").ID}}, true, "ConstraintViolationException"},
		{"attaching a policy already attached", []Operation{{Op: OpAttachPolicy, Policy: "FullAWSAccess", Target: "Root"}}, true, "DuplicatePolicyAttachmentException"},
		{"an unknown policy", []Operation{{Op: OpAttachPolicy, Policy: "no-such-policy", Target: "Root"}}, false, `policy "no-such-policy"`},
		{"an unknown target", []Operation{{Op: OpAttachPolicy, Policy: "deny-all", Target: "/Nope"}}, false, "/Nope"},
		{"quarantining the management account", []Operation{{Op: OpQuarantine, Accounts: []string{mgmt}}}, false, "management account"},
		{"an OU too deep", []Operation{
			{Op: OpCreateOU, Parent: "Root", Name: "L1"}, {Op: OpCreateOU, Parent: "/L1", Name: "L2"},
			{Op: OpCreateOU, Parent: "/L1/L2", Name: "L3"}, {Op: OpCreateOU, Parent: "/L1/L2/L3", Name: "L4"},
			{Op: OpCreateOU, Parent: "/L1/L2/L3/L4", Name: "L5"}, {Op: OpCreateOU, Parent: "/L1/L2/L3/L4/L5", Name: "L6"},
		}, true, "OU_DEPTH_LIMIT_EXCEEDED"},
		{"a policy over 5,120 characters", []Operation{{Op: OpCreatePolicy, Name: "big", Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("a", 5200) + `"}]}`}}, true, "POLICY_CONTENT_LIMIT_EXCEEDED"},
		{"an unknown operation", []Operation{{Op: "explode"}}, false, "unknown operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Planner{}).Plan(context.Background(), base, tt.ops)
			if err == nil {
				t.Fatal("Plan succeeded, want an error")
			}
			var re *RejectedError
			if got := errors.As(err, &re); got != tt.rejected {
				t.Errorf("RejectedError = %v, want %v (err: %v)", got, tt.rejected, err)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantInErr)
			}
		})
	}
}

// renameRestored gives re-created policies their old IDs back.
func renameRestored(s *org.Snapshot, b Bindings) {
	for k, v := range b {
		old, ok := strings.CutPrefix(k, "id:")
		if !ok {
			continue
		}
		for i := range s.Policies {
			if s.Policies[i].ID == v {
				s.Policies[i].ID = old
				s.Policies[i].ARN = strings.Replace(s.Policies[i].ARN, v, old, 1)
			}
		}
		for i := range s.Attachments {
			if s.Attachments[i].PolicyID == v {
				s.Attachments[i].PolicyID = old
			}
		}
	}
	s.Normalize()
}
