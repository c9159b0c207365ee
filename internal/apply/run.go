package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// changeDetail is stored with a change when it starts: what recovery needs
// besides the plan and the journal.
type changeDetail struct {
	// Order is the execution order of the plan's steps (0-based plan
	// indices); it differs from the plan's order with a canary.
	Order []int `json:"order"`
	// PlanBindings are the IDs the simulated copy gave created objects:
	// those behind the plan's afterFingerprint.
	PlanBindings    change.Bindings `json:"planBindings,omitempty"`
	BaseFingerprint string          `json:"baseFingerprint"`
	Canary          []string        `json:"canary,omitempty"`
	PlanHash        string          `json:"planHash"`
	// Guardrails is the hash of the pinned guardrails the apply checked
	// the plan under.
	Guardrails string `json:"guardrails,omitempty"`
	// Staged, when set, are the steps actually run instead of the plan's:
	// a canary of a policy update staged through a temporary copy. The
	// journal's step numbers then count these (1-based).
	Staged []change.Planned `json:"staged,omitempty"`
}

// journalDetail is the detail of one journal entry.
type journalDetail struct {
	Op       string          `json:"op"` // "do" or "undo"
	Summary  string          `json:"summary"`
	Inverse  int             `json:"inverse,omitempty"` // undo: index in the step's inverse list, 1-based
	Created  string          `json:"created,omitempty"`
	Error    string          `json:"error,omitempty"`
	Note     string          `json:"note,omitempty"`
	Bindings change.Bindings `json:"bindings,omitempty"`
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encoding %T: %v", v, err)) // only plain structs and maps are encoded
	}
	return b
}

// requestID returns the AWS request ID carried by err, if any.
func requestID(err error) string {
	var ae *org.APIError
	if errors.As(err, &ae) {
		return ae.RequestID
	}
	return ""
}

// requestIDs collects the AWS request IDs of the writes one step (or one
// inverse) makes: the backend reports a successful write's through the
// context (org.WithRequestIDs); a failed write's is in its *org.APIError.
// The simulated organization has none.
type requestIDs struct {
	mu  sync.Mutex
	ids []string
}

// context returns ctx with c as its request ID sink.
func (c *requestIDs) context(ctx context.Context) context.Context {
	return org.WithRequestIDs(ctx, func(_, id string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.ids = append(c.ids, id)
	})
}

// entry returns the request IDs for the journal entry of the step's
// result, with err's added when it carries one: comma-separated, in the
// order the calls were made; "" when there are none.
func (c *requestIDs) entry(err error) string {
	c.mu.Lock()
	ids := slices.Clone(c.ids)
	c.mu.Unlock()
	if id := requestID(err); id != "" && !slices.Contains(ids, id) {
		ids = append(ids, id)
	}
	return strings.Join(ids, ",")
}

