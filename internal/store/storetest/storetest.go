// Package storetest is the test suite every store.Store implementation must
// pass. Run it from the implementation's tests:
//
//	func TestSQLite(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
//
// open must return a fresh, empty store for every call and arrange for its
// cleanup with t.Cleanup.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/audit"
	"github.com/orgguard/orgguard/internal/store"
)

// Run runs every test of the suite against stores made by open.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("plans", func(t *testing.T) { testPlans(t, open(t)) })
	t.Run("plan states", func(t *testing.T) { testPlanStates(t, open(t)) })
	t.Run("approvals", func(t *testing.T) { testApprovals(t, open(t)) })
	t.Run("racing approvals by one approver", func(t *testing.T) { testApprovalRace(t, open(t)) })
	t.Run("changes and journal", func(t *testing.T) { testChanges(t, open(t)) })
	t.Run("concurrent journal appends", func(t *testing.T) { testJournalRace(t, open(t)) })
	t.Run("locks", func(t *testing.T) { testLocks(t, open(t)) })
	t.Run("racing for a lock", func(t *testing.T) { testLockRace(t, open(t)) })
	t.Run("stale lock takeover", func(t *testing.T) { testLockTakeover(t, open(t)) })
	t.Run("audit chain", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("concurrent audit appends", func(t *testing.T) { testAuditRace(t, open(t)) })
	t.Run("transactions", func(t *testing.T) { testTx(t, open(t)) })
	t.Run("incidents", func(t *testing.T) { testIncidents(t, open(t)) })
	t.Run("snapshots", func(t *testing.T) { testSnapshots(t, open(t)) })
	t.Run("latest snapshot per source", func(t *testing.T) { testLatestSnapshot(t, open(t)) })
	t.Run("pinned guardrails", func(t *testing.T) { testGuardrails(t, open(t)) })
	t.Run("racing to pin guardrails", func(t *testing.T) { testGuardrailsRace(t, open(t)) })
	t.Run("incident clock and dedup key", func(t *testing.T) { testIncidentClock(t, open(t)) })
	t.Run("watch state", func(t *testing.T) { testWatchState(t, open(t)) })
	t.Run("notice drafts and published notices", func(t *testing.T) { testNotices(t, open(t)) })
	t.Run("outbox", func(t *testing.T) { testOutbox(t, open(t)) })
	t.Run("racing outbox claimers", func(t *testing.T) { testOutboxRace(t, open(t)) })
	t.Run("postmortems", func(t *testing.T) { testPostmortems(t, open(t)) })
	t.Run("users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("API tokens", func(t *testing.T) { testTokens(t, open(t)) })
	t.Run("sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("login failures and locks", func(t *testing.T) { testLogins(t, open(t)) })
	t.Run("leases", func(t *testing.T) { testLeases(t, open(t)) })
	t.Run("racing for a lease", func(t *testing.T) { testLeaseRace(t, open(t)) })
	t.Run("fenced writes", func(t *testing.T) { testFencedWrites(t, open(t)) })
	t.Run("a take-over waits for the old tenure's open transaction", func(t *testing.T) { testFenceOrdersTenures(t, open(t)) })
	t.Run("tallies for the metrics", func(t *testing.T) { testTally(t, open(t)) })
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s = %v, want an error that is %v", what, err, target)
	}
}

func plan(id string) store.Plan {
	return store.Plan{
		ID: id, Author: "alice", Hash: "sha256:" + id, BaseFingerprint: "fp-1", Verdict: "needs-approval",
		RequiredApprovals: 2, Body: json.RawMessage("{\n  \"steps\": [ 1, 2 ]\n}"),
	}
}

func testPlans(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	p := plan("plan-1")
	p.CreatedAt = t0
	saved := must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, p))
	if saved.State != store.PlanPending {
		t.Errorf("SavePlan state = %q, want %q", saved.State, store.PlanPending)
	}
	if want := t0.Truncate(time.Microsecond); !saved.CreatedAt.Equal(want) {
		t.Errorf("SavePlan CreatedAt = %v, want %v (microsecond precision)", saved.CreatedAt, want)
	}
	got := must[store.Plan](t, "Plan")(s.Plan(ctx, "plan-1"))
	if diff := cmp.Diff(saved, got); diff != "" {
		t.Errorf("Plan(plan-1) differs from what SavePlan returned (-saved +got):\n%s", diff)
	}
	if string(got.Body) != string(p.Body) {
		t.Errorf("Plan body = %q, want the exact bytes %q", got.Body, p.Body)
	}

	t.Run("a second plan with the same ID is refused", func(t *testing.T) {
		_, err := s.SavePlan(ctx, plan("plan-1"))
		wantErr(t, "SavePlan(duplicate)", err, store.ErrAlreadyExists)
	})
	t.Run("a missing plan is not found", func(t *testing.T) {
		_, err := s.Plan(ctx, "nope")
		wantErr(t, `Plan("nope")`, err, store.ErrNotFound)
	})
	t.Run("an empty ID gets a fresh one", func(t *testing.T) {
		p := plan("")
		a := must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, p))
		b := must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, p))
		if a.ID == "" || a.ID == b.ID {
			t.Errorf("SavePlan IDs = %q, %q, want two distinct non-empty IDs", a.ID, b.ID)
		}
	})
	t.Run("invalid plans are refused", func(t *testing.T) {
		bad := []struct {
			name string
			edit func(*store.Plan)
		}{
			{"unknown state", func(p *store.Plan) { p.State = "done-ish" }},
			{"negative approvals", func(p *store.Plan) { p.RequiredApprovals = -1 }},
			{"no hash", func(p *store.Plan) { p.Hash = "" }},
			{"a body that is not JSON", func(p *store.Plan) { p.Body = json.RawMessage("steps: [1]") }},
		}
		for _, tc := range bad {
			p := plan("bad-" + tc.name)
			tc.edit(&p)
			_, err := s.SavePlan(ctx, p)
			wantErr(t, "SavePlan("+tc.name+")", err, store.ErrInvalid)
		}
	})
	t.Run("listing is newest first, filters by state and limits", func(t *testing.T) {
		for i := range 3 {
			p := plan(fmt.Sprintf("list-%d", i))
			p.CreatedAt = time.Now().Add(time.Duration(i+1) * time.Hour) // newer than the plans above
			must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, p))
		}
		must[store.Plan](t, "SetPlanState")(s.SetPlanState(ctx, "list-1", store.PlanPending, store.PlanApproved))
		ids := func(ps []store.Plan) []string {
			var out []string
			for _, p := range ps {
				out = append(out, p.ID)
			}
			return out
		}
		got := ids(must[[]store.Plan](t, "ListPlans")(s.ListPlans(ctx, store.PlanFilter{Limit: 2})))
		if diff := cmp.Diff([]string{"list-2", "list-1"}, got); diff != "" {
			t.Errorf("ListPlans(limit 2) (-want +got):\n%s", diff)
		}
		got = ids(must[[]store.Plan](t, "ListPlans")(s.ListPlans(ctx, store.PlanFilter{State: store.PlanApproved})))
		if diff := cmp.Diff([]string{"list-1"}, got); diff != "" {
			t.Errorf("ListPlans(approved) (-want +got):\n%s", diff)
		}
	})
}

