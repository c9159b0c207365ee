package apply

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// TestApplyRefusals: each precondition of apply, broken on its own, refuses
// the apply with a message that says which and what to do, and leaves the
// organization untouched.
func TestApplyRefusals(t *testing.T) {
	windowed := guard.Default()
	windowed.Windows.Weekly = []guard.WeeklyWindow{{Spec: "Mon-Fri 01:00-05:00"}}
	windowed.Windows.RequiredFor = []guard.Risk{guard.RiskLow, guard.RiskMedium, guard.RiskHigh, guard.RiskCritical}
	confirm := guard.Default()
	confirm.Confirmation.RequiredFrom = guard.RiskLow

	tests := []struct {
		name  string
		cfg   *guard.Config
		setup func(w *world, f *Request)
		want  string
	}{
		{name: "a stale plan is refused and the changes since are listed", setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob", "carol")
			// Someone moves an account after the plan was made.
			x := w.base
			var acct, from, to string
			for _, a := range x.Accounts {
				if strings.HasPrefix(a.Name, "beacon-retail-workload-1") {
					acct, from = a.ID, a.ParentID
					break
				}
			}
			to = x.Root.ID
			if err := w.org.MoveAccount(context.Background(), acct, from, to); err != nil {
				t.Fatal(err)
			}
		}, want: "is stale"},
		{name: "a plan without its approvals is refused", setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob")
		}, want: "needs 2 approval(s)"},
		{name: "approvals by the author do not count", setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob")
			// Forge the author's approval directly in the store: it still
			// must not count.
			if _, err := w.st.AddApproval(context.Background(), store.Approval{PlanID: r.Plan.ID, Approver: "alice", PlanHash: r.Plan.PlanHash}); err != nil {
				t.Fatal(err)
			}
		}, want: "it has 1 (bob)"},
		{name: "approvals of another hash do not count", setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob")
			if _, err := w.st.AddApproval(context.Background(), store.Approval{PlanID: r.Plan.ID, Approver: "carol", PlanHash: "sha256:0000"}); err != nil {
				t.Fatal(err)
			}
		}, want: "it has 1 (bob)"},
		{name: "an apply outside every maintenance window is refused", cfg: &windowed, setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob", "carol")
			w.clk.Add(9 * time.Hour) // Wednesday 12:00 UTC
		}, want: "outside every window"},
		{name: "a window override needs its extra approval", cfg: &windowed, setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob", "carol")
			w.clk.Add(9 * time.Hour)
			r.OverrideWindow = "customer outage, duty manager agreed"
		}, want: "the window override adds"},
		{name: "a wrong typed confirmation is refused", cfg: &confirm, setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob", "carol")
			r.Confirm = "yes"
		}, want: "does not match; type exactly"},
		{name: "a missing typed confirmation is refused", cfg: &confirm, setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob", "carol")
		}, want: "to confirm"},
		{name: "a held organization lock is refused, naming the holder", setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob", "carol")
			if _, err := w.st.AcquireLock(context.Background(), store.LockRequest{Name: LockName, Holder: "dave (pid 1 on ci-7)", TTL: time.Minute}); err != nil {
				t.Fatal(err)
			}
		}, want: "held by dave (pid 1 on ci-7)"},
		{name: "an edited plan file is refused", setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob", "carol")
			r.Plan.Steps[3].AccountID = "111111111111"
		}, want: "does not match its planHash"},
		{name: "an edited and re-sealed plan has no approvals", setup: func(w *world, r *Request) {
			w.approve(r.Plan, "bob", "carol")
			r.Plan.Description = "edited"
			if err := r.Plan.Seal(); err != nil {
				t.Fatal(err)
			}
		}, want: "plan changed since it was saved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, 40, tt.cfg)
			r := Request{Plan: w.plan("alice", w.quarantineOps(3))}
			before := w.fingerprint()
			tt.setup(w, &r)
			mid := w.fingerprint()
			_, err := New(w.options("alice")).Apply(context.Background(), r)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("Apply = %v, want a refusal", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Apply = %q, want it to say %q", err, tt.want)
			}
			wantUnconfirmed := strings.Contains(tt.name, "typed confirmation")
			if got := errors.Is(err, ErrUnconfirmed); got != wantUnconfirmed {
				t.Errorf("errors.Is(Apply's error, ErrUnconfirmed) = %v, want %v", got, wantUnconfirmed)
			}
			wantLocked := strings.Contains(tt.name, "held organization lock")
			if got := errors.Is(err, ErrLocked); got != wantLocked {
				t.Errorf("errors.Is(Apply's error, ErrLocked) = %v, want %v", got, wantLocked)
			}
			if got := w.fingerprint(); got != mid {
				t.Errorf("the refused apply changed the organization")
			}
			_ = before
		})
	}
}

// TestApprove: the rules of approving.
func TestApprove(t *testing.T) {
	w := newWorld(t, 40, nil)
	f := w.plan("alice", w.quarantineOps(3))
	ctx := context.Background()
	tests := []struct {
		name, who, want string
		state           store.PlanState
	}{
		{name: "the author cannot approve their own plan", who: "alice", want: "cannot approve"},
		{name: "the author cannot approve under another capitalisation", who: "Alice", want: "cannot approve"},
		{name: "a second person approves", who: "bob", state: store.PlanPending},
		{name: "nobody approves twice", who: "bob", want: "already approved"},
		{name: "the last required approval moves the plan to approved", who: "carol", state: store.PlanApproved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := w.approver().Approve(ctx, f.ID, tt.who, "")
			if tt.want != "" {
				if !errors.Is(err, review.ErrRefused) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Approve(%q) = %v, want a refusal saying %q", tt.who, err, tt.want)
				}
				if own := tt.who == "alice" || tt.who == "Alice"; errors.Is(err, review.ErrOwnPlan) != own {
					t.Errorf("errors.Is(Approve(%q), review.ErrOwnPlan) = %v, want %v", tt.who, !own, own)
				}
				return
			}
			if err != nil {
				t.Fatalf("Approve(%q) = %v", tt.who, err)
			}
			if a.State != tt.state {
				t.Errorf("Approve(%q) state = %s, want %s", tt.who, a.State, tt.state)
			}
		})
	}
	t.Run("a refused plan cannot be approved", func(t *testing.T) {
		g := w.plan("alice", change.Operation{Op: change.OpAttachPolicy, Policy: "deny-all", Target: "Root"})
		if g.Verdict != guard.Refused {
			t.Fatalf("deny-all on Root verdict %s, want refused", g.Verdict)
		}
		_, err := w.approver().Approve(ctx, g.ID, "bob", "")
		if !errors.Is(err, review.ErrRefused) || !strings.Contains(err.Error(), "refused by the guardrails") {
			t.Errorf("Approve(refused plan) = %v", err)
		}
	})
	t.Run("audit entries record the saved plan and each approval", func(t *testing.T) {
		es, err := w.st.ListAudit(ctx, store.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
		}
		got := strings.Join(actions, ",")
		if !strings.Contains(got, "plan.saved,plan.approved,plan.approved") {
			t.Errorf("audit actions %s", got)
		}
	})
}
