package store

import (
	"errors"
	"fmt"
	"testing"
)

func TestCanTransition(t *testing.T) {
	allowed := map[[2]PlanState]bool{
		{PlanPending, PlanApproved}: true, {PlanPending, PlanSuperseded}: true, {PlanPending, PlanFailed}: true,
		{PlanApproved, PlanApplying}: true, {PlanApproved, PlanSuperseded}: true, {PlanApproved, PlanPending}: true,
		{PlanApplying, PlanApplied}: true, {PlanApplying, PlanRolledBack}: true, {PlanApplying, PlanFailed}: true,
		{PlanApplied, PlanRolledBack}: true,
		{PlanFailed, PlanRolledBack}:  true, {PlanFailed, PlanApplied}: true,
	}
	for _, from := range PlanStates() {
		for _, to := range PlanStates() {
			want := allowed[[2]PlanState{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
	for _, s := range []PlanState{"", "done", "Pending"} {
		if s.Valid() || CanTransition(s, PlanApproved) || CanTransition(PlanPending, s) {
			t.Errorf("plan state %q is accepted, want it refused", s)
		}
	}
}

func TestTypedErrorsMatchTheirSentinels(t *testing.T) {
	held := fmt.Errorf("acquiring: %w", &LockHeldError{Name: "organization", Holder: "alice"})
	if !errors.Is(held, ErrLockHeld) || errors.Is(held, ErrConflict) {
		t.Errorf("LockHeldError: errors.Is(ErrLockHeld) = %v, errors.Is(ErrConflict) = %v, want true, false",
			errors.Is(held, ErrLockHeld), errors.Is(held, ErrConflict))
	}
	conflict := fmt.Errorf("moving: %w", &StateConflictError{Kind: "plan", ID: "p", Want: "pending", Current: "approved"})
	if !errors.Is(conflict, ErrConflict) || conflict.Error() != "moving: plan p is approved, not pending" {
		t.Errorf("StateConflictError = %q (Is ErrConflict %v), want %q", conflict, errors.Is(conflict, ErrConflict), "moving: plan p is approved, not pending")
	}
}