// preflight runs every refusal check that needs neither the lock nor the
// live organization, and returns the valid approvers.
func (e *Engine) preflight(ctx context.Context, req Request) ([]string, error) {
	f := req.Plan
	if err := f.Verify(); err != nil {
		return nil, refused(fmt.Sprintf("plan %s does not match its planHash: it was edited after planning (approvals bind to the hash); make a new plan", f.ID))
	}
	// Only the stored plan counts, and only with the verdict orgguard
	// derives for it now: never the file's own say-so.
	_, sp, err := review.Stored(ctx, e.o.Store, f)
	if err != nil {
		return nil, asRefused(err)
	}
	if err := review.Verify(ctx, e.o.Store, e.o.Planner, e.o.Pinned, f); err != nil {
		return nil, asRefused(err)
	}
	switch sp.State {
	case store.PlanPending, store.PlanApproved:
	case store.PlanApplying:
		return nil, refused(fmt.Sprintf("plan %s is being applied, or an apply of it was interrupted (orgguard recover settles it)", f.ID))
	default:
		return nil, refused(fmt.Sprintf("plan %s is %s; a plan is applied at most once (make a new plan)", f.ID, sp.State))
	}
	var reasons []string
	v := f.Guard
	extra := 0
	if r := strings.TrimSpace(req.OverrideWindow); r != "" {
		cfg := e.o.Planner.Guard.Config()
		// Override only the schedule rules that refuse now: each adds its
		// extra approvals.
		pre := e.o.Planner.Guard.CheckApply(v, e.o.Now(), req.Confirm)
		for _, rule := range []guard.Rule{guard.RuleWindow, guard.RuleFreeze} {
			if !slices.ContainsFunc(pre.Reasons, func(x guard.Reason) bool {
				return x.Rule == rule && x.Effect == guard.EffectRefuse && !x.Overridden
			}) {
				continue
			}
			if !slices.Contains(cfg.Overrides.Allow, rule) {
				reasons = append(reasons, fmt.Sprintf("the %s rule may not be overridden (guardrails.overrides.allow)", rule))
				continue
			}
			v.Overrides = append(slices.Clone(v.Overrides), guard.Override{Rule: rule, Reason: r})
			extra += cfg.Overrides.ExtraApprovals
		}
	}
	chk := e.o.Planner.Guard.CheckApply(v, e.o.Now(), req.Confirm)
	unconfirmed := false
	for _, r := range chk.Reasons {
		if r.Effect == guard.EffectRefuse && !r.Overridden {
			reasons = append(reasons, r.Message)
			unconfirmed = unconfirmed || r.Rule == guard.RuleConfirmation
		}
	}
	all, err := e.o.Store.ListApprovals(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	valid := review.ValidApprovals(all, f)
	need := f.RequiredApprovals + extra
	var names []string
	for _, a := range valid {
		names = append(names, a.Approver)
	}
	if len(valid) < need {
		msg := fmt.Sprintf("plan %s needs %d approval(s) from people other than its author %s, bound to hash %s; it has %d", f.ID, need, f.Author, digest.Short(f.PlanHash), len(valid))
		if len(names) > 0 {
			msg += " (" + strings.Join(names, ", ") + ")"
		}
		if extra > 0 {
			msg += fmt.Sprintf("; the window override adds %d", extra)
		}
		msg += fmt.Sprintf(" — run: orgguard approve %s --by NAME", f.ID)
		reasons = append(reasons, msg)
	}
	if len(reasons) > 0 {
		re := refused(reasons...)
		re.NextWindow = chk.NextWindowStart
		re.Unconfirmed = unconfirmed
		return nil, re
	}
	return names, nil
}

// lockHolder takes the organization lock and keeps it alive until release
// is called. lost reports whether the heartbeat failed.
type lockHolder struct {
	lock   store.Lock
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	lostAt error
}

func (l *lockHolder) lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lostAt
}

func (e *Engine) acquire(ctx context.Context) (*lockHolder, error) {
	lk, err := e.o.Store.AcquireLock(ctx, store.LockRequest{Name: LockName, Holder: e.o.Holder, TTL: e.o.LockTTL})
	var held *store.LockHeldError
	if errors.As(err, &held) {
		if wait, ok := deadHolder(held, time.Now()); ok { // lock expiry is wall-clock time in the store
			e.logf("the organization lock is held by %s, a process that no longer runs; waiting %s for it to expire", held.Holder, wait.Round(time.Second))
			if err := e.o.Sleep(ctx, wait); err != nil {
				return nil, err
			}
			lk, err = e.o.Store.AcquireLock(ctx, store.LockRequest{Name: LockName, Holder: e.o.Holder, TTL: e.o.LockTTL})
		}
	}
	if errors.As(err, &held) {
		r := refused(fmt.Sprintf("another apply holds the organization lock: held by %s since %s (until %s unless renewed)",
			held.Holder, held.AcquiredAt.UTC().Format(time.RFC3339), held.ExpiresAt.UTC().Format(time.RFC3339)))
		r.Locked = true
		return nil, r
	}
	if err != nil {
		return nil, fmt.Errorf("taking the organization lock: %w", err)
	}
	if lk.TakenOverFrom != "" {
		e.logf("took over the expired organization lock of %s", lk.TakenOverFrom)
		if err := e.o.Store.WithTx(ctx, func(tx store.Tx) error {
			return e.audit(ctx, tx, e.o.Actor, "lock.taken-over", LockName, map[string]any{"from": lk.TakenOverFrom, "by": e.o.Holder})
		}); err != nil {
			_ = e.o.Store.ReleaseLock(ctx, LockName, lk.Token)
			return nil, fmt.Errorf("recording the lock takeover: %w", err)
		}
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h := &lockHolder{lock: lk, stop: cancel}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(max(e.o.LockTTL/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				if _, err := e.o.Store.HeartbeatLock(hctx, LockName, lk.Token, e.o.LockTTL); err != nil && hctx.Err() == nil {
					h.mu.Lock()
					h.lostAt = fmt.Errorf("renewing the organization lock: %w", err)
					h.mu.Unlock()
					return
				}
			}
		}
	}()
	return h, nil
}