func testPlanStates(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, plan("p")))
	steps := []struct{ from, to store.PlanState }{
		{store.PlanPending, store.PlanApproved},
		{store.PlanApproved, store.PlanApplying},
		{store.PlanApplying, store.PlanApplied},
		{store.PlanApplied, store.PlanRolledBack},
	}
	for _, st := range steps {
		got, err := s.SetPlanState(ctx, "p", st.from, st.to)
		if err != nil || got.State != st.to {
			t.Fatalf("SetPlanState(p, %s, %s) = %q, %v, want %q", st.from, st.to, got.State, err, st.to)
		}
	}
	t.Run("a stale from state is a conflict naming the current state", func(t *testing.T) {
		must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, plan("q")))
		must[store.Plan](t, "SetPlanState")(s.SetPlanState(ctx, "q", store.PlanPending, store.PlanApproved))
		_, err := s.SetPlanState(ctx, "q", store.PlanPending, store.PlanSuperseded)
		var ce *store.StateConflictError
		if !errors.As(err, &ce) || ce.Current != string(store.PlanApproved) || !errors.Is(err, store.ErrConflict) {
			t.Errorf("SetPlanState(q, pending, superseded) = %v, want a StateConflictError with current state approved", err)
		}
	})
	t.Run("a transition outside the state machine is refused", func(t *testing.T) {
		must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, plan("r")))
		_, err := s.SetPlanState(ctx, "r", store.PlanPending, store.PlanApplied)
		wantErr(t, "SetPlanState(r, pending, applied)", err, store.ErrInvalid)
		got := must[store.Plan](t, "Plan")(s.Plan(ctx, "r"))
		if got.State != store.PlanPending {
			t.Errorf("after a refused transition plan r is %q, want pending", got.State)
		}
	})
	t.Run("a missing plan is not found", func(t *testing.T) {
		_, err := s.SetPlanState(ctx, "nope", store.PlanPending, store.PlanApproved)
		wantErr(t, "SetPlanState(nope)", err, store.ErrNotFound)
	})
}

func testApprovals(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, plan("p")))
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	bob := must[store.Approval](t, "AddApproval")(s.AddApproval(ctx, store.Approval{PlanID: "p", Approver: "bob", PlanHash: "sha256:p", Comment: "looks right", At: t0}))
	carol := must[store.Approval](t, "AddApproval")(s.AddApproval(ctx, store.Approval{PlanID: "p", Approver: "carol", PlanHash: "sha256:p", At: t0.Add(time.Minute)}))
	got := must[[]store.Approval](t, "ListApprovals")(s.ListApprovals(ctx, "p"))
	if diff := cmp.Diff([]store.Approval{bob, carol}, got); diff != "" {
		t.Errorf("ListApprovals(p) (-want +got):\n%s", diff)
	}
	t.Run("a second approval by the same approver is refused", func(t *testing.T) {
		_, err := s.AddApproval(ctx, store.Approval{PlanID: "p", Approver: "bob", PlanHash: "sha256:p"})
		wantErr(t, "AddApproval(bob again)", err, store.ErrAlreadyExists)
		if n := len(must[[]store.Approval](t, "ListApprovals")(s.ListApprovals(ctx, "p"))); n != 2 {
			t.Errorf("after the refused approval there are %d approvals, want 2", n)
		}
	})
	t.Run("approving a missing plan is not found", func(t *testing.T) {
		_, err := s.AddApproval(ctx, store.Approval{PlanID: "nope", Approver: "bob", PlanHash: "x"})
		wantErr(t, "AddApproval(nope)", err, store.ErrNotFound)
	})
	t.Run("an approval without approver or hash is refused", func(t *testing.T) {
		_, err := s.AddApproval(ctx, store.Approval{PlanID: "p", PlanHash: "x"})
		wantErr(t, "AddApproval(no approver)", err, store.ErrInvalid)
		_, err = s.AddApproval(ctx, store.Approval{PlanID: "p", Approver: "dave"})
		wantErr(t, "AddApproval(no hash)", err, store.ErrInvalid)
	})
	t.Run("a plan without approvals lists none", func(t *testing.T) {
		if got := must[[]store.Approval](t, "ListApprovals")(s.ListApprovals(ctx, "other")); len(got) != 0 {
			t.Errorf("ListApprovals(other) = %v, want none", got)
		}
	})
}

// race runs fn in n goroutines released at once and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func testApprovalRace(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, plan("p")))
	errs := race(8, func(int) error {
		_, err := s.AddApproval(ctx, store.Approval{PlanID: "p", Approver: "bob", PlanHash: "sha256:p"})
		return err
	})
	ok, dup := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrAlreadyExists):
			dup++
		default:
			t.Errorf("AddApproval in a race = %v, want nil or ErrAlreadyExists", err)
		}
	}
	if ok != 1 || dup != 7 {
		t.Errorf("8 racing approvals by bob: %d succeeded and %d were duplicates, want 1 and 7", ok, dup)
	}
}

