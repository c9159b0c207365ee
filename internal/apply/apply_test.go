package apply

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/store"
)

func TestApplyQuarantine(t *testing.T) {
	w := newWorld(t, 40, nil)
	f := w.plan("alice", w.quarantineOps(3))
	if f.RequiredApprovals < 1 {
		t.Fatalf("plan requires %d approvals, want at least 1", f.RequiredApprovals)
	}
	w.approve(f, "bob", "carol")
	var log strings.Builder
	o := w.options("alice")
	o.Progress = &log
	rep, err := New(o).Apply(context.Background(), Request{Plan: f})
	if err != nil {
		t.Fatalf("Apply = %v\n%s", err, log.String())
	}
	if rep.Outcome != Applied {
		t.Fatalf("outcome %s, want applied", rep.Outcome)
	}
	if got := len(rep.Checks); got != 2*len(f.Steps) {
		t.Errorf("%d health checks, want %d (before and after each step)", got, 2*len(f.Steps))
	}
	for _, c := range rep.Checks {
		if !c.OK() || c.ProbesRun == 0 {
			t.Errorf("check %s: %s", c.When, c.Summary())
		}
	}
	if got := w.planState(f.ID); got != store.PlanApplied {
		t.Errorf("plan state %s, want applied", got)
	}
	live, _ := w.org.Snapshot(context.Background())
	if fp := w.fingerprint(); fp == f.BaseFingerprint {
		t.Errorf("the organization did not change")
	}
	_ = live
	t.Log(log.String())

	// The same plan cannot be applied twice.
	_, err = New(o).Apply(context.Background(), Request{Plan: f})
	if !errors.Is(err, ErrRefused) {
		t.Errorf("second Apply = %v, want a refusal", err)
	}
}