// release stops the heartbeat and, unless keep, releases the lock.
func (e *Engine) release(ctx context.Context, h *lockHolder, keep bool) {
	h.stop()
	h.wg.Wait()
	if !keep {
		_ = e.o.Store.ReleaseLock(context.WithoutCancel(ctx), LockName, h.lock.Token)
	}
}

// Apply applies req.Plan: the refusal checks, then the steps with health
// checks around each, and the automatic rollback when a check fails. A
// refusal is a *RefusedError; a stopped apply returns its report and an
// error wrapping ErrFailed.
func (e *Engine) Apply(ctx context.Context, req Request) (rep *Report, err error) {
	f := req.Plan
	approvers, err := e.preflight(ctx, req)
	if err != nil {
		return nil, err
	}
	h, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	crashed := false
	defer func() {
		crashed = IsCrash(err)
		e.release(ctx, h, crashed)
	}()
	rep = &Report{PlanID: f.ID, PlanHash: f.PlanHash, Approvers: approvers}
	calls := e.startCalls()
	recs, err := e.recoverLocked(ctx)
	if err != nil {
		return rep, fmt.Errorf("recovering an unfinished change before applying: %w", err)
	}
	rep.Recovered = recs
	live, err := e.o.Backend.Snapshot(ctx)
	if err != nil {
		return rep, fmt.Errorf("reading the organization: %w", err)
	}
	if e.o.Fresh != nil {
		e.o.Fresh(ctx, live)
	}
	if fp := org.ComputeFingerprint(live); fp != f.BaseFingerprint {
		re := refused(fmt.Sprintf("plan %s is stale: the organization changed since it was planned (base %s, now %s); make a new plan", f.ID, digest.Short(f.BaseFingerprint), digest.Short(fp)))
		if base, err := review.Base(ctx, e.o.Store, f.BaseFingerprint); err == nil {
			re.Changes = org.Diff(org.MustIndex(base), org.MustIndex(live))
		}
		if re.Changes == nil {
			re.Reasons = append(re.Reasons, "the plan's base snapshot is not available to list the differences")
		}
		return nil, re
	}
	baseIdx, err := org.NewIndex(live)
	if err != nil {
		return rep, err
	}
	order, canaryAt, canaryIDs, staged, err := e.executionOrder(ctx, baseIdx, f, req.Canary)
	if err != nil {
		return nil, err
	}
	steps := make([]change.Planned, len(order))
	for k, i := range order {
		if staged != nil {
			steps[k] = staged[i]
		} else {
			steps[k] = f.Steps[i]
		}
	}
	rep.Staged = staged != nil
	ex, err := replay(ctx, live, steps)
	if err != nil {
		if len(req.Canary) > 0 {
			return nil, refused(fmt.Sprintf("the canary order of the steps is not valid: %v", err))
		}
		return rep, err
	}
	var canaryAccounts []string
	for _, id := range canaryIDs {
		for _, a := range baseIdx.AccountsUnder(id) {
			canaryAccounts = append(canaryAccounts, a.ID)
		}
	}
	sample := probe.Select(e.o.Probes, &f.Impact, baseIdx, canaryAccounts)
	rep.PlanBindings = ex.bind
	r := &run{e: e, f: f, rep: rep, base: live, ex: ex, steps: steps, order: order, sample: sample, bind: change.Bindings{}, lock: h, calls: calls}

	detail := changeDetail{Order: order, PlanBindings: ex.bind, BaseFingerprint: f.BaseFingerprint, Canary: canaryIDs, PlanHash: f.PlanHash, Staged: staged, Guardrails: e.o.Pinned.Hash()}
	err = e.o.Store.WithTx(ctx, func(tx store.Tx) error {
		p, err := tx.Plan(ctx, f.ID)
		if err != nil {
			return err
		}
		if p.State == store.PlanPending {
			if _, err := tx.SetPlanState(ctx, f.ID, store.PlanPending, store.PlanApproved); err != nil {
				return err
			}
		}
		if _, err := tx.SetPlanState(ctx, f.ID, store.PlanApproved, store.PlanApplying); err != nil {
			return err
		}
		ch, err := tx.StartChange(ctx, store.Change{PlanID: f.ID, Kind: store.ChangeApply, StartedBy: e.o.Actor, Detail: mustJSON(detail)})
		if err != nil {
			return err
		}
		r.change = ch.ID
		return e.audit(ctx, tx, e.o.Actor, "apply.started", f.ID, map[string]any{"change": ch.ID, "hash": f.PlanHash,
			"approvers": approvers, "steps": len(steps), "canary": canaryIDs, "overrideWindow": req.OverrideWindow})
	})
	if err != nil {
		return rep, fmt.Errorf("starting the change: %w", err)
	}
	rep.ChangeID = r.change
	e.logf("change %s: applying plan %s (%d steps)", r.change, f.ID, len(steps))
	if err := e.point("change started"); err != nil {
		return rep, err
	}
	return r.execute(ctx, canaryAt, req.CanaryWait)
}

