package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/store"
)

var errKilled = errors.New("killed")

// failingProber answers like the engine prober, except that from the
// failAt-th call on it reports the first check failed.
type failingProber struct {
	inner  probe.Prober
	calls  int
	failAt int
}

func (p *failingProber) Probe(ctx context.Context, cs []probe.Check) ([]probe.Result, error) {
	p.calls++
	rs, err := p.inner.Probe(ctx, cs)
	if err == nil && p.failAt > 0 && p.calls >= p.failAt && len(rs) > 0 {
		rs[0].OK = false
		rs[0].Detail = "AccessDenied from the probe role (injected)"
	}
	return rs, err
}

// crashScenario makes a world and the apply request to crash.
type crashScenario func(t *testing.T) (*world, Request)

func quarantineScenario(t *testing.T) (*world, Request) {
	w := newWorld(t, 30, nil)
	f := w.plan("alice", w.quarantineOps(2))
	w.approve(f, "bob", "carol")
	return w, Request{Plan: f}
}

func stagedScenario(t *testing.T) (*world, Request) {
	w, f, canary := stagedSetup(t)
	return w, Request{Plan: f, Canary: []string{canary}, CanaryWait: time.Minute}
}

// points runs a full apply (with an optional failing prober) and returns the
// journal points it passes.
func points(t *testing.T, sc crashScenario, failProbeAt int) []string {
	w, req := sc(t)
	f := req.Plan
	o := w.options("alice")
	var names []string
	o.Crash = func(n int, p string) error { names = append(names, p); return nil }
	if failProbeAt > 0 {
		o.Prober = &failingProber{inner: o.Prober, failAt: failProbeAt}
	}
	_, err := New(o).Apply(context.Background(), req)
	if failProbeAt == 0 && err != nil {
		t.Fatalf("Apply = %v", err)
	}
	_ = f
	return names
}

// TestCrashAtEveryJournalPoint: an apply killed at any journal point ends,
// after recovery, in exactly the state before the change or exactly the
// state after it — and recovery says which.
func TestCrashAtEveryJournalPoint(t *testing.T) {
	for _, mode := range []struct {
		name        string
		scenario    crashScenario
		failProbeAt int
	}{
		{name: "during a successful apply", scenario: quarantineScenario},
		{name: "during the automatic rollback after a failed probe", scenario: quarantineScenario, failProbeAt: 8},
		{name: "during a staged canary update", scenario: stagedScenario},
		{name: "during the rollback of a staged canary update", scenario: stagedScenario, failProbeAt: 12},
	} {
		all := points(t, mode.scenario, mode.failProbeAt)
		if len(all) < 10 {
			t.Fatalf("%s: only %d journal points: %q", mode.name, len(all), all)
		}
		for n := 1; n <= len(all); n++ {
			t.Run(fmt.Sprintf("a crash %s at point %d (%s) settles before or after", mode.name, n, all[n-1]), func(t *testing.T) {
				w, req := mode.scenario(t)
				f := req.Plan
				o := w.options("alice")
				o.Crash = func(i int, _ string) error {
					if i == n {
						return errKilled
					}
					return nil
				}
				if mode.failProbeAt > 0 {
					o.Prober = &failingProber{inner: o.Prober, failAt: mode.failProbeAt}
				}
				_, err := New(o).Apply(context.Background(), req)
				if !IsCrash(err) {
					t.Fatalf("Apply = %v, want the injected crash", err)
				}
				// The dead process's lock expires; recovery takes over.
				w.clk.Add(time.Minute)
				recs, err := New(w.options("ops")).Recover(context.Background())
				if err != nil {
					t.Fatalf("Recover = %v", err)
				}
				if len(recs) != 1 {
					t.Fatalf("Recover settled %d changes, want 1", len(recs))
				}
				rec := recs[0]
				if !rec.Verified {
					t.Fatalf("recovery to %s not verified: %v", rec.State, rec.Detail)
				}
				fp := w.fingerprint()
				switch rec.State {
				case Before:
					if fp != f.BaseFingerprint {
						t.Errorf("settled before, but the fingerprint is not the base")
					}
					if mode.failProbeAt == 0 && strings.Contains(all[n-1], "finishing") {
						t.Errorf("every step had completed, yet recovery went back")
					}
				case After:
					// Verified above: the fingerprint, with the created
					// objects' IDs mapped to the plan's, is the plan's
					// afterFingerprint.
					if fp == f.BaseFingerprint {
						t.Errorf("settled after, but the organization is at the base")
					}
					if mode.failProbeAt > 0 {
						t.Errorf("the apply was rolling back, yet recovery went forward")
					}
				default:
					t.Fatalf("state %q", rec.State)
				}
				wantPlan := map[Settled]store.PlanState{Before: store.PlanRolledBack, After: store.PlanApplied}[rec.State]
				if got := w.planState(f.ID); got != wantPlan {
					t.Errorf("plan state %s, want %s", got, wantPlan)
				}
				if left, _ := w.st.UnfinishedChanges(context.Background()); len(left) != 0 {
					t.Errorf("%d changes still unfinished", len(left))
				}
				es, _ := w.st.ListAudit(context.Background(), store.AuditQuery{Newest: true, Limit: 20})
				var takeover, recovered bool
				for _, e := range es {
					takeover = takeover || e.Action == "lock.taken-over"
					recovered = recovered || e.Action == "change.recovered"
				}
				if !takeover || !recovered {
					t.Errorf("audit log: lock takeover recorded %v, recovery recorded %v", takeover, recovered)
				}
			})
		}
	}
}

