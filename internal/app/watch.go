package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/watch"
)

// WatchOptions shape a watcher run.
type WatchOptions struct {
	// Interval overrides watch.interval when positive.
	Interval time.Duration
	// Listen, when set, serves the event intake on this address.
	Listen string
	Log    *slog.Logger
	// Getenv reads the intake secret's environment variable; nil = none.
	Getenv func(string) string
	// Notify also runs the notice clock and the outbox sender.
	Notify bool
	// Leading, when set, is asked before each message is sent (team
	// mode); see NotifyOptions.Leading.
	Leading func() error
	// Started, when set, is called once the watcher has loaded its state
	// (or read its baseline) and runs.
	Started func()
}

// Watch runs the watcher until ctx ends: drift detection over the
// configured backend, incidents for critical drift, the event intake when
// o.Listen is set, and remediation through the same journaled,
// health-checked apply path as any plan when a rule allows it.
func (a *App) Watch(ctx context.Context, o WatchOptions) error {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	x, err := a.engine(ctx)
	if err != nil {
		return err
	}
	cfg := a.cfg.Watch
	// The rules (remediation among them) are the pinned ones: a local
	// configuration with other rules was refused when the engine opened.
	cfg.Rules = x.pinned.Rules.Watch
	if o.Interval > 0 {
		cfg.Interval = o.Interval
		cfg.SweepPeriod = max(cfg.SweepPeriod, o.Interval)
	}
	b, err := a.Backend(ctx)
	if err != nil {
		return err
	}
	var reader watch.Reader
	switch b := b.(type) {
	case *awsorg.Backend:
		reader = b.Parts(nil)
	case *sim.Org:
		reader = &watch.SimReader{Org: b}
		o.Log.Warn("watching the simulated organization in this process: changes made by other processes are not seen; serve it with `orgguard sim serve` and use backend.type aws to watch it like AWS")
	default:
		return fmt.Errorf("backend %T cannot be watched", b)
	}
	var rem watch.Remediator
	for _, r := range cfg.EffectiveRules() {
		if r.Remediate {
			rem = &remediator{a: a, x: x}
			break
		}
	}
	ns, err := a.noticeService(x.st)
	if err != nil {
		return err
	}
	w, err := watch.New(watch.Options{Config: cfg, Reader: reader, Store: x.st, Analyzer: x.planner.Analyzer,
		Baseline: b.Snapshot, Protected: x.pinned.Rules.Guardrails.Protected.Targets, Remediator: rem, Log: o.Log, OnOpen: ns.OnOpen, Started: o.Started})
	if err != nil {
		return BadInput(err)
	}
	a.watching(w)
	defer a.watching(nil)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	if o.Listen != "" {
		getenv := o.Getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		secret, err := cfg.Intake.Secret(getenv)
		if err != nil {
			return BadInput(err)
		}
		h := watch.NewHandler(w, secret, cfg.Intake, o.Log)
		go func() {
			errc <- simserver.Serve(ctx, o.Listen, h, o.Log, func(addr string) {
				o.Log.Info("event intake listening", "url", "http://"+addr+"/", "header", cfg.Intake.Header)
			})
		}()
	}
	o.Log.Info("watching", "backend", a.cfg.Backend.Type, "interval", cfg.Interval, "sweep_period", cfg.SweepPeriod,
		"call_budget_per_minute", cfg.CallBudget, "remediation", rem != nil)
	go func() { errc <- w.Run(ctx) }()
	if o.Notify {
		go func() {
			_, err := a.Notify(ctx, NotifyOptions{Log: o.Log, Getenv: o.Getenv, Leading: o.Leading})
			if err != nil {
				errc <- err
			}
		}()
	}
	err = <-errc
	cancel()
	switch {
	case err == nil, errors.Is(err, http.ErrServerClosed), errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, simserver.ErrListen):
		return BadInput(err)
	}
	return err
}