// run is one apply in progress.
type run struct {
	e      *Engine
	f      *plan.File
	rep    *Report
	change string
	base   *org.Snapshot
	ex     *expectation
	steps  []change.Planned // in execution order
	order  []int            // plan index of each
	sample probe.Sample
	bind   change.Bindings
	lock   *lockHolder
	calls  func() *org.Calls // the API calls since the apply began
}

// startCalls returns a function reporting the backend's API calls since
// now, nil when the backend does not count them.
func (e *Engine) startCalls() func() *org.Calls {
	counter, ok := e.o.Backend.(org.CallCounter)
	if !ok {
		return func() *org.Calls { return nil }
	}
	before, start := counter.Calls(), time.Now()
	return func() *org.Calls {
		c := counter.Calls().Sub(before, time.Since(start))
		return &c
	}
}

func (r *run) journal(ctx context.Context, k int, phase store.Phase, d journalDetail, reqID string) error {
	d.Bindings = r.bind
	_, err := r.e.o.Store.AppendJournal(ctx, store.JournalEntry{ChangeID: r.change, Step: r.order[k] + 1, Phase: phase,
		RequestID: reqID, Detail: mustJSON(d)})
	if err != nil {
		return fmt.Errorf("journaling step %d: %w", r.order[k]+1, err)
	}
	return nil
}

