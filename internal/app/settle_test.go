package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/store"
)

// TestTheLeaderSettlesAnApplyAReplicaLeftUnfinished: a replica killed
// right after it recorded the start of an apply leaves a running change
// and an organization lock nobody heartbeats. While the lock is held the
// leader leaves the change alone (it may be running); once the lock is
// gone the leader settles it, as `orgguard recover` would.
func TestTheLeaderSettlesAnApplyAReplicaLeftUnfinished(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	alice, bob := open(t, c, "alice"), open(t, c, "bob")
	base, err := alice.Snapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var target string
	for _, acct := range base.Accounts {
		if acct.ID != base.Organization.ManagementAccountID {
			target = acct.Name
			break
		}
	}
	res, err := alice.Plan(ctx, quarantine(target))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Approve(ctx, res.File.ID, ""); err != nil {
		t.Fatal(err)
	}
	st, err := alice.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The dead replica's traces: the lock it took on another machine, the
	// plan it moved to applying and the change it started.
	lk, err := st.AcquireLock(ctx, store.LockRequest{Name: apply.LockName, Holder: "alice (pid 4242 on replica-2)", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetPlanState(ctx, res.File.ID, store.PlanApproved, store.PlanApplying); err != nil {
		t.Fatal(err)
	}
	ch, err := st.StartChange(ctx, store.Change{PlanID: res.File.ID, Kind: store.ChangeApply, StartedBy: "alice", StartedAt: weekdayNoon})
	if err != nil {
		t.Fatal(err)
	}
	leader := open(t, c, "orgguard-leader")
	log := slog.New(slog.DiscardHandler)
	unfinished := func() int {
		t.Helper()
		chs, err := st.UnfinishedChanges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(chs)
	}

	if err := leader.settleOnce(ctx, log); err != nil {
		t.Fatalf("settleOnce while the lock is held = %v, want nil (the apply may be running)", err)
	}
	if n := unfinished(); n != 1 {
		t.Fatalf("unfinished changes after settling under a held lock = %d, want 1 (left alone)", n)
	}

	if err := st.ReleaseLock(ctx, apply.LockName, lk.Token); err != nil {
		t.Fatal(err)
	}
	if err := leader.settleOnce(ctx, log); err != nil {
		t.Fatalf("settleOnce after the lock is gone = %v", err)
	}
	if n := unfinished(); n != 0 {
		t.Errorf("unfinished changes after settling = %d, want 0", n)
	}
	got, err := st.Change(ctx, ch.ID)
	if err != nil || got.State == store.ChangeRunning {
		t.Errorf("change %s after settling = %+v, %v; want it finished", ch.ID, got.State, err)
	}
}