func testChanges(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, plan("p")))
	a := must[store.Change](t, "StartChange")(s.StartChange(ctx, store.Change{PlanID: "p", StartedBy: "alice"}))
	b := must[store.Change](t, "StartChange")(s.StartChange(ctx, store.Change{PlanID: "p", Kind: store.ChangeRollback, StartedBy: "alice"}))
	if a.State != store.ChangeRunning || a.Kind != store.ChangeApply || a.StartedAt.IsZero() {
		t.Errorf("StartChange = %+v, want a running apply with a start time", a)
	}
	if got := must[store.Change](t, "Change")(s.Change(ctx, a.ID)); !cmp.Equal(got, a) {
		t.Errorf("Change(%s) (-want +got):\n%s", a.ID, cmp.Diff(a, got))
	}

	// Interleave two changes' journals: each keeps its own order.
	type line struct {
		c     store.Change
		step  int
		phase store.Phase
		req   string
	}
	script := []line{
		{a, 0, store.PhaseIntent, ""}, {b, 0, store.PhaseIntent, ""}, {a, 0, store.PhaseDone, "req-a0"},
		{a, 1, store.PhaseIntent, ""}, {b, 0, store.PhaseFailed, "req-b0"}, {a, 1, store.PhaseDone, "req-a1"},
		{a, 2, store.PhaseIntent, ""},
	}
	want := map[string][]store.JournalEntry{}
	for _, l := range script {
		detail := json.RawMessage(fmt.Sprintf(`{"step":%d,"phase":%q}`, l.step, l.phase))
		e := must[store.JournalEntry](t, "AppendJournal")(s.AppendJournal(ctx, store.JournalEntry{ChangeID: l.c.ID, Step: l.step, Phase: l.phase, RequestID: l.req, Detail: detail}))
		if wantSeq := int64(len(want[l.c.ID]) + 1); e.Seq != wantSeq {
			t.Errorf("AppendJournal(%s step %d %s).Seq = %d, want %d", l.c.ID, l.step, l.phase, e.Seq, wantSeq)
		}
		want[l.c.ID] = append(want[l.c.ID], e)
	}
	for _, c := range []store.Change{a, b} {
		got := must[[]store.JournalEntry](t, "Journal")(s.Journal(ctx, c.ID))
		if diff := cmp.Diff(want[c.ID], got); diff != "" {
			t.Errorf("Journal(%s) (-want +got):\n%s", c.ID, diff)
		}
	}

	t.Run("running changes are unfinished until finished", func(t *testing.T) {
		ids := func() []string {
			var out []string
			for _, c := range must[[]store.Change](t, "UnfinishedChanges")(s.UnfinishedChanges(ctx)) {
				out = append(out, c.ID)
			}
			return out
		}
		if diff := cmp.Diff([]string{a.ID, b.ID}, ids()); diff != "" {
			t.Errorf("UnfinishedChanges before finishing (-want +got):\n%s", diff)
		}
		done := must[store.Change](t, "FinishChange")(s.FinishChange(ctx, b.ID, store.ChangeFailed, []byte(`{"error":"throttled"}`)))
		if done.State != store.ChangeFailed || done.FinishedAt.IsZero() || string(done.Detail) != `{"error":"throttled"}` {
			t.Errorf("FinishChange = %+v, want failed with a finish time and the detail", done)
		}
		if diff := cmp.Diff([]string{a.ID}, ids()); diff != "" {
			t.Errorf("UnfinishedChanges after finishing %s (-want +got):\n%s", b.ID, diff)
		}
	})
	t.Run("a finished change takes no journal entries and does not finish twice", func(t *testing.T) {
		_, err := s.AppendJournal(ctx, store.JournalEntry{ChangeID: b.ID, Step: 1, Phase: store.PhaseIntent})
		wantErr(t, "AppendJournal(finished change)", err, store.ErrConflict)
		_, err = s.FinishChange(ctx, b.ID, store.ChangeApplied, nil)
		wantErr(t, "FinishChange(finished change)", err, store.ErrConflict)
		if n := len(must[[]store.JournalEntry](t, "Journal")(s.Journal(ctx, b.ID))); n != 2 {
			t.Errorf("journal of %s has %d entries after the refused append, want 2", b.ID, n)
		}
	})
	t.Run("bad input is refused", func(t *testing.T) {
		_, err := s.StartChange(ctx, store.Change{PlanID: "nope"})
		wantErr(t, "StartChange(missing plan)", err, store.ErrNotFound)
		_, err = s.StartChange(ctx, store.Change{PlanID: "p", Kind: "explode"})
		wantErr(t, "StartChange(unknown kind)", err, store.ErrInvalid)
		_, err = s.AppendJournal(ctx, store.JournalEntry{ChangeID: a.ID, Phase: "maybe"})
		wantErr(t, "AppendJournal(unknown phase)", err, store.ErrInvalid)
		_, err = s.AppendJournal(ctx, store.JournalEntry{ChangeID: a.ID, Phase: store.PhaseDone, Detail: []byte("{oops")})
		wantErr(t, "AppendJournal(bad JSON)", err, store.ErrInvalid)
		_, err = s.AppendJournal(ctx, store.JournalEntry{ChangeID: "nope", Phase: store.PhaseIntent})
		wantErr(t, "AppendJournal(missing change)", err, store.ErrNotFound)
		_, err = s.FinishChange(ctx, a.ID, store.ChangeRunning, nil)
		wantErr(t, "FinishChange(running)", err, store.ErrInvalid)
		_, err = s.Change(ctx, "nope")
		wantErr(t, "Change(nope)", err, store.ErrNotFound)
	})
	t.Run("listing filters by plan and state", func(t *testing.T) {
		got := must[[]store.Change](t, "ListChanges")(s.ListChanges(ctx, store.ChangeFilter{PlanID: "p", State: store.ChangeFailed}))
		if len(got) != 1 || got[0].ID != b.ID {
			t.Errorf("ListChanges(p, failed) = %v, want only %s", got, b.ID)
		}
		if got := must[[]store.Change](t, "ListChanges")(s.ListChanges(ctx, store.ChangeFilter{Limit: 1})); len(got) != 1 {
			t.Errorf("ListChanges(limit 1) has %d changes, want 1", len(got))
		}
	})
}

func testJournalRace(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, plan("p")))
	c := must[store.Change](t, "StartChange")(s.StartChange(ctx, store.Change{PlanID: "p"}))
	const n = 16
	errs := race(n, func(i int) error {
		_, err := s.AppendJournal(ctx, store.JournalEntry{ChangeID: c.ID, Step: i, Phase: store.PhaseIntent})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("AppendJournal #%d in a race: %v", i, err)
		}
	}
	got := must[[]store.JournalEntry](t, "Journal")(s.Journal(ctx, c.ID))
	steps := map[int]bool{}
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Errorf("journal entry %d has seq %d, want %d (no gaps, no duplicates)", i, e.Seq, i+1)
		}
		steps[e.Step] = true
	}
	if len(got) != n || len(steps) != n {
		t.Errorf("journal has %d entries for %d steps, want %d and %d", len(got), len(steps), n, n)
	}
}

