package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/apiv1"
	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/client"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/display"
	"github.com/orgguard/orgguard/internal/plan"
)

// applyFlags are the flags of `orgguard apply`.
type applyFlags struct {
	appFlags
	confirm        string
	overrideWindow string
	canary         []string
	canaryWait     time.Duration
	asJSON         bool
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

With a server (orgguard login), the apply runs on the server as your token's
user: this command starts it, prints the journal as it grows and the report
at the end; --by is refused there (exit 5), --now and --lock-ttl too (exit 2).

Exit codes: 0 applied, 1 stopped and rolled back (or the rollback could not be
verified), 2 bad input, 3 refused, 4 internal error, 5 not logged in. See
docs/apply.md.`,
		Example: `  orgguard apply quarantine.json
  orgguard apply plan-20261205-171500-3daabb07 --confirm 'Root r-ab12 (1,000 accounts)'
  orgguard apply deny-leave.json --canary /Customers/Acme --canary-wait 10m
  orgguard apply plan.json --override-window "customer outage, duty manager agreed" --json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := serverClient(cmd)
			if err != nil {
				return err
			}
			if c != nil {
				return runRemoteApply(cmd, e, c, af, args[0])
			}
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
	addEngineFlags(cmd, &af.appFlags)
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	addLocalFlag(cmd)
	return cmd
}

// remotePoll is how often server mode reads an apply's progress.
const remotePoll = 500 * time.Millisecond

// runRemoteApply starts the apply of plan id on the server as the
// token's user, follows the change's journal until it ends and exits as a
// local apply does: 0 applied, 1 stopped and rolled back, 3 refused.
func runRemoteApply(cmd *cobra.Command, e *env, c *client.Client, af *applyFlags, id string) error {
	ctx := cmd.Context()
	if err := refuseLocalFlags(cmd, c, "by", "store", "config", "now", "lock-ttl"); err != nil {
		return err
	}
	if err := remotePlanRef(id); err != nil {
		return err
	}
	req := apiv1.ApplyRequest{Confirm: af.confirm, OverrideWindow: af.overrideWindow, Canary: af.canary}
	if cmd.Flags().Changed("canary-wait") {
		secs := int(af.canaryWait / time.Second)
		req.CanaryWaitSeconds = &secs
	}
	if req.Confirm == "" && isTerminalReader(e.stdin) {
		p, err := c.Plan(ctx, id)
		if err != nil {
			return remoteError(err)
		}
		if p.RequiresConfirmation {
			fmt.Fprintf(e.stdout, "Plan %s needs a typed confirmation. Type %q to confirm: ", display.Text(p.ID), display.Text(p.ConfirmationText))
			line, _ := bufio.NewReader(e.stdin).ReadString('\n')
			req.Confirm = strings.TrimRight(line, "\r\n")
		}
	}
	started, err := c.Apply(ctx, id, req)
	if err != nil {
		return remoteError(err)
	}
	progress := e.stdout
	if af.asJSON {
		progress = e.stderr
	}
	if started.ChangeID == "" {
		if af.asJSON {
			return writeJSON(e.stdout, map[string]any{"outcome": "guardrails-pinned", "version": started.Pinned})
		}
		fmt.Fprintf(e.stdout, "Guardrails v%d pinned: every verdict from now on is computed with them.\n", started.Pinned)
		return nil
	}
	fmt.Fprintf(progress, "Applying plan %s on %s: change %s\n", display.Text(id), c.Server(), display.Text(started.ChangeID))
	shown := 0
	ch, err := c.Wait(ctx, started.ChangeID, remotePoll, func(ch apiv1.Change) {
		for _, j := range ch.Journal[min(shown, len(ch.Journal)):] {
			line := fmt.Sprintf("  step %d %s %s", j.Step, j.Phase, display.Text(j.Summary))
			if j.Error != "" {
				line += ": " + display.Text(j.Error)
			}
			fmt.Fprintln(progress, line)
		}
		shown = max(shown, len(ch.Journal))
	})
	if err != nil {
		return remoteError(err)
	}
	rep := ch.Report
	if rep == nil {
		return withCode(ExitInternal, fmt.Errorf("change %s ended %s without a report", ch.ID, ch.State))
	}
	if af.asJSON {
		if err := writeJSON(e.stdout, rep); err != nil {
			return withCode(ExitInternal, err)
		}
	} else {
		writeApplyReport(e, rep)
		fmt.Fprintf(e.stdout, "(plan %s, hash %s, applied by %s on %s)\n", display.Text(rep.PlanID), digest.Short(rep.PlanHash), display.Text(ch.StartedBy), c.Server())
	}
	if rep.Outcome != apply.Applied {
		return silentExit(ExitFailure)
	}
	return nil
}