func (r *run) execute(ctx context.Context, canaryAt int, canaryWait time.Duration) (*Report, error) {
	e := r.e
	for k, s := range r.steps {
		n := r.order[k] + 1
		if err := r.lock.lost(); err != nil {
			return r.rep, fmt.Errorf("stopping before step %d: %w; run orgguard recover", n, err)
		}
		if err := ctx.Err(); err != nil {
			return r.fail(ctx, k, fmt.Sprintf("interrupted before step %d (%v)", n, err))
		}
		if cr, err := r.check(ctx, fmt.Sprintf("before step %d", n), k); err != nil {
			return r.fail(ctx, k, err.Error())
		} else if !cr.OK() {
			return r.fail(ctx, k, "health check before step "+fmt.Sprint(n)+" failed")
		}
		if err := e.point(fmt.Sprintf("step %d: before intent", n)); err != nil {
			return r.rep, err
		}
		if err := r.journal(ctx, k, store.PhaseIntent, journalDetail{Op: "do", Summary: s.Summary}, ""); err != nil {
			return r.fail(ctx, k, err.Error())
		}
		if err := e.point(fmt.Sprintf("step %d: intent journaled", n)); err != nil {
			return r.rep, err
		}
		e.logf("step %d/%d: %s", k+1, len(r.steps), s.Summary)
		ids := &requestIDs{}
		created, runErr := change.Run(ids.context(ctx), e.o.Backend, s.Step, r.bind)
		if err := e.point(fmt.Sprintf("step %d: ran", n)); err != nil {
			return r.rep, err
		}
		sr := StepReport{Index: n, Summary: s.Summary, Created: created}
		if runErr != nil {
			sr.Error = runErr.Error()
			r.rep.Steps = append(r.rep.Steps, sr)
			_ = r.journal(ctx, k, store.PhaseFailed, journalDetail{Op: "do", Summary: s.Summary, Error: runErr.Error()}, ids.entry(runErr))
			return r.fail(ctx, k+1, fmt.Sprintf("step %d (%s) failed: %v", n, s.Summary, runErr))
		}
		r.rep.Steps = append(r.rep.Steps, sr)
		if err := r.journal(ctx, k, store.PhaseDone, journalDetail{Op: "do", Summary: s.Summary, Created: created}, ids.entry(nil)); err != nil {
			return r.fail(ctx, k+1, err.Error())
		}
		if err := e.point(fmt.Sprintf("step %d: done journaled", n)); err != nil {
			return r.rep, err
		}
		if cr, err := r.check(ctx, fmt.Sprintf("after step %d", n), k+1); err != nil {
			return r.fail(ctx, k+1, err.Error())
		} else if !cr.OK() {
			return r.fail(ctx, k+1, "health check after step "+fmt.Sprint(n)+" failed")
		}
		if k == canaryAt {
			e.logf("canary: the canary targets are done; waiting %s before widening", canaryWait)
			if err := e.o.Sleep(ctx, canaryWait); err != nil {
				return r.fail(ctx, k+1, fmt.Sprintf("canary wait interrupted: %v", err))
			}
			if cr, err := r.check(ctx, "canary", k+1); err != nil {
				return r.fail(ctx, k+1, err.Error())
			} else if !cr.OK() {
				return r.fail(ctx, k+1, "canary check failed after the wait; not widening")
			}
		}
	}
	if err := e.point("finishing"); err != nil {
		return r.rep, err
	}
	r.rep.Outcome = Applied
	r.rep.Bindings = r.bind
	r.rep.Calls = r.calls()
	err := e.o.Store.WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.FinishChange(ctx, r.change, store.ChangeApplied, mustJSON(r.rep)); err != nil {
			return err
		}
		if _, err := tx.SetPlanState(ctx, r.f.ID, store.PlanApplying, store.PlanApplied); err != nil {
			return err
		}
		if err := e.audit(ctx, tx, e.o.Actor, "apply.finished", r.f.ID, map[string]any{"change": r.change, "outcome": Applied,
			"bindings": r.bind, "checks": len(r.rep.Checks)}); err != nil {
			return err
		}
		// A rollback plan, applied, rolls its change's plan back.
		if undone, ok := strings.CutPrefix(r.f.Source, "rollback:"); ok {
			ch, err := tx.Change(ctx, undone)
			if err != nil {
				return err
			}
			if _, err := tx.SetPlanState(ctx, ch.PlanID, store.PlanApplied, store.PlanRolledBack); err != nil {
				return err
			}
			return e.audit(ctx, tx, e.o.Actor, "change.rolled-back", undone, map[string]any{"plan": ch.PlanID, "by": r.change, "rollbackPlan": r.f.ID})
		}
		return nil
	})
	if err != nil {
		return r.rep, fmt.Errorf("recording the finished change: %w", err)
	}
	e.logf("change %s applied: %d steps, %d health checks passed", r.change, len(r.steps), len(r.rep.Checks))
	return r.rep, nil
}