func testLocks(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	l := must[store.Lock](t, "AcquireLock")(s.AcquireLock(ctx, store.LockRequest{Name: "organization", Holder: "alice (pid 1)", TTL: time.Hour}))
	if l.Token == "" || l.Holder != "alice (pid 1)" || !l.ExpiresAt.After(l.AcquiredAt) {
		t.Errorf("AcquireLock = %+v, want a token, the holder and an expiry after acquisition", l)
	}
	t.Run("someone else is refused with who and since when", func(t *testing.T) {
		_, err := s.AcquireLock(ctx, store.LockRequest{Name: "organization", Holder: "bob (pid 2)", TTL: time.Hour})
		var he *store.LockHeldError
		if !errors.As(err, &he) || !errors.Is(err, store.ErrLockHeld) {
			t.Fatalf("AcquireLock(held) = %v, want a LockHeldError", err)
		}
		if he.Holder != "alice (pid 1)" || !he.AcquiredAt.Equal(l.AcquiredAt) {
			t.Errorf("LockHeldError = %+v, want holder alice (pid 1) since %v", he, l.AcquiredAt)
		}
	})
	t.Run("the same holder is refused too: locks are not re-entrant", func(t *testing.T) {
		_, err := s.AcquireLock(ctx, store.LockRequest{Name: "organization", Holder: "alice (pid 1)", TTL: time.Hour})
		wantErr(t, "AcquireLock(again)", err, store.ErrLockHeld)
	})
	t.Run("other names are independent", func(t *testing.T) {
		must[store.Lock](t, "AcquireLock")(s.AcquireLock(ctx, store.LockRequest{Name: "other", Holder: "bob", TTL: time.Hour}))
	})
	t.Run("a heartbeat extends the lock", func(t *testing.T) {
		hb := must[store.Lock](t, "HeartbeatLock")(s.HeartbeatLock(ctx, "organization", l.Token, 2*time.Hour))
		if !hb.ExpiresAt.After(l.ExpiresAt) || !hb.AcquiredAt.Equal(l.AcquiredAt) {
			t.Errorf("HeartbeatLock = %+v, want a later expiry than %v and the same acquisition time", hb, l.ExpiresAt)
		}
		cur := must[store.Lock](t, "Lock")(s.Lock(ctx, "organization"))
		if !cur.ExpiresAt.Equal(hb.ExpiresAt) || cur.Holder != l.Holder {
			t.Errorf("Lock(organization) = %+v, want the heartbeat's expiry %v", cur, hb.ExpiresAt)
		}
	})
	t.Run("a wrong token neither renews nor releases", func(t *testing.T) {
		_, err := s.HeartbeatLock(ctx, "organization", "not-the-token", time.Hour)
		wantErr(t, "HeartbeatLock(wrong token)", err, store.ErrLockLost)
		err = s.ReleaseLock(ctx, "organization", "not-the-token")
		wantErr(t, "ReleaseLock(wrong token)", err, store.ErrLockLost)
	})
	t.Run("after release another holder acquires it", func(t *testing.T) {
		if err := s.ReleaseLock(ctx, "organization", l.Token); err != nil {
			t.Fatalf("ReleaseLock: %v", err)
		}
		_, err := s.Lock(ctx, "organization")
		wantErr(t, "Lock(released)", err, store.ErrNotFound)
		must[store.Lock](t, "AcquireLock")(s.AcquireLock(ctx, store.LockRequest{Name: "organization", Holder: "bob", TTL: time.Hour}))
		err = s.ReleaseLock(ctx, "organization", l.Token)
		wantErr(t, "ReleaseLock(old token)", err, store.ErrLockLost)
	})
	t.Run("bad requests are refused", func(t *testing.T) {
		for _, r := range []store.LockRequest{{Holder: "x", TTL: time.Hour}, {Name: "x", TTL: time.Hour}, {Name: "x", Holder: "y"}} {
			_, err := s.AcquireLock(ctx, r)
			wantErr(t, fmt.Sprintf("AcquireLock(%+v)", r), err, store.ErrInvalid)
		}
	})
}

func testLockRace(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for round := range 5 {
		name := fmt.Sprintf("organization-%d", round)
		errs := race(2, func(i int) error {
			_, err := s.AcquireLock(ctx, store.LockRequest{Name: name, Holder: fmt.Sprintf("racer-%d", i), TTL: time.Minute})
			return err
		})
		won, held := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrLockHeld):
				held++
			default:
				t.Errorf("round %d: AcquireLock in a race = %v, want nil or ErrLockHeld", round, err)
			}
		}
		if won != 1 || held != 1 {
			t.Errorf("round %d: two goroutines raced for %s: %d won and %d were refused, want exactly 1 and 1", round, name, won, held)
		}
	}
}

