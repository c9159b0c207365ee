package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/store"
)

func testTally(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

	empty := must[store.Tally](t, "Tally of an empty store")(s.Tally(ctx, time.Time{}))
	if len(empty.PlansByVerdict)+len(empty.ChangesByState)+len(empty.IncidentsBySeverity)+len(empty.OutboxByState)+len(empty.Clocks) != 0 {
		t.Errorf("Tally of an empty store = %+v, want nothing counted", empty)
	}

	for i, v := range []string{"allowed", "needs-approval", "needs-approval", "refused"} {
		p := plan("tally-plan-" + string(rune('a'+i)))
		p.Verdict = v
		must[store.Plan](t, "SavePlan")(s.SavePlan(ctx, p))
	}
	c := must[store.Change](t, "StartChange")(s.StartChange(ctx, store.Change{PlanID: "tally-plan-a", Kind: store.ChangeApply, StartedBy: "bob", StartedAt: t0}))
	must[store.Change](t, "FinishChange")(s.FinishChange(ctx, c.ID, store.ChangeRolledBack, nil))
	must[store.Change](t, "StartChange")(s.StartChange(ctx, store.Change{PlanID: "tally-plan-b", Kind: store.ChangeApply, StartedBy: "bob", StartedAt: t0}))

	old := must[store.Incident](t, "OpenIncident")(s.OpenIncident(ctx, store.Incident{Title: "last year", Severity: store.SevMinor, OpenedAt: t0.AddDate(-1, 0, 0)}))
	_ = old
	in := must[store.Incident](t, "OpenIncident")(s.OpenIncident(ctx, store.Incident{
		Title: "deny-all on Root", Severity: store.SevCritical, OpenedAt: t0.Add(40 * time.Second),
		ImpactStartedAt: t0, DetectedAt: t0.Add(40 * time.Second)}))
	if _, _, err := s.EnqueueMessage(ctx, store.OutboxMessage{Key: "tally-1", Channel: "ops", Kind: "incident.opened",
		IncidentID: in.ID, Payload: json.RawMessage(`{}`), CreatedAt: t0}); err != nil {
		t.Fatalf("EnqueueMessage: %v", err)
	}

	got := must[store.Tally](t, "Tally")(s.Tally(ctx, t0.Add(-time.Hour)))
	want := store.Tally{
		PlansByVerdict:      map[string]int{"allowed": 1, "needs-approval": 2, "refused": 1},
		ChangesByState:      map[store.ChangeState]int{store.ChangeRolledBack: 1, store.ChangeRunning: 1},
		IncidentsBySeverity: map[store.Severity]int{store.SevMinor: 1, store.SevCritical: 1},
		OutboxByState:       map[store.OutboxState]int{store.OutboxPending: 1},
		Clocks: []store.IncidentClock{{Severity: store.SevCritical, OpenedAt: t0.Add(40 * time.Second),
			ImpactStartedAt: t0, DetectedAt: t0.Add(40 * time.Second)}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Tally since an hour before the incident (-want +got):\n%s", diff)
	}
	if start := got.Clocks[0].Start(); !start.Equal(t0) {
		t.Errorf("IncidentClock.Start() = %v, want the impact start %v", start, t0)
	}
}
