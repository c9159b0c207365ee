package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
)

// demoStep is one command of the demo with what it shows.
type demoStep struct {
	say      string
	args     []string
	wantCode int
	// argsFn, when set, computes the arguments once the earlier steps have
	// run (the ID of the change applied, the confirmation text of a plan).
	argsFn func() ([]string, error)
}

func newDemoCmd(e *env) *cobra.Command {
	var dir, listen string
	var accounts int
	var serve bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Replay the 2023 accident on a simulated organization, and do it right",
		Long: `demo creates a simulated organization (no AWS account, no configuration),
then runs the real commands: the deny-all SCP attached to Root is refused with
its blast radius, and the intended quarantine of three accounts is planned with
exactly those three affected. A second person approves it; it is applied with
health checks before and after every step; then it is rolled back — as a new
plan through the guardrails, approved and applied the same way.

Then the same organization is served over the AWS Organizations API and a
console user attaches the deny-all to Root out of band, with the AWS SDK: the
watcher (events, a remediating rule, notices, a webhook channel to a receiver
the demo starts on 127.0.0.1) detects it, opens a critical incident with its
blast radius and customers, drafts the ja and en notices at once, detaches
the SCP through the checked apply path; the notice is published, the incident
resolved, and the measured timeline printed beside the 2023 accident's. The
postmortem is written to postmortem.{ja,en}.md and the clock to
timeline.json in the demo directory.

With --serve the demo then stays up: orgguard serve on --listen with the
day's store — the public status page with the resolved incident and its
notices, and the team dashboard (plans with their blast radius on the tree,
the incident's timeline, the postmortem editor, the audit log) — signed in
as the demo's users, whose passwords are printed. Ctrl-C ends it.`,
		Example: "  orgguard demo\n  orgguard demo --serve\n  orgguard demo --dir ./demo-state --accounts 2000",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keep := dir
			if dir == "" {
				d, err := os.MkdirTemp("", "orgguard-demo-")
				if err != nil {
					return withCode(ExitInternal, err)
				}
				defer os.RemoveAll(d)
				dir = d
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return withCode(ExitInternal, err)
			}
			snap, err := generate.Organization(generate.Options{Accounts: accounts, Seed: 1})
			if err != nil {
				return badInput(err)
			}
			picked, err := demoAccounts(snap)
			if err != nil {
				return withCode(ExitInternal, err)
			}
			cfgPath := filepath.Join(dir, "orgguard.yaml")
			cfg := fmt.Sprintf("backend:\n  sim:\n    state: sim-state.json\n    accounts: %d\n    seed: 1\nstore: orgguard.db\nidentity:\n  user: alice\nwatch:\n%s", accounts, demoWatchRules)
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
				return withCode(ExitInternal, err)
			}
			c := "--config=" + cfgPath
			steps := []demoStep{
				{say: "The organization: a managed-service provider with " + fmt.Sprint(accounts) + " accounts (simulated).",
					args: []string{"org", "show", c, "--depth", "1"}},
				{say: "17:15 on a weekday. The operator means to quarantine three accounts, but attaches the deny-all SCP to Root.\norgguard computes the blast radius over the whole action catalog and refuses:",
					args: []string{"plan", "attach-policy", c, "--policy", "deny-all", "--target", "Root"}, wantCode: ExitRefused},
				{say: "What was meant: the standard quarantine operation. It creates the quarantine OU and its deny-all SCP,\nattaches the SCP while the OU is empty, then moves the accounts in. Its intent is declared by itself:\nexactly these three accounts, and nothing else, may be affected.",
					args: append([]string{"plan", "quarantine", c, "--out", filepath.Join(dir, "quarantine.json")}, accountFlags(picked)...)},
				{say: "alice planned it; she cannot approve her own plan. bob reviews it and approves — bound to the plan's hash:",
					args: []string{"approve", c, filepath.Join(dir, "quarantine.json"), "--by", "bob", "--comment", "three accounts, as the customer asked"}},
				{say: "alice applies it. Before and after every step orgguard re-reads the organization, compares it with the\nexpected state and the planned blast radius, and probes sampled accounts (quarantined ones must be denied,\nall others must keep working). Any failure would roll it back at once:",
					args: []string{"apply", c, filepath.Join(dir, "quarantine.json")}},
				{say: "The incident is over: undo the quarantine. orgguard rollback turns the recorded inverses into a NEW plan,\nwith its own blast radius and verdict:",
					argsFn: func() ([]string, error) {
						ch, err := demoLastChange(cmd.Context(), filepath.Join(dir, "orgguard.db"))
						if err != nil {
							return nil, err
						}
						return []string{"rollback", c, ch, "--out", filepath.Join(dir, "undo.json")}, nil
					}},
				{say: "It restores access (a gain, not a loss), and still needs its own approval:",
					argsFn: func() ([]string, error) { return demoApprovals(c, filepath.Join(dir, "undo.json")) }},
				{say: "alice applies the rollback, with the same health checks:",
					argsFn: func() ([]string, error) { return demoApplyUndo(c, filepath.Join(dir, "undo.json")) }},
				{say: "Both plans, their approvals and their outcome are in the store; the audit log chains every step:",
					args: []string{"plans", c, demoSep, "audit", "verify", c}},
			}
			for i, s := range steps {
				if s.argsFn != nil {
					args, err := s.argsFn()
					if err != nil {
						return withCode(ExitFailure, fmt.Errorf("demo step %d: %w", i+1, err))
					}
					s.args = args
				}
				fmt.Fprintf(e.stdout, "\n── %d. %s\n\n", i+1, s.say)
				for _, args := range demoSplit(s.args) {
					fmt.Fprintf(e.stdout, "$ orgguard %s\n", demoArgs(args))
				}
				fmt.Fprintln(e.stdout)
				code, err := demoRun(cmd, e, s.args)
				if err != nil {
					return withCode(ExitInternal, fmt.Errorf("demo step %d: %w", i+1, err))
				}
				fmt.Fprintf(e.stdout, "\n(exit code %d)\n", code)
				if code != s.wantCode {
					return withCode(ExitFailure, fmt.Errorf("demo step %d exited %d, expected %d", i+1, code, s.wantCode))
				}
			}
			if _, err := demoDay(cmd.Context(), e, dir, len(steps)+1); err != nil {
				return withCode(ExitFailure, fmt.Errorf("demo, out of band: %w", err))
			}
			fmt.Fprintln(e.stdout, "The accident is refused before it happens; the quarantine touches exactly the accounts it names,\nis approved by a second person, applied with health checks, and undone the same careful way.\nDone out of band anyway, it is detected in seconds, told at once in Japanese and English, undone\nthrough the same checks, and written up from the record.")
			if serve {
				return demoServe(cmd, e, cfgPath, listen)
			}
			if keep == "" {
				fmt.Fprintln(e.stdout, "\n(The demo directory is removed now; run with --dir to keep its files.)")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "keep the demo's state here (default: a temporary directory, removed afterwards)")
	cmd.Flags().IntVar(&accounts, "accounts", 1000, "size of the simulated organization")
	cmd.Flags().BoolVar(&serve, "serve", false, "then serve the status page and the dashboard on --listen until Ctrl-C")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "with --serve: address to serve on (port 0 picks a free one)")
	return cmd
}

