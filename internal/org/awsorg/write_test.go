package awsorg_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
)

// writeState carries IDs created by earlier steps to later ones.
type writeState struct {
	ou, deepOU, policy string
	policies           []string
}

// writeStep is one change; want is the error the step must end with (its
// code and reason), "" for success.
type writeStep struct {
	name       string
	do         func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error
	wantCode   string
	wantReason string
}

func firstMemberAccount(s *org.Snapshot) org.Account {
	for _, a := range s.Accounts {
		if a.ID != s.Organization.ManagementAccountID && a.ParentID != s.Root.ID {
			return a
		}
	}
	panic("no member account under an OU")
}

const denyLeave = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`

// writeSteps exercise every write of org.Writer, each success and the
// errors AWS documents for it. The errors are AWS's as the simulator
// implements them; the test checks they cross the wire intact.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html
func writeSteps() []writeStep {
	return []writeStep{
		{name: "creating an OU under the root", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			u, err := b.CreateOU(ctx, s.Root.ID, "wire-test")
			st.ou = u.ID
			return err
		}},
		{name: "creating an OU with a duplicate name", wantCode: org.CodeDuplicateOrganizationalUnit, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			_, err := b.CreateOU(ctx, s.Root.ID, "wire-test")
			return err
		}},
		{name: "creating OUs down to the depth limit", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			parent := st.ou
			for i := 2; i <= sim.MaxOUDepth; i++ {
				u, err := b.CreateOU(ctx, parent, "level")
				if err != nil {
					return err
				}
				parent = u.ID
			}
			st.deepOU = parent
			return nil
		}},
		{name: "creating an OU below the depth limit", wantCode: org.CodeConstraintViolation, wantReason: org.ReasonOUDepth, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			_, err := b.CreateOU(ctx, st.deepOU, "too-deep")
			return err
		}},
		{name: "creating five customer SCPs", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			for i := range 5 {
				p, err := b.CreatePolicy(ctx, org.PolicySpec{
					Name: "wire-" + string(rune('a'+i)), Description: "wire test", Content: denyLeave,
					Type: org.ServiceControlPolicy, Tags: map[string]string{"team": "platform"},
				})
				if err != nil {
					return err
				}
				st.policies = append(st.policies, p.ID)
			}
			st.policy = st.policies[0]
			return nil
		}},
		{name: "creating a policy with a duplicate name", wantCode: org.CodeDuplicatePolicy, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			_, err := b.CreatePolicy(ctx, org.PolicySpec{Name: "wire-a", Description: "x", Content: denyLeave, Type: org.ServiceControlPolicy})
			return err
		}},
		{name: "creating a policy over the size limit", wantCode: org.CodeConstraintViolation, wantReason: org.ReasonPolicyContent, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			big := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Sid":"` + strings.Repeat("x", 5200) + `"}]}`
			_, err := b.CreatePolicy(ctx, org.PolicySpec{Name: "big", Description: "x", Content: big, Type: org.ServiceControlPolicy})
			return err
		}},
		{name: "creating a malformed policy", wantCode: org.CodeMalformedPolicyDocument, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			_, err := b.CreatePolicy(ctx, org.PolicySpec{Name: "bad", Description: "x", Content: `{"Version":`, Type: org.ServiceControlPolicy})
			return err
		}},
		{name: "creating an allow RCP", wantCode: org.CodeMalformedPolicyDocument, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			_, err := b.CreatePolicy(ctx, org.PolicySpec{Name: "rcp-allow", Description: "x", Type: org.ResourceControlPolicy,
				Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`})
			return err
		}},
		{name: "updating a policy's name and content", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			name, content := "wire-renamed", strings.Replace(denyLeave, "LeaveOrganization", "*", 1)
			p, err := b.UpdatePolicy(ctx, st.policy, org.PolicyUpdate{Name: &name, Content: &content})
			if err == nil && (p.Name != name || p.Content != content) {
				return errors.New("UpdatePolicy returned the policy unchanged")
			}
			return err
		}},
		{name: "updating an AWS-managed policy", wantCode: org.CodeInvalidInput, wantReason: org.ReasonImmutablePolicy, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			d := "mine"
			_, err := b.UpdatePolicy(ctx, org.FullAWSAccessID, org.PolicyUpdate{Description: &d})
			return err
		}},
		{name: "attaching four SCPs to the new OU", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			for _, p := range st.policies[:4] {
				if err := b.AttachPolicy(ctx, p, st.ou); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "attaching a sixth SCP", wantCode: org.CodeConstraintViolation, wantReason: org.ReasonMaxPolicyTypeAttachment, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.AttachPolicy(ctx, st.policies[4], st.ou)
		}},
		{name: "attaching a policy twice", wantCode: org.CodeDuplicatePolicyAttachment, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.AttachPolicy(ctx, st.policies[0], st.ou)
		}},
		{name: "attaching a policy that does not exist", wantCode: org.CodePolicyNotFound, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.AttachPolicy(ctx, "p-doesnotexist", st.ou)
		}},
		{name: "attaching to a target that does not exist", wantCode: org.CodeTargetNotFound, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.AttachPolicy(ctx, st.policy, "ou-zzzz-zzzzzzzz")
		}},
		{name: "deleting a policy that is attached", wantCode: org.CodePolicyInUse, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.DeletePolicy(ctx, st.policy)
		}},
		{name: "detaching the four SCPs again", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			for _, p := range st.policies[:4] {
				if err := b.DetachPolicy(ctx, p, st.ou); err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "detaching a policy that is not attached", wantCode: org.CodePolicyNotAttached, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.DetachPolicy(ctx, st.policy, st.ou)
		}},
		{name: "detaching the last SCP of a target", wantCode: org.CodeConstraintViolation, wantReason: org.ReasonMinPolicyTypeAttachment, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.DetachPolicy(ctx, org.FullAWSAccessID, st.ou)
		}},
		{name: "deleting a detached policy", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.DeletePolicy(ctx, st.policies[4])
		}},
		{name: "moving an account into the new OU", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			a := firstMemberAccount(s)
			return b.MoveAccount(ctx, a.ID, a.ParentID, st.ou)
		}},
		{name: "moving an account from the wrong source", wantCode: org.CodeAccountNotFound, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			a := firstMemberAccount(s)
			return b.MoveAccount(ctx, a.ID, a.ParentID, s.Root.ID)
		}},
		{name: "moving an account to a parent that does not exist", wantCode: org.CodeDestinationParentNotFound, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			a := firstMemberAccount(s)
			return b.MoveAccount(ctx, a.ID, st.ou, "ou-zzzz-zzzzzzzz")
		}},
		{name: "deleting an OU that is not empty", wantCode: org.CodeOrganizationalUnitNotEmpty, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.DeleteOU(ctx, st.ou)
		}},
		{name: "moving the account back", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			a := firstMemberAccount(s)
			return b.MoveAccount(ctx, a.ID, st.ou, a.ParentID)
		}},
		{name: "deleting the deepest OU", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.DeleteOU(ctx, st.deepOU)
		}},
		{name: "enabling a policy type that is enabled", wantCode: org.CodePolicyTypeAlreadyEnabled, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.EnablePolicyType(ctx, s.Root.ID, org.ServiceControlPolicy)
		}},
		{name: "disabling RCPs", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.DisablePolicyType(ctx, s.Root.ID, org.ResourceControlPolicy)
		}},
		{name: "disabling RCPs again", wantCode: org.CodePolicyTypeNotEnabled, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.DisablePolicyType(ctx, s.Root.ID, org.ResourceControlPolicy)
		}},
		{name: "enabling RCPs", do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.EnablePolicyType(ctx, s.Root.ID, org.ResourceControlPolicy)
		}},
		{name: "enabling a policy type on a root that does not exist", wantCode: org.CodeRootNotFound, do: func(ctx context.Context, b org.Backend, s *org.Snapshot, st *writeState) error {
			return b.EnablePolicyType(ctx, "r-zzzz", org.ResourceControlPolicy)
		}},
	}
}

func seededSim(tb testing.TB, s *org.Snapshot) *sim.Org {
	tb.Helper()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	o, err := sim.New(s, sim.Options{IDs: rand.New(rand.NewPCG(5, 6)), Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatalf("sim.New: %v", err)
	}
	return o
}

// TestWritesCrossTheWireLikeTheSimulator runs the same changes on one
// simulated organization directly and on an identical one through the SDK
// and the wire server, and checks that every result and error (code,
// reason, message) and the final organizations are the same.
func TestWritesCrossTheWireLikeTheSimulator(t *testing.T) {
	snap := generated(t, 60, 9)
	for _, faults := range []struct {
		name string
		opts simserver.Options
	}{
		{"without faults", simserver.Options{}},
		{"with throttling and conflicts injected", simserver.Options{ThrottleRate: 0.2, ConflictRate: 0.3, FaultSeed: 3}},
	} {
		t.Run(faults.name, func(t *testing.T) {
			isolateAWSConfig(t)
			direct, wired := seededSim(t, snap), seededSim(t, snap)
			srv := httptest.NewServer(simserver.New(wired, faults.opts))
			defer srv.Close()
			b, err := awsorg.New(context.Background(), awsorg.Options{EndpointURL: srv.URL, MaxBackoff: 2 * time.Millisecond})
			if err != nil {
				t.Fatalf("awsorg.New: %v", err)
			}
			ctx := context.Background()
			var stDirect, stWired writeState
			for _, step := range writeSteps() {
				wantErr := step.do(ctx, direct, snap, &stDirect)
				gotErr := step.do(ctx, b, snap, &stWired)
				if step.wantCode == "" {
					if wantErr != nil || gotErr != nil {
						t.Fatalf("%s: direct error %v, over the wire %v; want success", step.name, wantErr, gotErr)
					}
					continue
				}
				var want, got *org.APIError
				if !errors.As(wantErr, &want) || want.Code != step.wantCode || want.Reason != step.wantReason {
					t.Fatalf("%s: the simulator answered %v, want %s %s (the test's premise)", step.name, wantErr, step.wantCode, step.wantReason)
				}
				if !errors.As(gotErr, &got) {
					t.Fatalf("%s: over the wire = %v, want an *org.APIError", step.name, gotErr)
				}
				if got.RequestID == "" {
					t.Errorf("%s: error %v has no request ID", step.name, gotErr)
				}
				got.RequestID = ""
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("%s: error over the wire differs (-got +want):\n%s", step.name, diff)
				}
			}
			if diff := cmp.Diff(content(simSnapshot(t, wired)), content(simSnapshot(t, direct))); diff != "" {
				t.Errorf("organization changed over the wire differs from the one changed directly (-wire +direct):\n%s", diff)
			}
		})
	}
}

// requestIDPattern matches the UUIDs the wire server sends as
// x-amzn-RequestId, like AWS's.
var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestSuccessfulWritesRecordTheirRequestIDs: every write of org.Writer,
// through the SDK and the wire server, reports the request ID of its
// response to the sink in the context (org.WithRequestIDs) under the AWS
// operation's name; a failed write reports none there (its ID is in the
// *org.APIError). With throttling injected the SDK retries, and only the
// successful response's ID is recorded.
// https://pkg.go.dev/github.com/aws/aws-sdk-go-v2/aws/middleware#GetRequestIDMetadata
func TestSuccessfulWritesRecordTheirRequestIDs(t *testing.T) {
	snap := generated(t, 30, 4)
	acct := firstMemberAccount(snap)
	for _, faults := range []struct {
		name string
		opts simserver.Options
	}{
		{"without faults", simserver.Options{}},
		{"with throttling and conflicts injected", simserver.Options{ThrottleRate: 0.3, ConflictRate: 0.3, FaultSeed: 11}},
	} {
		t.Run(faults.name, func(t *testing.T) {
			isolateAWSConfig(t)
			srv := httptest.NewServer(simserver.New(seededSim(t, snap), faults.opts))
			defer srv.Close()
			b, err := awsorg.New(context.Background(), awsorg.Options{EndpointURL: srv.URL, MaxBackoff: 2 * time.Millisecond, MaxAttempts: 20})
			if err != nil {
				t.Fatalf("awsorg.New: %v", err)
			}
			var ou, policy string
			seen := map[string]string{}
			for _, w := range []struct {
				op string // "" for a write that must fail
				do func(ctx context.Context) error
			}{
				{"CreateOrganizationalUnit", func(ctx context.Context) error {
					u, err := b.CreateOU(ctx, snap.Root.ID, "request-ids")
					ou = u.ID
					return err
				}},
				{"CreatePolicy", func(ctx context.Context) error {
					p, err := b.CreatePolicy(ctx, org.PolicySpec{Name: "request-ids", Description: "x", Content: denyLeave, Type: org.ServiceControlPolicy})
					policy = p.ID
					return err
				}},
				{"UpdatePolicy", func(ctx context.Context) error {
					d := "updated"
					_, err := b.UpdatePolicy(ctx, policy, org.PolicyUpdate{Description: &d})
					return err
				}},
				{"AttachPolicy", func(ctx context.Context) error { return b.AttachPolicy(ctx, policy, ou) }},
				{"", func(ctx context.Context) error { return b.AttachPolicy(ctx, policy, ou) }},
				{"DetachPolicy", func(ctx context.Context) error { return b.DetachPolicy(ctx, policy, ou) }},
				{"MoveAccount", func(ctx context.Context) error { return b.MoveAccount(ctx, acct.ID, acct.ParentID, ou) }},
				{"MoveAccount", func(ctx context.Context) error { return b.MoveAccount(ctx, acct.ID, ou, acct.ParentID) }},
				{"DeletePolicy", func(ctx context.Context) error { return b.DeletePolicy(ctx, policy) }},
				{"DeleteOrganizationalUnit", func(ctx context.Context) error { return b.DeleteOU(ctx, ou) }},
				{"DisablePolicyType", func(ctx context.Context) error {
					return b.DisablePolicyType(ctx, snap.Root.ID, org.ResourceControlPolicy)
				}},
				{"EnablePolicyType", func(ctx context.Context) error {
					return b.EnablePolicyType(ctx, snap.Root.ID, org.ResourceControlPolicy)
				}},
			} {
				var ops, ids []string
				ctx := org.WithRequestIDs(context.Background(), func(op, id string) {
					ops, ids = append(ops, op), append(ids, id)
				})
				err := w.do(ctx)
				if w.op == "" {
					var ae *org.APIError
					if !errors.As(err, &ae) || ae.RequestID == "" {
						t.Fatalf("the failing write = %v, want an *org.APIError with a request ID", err)
					}
					if len(ids) != 0 {
						t.Errorf("the failing write recorded %v %v, want nothing", ops, ids)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s = %v", w.op, err)
				}
				if diff := cmp.Diff(ops, []string{w.op}); diff != "" {
					t.Fatalf("%s recorded operations (-got +want):\n%s", w.op, diff)
				}
				if !requestIDPattern.MatchString(ids[0]) {
					t.Errorf("%s recorded request ID %q, want a UUID", w.op, ids[0])
				}
				if prev, ok := seen[ids[0]]; ok {
					t.Errorf("%s recorded request ID %s, already recorded by %s", w.op, ids[0], prev)
				}
				seen[ids[0]] = w.op
			}
		})
	}
}
