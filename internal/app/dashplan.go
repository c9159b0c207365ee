package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// PlanDetail is a stored plan with what the team dashboard shows beside
// it: the plan file, every approval given (and which count), the changes
// that applied it, and its blast radius drawn on the organization it was
// planned against.
type PlanDetail struct {
	Plan store.Plan
	// File is the plan file; nil for a guardrails plan.
	File *plan.File
	// Approvals are every approval given, in order; Counting names the
	// approvers that count towards the verdict (distinct people other
	// than the author, on this plan hash).
	Approvals []store.Approval
	Counting  []string
	// Changes are the applies (and rollbacks, recoveries) of the plan,
	// newest first.
	Changes []store.Change
	// Tree is the plan's base organization with its blast radius
	// overlaid; nil for a guardrails plan or without withTree.
	Tree *Tree
}

// PlanDetail reads stored plan id (ErrBadInput when there is none) and,
// with withTree, draws its blast radius on its base snapshot (kept in the
// store with the plan).
func (a *App) PlanDetail(ctx context.Context, id string, withTree bool) (*PlanDetail, error) {
	st, err := a.incidentStore(ctx, true)
	if err != nil {
		return nil, err
	}
	sp, err := st.Plan(ctx, id)
	if err != nil {
		return nil, classify(fmt.Errorf("reading plan %s: %w", id, err))
	}
	d := &PlanDetail{Plan: sp}
	if d.Approvals, err = st.ListApprovals(ctx, id); err != nil {
		return nil, fmt.Errorf("reading the approvals of plan %s: %w", id, err)
	}
	for _, ap := range review.CountingApprovals(d.Approvals, sp.Hash, sp.Author) {
		d.Counting = append(d.Counting, ap.Approver)
	}
	if d.Changes, err = st.ListChanges(ctx, store.ChangeFilter{PlanID: id}); err != nil {
		return nil, fmt.Errorf("reading the changes of plan %s: %w", id, err)
	}
	if sp.Kind == store.PlanGuardrails {
		return d, nil
	}
	f, _, err := review.Load(ctx, st, id)
	if errors.Is(err, plan.ErrTampered) {
		return nil, Refused(err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading plan %s: %w", id, err)
	}
	d.File = f
	if !withTree {
		return d, nil
	}
	base, err := review.Base(ctx, st, f.BaseFingerprint)
	if err != nil {
		return nil, fmt.Errorf("reading the base of plan %s: %w", id, err)
	}
	if d.Tree, err = NewTree(base); err != nil {
		return nil, err
	}
	var targets []string
	for _, tg := range f.Targets {
		targets = append(targets, tg.ID)
	}
	d.Tree.Overlay(f.Impact, targets)
	return d, nil
}

// ApplyStarted is an apply started in the background (StartApply).
type ApplyStarted struct {
	// ChangeID is the change the apply records its journal under; empty
	// for a guardrails plan, which is pinned at once (Pinned).
	ChangeID string
	// Pinned, for a guardrails plan, are the rules its apply pinned.
	Pinned *review.Pinned
	// Done receives the apply's result once it ends, then closes.
	Done <-chan ApplyDone
}

// ApplyDone is how a background apply ended.
type ApplyDone struct {
	Result *ApplyResult
	Err    error
}

// StartApply applies the stored plan r.Ref as Apply does — the same
// checks, typed confirmation included — but returns as soon as the engine
// has recorded the change (its journal then tells the progress to anyone
// reading the store, on any server replica), or with the refusal when the
// apply stops before a change begins. run bounds the apply itself; ctx
// bounds only the wait for it to start. There is no prompt: a risky plan
// needs r.Confirm.
func (a *App) StartApply(ctx, run context.Context, r ApplyRequest) (ApplyStarted, error) {
	r.Prompt = nil
	sp, err := a.ResolvePlan(ctx, r.Ref)
	if err != nil {
		return ApplyStarted{}, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return ApplyStarted{}, err
	}
	before, err := st.ListChanges(ctx, store.ChangeFilter{PlanID: sp.ID})
	if err != nil {
		return ApplyStarted{}, fmt.Errorf("reading the changes of plan %s: %w", sp.ID, err)
	}
	seen := map[string]bool{}
	for _, c := range before {
		seen[c.ID] = true
	}
	r.Ref = sp.ID
	done := make(chan ApplyDone, 1)
	go func() {
		defer close(done)
		res, err := a.Apply(run, r)
		done <- ApplyDone{Result: res, Err: err}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case d := <-done:
			if d.Result != nil && d.Result.Report != nil && d.Result.Report.ChangeID != "" {
				ch := make(chan ApplyDone, 1)
				ch <- d
				close(ch)
				return ApplyStarted{ChangeID: d.Result.Report.ChangeID, Done: ch}, nil
			}
			if d.Err == nil && d.Result != nil && d.Result.Pinned != nil {
				ch := make(chan ApplyDone, 1)
				ch <- d
				close(ch)
				return ApplyStarted{Pinned: d.Result.Pinned, Done: ch}, nil
			}
			if d.Err == nil {
				d.Err = fmt.Errorf("applying plan %s: the apply recorded no change", sp.ID)
			}
			return ApplyStarted{}, d.Err
		case <-ctx.Done():
			return ApplyStarted{}, ctx.Err()
		case <-tick.C:
			cs, err := st.ListChanges(ctx, store.ChangeFilter{PlanID: sp.ID})
			if err != nil {
				continue // the apply's own outcome will tell
			}
			for _, c := range cs {
				if !seen[c.ID] && c.Kind == store.ChangeApply {
					return ApplyStarted{ChangeID: c.ID, Done: done}, nil
				}
			}
		}
	}
}
