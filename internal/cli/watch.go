package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/watch"
)

// newWatchCmd builds `orgguard watch`.
func newWatchCmd(e *env) *cobra.Command {
	var (
		interval time.Duration
		listen   string
		logLevel string
	)
	af := &applyFlags{lockTTL: apply.DefaultLockTTL}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Watch the organization for changes made outside orgguard; open incidents for critical drift",
		Long: `watch re-reads the surfaces where one change reaches many accounts (the root
and its policy types, the first-level OUs and their attachments, every policy
and its content) every --interval, sweeps the rest in the background over
watch.sweepPeriod, and keeps within watch.callBudget calls per minute. With
--listen it also takes CloudTrail events from EventBridge (an API destination)
and refreshes at once. Drift is judged with the blast-radius engine and the
watch rules; critical drift opens an incident (orgguard incident list), and a
rule with remediate: true undoes the drift through a journaled, health-checked
apply. Changes made by orgguard's own applies are not drift.

The intake secret comes from watch.intake.secretEnv or secretFile. Stop with
SIGINT or SIGTERM. See docs/watch.md.`,
		Example: `  orgguard watch
  orgguard watch --interval 10s --listen 127.0.0.1:8787
  ORGGUARD_INTAKE_SECRET=... orgguard watch --config prod.yaml --listen :8787`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return badInput(fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel))
			}
			log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
			return runWatch(cmd, e, af, interval, listen, log)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&interval, "interval", 0, "how often the cheap surfaces are re-read (default: watch.interval, 10s)")
	fl.StringVar(&listen, "listen", "", "serve the event intake on this address (e.g. 127.0.0.1:8787)")
	fl.StringVar(&logLevel, "log-level", "info", "log level on stderr: debug, info, warn, error")
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	return cmd
}

func runWatch(cmd *cobra.Command, e *env, af *applyFlags, interval time.Duration, listen string, log *slog.Logger) error {
	ctx := cmd.Context()
	x, err := openEngine(cmd, e, af, watch.Actor)
	if err != nil {
		return err
	}
	defer x.Close()
	cfg := x.cfg.Watch
	if interval > 0 {
		cfg.Interval = interval
		if cfg.SweepPeriod < interval {
			cfg.SweepPeriod = interval
		}
	}
	var reader watch.Reader
	switch b := x.backend.(type) {
	case *awsorg.Backend:
		reader = b.Parts(nil)
	case *sim.Org:
		reader = &watch.SimReader{Org: b}
		log.Warn("watching the simulated organization in this process: changes made by other processes are not seen; serve it with `orgguard sim serve` and use backend.type aws to watch it like AWS")
	default:
		return withCode(ExitInternal, fmt.Errorf("backend %T cannot be watched", x.backend))
	}
	var rem watch.Remediator
	for _, r := range cfg.EffectiveRules() {
		if r.Remediate {
			rem = &planApplyRemediator{x: x, guard: x.cfg.Guardrails}
			break
		}
	}
	w, err := watch.New(watch.Options{Config: cfg, Reader: reader, Store: x.st, Analyzer: x.planner.Analyzer,
		Baseline: x.backend.Snapshot, Protected: x.cfg.Guardrails.Protected.Targets, Remediator: rem, Log: log})
	if err != nil {
		return badInput(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	if listen != "" {
		secret, err := cfg.Intake.Secret(os.Getenv)
		if err != nil {
			return badInput(err)
		}
		h := watch.NewHandler(w, secret, cfg.Intake, log)
		go func() {
			errc <- simserver.Serve(ctx, listen, h, log, func(addr string) {
				log.Info("event intake listening", "url", "http://"+addr+"/", "header", cfg.Intake.Header)
			})
		}()
	}
	log.Info("watching", "backend", x.cfg.Backend.Type, "interval", cfg.Interval, "sweep_period", cfg.SweepPeriod,
		"call_budget_per_minute", cfg.CallBudget, "remediation", rem != nil)
	go func() { errc <- w.Run(ctx) }()
	err = <-errc
	cancel()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		if errors.Is(err, simserver.ErrListen) {
			return badInput(err)
		}
		return withCode(ExitInternal, err)
	}
	return nil
}

// planApplyRemediator undoes drift through the planner and the apply
// engine. The watch rule that allows the remediation stands in for the
// approvals the plan's verdict requires: each is recorded as
// "watch-rule:<rule>#n" with the rule named in the comment and the audit
// log. A plan the guardrails refuse is not applied.
//
// The lead moves this adapter into internal/app.
type planApplyRemediator struct {
	x     *engineEnv
	guard guard.Config
}

func (r *planApplyRemediator) Remediate(ctx context.Context, rem watch.Remediation) (watch.RemediationResult, error) {
	base, err := r.x.backend.Snapshot(ctx)
	if err != nil {
		return watch.RemediationResult{Outcome: "not-planned"}, err
	}
	res, err := r.x.planner.Make(ctx, base, plan.Request{Operations: rem.Operations, Description: rem.Description,
		Author: watch.Actor, Source: "watch:rule:" + rem.Rule, Now: time.Now()})
	if err != nil {
		return watch.RemediationResult{Outcome: "not-planned"}, fmt.Errorf("planning the remediation: %w", err)
	}
	f := res.File
	out := watch.RemediationResult{PlanID: f.ID}
	if f.Verdict == guard.Refused {
		out.Outcome = "refused"
		return out, fmt.Errorf("the guardrails refuse the remediation plan %s", f.ID)
	}
	reason := fmt.Sprintf("automatic remediation of incident %s allowed by watch rule %q", rem.Incident.ID, rem.Rule)
	need := f.RequiredApprovals + r.guard.Overrides.ExtraApprovals
	for i := range need {
		if _, err := apply.Approve(ctx, r.x.st, f, fmt.Sprintf("watch-rule:%s#%d", rem.Rule, i+1), "standing approval: "+reason); err != nil {
			out.Outcome = "refused"
			return out, fmt.Errorf("recording the standing approval of the remediation: %w", err)
		}
	}
	rep, err := r.x.engine.Apply(ctx, apply.Request{Plan: f, Confirm: f.Guard.ConfirmationText, OverrideWindow: reason})
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