func testLockTakeover(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	const ttl = 50 * time.Millisecond
	old := must[store.Lock](t, "AcquireLock")(s.AcquireLock(ctx, store.LockRequest{Name: "organization", Holder: "crashed", TTL: ttl}))
	time.Sleep(2 * ttl)
	// Several contenders find the stale lock at once: exactly one takes it over.
	got := make([]store.Lock, 4)
	errs := race(4, func(i int) error {
		var err error
		got[i], err = s.AcquireLock(ctx, store.LockRequest{Name: "organization", Holder: fmt.Sprintf("new-%d", i), TTL: time.Minute})
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("contenders %d and %d both took over the stale lock", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrLockHeld):
			t.Errorf("AcquireLock(stale) #%d = %v, want nil or ErrLockHeld", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("nobody took over the stale lock")
	}
	if got[winner].TakenOverFrom != "crashed" {
		t.Errorf("TakenOverFrom = %q, want %q", got[winner].TakenOverFrom, "crashed")
	}
	_, err := s.HeartbeatLock(ctx, "organization", old.Token, time.Minute)
	wantErr(t, "HeartbeatLock(by the holder it was taken from)", err, store.ErrLockLost)
	if err := s.ReleaseLock(ctx, "organization", got[winner].Token); err != nil {
		t.Errorf("ReleaseLock(by the new holder) = %v", err)
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	h := must[store.AuditHead](t, "AuditHead")(s.AuditHead(ctx))
	if h != (store.AuditHead{}) {
		t.Errorf("AuditHead of an empty log = %+v, want zero", h)
	}
	if r := must[audit.Report](t, "Verify")(audit.Verify(ctx, s)); !r.Intact() || r.Entries != 0 {
		t.Errorf("Verify(empty log) = %+v, want intact with 0 entries", r)
	}
	recs := []store.AuditRecord{
		{Actor: "alice", Action: "plan.create", Subject: "plan-1", Detail: json.RawMessage(`{ "b": 1, "a": [1.50, "x<y"] }`)},
		{Actor: "bob", Action: "plan.approve", Subject: "plan-1"},
		{Actor: "alice", Action: "apply.start", Subject: "change-1", Detail: json.RawMessage(`"quarantine"`)},
	}
	var entries []store.AuditEntry
	prev := ""
	for i, r := range recs {
		e := must[store.AuditEntry](t, "AppendAudit")(s.AppendAudit(ctx, r))
		if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash != audit.Hash(e) {
			t.Errorf("AppendAudit #%d = seq %d prev %q hash %q, want seq %d prev %q and hash = audit.Hash(entry)", i, e.Seq, e.PrevHash, e.Hash, i+1, prev)
		}
		prev = e.Hash
		entries = append(entries, e)
	}
	if got := string(entries[0].Detail); got != `{"a":[1.50,"x<y"],"b":1}` {
		t.Errorf("stored detail = %s, want the canonical form {\"a\":[1.50,\"x<y\"],\"b\":1}", got)
	}
	got := must[[]store.AuditEntry](t, "ListAudit")(s.ListAudit(ctx, store.AuditQuery{}))
	if diff := cmp.Diff(entries, got); diff != "" {
		t.Errorf("ListAudit (-appended +listed):\n%s", diff)
	}
	if h := must[store.AuditHead](t, "AuditHead")(s.AuditHead(ctx)); h != (store.AuditHead{Seq: 3, Hash: entries[2].Hash}) {
		t.Errorf("AuditHead = %+v, want seq 3 and the last hash", h)
	}
	r := must[audit.Report](t, "Verify")(audit.Verify(ctx, s, audit.Anchor{Seq: 2, Hash: entries[1].Hash}))
	if !r.Intact() || r.Entries != 3 || r.Last.Hash != entries[2].Hash {
		t.Errorf("Verify = %+v, want an intact chain of 3 ending at the last hash", r)
	}
	t.Run("paging forward and from the newest", func(t *testing.T) {
		page := must[[]store.AuditEntry](t, "ListAudit")(s.ListAudit(ctx, store.AuditQuery{AfterSeq: 1, Limit: 1}))
		if len(page) != 1 || page[0].Seq != 2 {
			t.Errorf("ListAudit(after 1, limit 1) = %v, want entry 2", page)
		}
		page = must[[]store.AuditEntry](t, "ListAudit")(s.ListAudit(ctx, store.AuditQuery{Newest: true, Limit: 2}))
		if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 2 {
			t.Errorf("ListAudit(newest, limit 2) = %v, want entries 3, 2", page)
		}
		page = must[[]store.AuditEntry](t, "ListAudit")(s.ListAudit(ctx, store.AuditQuery{Newest: true, AfterSeq: 3, Limit: 1}))
		if len(page) != 1 || page[0].Seq != 2 {
			t.Errorf("ListAudit(newest, before 3, limit 1) = %v, want entry 2", page)
		}
	})
	t.Run("a wrong anchor breaks verification", func(t *testing.T) {
		r := must[audit.Report](t, "Verify")(audit.Verify(ctx, s, audit.Anchor{Seq: 2, Hash: entries[0].Hash}))
		if r.Intact() || r.Break.Seq != 2 {
			t.Errorf("Verify(wrong anchor at 2) = %+v, want broken at 2", r)
		}
	})
	t.Run("bad records are refused and consume nothing", func(t *testing.T) {
		_, err := s.AppendAudit(ctx, store.AuditRecord{Actor: "x", Action: "y", Detail: json.RawMessage(`{"a":`)})
		wantErr(t, "AppendAudit(bad JSON)", err, store.ErrInvalid)
		_, err = s.AppendAudit(ctx, store.AuditRecord{Action: "y"})
		wantErr(t, "AppendAudit(no actor)", err, store.ErrInvalid)
		// Both databases must refuse what one of them cannot store.
		_, err = s.AppendAudit(ctx, store.AuditRecord{Actor: "a\x00b", Action: "y"})
		wantErr(t, "AppendAudit(NUL in actor)", err, store.ErrInvalid)
		_, err = s.AppendAudit(ctx, store.AuditRecord{Actor: "a", Action: "y", Subject: "\xff"})
		wantErr(t, "AppendAudit(invalid UTF-8 subject)", err, store.ErrInvalid)
		_, err = s.SavePlan(ctx, store.Plan{Author: "a\x00", Hash: "h"})
		wantErr(t, "SavePlan(NUL in author)", err, store.ErrInvalid)
		if h := must[store.AuditHead](t, "AuditHead")(s.AuditHead(ctx)); h.Seq != 3 {
			t.Errorf("AuditHead after refused appends = %d, want 3", h.Seq)
		}
	})
}

func testAuditRace(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	const n = 16
	errs := race(n, func(i int) error {
		_, err := s.AppendAudit(ctx, store.AuditRecord{Actor: fmt.Sprintf("actor-%d", i), Action: "race"})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("AppendAudit #%d in a race: %v", i, err)
		}
	}
	r := must[audit.Report](t, "Verify")(audit.Verify(ctx, s))
	if !r.Intact() || r.Entries != n {
		t.Errorf("Verify after %d racing appends = %+v, want an intact chain of %d", n, r, n)
	}
}

func testTx(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, plan("p")))
	t.Run("a committed transaction keeps the change and its audit entry", func(t *testing.T) {
		err := s.WithTx(ctx, func(tx store.Tx) error {
			if _, err := tx.SetPlanState(ctx, "p", store.PlanPending, store.PlanApproved); err != nil {
				return err
			}
			// Reads inside the transaction see its own writes.
			if p, err := tx.Plan(ctx, "p"); err != nil || p.State != store.PlanApproved {
				return fmt.Errorf("inside the transaction plan p is %q (%v), want approved", p.State, err)
			}
			_, err := tx.AppendAudit(ctx, store.AuditRecord{Actor: "bob", Action: "plan.approved", Subject: "p"})
			return err
		})
		if err != nil {
			t.Fatalf("WithTx: %v", err)
		}
		if p := must[store.Plan](t, "Plan")(s.Plan(ctx, "p")); p.State != store.PlanApproved {
			t.Errorf("after commit plan p is %q, want approved", p.State)
		}
		if h := must[store.AuditHead](t, "AuditHead")(s.AuditHead(ctx)); h.Seq != 1 {
			t.Errorf("after commit the audit head is at %d, want 1", h.Seq)
		}
	})
	t.Run("a failed transaction keeps neither", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.WithTx(ctx, func(tx store.Tx) error {
			if _, err := tx.SetPlanState(ctx, "p", store.PlanApproved, store.PlanApplying); err != nil {
				return err
			}
			if _, err := tx.AppendAudit(ctx, store.AuditRecord{Actor: "alice", Action: "apply.start", Subject: "p"}); err != nil {
				return err
			}
			if _, err := tx.AcquireLock(ctx, store.LockRequest{Name: "organization", Holder: "alice", TTL: time.Hour}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("WithTx = %v, want the callback's error", err)
		}
		if p := must[store.Plan](t, "Plan")(s.Plan(ctx, "p")); p.State != store.PlanApproved {
			t.Errorf("after rollback plan p is %q, want approved", p.State)
		}
		if h := must[store.AuditHead](t, "AuditHead")(s.AuditHead(ctx)); h.Seq != 1 {
			t.Errorf("after rollback the audit head is at %d, want 1", h.Seq)
		}
		if _, err := s.Lock(ctx, "organization"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after rollback Lock(organization) = %v, want ErrNotFound", err)
		}
	})
	t.Run("a panicking transaction rolls back and the panic goes on", func(t *testing.T) {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WithTx swallowed the callback's panic")
				}
			}()
			s.WithTx(ctx, func(tx store.Tx) error {
				if _, err := tx.AppendAudit(ctx, store.AuditRecord{Actor: "alice", Action: "panic"}); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		if h := must[store.AuditHead](t, "AuditHead")(s.AuditHead(ctx)); h.Seq != 1 {
			t.Errorf("after the panic the audit head is at %d, want 1", h.Seq)
		}
		// The store still works.
		must[store.AuditEntry](t, "AppendAudit")(s.AppendAudit(ctx, store.AuditRecord{Actor: "alice", Action: "after"}))
		if r := must[audit.Report](t, "Verify")(audit.Verify(ctx, s)); !r.Intact() || r.Entries != 2 {
			t.Errorf("Verify after the rollbacks = %+v, want an intact chain of 2", r)
		}
	})
}

func testIncidents(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	in := must[store.Incident](t, "OpenIncident")(s.OpenIncident(ctx, store.Incident{
		OpenedAt: t0, Severity: store.SevCritical, Title: "accounts lost S3 access", Impact: json.RawMessage(`{"accounts":42}`),
	}))
	if in.ID == "" || in.State != store.IncidentInvestigating || !in.ResolvedAt.IsZero() || !in.DetectedAt.Equal(t0) {
		t.Errorf("OpenIncident = %+v, want an ID, state investigating, detected at opening and no resolution time", in)
	}
	if got := must[store.Incident](t, "Incident")(s.Incident(ctx, in.ID)); !cmp.Equal(got, in) {
		t.Errorf("Incident(%s) (-want +got):\n%s", in.ID, cmp.Diff(in, got))
	}
	var want []store.IncidentEvent
	for i, msg := range []string{"detected by watch", "rolled back change-1", "access restored"} {
		ev := must[store.IncidentEvent](t, "AddIncidentEvent")(s.AddIncidentEvent(ctx, store.IncidentEvent{
			IncidentID: in.ID, At: t0.Add(time.Duration(i) * time.Minute), Kind: "note", Actor: "watch", Message: msg,
		}))
		if ev.Seq != int64(i+1) {
			t.Errorf("AddIncidentEvent #%d seq = %d, want %d", i, ev.Seq, i+1)
		}
		want = append(want, ev)
	}
	if diff := cmp.Diff(want, must[[]store.IncidentEvent](t, "IncidentTimeline")(s.IncidentTimeline(ctx, in.ID))); diff != "" {
		t.Errorf("IncidentTimeline (-want +got):\n%s", diff)
	}
	closed := must[store.Incident](t, "SetIncidentState")(s.SetIncidentState(ctx, in.ID, store.IncidentResolved))
	if closed.State != store.IncidentResolved || closed.ResolvedAt.IsZero() || closed.MitigatedAt.IsZero() {
		t.Errorf("SetIncidentState(resolved) = %+v, want resolved with resolution and mitigation times", closed)
	}
	if got := must[[]store.Incident](t, "ListIncidents")(s.ListIncidents(ctx, store.IncidentFilter{Active: true})); len(got) != 0 {
		t.Errorf("ListIncidents(active) after resolving = %v, want none", got)
	}
	reopened := must[store.Incident](t, "SetIncidentState")(s.SetIncidentState(ctx, in.ID, store.IncidentInvestigating))
	if !reopened.ResolvedAt.IsZero() || !reopened.MitigatedAt.Equal(closed.MitigatedAt) {
		t.Errorf("reopened incident = %+v, want no ResolvedAt and the first MitigatedAt %v", reopened, closed.MitigatedAt)
	}
	t.Run("bad input is refused", func(t *testing.T) {
		_, err := s.OpenIncident(ctx, store.Incident{Severity: "apocalyptic", Title: "x"})
		wantErr(t, "OpenIncident(unknown severity)", err, store.ErrInvalid)
		_, err = s.OpenIncident(ctx, store.Incident{Severity: store.SevMinor})
		wantErr(t, "OpenIncident(no title)", err, store.ErrInvalid)
		_, err = s.OpenIncident(ctx, store.Incident{Severity: store.SevMinor, Title: "x", ChangeID: "nope"})
		wantErr(t, "OpenIncident(missing change)", err, store.ErrNotFound)
		_, err = s.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: "nope", Kind: "note", Message: "x"})
		wantErr(t, "AddIncidentEvent(missing incident)", err, store.ErrNotFound)
		_, err = s.SetIncidentState(ctx, "nope", store.IncidentClosed)
		wantErr(t, "SetIncidentState(missing incident)", err, store.ErrNotFound)
		_, err = s.Incident(ctx, "nope")
		wantErr(t, "Incident(nope)", err, store.ErrNotFound)
		_, err = s.MarkIncident(ctx, in.ID, "bored", time.Time{})
		wantErr(t, "MarkIncident(unknown milestone)", err, store.ErrInvalid)
		_, err = s.MarkIncident(ctx, "nope", store.MarkAcknowledged, time.Time{})
		wantErr(t, "MarkIncident(missing incident)", err, store.ErrNotFound)
		_, err = s.IncidentByKey(ctx, "")
		wantErr(t, "IncidentByKey(empty)", err, store.ErrNotFound)
	})
}

