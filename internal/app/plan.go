package app

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/review"
)

// PlanRequest is what to plan.
type PlanRequest struct {
	plan.Request
	// SnapshotPath plans against a snapshot file instead of the backend.
	SnapshotPath string
	// Save stores the plan (with its base snapshot) so that it can be
	// approved and applied; the local rules are pinned first when nothing
	// is pinned yet.
	Save bool
	// Refresh reads the whole organization on AWS instead of starting
	// from the latest stored read (see planOnAWS).
	Refresh bool
}

// PlanResult is a plan and what it was made from.
type PlanResult struct {
	*plan.Result
	Base *org.Snapshot
	// Pinned are the rules the verdict was computed with; Pinned.Version
	// .Seq is 0 when they are not pinned (no store yet, nothing saved).
	Pinned review.Pinned
	Saved  bool
}

// Plan plans r against the organization (or r.SnapshotPath) under the
// pinned rules, and saves it when r.Save. Without a store and without
// Save the local rules decide (nothing is recorded, and a plan that is not
// stored can never be approved or applied).
func (a *App) Plan(ctx context.Context, r PlanRequest) (*PlanResult, error) {
	if err := a.authorize(auth.ActionPlan); err != nil {
		return nil, err
	}
	if err := checkText("--description", r.Description, plan.MaxDescription); err != nil {
		return nil, err
	}
	if a.remote && r.SnapshotPath != "" {
		return nil, BadInput(errors.New("a plan requested through the server is made against the organization, never a snapshot file"))
	}
	author, err := a.ResolveActor(ctx)
	if err != nil && !r.Save {
		// Nothing is recorded: the author of a plan only shown may be
		// the OS user when AWS cannot say who the caller is (planning
		// offline on a snapshot file).
		author = osUser()
		fmt.Fprintf(a.o.Notices, "orgguard: %v; the plan shows %s as its author and cannot be saved\n", err, author)
	} else if err != nil {
		return nil, err
	}
	r.Author = author
	if r.Now.IsZero() {
		r.Now = a.o.Now()
	}
	st, err := a.existingStore(ctx)
	if r.Save && err == nil && st == nil {
		st, err = a.Store(ctx)
	}
	if err != nil {
		return nil, err
	}
	pinned := review.Pinned{Rules: a.localRules()}
	if st != nil {
		if pinned, err = a.pinned(ctx, st, r.Save); err != nil {
			return nil, err
		}
	}
	if pinned.Version.Seq > 0 {
		r.Guardrails = pinned.Hash()
	}
	start := time.Now()
	var res *plan.Result
	var base *org.Snapshot
	if ab, ok := a.awsBackend(ctx, r.SnapshotPath); ok {
		planner, err := a.planner(pinned.Rules)
		if err != nil {
			return nil, err
		}
		res, base, err = a.planOnAWS(ctx, ab, st, planner, r)
		if err != nil {
			return nil, planError(err)
		}
	} else {
		var planner *plan.Planner
		if base, planner, err = a.snapshotAndPlanner(ctx, r.SnapshotPath, pinned.Rules); err != nil {
			return nil, err
		}
		a.o.Logger.Info("read the organization", "source", base.Source, "accounts", len(base.Accounts), "ous", len(base.OUs),
			"policies", len(base.Policies), "elapsed", time.Since(start).Round(time.Millisecond))
		n := len(r.Operations) + len(r.Steps)
		a.status("planning %d %s on a simulated copy of %d accounts, then the blast radius over the catalog…", n, pluralWord(n, "change"), len(base.Accounts))
		start = time.Now()
		if res, err = planner.Make(ctx, base, r.Request); err != nil {
			return nil, planError(err)
		}
	}
	a.o.Logger.Info("planned", "plan", res.File.ID, "steps", len(res.File.Steps), "affected", res.File.Impact.AccountsAffected,
		"verdict", res.File.Verdict, "elapsed", time.Since(start).Round(time.Millisecond))
	a.o.Logger.Debug("plan detail", "groups", len(res.File.Impact.Groups), "warnings", len(res.File.Warnings),
		"baseFingerprint", res.File.BaseFingerprint, "afterFingerprint", res.File.AfterFingerprint)
	out := &PlanResult{Result: res, Base: base, Pinned: pinned}
	if r.Save {
		if _, err := review.Save(ctx, st, res.File, base, author); err != nil {
			return nil, classify(err)
		}
		out.Saved = true
	}
	return out, nil
}

