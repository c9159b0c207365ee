package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/loopback"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/probe/awsprobe"
	"github.com/orgguard/orgguard/internal/store"
)

// applyFlags are the flags of `orgguard apply` (and `recover`).
type applyFlags struct {
	confirm        string
	overrideWindow string
	canary         []string
	canaryWait     time.Duration
	asJSON         bool
	by             string
	now            string
	lockTTL        time.Duration
}

func newApplyCmd(e *env) *cobra.Command {
	af := &applyFlags{}
	cmd := &cobra.Command{
		Use:   "apply PLAN",
		Short: "Apply a reviewed, approved plan with health checks and automatic rollback",
		Long: `apply runs a plan (a plan file, or the ID of a plan in the store) against the
organization. It refuses (exit 3), saying why, unless: the plan file matches its
hash; the live organization still has the plan's base fingerprint (a stale plan
lists what changed since); the approvals the verdict requires are there
(distinct people, not the author, on this plan hash); a maintenance window is
open and no freeze is active (or --override-window with a reason, which needs
the configured extra approvals); for risky plans the operator typed the
resolved target (asked on a terminal, else --confirm); and no other apply
holds the organization lock.

Before and after every step it re-reads the organization and compares the
touched part with the expected state, compares the observed blast radius with
the planned one, and probes a sample of affected and unaffected accounts.
When a check fails it stops, rolls back (the recorded inverses, last first),
verifies the organization is back at the base, records an incident and exits
1. An interrupted apply is settled first (see orgguard recover).

Exit codes: 0 applied, 1 stopped and rolled back (or the rollback could not be
verified), 2 bad input, 3 refused, 4 internal error. See docs/apply.md.`,
		Example: `  orgguard apply quarantine.json
  orgguard apply plan-20261205-171500-3daabb07 --confirm 'Root r-ab12 (1,000 accounts)'
  orgguard apply deny-leave.json --canary /Customers/Acme --canary-wait 10m
  orgguard apply plan.json --override-window "customer outage, duty manager agreed" --json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runApply(cmd, e, af, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&af.confirm, "confirm", "", "the typed confirmation of a risky plan (its resolved target, e.g. 'Root r-ab12 (1,000 accounts)')")
	fl.StringVar(&af.overrideWindow, "override-window", "", "apply outside a window or during a freeze, with this reason (needs the extra approvals)")
	fl.StringSliceVar(&af.canary, "canary", nil, "apply to these targets first (IDs, names or paths, comma-separated), probe, wait, then widen")
	fl.DurationVar(&af.canaryWait, "canary-wait", 0, "how long to wait after the canary before widening (default: probes.canaryWaitSeconds)")
	fl.BoolVar(&af.asJSON, "json", false, "print the report as JSON")
	fl.StringVar(&af.by, "by", "", "who applies (default: identity.user from the configuration, else the OS user)")
	addEngineFlags(cmd, af)
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	return cmd
}

// addEngineFlags adds the hidden flags for tests and the demo: --now (the
// demo replays a scene at a chosen time; tests pin windows) and --lock-ttl
// (a test kills an apply and must not wait 30 s for its lock to expire).
func addEngineFlags(cmd *cobra.Command, af *applyFlags) {
	fl := cmd.Flags()
	fl.StringVar(&af.now, "now", "", "evaluate windows and freezes at this instant (RFC 3339); for tests and the demo")
	fl.DurationVar(&af.lockTTL, "lock-ttl", apply.DefaultLockTTL, "organization lock lifetime without a heartbeat; for tests")
	_ = fl.MarkHidden("now")
	_ = fl.MarkHidden("lock-ttl")
}

// engineEnv is what apply, recover and rollback open.
type engineEnv struct {
	cfg     *config.Config
	st      store.Store
	backend org.Backend
	engine  *apply.Engine
	planner *plan.Planner
	actor   string
	probes  string // how probes run, for the report
}

func (x *engineEnv) Close() { x.st.Close() }

// snapshotDir is where the base snapshots of saved plans are kept: next to
// an SQLite store, else under ./.orgguard.
func snapshotDir(cfg *config.Config, cmd *cobra.Command) string {
	dsn := cfg.Store
	if f := cmd.Flag("store"); f != nil && f.Changed {
		dsn = f.Value.String()
	}
	if dsn == "" || strings.Contains(dsn, "://") {
		return filepath.Join(".orgguard", "snapshots")
	}
	return filepath.Join(filepath.Dir(dsn), "snapshots")
}

// snapshotFile names the archived snapshot with fingerprint fp.
func snapshotFile(dir, fp string) string {
	return filepath.Join(dir, strings.TrimPrefix(fp, "sha256:")+".json")
}

func openEngine(cmd *cobra.Command, e *env, af *applyFlags, by string) (*engineEnv, error) {
	ctx := cmd.Context()
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	planner, err := newPlanner(cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cmd, false)
	if err != nil {
		return nil, err
	}
	b, err := openBackend(ctx, e, cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	now := time.Now
	if af.now != "" {
		t, err := time.Parse(time.RFC3339, af.now)
		if err != nil {
			st.Close()
			return nil, badInput(fmt.Errorf("--now %q: want RFC 3339", af.now))
		}
		offset := time.Since(t)
		now = func() time.Time { return time.Now().Add(-offset) }
	}
	cat, err := catalog.Load()
	if err != nil {
		st.Close()
		return nil, withCode(ExitInternal, err)
	}
	ev := probe.NewEvaluator(cat.RCPSupported)
	actor := identity(by, cfg)
	x := &engineEnv{cfg: cfg, st: st, backend: b, planner: planner, actor: actor}
	o := apply.Options{Store: st, Backend: b, Guard: planner.Guard, Analyzer: planner.Analyzer, Evaluator: ev,
		Probes: cfg.Probes, Now: now, Actor: actor, LockTTL: af.lockTTL}
	switch {
	case isSim(b):
		o.Prober = &probe.Engine{Reader: b, Eval: ev}
		x.probes = "engine probes on the simulated organization's live state"
	case cfg.Backend.Type == config.BackendAWS && loopback.URL(cfg.Backend.AWS.Endpoint):
		// `orgguard sim serve`: no real accounts to sign in to; the engine
		// answers on the served organization's live state.
		o.Prober = &probe.Engine{Reader: b, Eval: ev}
		x.probes = "engine probes on the served simulated organization (" + cfg.Backend.AWS.Endpoint + ")"
	case cfg.Backend.Type == config.BackendAWS:
		p, err := awsprobe.New(ctx, awsprobe.Options{Profile: cfg.Backend.AWS.Profile, Region: cfg.Backend.AWS.Region,
			EndpointURL: cfg.Backend.AWS.Endpoint, RoleName: cfg.Probes.Role})
		if err != nil {
			st.Close()
			return nil, withCode(ExitInternal, fmt.Errorf("setting up the probes: %w", err))
		}
		o.Prober = p
		x.probes = "probes in each sampled account as role " + cfg.Probes.Role + " (read calls, IAM simulator fallback)"
	default:
		x.probes = "no prober for this backend: probes skipped (state and impact checks run)"
	}
	dir := snapshotDir(cfg, cmd)
	o.BaseSnapshot = func(fp string) (*org.Snapshot, error) { return org.ReadSnapshotFile(snapshotFile(dir, fp)) }
	if af.asJSON {
		o.Progress = e.stderr
	} else {
		o.Progress = e.stdout
	}
	x.engine = apply.New(o)
	return x, nil
}

// readPlanArg reads PLAN: a plan file when the path exists, else a plan ID
// in the store. A file that does not match its hash is refused (exit 3).
func readPlanArg(ctx context.Context, st store.Store, arg string) (*plan.File, error) {
	if _, err := os.Stat(arg); err == nil {
		f, err := plan.Read(arg)
		if errors.Is(err, plan.ErrTampered) {
			return nil, withCode(ExitRefused, fmt.Errorf("refused: %w — approvals bind to the hash; make a new plan", err))
		}
		if err != nil {
			return nil, badInput(err)
		}
		return f, nil
	}
	f, _, err := apply.LoadPlan(ctx, st, arg)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, badInput(fmt.Errorf("%q is neither a plan file nor the ID of a stored plan (orgguard plans lists them)", arg))
	case errors.Is(err, plan.ErrTampered):
		return nil, withCode(ExitRefused, fmt.Errorf("refused: %w", err))
	case err != nil:
		return nil, withCode(ExitInternal, err)
	}
	return f, nil
}

// engineError maps the apply engine's errors to exit codes.
func engineError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, apply.ErrRefused):
		return withCode(ExitRefused, err)
	case errors.Is(err, apply.ErrFailed):
		return withCode(ExitFailure, err)
	case errors.Is(err, store.ErrNotFound):
		return badInput(err)
	}
	return withCode(ExitInternal, err)
}

func runApply(cmd *cobra.Command, e *env, af *applyFlags, arg string) error {
	ctx := cmd.Context()
	x, err := openEngine(cmd, e, af, af.by)
	if err != nil {
		return err
	}
	defer x.Close()
	f, err := readPlanArg(ctx, x.st, arg)
	if err != nil {
		return err
	}
	req := apply.Request{Plan: f, Confirm: af.confirm, OverrideWindow: af.overrideWindow, Canary: af.canary, CanaryWait: af.canaryWait}
	if len(af.canary) > 0 && !cmd.Flags().Changed("canary-wait") {
		req.CanaryWait = time.Duration(x.cfg.Probes.CanaryWaitSeconds) * time.Second
	}
	if f.Guard.RequiresConfirmation && af.confirm == "" && isTerminalReader(e.stdin) {
		fmt.Fprintf(e.stdout, "Plan %s is risk %s. Type %q to confirm: ", f.ID, f.Guard.Risk, f.Guard.ConfirmationText)
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		req.Confirm = strings.TrimRight(line, "\r\n")
	}
	rep, err := x.engine.Apply(ctx, req)
	var re *apply.RefusedError
	if af.asJSON && errors.As(err, &re) {
		if werr := writeJSON(e.stdout, map[string]any{"plan": f.ID, "outcome": "refused", "reasons": re.Reasons,
			"changesSinceBase": re.Changes, "nextWindow": re.NextWindow}); werr != nil {
			return withCode(ExitInternal, werr)
		}
	}
	if rep != nil {
		if af.asJSON {
			if werr := writeJSON(e.stdout, rep); werr != nil {
				return withCode(ExitInternal, werr)
			}
		} else {
			writeApplyReport(e, rep)
			fmt.Fprintf(e.stdout, "(plan %s, hash %s, applied by %s; health checks: expected state, observed impact, %s)\n", f.ID, digest.Short(f.PlanHash), x.actor, x.probes)
		}
	}
	return engineError(err)
}

func writeApplyReport(e *env, rep *apply.Report) {
	for _, r := range rep.Recovered {
		fmt.Fprintf(e.stdout, "Recovered first: %s\n", r)
	}
	switch rep.Outcome {
	case apply.Applied:
		fmt.Fprintf(e.stdout, "\nApplied: change %s, %d steps, %d health checks passed. Approved by %s.\nUndo it with: orgguard rollback %s\n",
			rep.ChangeID, len(rep.Steps), len(rep.Checks), strings.Join(rep.Approvers, ", "), rep.ChangeID)
	case apply.RolledBack, apply.Failed:
		fmt.Fprintf(e.stdout, "\nSTOPPED: %s\n", rep.Failure)
		if rb := rep.Rollback; rb != nil {
			for _, u := range rb.Undone {
				fmt.Fprintf(e.stdout, "  undone: %s\n", u)
			}
			if rb.Verified {
				fmt.Fprintln(e.stdout, "  rollback verified: the organization is back at the plan's base fingerprint")
			} else {
				fmt.Fprintln(e.stdout, "  ROLLBACK NOT VERIFIED:")
				for _, d := range rb.Detail {
					fmt.Fprintf(e.stdout, "    %s\n", d)
				}
			}
		}
		if rep.Incident != "" {
			fmt.Fprintf(e.stdout, "  incident %s recorded\n", rep.Incident)
		}
	}
}

// isTerminalReader reports whether r is a terminal: a character device
// other than the null device (which is one too).
func isTerminalReader(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(st, null) {
		return false
	}
	return true
}

// savePlan stores a freshly written plan and archives its base snapshot
// (used later to show what changed when the plan is stale).
func savePlan(cmd *cobra.Command, e *env, cfg *config.Config, f *plan.File, base *org.Snapshot) {
	ctx := cmd.Context()
	st, err := openStore(ctx, cmd, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "orgguard: warning: the plan was not saved in the store: %v\n", err)
		return
	}
	defer st.Close()
	if _, err := apply.SavePlan(ctx, st, f, f.Author); err != nil {
		fmt.Fprintf(e.stderr, "orgguard: warning: the plan was not saved in the store: %v\n", err)
		return
	}
	dir := snapshotDir(cfg, cmd)
	path := snapshotFile(dir, f.BaseFingerprint)
	if _, err := os.Stat(path); err == nil {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err == nil {
		_ = org.WriteSnapshotFile(path, base)
	}
}

func isSim(b org.Backend) bool {
	_, ok := b.(*sim.Org)
	return ok
}