func testSnapshots(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	body := []byte(`{"root":{"id":"r-ab12"}}`)
	if err := s.PutSnapshot(ctx, "sha256:a", body); err != nil {
		t.Fatalf("PutSnapshot(a) = %v", err)
	}
	t.Run("a stored snapshot reads back byte for byte", func(t *testing.T) {
		got := must[[]byte](t, "Snapshot")(s.Snapshot(ctx, "sha256:a"))
		if string(got) != string(body) {
			t.Errorf("Snapshot(a) = %s, want %s", got, body)
		}
	})
	t.Run("putting a stored fingerprint again keeps the first body", func(t *testing.T) {
		if err := s.PutSnapshot(ctx, "sha256:a", []byte(`{"other":true}`)); err != nil {
			t.Fatalf("PutSnapshot(a again) = %v, want nil", err)
		}
		if got := must[[]byte](t, "Snapshot")(s.Snapshot(ctx, "sha256:a")); string(got) != string(body) {
			t.Errorf("Snapshot(a) after a second put = %s, want %s", got, body)
		}
	})
	t.Run("a missing snapshot is not found", func(t *testing.T) {
		_, err := s.Snapshot(ctx, "sha256:nope")
		wantErr(t, "Snapshot(nope)", err, store.ErrNotFound)
	})
	t.Run("bad input is refused", func(t *testing.T) {
		wantErr(t, "PutSnapshot(no fingerprint)", s.PutSnapshot(ctx, "", body), store.ErrInvalid)
		wantErr(t, "PutSnapshot(empty body)", s.PutSnapshot(ctx, "sha256:b", nil), store.ErrInvalid)
	})
	t.Run("snapshots commit with the transaction that stores them", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.WithTx(ctx, func(tx store.Tx) error {
			if err := tx.PutSnapshot(ctx, "sha256:c", body); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, "WithTx", err, boom)
		_, err = s.Snapshot(ctx, "sha256:c")
		wantErr(t, "Snapshot(c) after a rolled-back put", err, store.ErrNotFound)
	})
}