// check runs one round of health checks against the expected state after
// the first k steps.
func (r *run) check(ctx context.Context, when string, k int) (CheckReport, error) {
	e := r.e
	cr := CheckReport{When: when}
	expected := translate(r.ex.states[k], idMap(r.ex.bind, r.bind))
	touch := touched(r.steps, r.bind)
	counter, counts := e.o.Backend.(org.CallCounter)
	var before org.Calls
	if counts {
		before = counter.Calls()
	}
	start := time.Now()
	rctx := ctx
	if e.o.RoundTimeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, e.o.RoundTimeout)
		defer cancel()
	}
	var live *org.Snapshot
	var err error
	if e.o.Parts != nil {
		live, err = readParts(rctx, e.o.Parts, expected, touch)
	} else {
		live, err = e.o.Backend.Snapshot(rctx)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return cr, fmt.Errorf("health check %s: reading the organization did not complete within the round's budget of %s: %w", when, e.o.RoundTimeout, err)
		}
		return cr, fmt.Errorf("health check %s: reading the organization: %w", when, err)
	}
	cr.Drift, err = drift(expected, live, touch)
	if err != nil {
		return cr, err
	}
	cr.StateOK = len(cr.Drift) == 0
	cr.ImpactOK = true
	if e.o.Planner != nil && e.o.Planner.Analyzer != nil {
		im, err := e.o.Planner.Analyzer.Compute(expected, live)
		if err != nil {
			return cr, fmt.Errorf("health check %s: computing the observed impact: %w", when, err)
		}
		planned := map[string]bool{}
		for _, a := range r.f.Impact.Accounts {
			planned[a.ID] = true
		}
		for _, a := range im.Report.Accounts {
			where := "inside the planned blast radius"
			if !planned[a.ID] {
				where = "OUTSIDE the planned blast radius"
			}
			cr.Unplanned = append(cr.Unplanned, fmt.Sprintf("account %s (%s, %s) differs from the plan at this point: %d actions newly denied, %d newly conditional, %d newly allowed — %s",
				a.Name, a.ID, a.Path, a.NewlyDenied, a.NewlyConditional, a.NewlyAllowed, where))
		}
		if im.Report.ManagementAccountAffected {
			cr.Unplanned = append(cr.Unplanned, "the management account's access differs from the plan")
		}
		cr.ImpactOK = len(cr.Unplanned) == 0
	}
	if e.o.Prober != nil {
		x, err := org.NewIndex(r.ex.states[k])
		if err != nil {
			return cr, err
		}
		checks, err := probe.Checks(e.o.Evaluator, x, e.o.Probes, r.sample)
		if err != nil {
			return cr, fmt.Errorf("health check %s: %w", when, err)
		}
		var results []probe.Result
		if sp, ok := e.o.Prober.(probe.StateProber); ok && e.o.Parts != nil {
			// An engine prober answers on the state just read, not on a
			// whole read of its own.
			results, err = sp.ProbeState(rctx, live, checks)
		} else {
			results, err = e.o.Prober.Probe(rctx, checks)
		}
		if err != nil {
			return cr, fmt.Errorf("health check %s: probing: %w", when, err)
		}
		if e.o.ProbeResults != nil {
			e.o.ProbeResults(results)
		}
		cr.ProbesRun = len(results)
		cr.ProbeFailed = probe.Failed(results)
	}
	if counts {
		c := counter.Calls().Sub(before, time.Since(start))
		cr.APICalls, cr.Retries, cr.Throttles, cr.WallMS = c.Total(), c.Retries, c.Throttles, c.WallMS
	}
	r.rep.Checks = append(r.rep.Checks, cr)
	e.logf("  %s", cr.Summary())
	if !cr.OK() {
		for _, d := range cr.Drift {
			e.logf("       drift: %s", d)
		}
		for _, u := range cr.Unplanned {
			e.logf("       impact: %s", u)
		}
		for _, p := range cr.ProbeFailed {
			e.logf("       probe: %s", p)
		}
	}
	return cr, nil
}

