package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// ResolvePlan names the stored plan ref refers to: a plan file (which
// must match its hash and the stored plan with its ID), else a plan ID.
// A remote view (Remote, AsPrincipal) takes plan IDs only: see PlanByID.
func (a *App) ResolvePlan(ctx context.Context, ref string) (store.Plan, error) {
	if a.remote {
		return a.PlanByID(ctx, ref)
	}
	st, err := a.Store(ctx)
	if err != nil {
		return store.Plan{}, err
	}
	if _, err := os.Stat(ref); err == nil {
		f, err := plan.Read(ref)
		if errors.Is(err, plan.ErrTampered) {
			return store.Plan{}, Refused(fmt.Errorf("refused: %w — approvals bind to the hash; make a new plan", err))
		}
		if err != nil {
			return store.Plan{}, BadInput(err)
		}
		_, sp, err := review.Stored(ctx, st, f)
		if err != nil {
			return store.Plan{}, classify(err)
		}
		return sp, nil
	}
	sp, err := st.Plan(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, BadInput(fmt.Errorf("%q is neither a plan file nor the ID of a stored plan (orgguard plans lists them)", ref))
	}
	return sp, err
}

// PlanByID returns the stored plan with ID id, reading the store only:
// whatever id looks like, no file is ever read. An unknown ID is
// ErrBadInput matching store.ErrNotFound (a 404 on the server).
func (a *App) PlanByID(ctx context.Context, id string) (store.Plan, error) {
	st, err := a.Store(ctx)
	if err != nil {
		return store.Plan{}, err
	}
	sp, err := st.Plan(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, BadInput(fmt.Errorf("no stored plan has the ID %q (orgguard plans lists them): %w", id, store.ErrNotFound))
	}
	if err != nil {
		return store.Plan{}, fmt.Errorf("reading plan %q: %w", id, err)
	}
	return sp, nil
}

// Approve records the actor's approval of the plan ref names.
func (a *App) Approve(ctx context.Context, ref, comment string) (review.Approval, error) {
	if err := a.authorize(auth.ActionApprove); err != nil {
		return review.Approval{}, err
	}
	if err := checkText("--comment", comment, plan.MaxDescription); err != nil {
		return review.Approval{}, err
	}
	sp, err := a.ResolvePlan(ctx, ref)
	if err != nil {
		return review.Approval{}, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return review.Approval{}, err
	}
	pinned, err := a.pinned(ctx, st, true)
	if err != nil {
		return review.Approval{}, err
	}
	planner, err := a.planner(pinned.Rules)
	if err != nil {
		return review.Approval{}, err
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return review.Approval{}, err
	}
	ap := &review.Approver{Store: st, Planner: planner, Pinned: pinned}
	out, err := ap.Approve(ctx, sp.ID, actor, comment)
	return out, classify(err)
}

// ApplyRequest is one apply.
type ApplyRequest struct {
	// Ref is a plan file or a stored plan's ID.
	Ref            string
	Confirm        string
	OverrideWindow string
	Canary         []string
	// CanaryWait is the wait after the canary; nil means the configured
	// probes.canaryWaitSeconds.
	CanaryWait *time.Duration
	// Prompt, when set, is asked for the typed confirmation of a risky plan
	// when Confirm is empty (a terminal asks the operator).
	Prompt func(f *plan.File) (string, error)
}

// ApplyResult is what an apply did.
type ApplyResult struct {
	Plan   *plan.File     // nil for a guardrails plan
	Report *apply.Report  // nil for a guardrails plan
	Pinned *review.Pinned // the rules a guardrails plan pinned
	// Probes says how the health probes ran.
	Probes string
}

// Apply applies the stored plan ref names: an organization plan through
// the engine (fresh state, re-derived verdict, approvals, schedule,
// confirmation, lock, health checks, rollback), a guardrails plan by
// pinning its rules once approved.
func (a *App) Apply(ctx context.Context, r ApplyRequest) (*ApplyResult, error) {
	if err := a.authorize(auth.ActionApply); err != nil {
		return nil, err
	}
	sp, err := a.ResolvePlan(ctx, r.Ref)
	if err != nil {
		return nil, err
	}
	if sp.Kind == store.PlanGuardrails {
		if err := a.authorize(auth.ActionManageGuardrails); err != nil {
			return nil, err
		}
		st, err := a.Store(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := a.pinned(ctx, st, false); err != nil {
			return nil, err
		}
		actor, err := a.ResolveActor(ctx)
		if err != nil {
			return nil, err
		}
		p, err := review.ApplyGuardrails(ctx, st, sp.ID, actor)
		if err != nil {
			return nil, classify(err)
		}
		return &ApplyResult{Pinned: &p}, nil
	}
	x, err := a.engine(ctx)
	if err != nil {
		return nil, err
	}
	f, _, err := review.Load(ctx, x.st, sp.ID)
	if err != nil {
		if errors.Is(err, plan.ErrTampered) {
			return nil, Refused(err)
		}
		return nil, err
	}
	req := apply.Request{Plan: f, Confirm: r.Confirm, OverrideWindow: r.OverrideWindow, Canary: r.Canary}
	if len(r.Canary) > 0 {
		req.CanaryWait = time.Duration(a.cfg.Probes.CanaryWaitSeconds) * time.Second
		if r.CanaryWait != nil {
			req.CanaryWait = *r.CanaryWait
		}
	}
	if f.Guard.RequiresConfirmation && req.Confirm == "" && r.Prompt != nil {
		if req.Confirm, err = r.Prompt(f); err != nil {
			return nil, err
		}
	}
	rep, err := x.Apply(ctx, req)
	return &ApplyResult{Plan: f, Report: rep, Probes: x.Probes}, classify(err)
}

// Recover settles changes an interrupted apply left unfinished.
func (a *App) Recover(ctx context.Context) ([]apply.Recovery, error) {
	if err := a.authorize(auth.ActionApply); err != nil {
		return nil, err
	}
	x, err := a.engine(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := x.Recover(ctx)
	return recs, classify(err)
}

// rollbackSteps returns the steps undoing applied change id.
func rollbackSteps(ctx context.Context, st store.Store, id string) ([]change.Step, *plan.File, error) {
	steps, f, err := apply.RollbackSteps(ctx, st, id)
	return steps, f, classify(err)
}
