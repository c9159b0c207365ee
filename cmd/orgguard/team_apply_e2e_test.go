package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/storetest"
	"github.com/orgguard/orgguard/internal/watch"
)

// TestTeamKill9DuringARemediation kills the leader (SIGKILL) at random
// moments, and as soon as its apply runs, while it handles a deny-all attached to Root from outside: the
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
		// Odd rounds kill at a random moment; even rounds as soon as the
		// remediation's change is running (its steps and health checks
		// take tens of milliseconds on this organization).
		opened := time.Now()
		running := func() []store.Change {
			chs, err := tm.st.UnfinishedChanges(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return chs
		}
		if round%2 == 1 {
			time.Sleep(time.Duration(rng.IntN(600)) * time.Millisecond)
		} else {
			for len(running()) == 0 && time.Since(opened) < 3*time.Second {
				time.Sleep(2 * time.Millisecond)
			}
		}
		unfinished := running()
		delay := time.Since(opened)
		took := tm.killLeader(t, lead)
		tl, err := tm.st.IncidentTimeline(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		lead = tm.waitLeader(t, 0, time.Second)
		t.Logf("round %d: killed %v after the incident opened (%d changes unfinished then; last timeline entry after the kill %s %q); new leader's duties ran %v after the kill",
			round, delay.Round(time.Millisecond), len(unfinished), tl[len(tl)-1].Kind, tl[len(tl)-1].Message, took.Round(time.Millisecond))
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
		waitFor(t, time.Now(), 30*time.Second, fmt.Sprintf("round %d: the watcher's state without the deny-all", round), func() bool {
			ws, err := tm.st.WatchState(ctx, "default")
			if err != nil {
				return false
			}
			known, _, err := watch.KnownState(ws.Body)
			if err != nil {
				t.Fatal(err)
			}
			return !slices.Contains(known.Attachments, org.Attachment{PolicyID: pol, TargetID: root})
		})
	}

	for _, in := range incidents(t, tm.st) {
		t.Logf("incident %s %s %s %q", in.ID, in.Source, in.Severity, in.Title)
	}
	chs, err := tm.st.ListChanges(ctx, store.ChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chs {
		t.Logf("change %s %s of plan %s: %s", c.ID, c.Kind, c.PlanID, c.State)
	}
	if ps, err := tm.st.ListPlans(ctx, store.PlanFilter{State: store.PlanApplying}); err != nil || len(ps) != 0 {
		t.Errorf("plans still applying at the end = %v, %v; want none", ps, err)
	}
	if lk, err := tm.st.Lock(ctx, apply.LockName); err == nil && lk.ExpiresAt.After(time.Now()) {
		t.Errorf("the organization lock is still held at the end: %+v", lk)
	}
	// One drift incident per attach, every message delivered (a repeat
	// only for a send a kill cut short), no change unfinished, one leader.
	tm.check(t, rounds, rounds)
}