func testGuardrails(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	_, err := s.PinnedGuardrails(ctx)
	wantErr(t, "PinnedGuardrails(empty store)", err, store.ErrNotFound)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	v1 := must[store.GuardrailsVersion](t, "PinGuardrails")(s.PinGuardrails(ctx,
		store.GuardrailsVersion{Hash: "sha256:g1", Body: []byte(`{"v":1}`), PinnedBy: "alice", PinnedAt: t0}, 0))
	if v1.Seq != 1 {
		t.Errorf("first PinGuardrails seq = %d, want 1", v1.Seq)
	}
	must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, store.Plan{ID: "gp", Kind: store.PlanGuardrails, Author: "alice",
		Hash: "sha256:gp", Verdict: "needs-approval", RequiredApprovals: 1, Body: []byte(`{}`)}))
	v2 := must[store.GuardrailsVersion](t, "PinGuardrails")(s.PinGuardrails(ctx,
		store.GuardrailsVersion{Hash: "sha256:g2", Body: []byte(`{"v":2}`), PinnedBy: "bob", PinnedAt: t0.Add(time.Hour), PlanID: "gp"}, 1))
	t.Run("the newest version is in force", func(t *testing.T) {
		got := must[store.GuardrailsVersion](t, "PinnedGuardrails")(s.PinnedGuardrails(ctx))
		if diff := cmp.Diff(v2, got); diff != "" {
			t.Errorf("PinnedGuardrails (-want +got):\n%s", diff)
		}
	})
	t.Run("every version is listed oldest first", func(t *testing.T) {
		got := must[[]store.GuardrailsVersion](t, "ListGuardrails")(s.ListGuardrails(ctx))
		if diff := cmp.Diff([]store.GuardrailsVersion{v1, v2}, got); diff != "" {
			t.Errorf("ListGuardrails (-want +got):\n%s", diff)
		}
	})
	t.Run("a pin made against an outdated version is a conflict", func(t *testing.T) {
		_, err := s.PinGuardrails(ctx, store.GuardrailsVersion{Hash: "sha256:g3", Body: []byte(`{}`), PinnedBy: "carol"}, 1)
		wantErr(t, "PinGuardrails(expect 1)", err, store.ErrConflict)
	})
	t.Run("a pin naming a missing plan is not found", func(t *testing.T) {
		_, err := s.PinGuardrails(ctx, store.GuardrailsVersion{Hash: "sha256:g3", Body: []byte(`{}`), PinnedBy: "carol", PlanID: "nope"}, -1)
		wantErr(t, "PinGuardrails(plan nope)", err, store.ErrNotFound)
	})
	t.Run("bad input is refused", func(t *testing.T) {
		_, err := s.PinGuardrails(ctx, store.GuardrailsVersion{Body: []byte(`{}`), PinnedBy: "carol"}, -1)
		wantErr(t, "PinGuardrails(no hash)", err, store.ErrInvalid)
		_, err = s.PinGuardrails(ctx, store.GuardrailsVersion{Hash: "h", Body: []byte(`{`), PinnedBy: "carol"}, -1)
		wantErr(t, "PinGuardrails(bad JSON)", err, store.ErrInvalid)
		_, err = s.PinGuardrails(ctx, store.GuardrailsVersion{Hash: "h", Body: []byte(`{}`)}, -1)
		wantErr(t, "PinGuardrails(nobody)", err, store.ErrInvalid)
	})
}