// TestFailingChecksRollBack: a failing probe and an unplanned impact stop
// the apply, roll it back and record an incident.
func TestFailingChecksRollBack(t *testing.T) {
	t.Run("a failing probe after a step rolls back to the base and opens an incident", func(t *testing.T) {
		w := newWorld(t, 30, nil)
		f := w.plan("alice", w.quarantineOps(2))
		w.approve(f, "bob", "carol")
		o := w.options("alice")
		o.Prober = &failingProber{inner: o.Prober, failAt: 6}
		var hooked []string // OnIncident runs in the transaction opening the incident
		o.OnIncident = func(ctx context.Context, tx store.Tx, in store.Incident) error {
			_, err := tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: in.ID, Kind: "note", Actor: "test", Message: "drafts written"})
			hooked = append(hooked, in.ID)
			return err
		}
		rep, err := New(o).Apply(context.Background(), Request{Plan: f})
		if !errors.Is(err, ErrFailed) {
			t.Fatalf("Apply = %v, want ErrFailed", err)
		}
		if len(hooked) != 1 || hooked[0] != rep.Incident {
			t.Errorf("OnIncident ran for %v, want once for incident %s", hooked, rep.Incident)
		}
		if rep.Outcome != RolledBack || rep.Rollback == nil || !rep.Rollback.Verified {
			t.Fatalf("outcome %s, rollback %+v", rep.Outcome, rep.Rollback)
		}
		if got := w.fingerprint(); got != f.BaseFingerprint {
			t.Errorf("after the rollback the organization is not at the base")
		}
		in, err := w.st.Incident(context.Background(), rep.Incident)
		if err != nil {
			t.Fatalf("Incident(%q) = %v", rep.Incident, err)
		}
		if in.ChangeID != rep.ChangeID || !strings.Contains(in.Title, "stopped") {
			t.Errorf("incident %+v", in)
		}
		tl, _ := w.st.IncidentTimeline(context.Background(), in.ID)
		if len(tl) < 2 {
			t.Errorf("incident timeline has %d events, want the detection and the mitigation", len(tl))
		}
		if got := w.planState(f.ID); got != store.PlanRolledBack {
			t.Errorf("plan state %s, want rolled-back", got)
		}
	})
	t.Run("an interrupted apply (Ctrl-C) rolls back what ran and records it", func(t *testing.T) {
		w := newWorld(t, 30, nil)
		f := w.plan("alice", w.quarantineOps(2))
		w.approve(f, "bob", "carol")
		o := w.options("alice")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		o.Prober = &cancellingProber{inner: o.Prober, at: 4, cancel: cancel}
		rep, err := New(o).Apply(ctx, Request{Plan: f})
		if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "interrupted") {
			t.Fatalf("Apply = %v, want an interrupted, failed apply", err)
		}
		if rep.Outcome != RolledBack || w.fingerprint() != f.BaseFingerprint {
			t.Errorf("outcome %s, at base %v", rep.Outcome, w.fingerprint() == f.BaseFingerprint)
		}
		if left, _ := w.st.UnfinishedChanges(context.Background()); len(left) != 0 {
			t.Errorf("%d changes left unfinished", len(left))
		}
	})
	// The rollback below stops at "delete OU Quarantine": AWS deletes only
	// empty OUs, and the account moved in behind the plan's back is still
	// there.
	// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DeleteOrganizationalUnit.html
	t.Run("an account outside the blast radius changing class stops the apply", func(t *testing.T) {
		w := newWorld(t, 30, nil)
		f := w.plan("alice", w.quarantineOps(2))
		w.approve(f, "bob", "carol")
		o := w.options("alice")
		sab := &sabotage{Backend: w.org, base: w.base, quarantined: f.Quarantine.Accounts}
		o.Backend = sab
		rep, err := New(o).Apply(context.Background(), Request{Plan: f})
		if !errors.Is(err, ErrFailed) {
			t.Fatalf("Apply = %v, want ErrFailed", err)
		}
		last := rep.Checks[len(rep.Checks)-1]
		if last.ImpactOK || !strings.Contains(strings.Join(last.Unplanned, "\n"), "OUTSIDE the planned blast radius") {
			t.Errorf("last check %s: %q", last.Summary(), last.Unplanned)
		}
		// The plan's own steps are undone; the extra move is not the plan's,
		// so the organization is not back at the base and the report says so.
		if rep.Outcome != Failed || rep.Rollback.Verified {
			t.Errorf("outcome %s verified %v, want failed and not verified", rep.Outcome, rep.Rollback.Verified)
		}
		if !strings.Contains(strings.Join(rep.Rollback.Detail, "\n"), sab.moved) {
			t.Errorf("rollback detail %q does not name the account moved outside the plan %s", rep.Rollback.Detail, sab.moved)
		}
		in, err := w.st.Incident(context.Background(), rep.Incident)
		if err != nil || in.Severity != store.SevCritical {
			t.Errorf("incident %+v, %v; want a critical one", in, err)
		}
	})
}