// fail stops the apply after the first k steps (in execution order) may
// have run: it undoes them, verifies, records an incident and finishes the
// change.
func (r *run) fail(ctx context.Context, k int, why string) (*Report, error) {
	e := r.e
	// An interrupted apply (Ctrl-C) still rolls back and records it.
	ctx = context.WithoutCancel(ctx)
	r.rep.Failure = why
	e.logf("STOP: %s — rolling back %d step(s)", why, k)
	rb, err := e.undo(ctx, r.change, r.f, r.steps, r.steps[:k], r.order[:k], r.bind, r.base)
	if IsCrash(err) {
		return r.rep, err
	}
	r.rep.Rollback = rb
	r.rep.Bindings = r.bind
	outcome, cstate, pstate := RolledBack, store.ChangeRolledBack, store.PlanRolledBack
	if err != nil || !rb.Verified {
		outcome, cstate, pstate = Failed, store.ChangeFailed, store.PlanFailed
		if err != nil {
			rb.Detail = append(rb.Detail, "the rollback stopped: "+err.Error())
			if _, d, verr := e.verifyBase(ctx, r.f, r.bind, r.base); verr == nil {
				rb.Detail = append(rb.Detail, d...)
			}
		}
	}
	r.rep.Outcome = outcome
	r.rep.Calls = r.calls()
	inc, ierr := r.incident(ctx, why, rb)
	if ierr == nil {
		r.rep.Incident = inc
	}
	ferr := e.o.Store.WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.FinishChange(ctx, r.change, cstate, mustJSON(r.rep)); err != nil {
			return err
		}
		if _, err := tx.SetPlanState(ctx, r.f.ID, store.PlanApplying, pstate); err != nil {
			return err
		}
		return e.audit(ctx, tx, e.o.Actor, "apply."+string(outcome), r.f.ID, map[string]any{"change": r.change, "failure": why,
			"verified": rb.Verified, "undone": rb.Undone, "incident": r.rep.Incident})
	})
	errs := []error{ierr, ferr}
	if joined := errors.Join(errs...); joined != nil {
		return r.rep, fmt.Errorf("%w: %s; recording it: %w", ErrFailed, why, joined)
	}
	if outcome == Failed {
		return r.rep, fmt.Errorf("%w: %s; the rollback could NOT be verified (incident %s)", ErrFailed, why, r.rep.Incident)
	}
	return r.rep, fmt.Errorf("%w: %s; rolled back and verified (incident %s)", ErrFailed, why, r.rep.Incident)
}

// incident records an incident for a stopped apply.
func (r *run) incident(ctx context.Context, why string, rb *Rollback) (string, error) {
	e := r.e
	sev := store.SevMajor
	state := store.IncidentMitigated
	if !rb.Verified {
		sev, state = store.SevCritical, store.IncidentOpen
	}
	var last CheckReport
	if n := len(r.rep.Checks); n > 0 {
		last = r.rep.Checks[n-1]
	}
	impact := map[string]any{"planned": map[string]any{"accountsAffected": r.f.Impact.AccountsAffected, "accountsTotal": r.f.Impact.AccountsTotal},
		"drift": last.Drift, "unplannedImpact": last.Unplanned, "probeFailures": last.ProbeFailed}
	title := fmt.Sprintf("apply of plan %s stopped: %s", r.f.ID, why)
	var id string
	err := e.o.Store.WithTx(ctx, func(tx store.Tx) error {
		in, err := tx.OpenIncident(ctx, store.Incident{Source: store.SourceApply, Severity: sev, Title: title, State: state, ChangeID: r.change, Impact: mustJSON(impact)})
		if err != nil {
			return err
		}
		if e.o.OnIncident != nil {
			if err := e.o.OnIncident(ctx, tx, in); err != nil {
				return err
			}
		}
		id = in.ID
		events := []store.IncidentEvent{{Kind: "detected", Actor: e.o.Actor, Message: why, Detail: mustJSON(last)}}
		for _, s := range r.rep.Steps {
			events = append(events, store.IncidentEvent{Kind: "note", Actor: e.o.Actor, Message: fmt.Sprintf("step %d ran: %s %s", s.Index, s.Summary, s.Error)})
		}
		for _, u := range rb.Undone {
			events = append(events, store.IncidentEvent{Kind: "mitigation", Actor: e.o.Actor, Message: "rolled back: " + u})
		}
		msg := "rollback verified: the organization matches the plan's base fingerprint"
		if !rb.Verified {
			msg = "rollback NOT verified: " + strings.Join(rb.Detail, "; ")
		}
		events = append(events, store.IncidentEvent{Kind: "mitigation", Actor: e.o.Actor, Message: msg})
		for _, ev := range events {
			ev.IncidentID = id
			if _, err := tx.AddIncidentEvent(ctx, ev); err != nil {
				return err
			}
		}
		return e.audit(ctx, tx, e.o.Actor, "incident.opened", id, map[string]any{"change": r.change, "plan": r.f.ID, "severity": sev, "title": title})
	})
	return id, err
}
