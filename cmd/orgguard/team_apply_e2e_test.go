package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/storetest"
)

// TestTeamKill9DuringARemediation kills the leader (SIGKILL) at random
// moments while it handles a deny-all attached to Root from outside: the
// incident is open and its rule remediates, so the leader is then
// planning, applying (steps, health checks) or recording the detach, or
// sending the incident's message. A new leader must take over, settle an
// apply the kill left half-done (recovery, with the organization lock the
// dead leader held expiring first), finish the remediation, and leave:
// the deny-all detached, one drift incident per attach, no change
// unfinished, no plan stuck applying, the lock free, every outbox message
// delivered (a repeat only for a send a kill cut short) and one leader.
func TestTeamKill9DuringARemediation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts orgguard processes")
	}
	storetest.PostgresURL(t)
	rng := e2eSeed(t, 13)
	const ttl, period = 3 * time.Second, 500 * time.Millisecond
	tm := newTeamWith(t, 2, ttl, period,
		worldOptions{accounts: 200, remediate: true, interval: time.Second, sweep: time.Minute}, "--lock-ttl", "3s")
	lead := tm.waitLeader(t, 1, 60*time.Second)
	pol, root := tm.denyAll(t)
	ctx := context.Background()
	const rounds = 3
	for round := 1; round <= rounds; round++ {
		if err := tm.w.outside.AttachPolicy(ctx, pol, root); err != nil {
			t.Fatal(err)
		}
		attached := time.Now()
		var in store.Incident
		waitFor(t, attached, 30*time.Second, fmt.Sprintf("round %d: the critical incident", round), func() bool {
			for _, x := range incidents(t, tm.st) {
				if x.Severity == store.SevCritical && x.Source == store.SourceDrift && x.OpenedAt.After(attached.Add(-time.Second)) && x.MitigatedAt.IsZero() {
					in = x
					return true
				}
			}
			return false
		})
		delay := time.Duration(rng.IntN(600)) * time.Millisecond
		time.Sleep(delay)
		tl, err := tm.st.IncidentTimeline(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		unfinished, err := tm.st.UnfinishedChanges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		took := tm.killLeader(t, lead)
		lead = tm.waitLeader(t, 0, time.Second)
		t.Logf("round %d: killed %v after the incident opened (last timeline entry %s %q; %d changes unfinished then); new leader's duties ran %v after the kill",
			round, delay, tl[len(tl)-1].Kind, tl[len(tl)-1].Message, len(unfinished), took.Round(time.Millisecond))
		mitigated := waitFor(t, attached, 90*time.Second, fmt.Sprintf("round %d: the incident mitigated", round), func() bool {
			x, err := tm.st.Incident(ctx, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			return !x.MitigatedAt.IsZero()
		})
		t.Logf("round %d: mitigated %v after the attach", round, mitigated.Round(time.Millisecond))
		if tm.w.attached(t, pol, root) {
			t.Fatalf("round %d: the deny-all is still attached to Root after the incident was mitigated", round)
		}
		// The next attach waits until the watcher has recorded the
		// remediation's detach as its known state. Polling compares
		// states: a detach and a re-attach between two reads of the
		// leader that resumed (or between the remediation and the next
		// poll) show no difference — see docs/watch.md, "What polling
		// cannot see".
		if in, err = tm.st.Incident(ctx, in.ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, time.Now(), 30*time.Second, fmt.Sprintf("round %d: the watcher's state without the deny-all", round), func() bool {
			ws, err := tm.st.WatchState(ctx, "default")
			return err == nil && !ws.UpdatedAt.Before(in.MitigatedAt)
		})
	}

	drift := 0
	for _, in := range incidents(t, tm.st) {
		t.Logf("incident %s %s %s %q", in.ID, in.Source, in.Severity, in.Title)
		if in.Source == store.SourceDrift {
			drift++
		}
	}
	if drift != rounds {
		t.Errorf("%d drift incidents after %d attaches, want %d", drift, rounds, rounds)
	}
	chs, err := tm.st.ListChanges(ctx, store.ChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chs {
		t.Logf("change %s %s of plan %s: %s", c.ID, c.Kind, c.PlanID, c.State)
	}
	if un, err := tm.st.UnfinishedChanges(ctx); err != nil || len(un) != 0 {
		t.Errorf("unfinished changes at the end = %v, %v; want none (the leader settles what a kill left)", un, err)
	}
	if ps, err := tm.st.ListPlans(ctx, store.PlanFilter{State: store.PlanApplying}); err != nil || len(ps) != 0 {
		t.Errorf("plans still applying at the end = %v, %v; want none", ps, err)
	}
	if lk, err := tm.st.Lock(ctx, apply.LockName); err == nil && lk.ExpiresAt.After(time.Now()) {
		t.Errorf("the organization lock is still held at the end: %+v", lk)
	}
	// Every message delivered; a repeat (by key) only for a send a kill
	// cut short: at most one per kill.
	waitFor(t, time.Now(), 60*time.Second, "every outbox message sent", func() bool {
		ms, err := tm.st.ListMessages(ctx, store.OutboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.State != store.OutboxSent {
				return false
			}
		}
		return len(ms) >= rounds
	})
	ms, err := tm.st.ListMessages(ctx, store.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got, total := tm.hook.counts()
	repeats := 0
	for _, m := range ms {
		switch n := got[m.Key]; {
		case n == 0:
			t.Errorf("message %s was recorded sent but never reached the webhook", m.Key)
		case n > 1:
			repeats += n - 1
		}
	}
	if repeats > rounds {
		t.Errorf("%d repeated deliveries after %d kills, want at most one per kill", repeats, rounds)
	}
	t.Logf("%d messages, %d deliveries (%d repeated)", len(ms), total, repeats)
	if ls := tm.leaders(); len(ls) != 1 {
		t.Errorf("leaders %v at the end, want exactly one", ls)
	}
}