func testGuardrailsRace(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	errs := race(6, func(i int) error {
		_, err := s.PinGuardrails(ctx, store.GuardrailsVersion{Hash: fmt.Sprintf("sha256:%d", i), Body: []byte(`{}`), PinnedBy: "x"}, 0)
		return err
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("PinGuardrails in a race = %v, want nil or ErrConflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d racing pins against version 0 won, want exactly 1", ok)
	}
}

func testIncidentClock(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	in := must[store.Incident](t, "OpenIncident")(s.OpenIncident(ctx, store.Incident{
		OpenedAt: t0.Add(40 * time.Second), Severity: store.SevCritical, Title: "deny-all on Root",
		Source: store.SourceDrift, OpenedBy: "watch", Rule: "deny-all", DedupKey: "drift:sha256:abc",
		ImpactStartedAt: t0, DetectedAt: t0.Add(30 * time.Second),
		Accounts: []string{"111111111111", "222222222222"}, Customers: []string{"acme"},
	}))
	if got := must[store.Incident](t, "IncidentByKey")(s.IncidentByKey(ctx, "drift:sha256:abc")); !cmp.Equal(got, in) {
		t.Errorf("IncidentByKey (-want +got):\n%s", cmp.Diff(in, got))
	}
	t.Run("a second incident with the same key is refused", func(t *testing.T) {
		_, err := s.OpenIncident(ctx, store.Incident{Severity: store.SevCritical, Title: "again", DedupKey: "drift:sha256:abc"})
		wantErr(t, "OpenIncident(same key)", err, store.ErrAlreadyExists)
		if n := len(must[[]store.Incident](t, "ListIncidents")(s.ListIncidents(ctx, store.IncidentFilter{}))); n != 1 {
			t.Errorf("ListIncidents = %d incidents, want 1", n)
		}
	})
	t.Run("milestones are set once", func(t *testing.T) {
		ack := t0.Add(2 * time.Minute)
		got := must[store.Incident](t, "MarkIncident")(s.MarkIncident(ctx, in.ID, store.MarkAcknowledged, ack))
		got = must[store.Incident](t, "MarkIncident")(s.MarkIncident(ctx, in.ID, store.MarkAcknowledged, ack.Add(time.Hour)))
		if !got.AcknowledgedAt.Equal(ack) {
			t.Errorf("AcknowledgedAt = %v, want the first %v", got.AcknowledgedAt, ack)
		}
		mit := t0.Add(3 * time.Minute)
		must[store.Incident](t, "MarkIncident")(s.MarkIncident(ctx, in.ID, store.MarkMitigated, mit))
		got = must[store.Incident](t, "SetIncidentState")(s.SetIncidentState(ctx, in.ID, store.IncidentMonitoring))
		if !got.MitigatedAt.Equal(mit) || got.State != store.IncidentMonitoring {
			t.Errorf("after monitoring: %+v, want MitigatedAt %v kept", got, mit)
		}
	})
	t.Run("an incident opened mitigated has its mitigation time", func(t *testing.T) {
		m := must[store.Incident](t, "OpenIncident")(s.OpenIncident(ctx, store.Incident{
			OpenedAt: t0, Severity: store.SevMajor, Title: "rolled back", State: store.IncidentMonitoring}))
		if !m.MitigatedAt.Equal(t0) || !m.ResolvedAt.IsZero() {
			t.Errorf("OpenIncident(monitoring) = %+v, want MitigatedAt %v and no ResolvedAt", m, t0)
		}
	})
	t.Run("filters", func(t *testing.T) {
		got := must[[]store.Incident](t, "ListIncidents")(s.ListIncidents(ctx, store.IncidentFilter{Since: t0.Add(time.Second)}))
		if len(got) != 1 || got[0].ID != in.ID {
			t.Errorf("ListIncidents(since) = %v, want only %s", got, in.ID)
		}
		got = must[[]store.Incident](t, "ListIncidents")(s.ListIncidents(ctx, store.IncidentFilter{State: store.IncidentMonitoring}))
		if len(got) != 2 {
			t.Errorf("ListIncidents(monitoring) = %d incidents, want 2", len(got))
		}
	})
}

func testWatchState(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	_, err := s.WatchState(ctx, "default")
	wantErr(t, "WatchState(none yet)", err, store.ErrNotFound)
	wantErr(t, "SaveWatchState(no body)", s.SaveWatchState(ctx, store.WatchState{Name: "default"}), store.ErrInvalid)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, fp := range []string{"sha256:one", "sha256:two"} {
		w := store.WatchState{Name: "default", Fingerprint: fp, UpdatedAt: t0.Add(time.Duration(i) * time.Second), Body: []byte{0x1f, 0x8b, byte(i), 0}}
		if err := s.SaveWatchState(ctx, w); err != nil {
			t.Fatalf("SaveWatchState #%d: %v", i, err)
		}
		if got := must[store.WatchState](t, "WatchState")(s.WatchState(ctx, "default")); !cmp.Equal(got, w) {
			t.Errorf("WatchState after save #%d (-want +got):\n%s", i, cmp.Diff(w, got))
		}
	}
}

func testLatestSnapshot(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for _, fp := range []string{"sha256:old", "sha256:new"} {
		if err := s.PutSnapshot(ctx, fp, []byte(`{"fp":"`+fp+`"}`)); err != nil {
			t.Fatalf("PutSnapshot(%s) = %v", fp, err)
		}
	}
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	const src = "aws:prod/us-east-1"
	latest := func(t *testing.T, source string) (string, time.Time) {
		t.Helper()
		fp, at, err := s.LatestSnapshot(ctx, source)
		if err != nil {
			t.Fatalf("LatestSnapshot(%s) = %v", source, err)
		}
		return fp, at
	}
	t.Run("nothing recorded is not found", func(t *testing.T) {
		_, _, err := s.LatestSnapshot(ctx, src)
		wantErr(t, "LatestSnapshot(nothing yet)", err, store.ErrNotFound)
	})
	t.Run("the recorded read reads back with its time", func(t *testing.T) {
		if err := s.SetLatestSnapshot(ctx, src, "sha256:old", t0); err != nil {
			t.Fatalf("SetLatestSnapshot(old) = %v", err)
		}
		if fp, at := latest(t, src); fp != "sha256:old" || !at.Equal(t0) {
			t.Errorf("LatestSnapshot = %s at %v, want sha256:old at %v", fp, at, t0)
		}
	})
	t.Run("a newer read replaces it and an older one does not", func(t *testing.T) {
		if err := s.SetLatestSnapshot(ctx, src, "sha256:new", t0.Add(time.Hour)); err != nil {
			t.Fatalf("SetLatestSnapshot(new) = %v", err)
		}
		if err := s.SetLatestSnapshot(ctx, src, "sha256:old", t0.Add(time.Minute)); err != nil {
			t.Fatalf("SetLatestSnapshot(older read) = %v", err)
		}
		if fp, at := latest(t, src); fp != "sha256:new" || !at.Equal(t0.Add(time.Hour)) {
			t.Errorf("LatestSnapshot = %s at %v, want sha256:new an hour later", fp, at)
		}
	})
	t.Run("sources are kept apart", func(t *testing.T) {
		if err := s.SetLatestSnapshot(ctx, "aws:dev/us-east-1", "sha256:old", t0); err != nil {
			t.Fatalf("SetLatestSnapshot(dev) = %v", err)
		}
		if fp, _ := latest(t, "aws:dev/us-east-1"); fp != "sha256:old" {
			t.Errorf("LatestSnapshot(dev) = %s, want sha256:old", fp)
		}
		if fp, _ := latest(t, src); fp != "sha256:new" {
			t.Errorf("LatestSnapshot(prod) = %s after recording dev, want sha256:new", fp)
		}
	})
	t.Run("a snapshot not stored is not found and bad input is refused", func(t *testing.T) {
		wantErr(t, "SetLatestSnapshot(not stored)", s.SetLatestSnapshot(ctx, src, "sha256:nope", t0.Add(2*time.Hour)), store.ErrNotFound)
		wantErr(t, "SetLatestSnapshot(no source)", s.SetLatestSnapshot(ctx, "", "sha256:new", t0), store.ErrInvalid)
		wantErr(t, "SetLatestSnapshot(no time)", s.SetLatestSnapshot(ctx, src, "sha256:new", time.Time{}), store.ErrInvalid)
	})
}