// snapshotAndPlanner reads the organization (Snapshot) while it builds
// the planner from rules (loading the action catalog): the two do not
// depend on each other, and on a 10,000-account snapshot file each takes
// tens of milliseconds, so the second core overlaps them. The planner's
// error comes first, as when the planner was built first.
func (a *App) snapshotAndPlanner(ctx context.Context, path string, rules review.Rules) (*org.Snapshot, *plan.Planner, error) {
	type built struct {
		p   *plan.Planner
		err error
	}
	ready := make(chan built, 1)
	go func() {
		p, err := a.planner(rules)
		ready <- built{p, err}
	}()
	base, err := a.Snapshot(ctx, path)
	b := <-ready
	if b.err != nil {
		return nil, nil, b.err
	}
	if err != nil {
		return nil, nil, err
	}
	return base, b.p, nil
}

// awsBackend returns the AWS backend when the plan is made on it (no
// snapshot file, backend.type aws).
func (a *App) awsBackend(ctx context.Context, snapshotPath string) (*awsorg.Backend, bool) {
	if snapshotPath != "" || a.cfg.Backend.Type != config.BackendAWS {
		return nil, false
	}
	b, err := a.Backend(ctx)
	if err != nil {
		return nil, false // Snapshot reports the error
	}
	ab, ok := b.(*awsorg.Backend)
	return ab, ok
}

// planError gives planning errors their kind: unknown names and bad fields
// are bad input; what AWS would reject is refused.
func planError(err error) error {
	var rej *change.RejectedError
	if errors.As(err, &rej) {
		return Refused(fmt.Errorf("refused at plan time: %w", err))
	}
	var in *change.InputError
	var re *org.ResolveError
	if errors.As(err, &in) || errors.As(err, &re) || errors.Is(err, impact.ErrInvalidInput) {
		// impact.ErrInvalidInput: a policy document in the organization (or
		// the snapshot) that the engine cannot read — named with its
		// policy ID, line and column.
		return BadInput(err)
	}
	return err
}

// checkText refuses text that is not valid UTF-8 or longer than limit bytes.
func checkText(what, s string, limit int) error {
	if !utf8.ValidString(s) {
		return BadInput(fmt.Errorf("%s: not valid UTF-8", what))
	}
	if len(s) > limit {
		return BadInput(fmt.Errorf("%s: %d bytes, more than the %d allowed", what, len(s), limit))
	}
	return nil
}

// Rollback plans the undo of applied change changeID as a new plan — the
// recorded inverses, last first — saves it and records the link in the
// audit log.
func (a *App) Rollback(ctx context.Context, changeID, description string, now time.Time) (*PlanResult, error) {
	if err := a.authorize(auth.ActionPlan); err != nil {
		return nil, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	steps, orig, err := rollbackSteps(ctx, st, changeID)
	if err != nil {
		return nil, err
	}
	if description == "" {
		description = fmt.Sprintf("roll back change %s (plan %s)", changeID, orig.ID)
	}
	res, err := a.Plan(ctx, PlanRequest{Request: plan.Request{Steps: steps, Description: description,
		Source: "rollback:" + changeID, Now: now}, Save: true})
	if err != nil {
		return nil, err
	}
	if err := review.RecordRollbackPlan(ctx, st, res.File.Author, changeID, res.File.ID); err != nil {
		return res, fmt.Errorf("recording the rollback plan in the audit log: %w", err)
	}
	return res, nil
}

// status writes one progress line to Status (a terminal), if set.
func (a *App) status(format string, args ...any) {
	if a.o.Status != nil {
		fmt.Fprintf(a.o.Status, "orgguard: "+format+"\n", args...)
	}
}

func pluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