// addEngineFlags adds the hidden flags for tests and the demo: --now (the
// demo replays a scene at a chosen time; tests pin windows) and --lock-ttl
// (a test kills an apply and must not wait 30 s for its lock to expire).
func addEngineFlags(cmd *cobra.Command, af *appFlags) {
	fl := cmd.Flags()
	fl.StringVar(&af.now, "now", "", "evaluate windows and freezes at this instant (RFC 3339); for tests and the demo")
	fl.DurationVar(&af.lockTTL, "lock-ttl", apply.DefaultLockTTL, "organization lock lifetime without a heartbeat; for tests")
	_ = fl.MarkHidden("now")
	_ = fl.MarkHidden("lock-ttl")
}

func runApply(cmd *cobra.Command, e *env, af *applyFlags, ref string) error {
	ctx := cmd.Context()
	a, err := openApp(cmd, e, &af.appFlags, af.asJSON)
	if err != nil {
		return err
	}
	defer a.Close()
	req := app.ApplyRequest{Ref: ref, Confirm: af.confirm, OverrideWindow: af.overrideWindow, Canary: af.canary}
	if cmd.Flags().Changed("canary-wait") {
		req.CanaryWait = &af.canaryWait
	}
	if isTerminalReader(e.stdin) {
		req.Prompt = func(f *plan.File) (string, error) {
			fmt.Fprintf(e.stdout, "Plan %s is risk %s. Type %q to confirm: ", f.ID, f.Guard.Risk, display.Text(f.Guard.ConfirmationText))
			line, _ := bufio.NewReader(e.stdin).ReadString('\n')
			return strings.TrimRight(line, "\r\n"), nil
		}
	}
	start := time.Now()
	res, err := a.Apply(ctx, req)
	callReport(e, a, start, e.verbose, af.asJSON)
	if res != nil && res.Pinned != nil {
		if af.asJSON {
			return writeJSON(e.stdout, map[string]any{"outcome": "guardrails-pinned", "version": res.Pinned.Version.Seq, "guardrails": res.Pinned.Hash()})
		}
		fmt.Fprintf(e.stdout, "Guardrails v%d pinned (%s): every verdict from now on is computed with them.\n", res.Pinned.Version.Seq, res.Pinned.Hash())
		return nil
	}
	var re *apply.RefusedError
	if af.asJSON && errors.As(err, &re) {
		id := ref
		if res != nil && res.Plan != nil {
			id = res.Plan.ID
		}
		if werr := writeJSON(e.stdout, map[string]any{"plan": id, "outcome": "refused", "reasons": re.Reasons,
			"changesSinceBase": re.Changes, "nextWindow": re.NextWindow}); werr != nil {
			return withCode(ExitInternal, werr)
		}
	}
	if res != nil && res.Report != nil {
		if af.asJSON {
			if werr := writeJSON(e.stdout, res.Report); werr != nil {
				return withCode(ExitInternal, werr)
			}
		} else {
			writeApplyReport(e, res.Report)
			f := res.Plan
			fmt.Fprintf(e.stdout, "(plan %s, hash %s, applied by %s; health checks: expected state, observed impact, %s)\n", f.ID, digest.Short(f.PlanHash), a.Actor(), res.Probes)
		}
	}
	return appError(err)
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
