package awsorg_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/simserver"
)

func policyIDs(ps []org.Policy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	slices.Sort(out)
	return out
}

func TestPartialReadsAnswerAsTheSimulatorDoes(t *testing.T) {
	snap := generated(t, 300, 5)
	st := newStack(t, snap, simserver.Options{}, awsorg.Options{})
	ctx := context.Background()
	x := org.MustIndex(snap)
	acct := firstMemberAccount(snap)
	ou := snap.OUs[len(snap.OUs)-1]
	targets := []string{snap.Root.ID, ou.ID, acct.ID}

	before := st.backend.Calls()
	for _, id := range targets {
		for _, pt := range []org.PolicyType{org.ServiceControlPolicy, org.ResourceControlPolicy} {
			t.Run("the "+string(pt)+" policies attached to "+id, func(t *testing.T) {
				got, err := st.backend.AttachedPolicies(ctx, id, pt)
				if err != nil {
					t.Fatalf("AttachedPolicies(%s, %s): %v", id, pt, err)
				}
				want, err := st.sim.ListPoliciesForTarget(ctx, id, pt)
				if err != nil {
					t.Fatalf("sim ListPoliciesForTarget: %v", err)
				}
				if diff := cmp.Diff(policyIDs(got), policyIDs(want)); diff != "" {
					t.Errorf("AttachedPolicies(%s, %s) (-got +want):\n%s", id, pt, diff)
				}
			})
		}
	}
	t.Run("the parent of an account and of an OU", func(t *testing.T) {
		for _, id := range []string{acct.ID, ou.ID} {
			got, err := st.backend.Parent(ctx, id)
			n, _ := x.Node(id)
			if err != nil || got != n.ParentID {
				t.Errorf("Parent(%s) = %q, %v, want %q", id, got, err, n.ParentID)
			}
		}
	})
	t.Run("an OU with its parent", func(t *testing.T) {
		got, err := st.backend.OU(ctx, ou.ID)
		if err != nil || got.ID != ou.ID || got.Name != ou.Name || got.ParentID != ou.ParentID {
			t.Errorf("OU(%s) = %+v, %v, want %+v", ou.ID, got, err, ou)
		}
	})
	t.Run("a policy with its content", func(t *testing.T) {
		want := snap.Policies[len(snap.Policies)-1]
		got, err := st.backend.Policy(ctx, want.ID)
		if err != nil || got.Content != want.Content || got.Name != want.Name {
			t.Errorf("Policy(%s) = %+v, %v, want %+v", want.ID, got, err, want)
		}
	})
	t.Run("the root with its policy types", func(t *testing.T) {
		got, err := st.backend.Root(ctx)
		if err != nil || got.ID != snap.Root.ID || len(got.PolicyTypes) != len(snap.Root.PolicyTypes) {
			t.Errorf("Root() = %+v, %v, want %+v", got, err, snap.Root)
		}
	})
	t.Run("the children of the root", func(t *testing.T) {
		ous, accts, err := st.backend.Children(ctx, snap.Root.ID)
		if err != nil {
			t.Fatalf("Children(root): %v", err)
		}
		if g, w := len(ous)+len(accts), len(x.Children(snap.Root.ID)); g != w {
			t.Errorf("Children(root) = %d OUs and %d accounts, want %d children", len(ous), len(accts), w)
		}
	})
	t.Run("a missing OU or policy is not found", func(t *testing.T) {
		if _, err := st.backend.OU(ctx, "ou-zzzz-zzzzzzzz"); !errors.Is(err, org.ErrNotFound) {
			t.Errorf("OU(missing) = %v, want ErrNotFound", err)
		}
		if _, err := st.backend.Policy(ctx, "p-zzzzzzzz"); !errors.Is(err, org.ErrNotFound) {
			t.Errorf("Policy(missing) = %v, want ErrNotFound", err)
		}
	})
	used := st.backend.Calls().Sub(before, 0)
	if used.Total() == 0 || used.ByAPI["ListPoliciesForTarget"] != 6 {
		t.Errorf("Calls() counted %v, want 6 ListPoliciesForTarget among them", used)
	}
}

func TestCallsCountThrottlesAndRetries(t *testing.T) {
	snap := generated(t, 50, 3)
	st := newStack(t, snap, simserver.Options{ThrottleRate: 0.3, FaultSeed: 9}, awsorg.Options{})
	ctx := context.Background()
	for range 40 {
		if _, err := st.backend.Root(ctx); err != nil {
			t.Fatalf("Root with 30%% throttling: %v", err)
		}
	}
	c := st.backend.Calls()
	if c.ByAPI["ListRoots"] != 40 || c.Throttles == 0 || c.Retries != c.Throttles {
		t.Errorf("Calls() = %+v, want 40 ListRoots and as many retries as throttles (> 0)", c)
	}
}

func TestASpentRetryBudgetFailsCallsAtOnce(t *testing.T) {
	snap := generated(t, 20, 1)
	st := newStack(t, snap, simserver.Options{ThrottleRate: 1}, awsorg.Options{MaxAttempts: 100, RetryBudget: 25})
	ctx := context.Background()
	var last error
	for range 3 {
		_, last = st.backend.Root(ctx)
	}
	if last == nil {
		t.Fatal("Root with every request throttled succeeded")
	}
	c := st.backend.Calls()
	// 25 tokens buy 5 retries in all; the calls after that give up at once.
	if c.Retries > 5 || c.BudgetExhausted == 0 {
		t.Errorf("Calls() = %+v, want at most 5 retries and calls that gave up", c)
	}
}

func TestRetryModeDefaultsToAdaptiveOnAWS(t *testing.T) {
	isolateAWSConfig(t)
	for _, tc := range []struct {
		endpoint, mode string
		ok             bool
	}{
		{"", "", true}, {"https://organizations.example.com", "adaptive", true},
		{"http://127.0.0.1:1", "standard", true}, {"http://127.0.0.1:1", "bogus", false},
	} {
		_, err := awsorg.New(context.Background(), awsorg.Options{EndpointURL: tc.endpoint, RetryMode: tc.mode})
		if (err == nil) != tc.ok {
			t.Errorf("New(endpoint %q, mode %q) = %v, want ok=%v", tc.endpoint, tc.mode, err, tc.ok)
		}
	}
}