// demoSep separates several commands in one demo step's arguments.
const demoSep = "&&"

// demoSplit splits a step's arguments into its commands.
func demoSplit(args []string) [][]string {
	var out [][]string
	cur := []string{}
	for _, a := range args {
		if a == demoSep {
			out = append(out, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, a)
	}
	return append(out, cur)
}

// demoRun runs each command of a step in-process, stopping at the first
// that does not exit 0, and returns the last exit code.
func demoRun(cmd *cobra.Command, e *env, args []string) (int, error) {
	code := ExitOK
	for _, a := range demoSplit(args) {
		root := newRootCmd(e)
		root.SetArgs(a)
		root.SetOut(e.stdout)
		root.SetErr(e.stderr)
		err := root.ExecuteContext(cmd.Context())
		code = ExitOK
		var xe *exitError
		if errors.As(err, &xe) {
			code = xe.code
			if xe.err != nil {
				fmt.Fprintf(e.stderr, "orgguard: %v\n", xe.err)
			}
		} else if err != nil {
			return 0, err
		}
		if code != ExitOK {
			break
		}
	}
	return code, nil
}

// demoLastChange returns the ID of the change applied last.
func demoLastChange(ctx context.Context, dsn string) (string, error) {
	st, err := app.OpenStore(ctx, dsn, true)
	if err != nil {
		return "", err
	}
	defer st.Close()
	chs, err := st.ListChanges(ctx, store.ChangeFilter{State: store.ChangeApplied, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(chs) == 0 {
		return "", errors.New("no applied change to roll back")
	}
	return chs[0].ID, nil
}

// demoApprovals approves the plan at path by as many people as its verdict
// needs, plus one for a window override when its risk needs a window.
func demoApprovals(c, path string) ([]string, error) {
	f, err := plan.Read(path)
	if err != nil {
		return nil, err
	}
	need := f.RequiredApprovals
	if f.Guard.RequireWindow {
		need += guard.Default().Overrides.ExtraApprovals
	}
	var args []string
	for i, who := range []string{"bob", "carol", "dave", "erin"}[:min(max(need, 1), 4)] {
		if i > 0 {
			args = append(args, demoSep)
		}
		args = append(args, "approve", c, path, "--by", who)
	}
	return args, nil
}

// demoApplyUndo applies the rollback plan at path with the window override
// and the typed confirmation its verdict asks for.
func demoApplyUndo(c, path string) ([]string, error) {
	f, err := plan.Read(path)
	if err != nil {
		return nil, err
	}
	args := []string{"apply", c, path}
	if f.Guard.RequireWindow {
		args = append(args, "--override-window", "customer incident closed, undo the quarantine now")
	}
	if f.Guard.RequiresConfirmation {
		args = append(args, "--confirm", f.Guard.ConfirmationText)
	}
	return args, nil
}

// demoAccounts picks three member accounts of the first customer OUs, in a
// stable order.
func demoAccounts(s *org.Snapshot) ([]org.Account, error) {
	x, err := org.NewIndex(s)
	if err != nil {
		return nil, err
	}
	var out []org.Account
	for _, a := range s.Accounts {
		if x.IsManagementAccount(a.ID) || !strings.HasPrefix(x.PathString(a.ID), "/Customers/") {
			continue
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b org.Account) int { return strings.Compare(x.PathString(a.ID), x.PathString(b.ID)) })
	if len(out) < 3 {
		return nil, errors.New("the generated organization has fewer than three customer accounts")
	}
	return []org.Account{out[0], out[1], out[len(out)/2]}, nil
}

func accountFlags(as []org.Account) []string {
	var f []string
	for _, a := range as {
		f = append(f, "--account", a.Name)
	}
	return f
}

// demoArgs prints args as a user would type them, without the --config the
// demo adds.
func demoArgs(args []string) string {
	var out []string
	for _, a := range args {
		if strings.HasPrefix(a, "--config=") {
			continue
		}
		if strings.ContainsAny(a, " /") && !strings.HasPrefix(a, "--") {
			a = "'" + a + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}