// sabotage is the simulated organization where, when the first account is
// moved into quarantine, another account is moved there too.
type sabotage struct {
	org.Backend
	base        *org.Snapshot
	quarantined []string
	moved       string
}

func (s *sabotage) MoveAccount(ctx context.Context, acct, from, to string) error {
	if err := s.Backend.MoveAccount(ctx, acct, from, to); err != nil {
		return err
	}
	if s.moved != "" {
		return nil
	}
	x := org.MustIndex(s.base)
	for _, a := range s.base.Accounts {
		if a.ID != acct && !x.IsManagementAccount(a.ID) && !contains(s.quarantined, a.ID) && a.Status == org.AccountActive {
			s.moved = a.ID
			return s.Backend.MoveAccount(ctx, a.ID, a.ParentID, to)
		}
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestCanary: a policy attached to many targets goes to the canary first.
func TestCanary(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*world, *plan.File, []string) {
		w := newWorld(t, 40, nil)
		x := org.MustIndex(w.base)
		var ous []string
		for _, u := range w.base.OUs {
			if strings.HasPrefix(x.PathString(u.ID), "/Customers/") && strings.Count(x.PathString(u.ID), "/") == 2 {
				ous = append(ous, u.ID)
			}
		}
		ops := []change.Operation{{Op: change.OpCreatePolicy, Name: "deny-leave-org", Type: "SCP",
			Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`}}
		for _, ou := range ous {
			ops = append(ops, change.Operation{Op: change.OpAttachPolicy, Policy: "deny-leave-org", Target: ou})
		}
		f := w.plan("alice", ops...)
		w.approve(f, "bob", "carol")
		return w, f, ous
	}
	t.Run("the canary target gets the policy first, then the rest after the wait", func(t *testing.T) {
		w, f, ous := setup(t)
		var log strings.Builder
		o := w.options("alice")
		o.Progress = &log
		start := w.clk.Now()
		rep, err := New(o).Apply(ctx, Request{Plan: f, Canary: []string{ous[len(ous)-1]}, CanaryWait: 10 * time.Minute})
		if err != nil {
			t.Fatalf("Apply = %v\n%s", err, log.String())
		}
		if got := rep.Steps[1].Summary; !strings.Contains(got, ous[len(ous)-1]) {
			t.Errorf("second step %q, want the attachment to the canary %s", got, ous[len(ous)-1])
		}
		if w.clk.Now().Sub(start) < 10*time.Minute {
			t.Errorf("the apply did not wait for the canary")
		}
		if !strings.Contains(log.String(), "canary:") {
			t.Errorf("no canary check in the log:\n%s", log.String())
		}
	})
	t.Run("a failing canary check rolls back before widening", func(t *testing.T) {
		w, f, ous := setup(t)
		o := w.options("alice")
		// Calls: before 1, after 1, before 2, after 2, canary (5th) fails.
		o.Prober = &failingProber{inner: o.Prober, failAt: 5}
		rep, err := New(o).Apply(ctx, Request{Plan: f, Canary: []string{ous[0]}, CanaryWait: time.Minute})
		if !errors.Is(err, ErrFailed) {
			t.Fatalf("Apply = %v, want ErrFailed", err)
		}
		if len(rep.Steps) != 2 {
			t.Errorf("%d steps ran, want 2 (the create and the canary attachment)", len(rep.Steps))
		}
		if rep.Outcome != RolledBack || w.fingerprint() != f.BaseFingerprint {
			t.Errorf("outcome %s; organization at base: %v", rep.Outcome, w.fingerprint() == f.BaseFingerprint)
		}
	})
	t.Run("a canary that the plan does not attach to is refused", func(t *testing.T) {
		w, f, _ := setup(t)
		_, err := New(w.options("alice")).Apply(ctx, Request{Plan: f, Canary: []string{"/Security"}})
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "no attach-policy step") {
			t.Errorf("Apply = %v", err)
		}
	})
}

// TestStagedUpdateCanary: an update of a policy attached to several
// targets goes first to the canary targets through a temporary copy. The
// staged steps keep every target within AWS's limits of at least one and at
// most five SCPs:
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
func TestStagedUpdateCanary(t *testing.T) {
	ctx := context.Background()
	setup := stagedSetup
	t.Run("the new content reaches the canary through a copy, then everything, and the copy is gone", func(t *testing.T) {
		w, f, canary := setup(t)
		var log strings.Builder
		o := w.options("alice")
		o.Progress = &log
		rep, err := New(o).Apply(ctx, Request{Plan: f, Canary: []string{canary}, CanaryWait: time.Minute})
		if err != nil {
			t.Fatalf("Apply = %v\n%s", err, log.String())
		}
		if !rep.Staged || len(rep.Steps) != 7 {
			t.Errorf("staged %v with %d steps, want 7 staged steps", rep.Staged, len(rep.Steps))
		}
		if got := w.fingerprint(); got != f.AfterFingerprint {
			t.Errorf("the staged update did not end at the plan's after-state\n%s", log.String())
		}
	})
	t.Run("a failing canary check restores the old content everywhere", func(t *testing.T) {
		w, f, canary := setup(t)
		o := w.options("alice")
		o.Prober = &failingProber{inner: o.Prober, failAt: 7} // the canary check after steps 1-3
		rep, err := New(o).Apply(ctx, Request{Plan: f, Canary: []string{canary}, CanaryWait: time.Minute})
		if !errors.Is(err, ErrFailed) {
			t.Fatalf("Apply = %v, want ErrFailed", err)
		}
		if len(rep.Steps) != 3 || rep.Outcome != RolledBack {
			t.Errorf("%d steps ran, outcome %s; want 3 and rolled back", len(rep.Steps), rep.Outcome)
		}
		if w.fingerprint() != f.BaseFingerprint {
			t.Errorf("not back at the base")
		}
	})
	t.Run("a failure after the copy was deleted still rolls back to the base", func(t *testing.T) {
		w, f, canary := setup(t)
		o := w.options("alice")
		o.Prober = &failingProber{inner: o.Prober, failAt: 15} // the check after the last step (14 around the steps, 1 canary)
		rep, err := New(o).Apply(ctx, Request{Plan: f, Canary: []string{canary}, CanaryWait: time.Minute})
		if !errors.Is(err, ErrFailed) {
			t.Fatalf("Apply = %v, want ErrFailed", err)
		}
		if rep.Outcome != RolledBack || w.fingerprint() != f.BaseFingerprint {
			t.Errorf("outcome %s, at base %v: %v", rep.Outcome, w.fingerprint() == f.BaseFingerprint, rep.Rollback)
		}
	})
}

// stagedSetup plans the update of a customer SCP attached to several
// targets (one more denial) and returns the first target as the canary.
func stagedSetup(t *testing.T) (*world, *plan.File, string) {
	w := newWorld(t, 60, nil)
	x := org.MustIndex(w.base)
	var pol org.Policy
	for _, p := range w.base.Policies {
		if !p.AWSManaged && p.Type == org.ServiceControlPolicy && len(x.TargetsOf(p.ID)) >= 2 {
			pol = p
			break
		}
	}
	if pol.ID == "" {
		t.Skip("no customer SCP attached to two targets in the generated organization")
	}
	// The same policy with one more denial.
	var doc map[string]any
	if err := json.Unmarshal([]byte(pol.Content), &doc); err != nil {
		t.Fatal(err)
	}
	stmts, _ := doc["Statement"].([]any)
	if m, ok := doc["Statement"].(map[string]any); ok {
		stmts = []any{m}
	}
	doc["Statement"] = append(stmts, map[string]any{"Sid": "DenyLeave", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"})
	b, _ := json.Marshal(doc)
	content := string(b)
	f := w.plan("alice", change.Operation{Op: change.OpUpdatePolicy, Policy: pol.ID, Content: content})
	w.approve(f, "bob", "carol", "dave")
	return w, f, x.TargetsOf(pol.ID)[0]
}

// cancellingProber cancels the apply's context at its at-th call, as
// Ctrl-C would.
type cancellingProber struct {
	inner  probe.Prober
	calls  int
	at     int
	cancel context.CancelFunc
}

func (p *cancellingProber) Probe(ctx context.Context, cs []probe.Check) ([]probe.Result, error) {
	p.calls++
	if p.calls == p.at {
		p.cancel()
	}
	return p.inner.Probe(context.WithoutCancel(ctx), cs)
}

// tamper is the simulated organization where, right after the quarantine
// SCP is attached to the quarantine OU, someone detaches FullAWSAccess from
// that OU.
type tamper struct {
	org.Backend
	done bool
}

func (t *tamper) AttachPolicy(ctx context.Context, policyID, targetID string) error {
	if err := t.Backend.AttachPolicy(ctx, policyID, targetID); err != nil {
		return err
	}
	if !t.done {
		t.done = true
		return t.Backend.DetachPolicy(ctx, org.FullAWSAccessID, targetID)
	}
	return nil
}

// TestDriftOnTouchedTargets: a change to a target the plan touches, made
// behind its back, is reported precisely and rolls the apply back — whether
// the checks read the whole organization or only the touched parts.
func TestDriftOnTouchedTargets(t *testing.T) {
	for _, partial := range []bool{false, true} {
		name := "reading the whole organization"
		if partial {
			name = "reading only the touched parts"
		}
		t.Run("a detached FullAWSAccess on the quarantine OU is drift, "+name, func(t *testing.T) {
			w := newWorld(t, 30, nil)
			f := w.plan("alice", w.quarantineOps(2))
			w.approve(f, "bob", "carol")
			o := w.options("alice")
			o.Backend = &tamper{Backend: w.org}
			if partial {
				o.Parts = SimParts{Org: w.org}
			}
			rep, err := New(o).Apply(context.Background(), Request{Plan: f})
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("Apply = %v, want ErrFailed", err)
			}
			last := rep.Checks[len(rep.Checks)-1]
			want := "FullAWSAccess (p-FullAWSAccess) should be attached to /Quarantine"
			if last.StateOK || !strings.Contains(strings.Join(last.Drift, "\n"), want) {
				t.Errorf("last check %s, drift %q; want it to say %q", last.Summary(), last.Drift, want)
			}
			if last.When != "after step 3" {
				t.Errorf("the drift was found %s, want after step 3", last.When)
			}
		})
	}
	t.Run("a quarantine applies with partial reads", func(t *testing.T) {
		w := newWorld(t, 30, nil)
		f := w.plan("alice", w.quarantineOps(2))
		w.approve(f, "bob", "carol")
		o := w.options("alice")
		o.Parts = SimParts{Org: w.org}
		if _, err := New(o).Apply(context.Background(), Request{Plan: f}); err != nil {
			t.Fatalf("Apply = %v", err)
		}
	})
}