// recover settles interrupted applies as Recover does; while another
// process of this team (the leader's settling of interrupted applies, a
// replica's apply) holds the organization lock alive, it waits for it,
// checking once a second, for up to remediationLockWait.
func (r *remediator) recover(ctx context.Context) ([]apply.Recovery, error) {
	deadline := time.Now().Add(remediationLockWait)
	for {
		recs, err := r.x.Recover(ctx)
		if !errors.Is(err, apply.ErrLocked) || time.Now().After(deadline) {
			return recs, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// remediationLockWait bounds how long a resumed remediation waits for the
// organization lock held by a live apply or recovery.
const remediationLockWait = 2 * time.Minute

// remediator undoes drift as a plan: built from the drift's inverse, saved
// in the store like any plan, and applied through the engine (fresh state,
// re-derived verdict, lock, journal, health checks, rollback). The watch
// rule that allows the remediation stands in for the approvals the plan's
// verdict requires: each is recorded as "watch-rule:<rule>#n", naming the
// rule, in the plan's approvals and the audit log. A plan the guardrails
// refuse is not applied.
type remediator struct {
	a *App
	x *engine
}

func (r *remediator) Remediate(ctx context.Context, rem watch.Remediation) (watch.RemediationResult, error) {
	if rem.Resumed {
		// The watcher stopped while this remediation was pending or
		// running: settle an apply it interrupted (recovery waits for the
		// dead process's lock to expire), then apply only what the
		// organization, read afresh, still needs.
		recs, err := r.recover(ctx)
		if err != nil {
			return watch.RemediationResult{Outcome: "not-planned"}, fmt.Errorf("recovering an interrupted apply before resuming the remediation: %w", err)
		}
		snap, err := r.a.Snapshot(ctx, "")
		if err != nil {
			return watch.RemediationResult{Outcome: "not-planned"}, err
		}
		x, err := org.NewIndex(snap)
		if err != nil {
			return watch.RemediationResult{Outcome: "not-planned"}, err
		}
		rem.Operations = watch.Outstanding(x, rem.Operations)
		if len(rem.Operations) == 0 {
			out := watch.RemediationResult{Outcome: watch.OutcomeUndone}
			for _, rc := range recs {
				out.ChangeID, out.PlanID = rc.ChangeID, rc.PlanID
				out.Detail = "recovered " + rc.String()
			}
			return out, nil
		}
	}
	reason := fmt.Sprintf("automatic remediation of incident %s allowed by watch rule %q", rem.Incident.ID, rem.Rule)
	// Undoing drift on Root (or a protected target) is itself a change
	// there, which the protected-target rule refuses unless overridden.
	// The rule's remediate: true is that override, recorded in the plan
	// with its reason; it takes effect only when the pinned
	// guardrails.overrides.allow permits it (the default), and is a
	// notice ("has no effect") when the drift was elsewhere. A loss of
	// access is never overridden here: the thresholds count only accounts
	// losing access, and undoing a deny-all only restores it.
	res, err := r.a.Plan(ctx, PlanRequest{Request: plan.Request{Operations: rem.Operations, Description: rem.Description,
		Source:    "watch:rule:" + rem.Rule,
		Overrides: []change.Override{{Rule: string(guard.RuleProtectedTarget), Reason: "undoing drift: " + reason}}}, Save: true})
	if err != nil {
		return watch.RemediationResult{Outcome: "not-planned"}, fmt.Errorf("planning the remediation: %w", err)
	}
	f := res.File
	out := watch.RemediationResult{PlanID: f.ID}
	if f.Verdict == guard.Refused {
		out.Outcome = "refused"
		var why []string
		for _, rs := range f.Guard.Refusals() {
			why = append(why, string(rs.Rule)+": "+rs.Message)
		}
		out.Detail = strings.Join(why, "; ")
		return out, fmt.Errorf("the guardrails refuse the remediation plan %s: %s", f.ID, out.Detail)
	}
	ap := &review.Approver{Store: r.x.st, Planner: r.x.planner, Pinned: r.x.pinned}
	need := f.RequiredApprovals + r.x.pinned.Rules.Guardrails.Overrides.ExtraApprovals
	// A resumed remediation planned within the same second as the one the
	// crash interrupted makes the very same plan (same ID), which may hold
	// some of these approvals already.
	have := map[string]bool{}
	if prev, err := r.x.st.ListApprovals(ctx, f.ID); err == nil {
		for _, p := range prev {
			have[p.Approver] = true
		}
	}
	for i := range need {
		who := fmt.Sprintf("watch-rule:%s#%d", rem.Rule, i+1)
		if have[who] {
			continue
		}
		if _, err := ap.Approve(ctx, f.ID, who, "standing approval: "+reason); err != nil {
			out.Outcome = "refused"
			return out, fmt.Errorf("recording the standing approval of the remediation: %w", err)
		}
	}
	rep, err := r.x.Apply(ctx, apply.Request{Plan: f, Confirm: f.Guard.ConfirmationText, OverrideWindow: reason})
	if rep != nil {
		out.ChangeID = rep.ChangeID
		out.Outcome = string(rep.Outcome)
		out.Detail = rep.Failure
	}
	if err != nil && out.Outcome == "" {
		out.Outcome = "refused"
	}
	return out, err
}

// Incidents returns the incident service on the store. With mustExist a
// missing store is ErrBadInput.
func (a *App) Incidents(ctx context.Context, mustExist bool) (*incident.Service, error) {
	st, err := a.incidentStore(ctx, mustExist)
	if err != nil {
		return nil, err
	}
	ns, err := a.noticeService(st)
	if err != nil {
		return nil, err
	}
	return &incident.Service{Store: st, Now: a.o.Now, OnOpen: ns.OnOpen}, nil
}
