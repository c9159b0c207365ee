package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
)

// demoStep is one command of the demo with what it shows.
type demoStep struct {
	say      string
	args     []string
	wantCode int
}

func newDemoCmd(e *env) *cobra.Command {
	var dir string
	var accounts int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Replay the 2023 accident on a simulated organization, and do it right",
		Long: `demo creates a simulated organization (no AWS account, no configuration),
then runs the real commands: the deny-all SCP attached to Root is refused with
its blast radius, and the intended quarantine of three accounts is planned with
exactly those three affected.`,
		Example: "  orgguard demo\n  orgguard demo --dir ./demo-state --accounts 2000",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			cfg := fmt.Sprintf("backend:\n  sim:\n    state: sim-state.json\n    accounts: %d\n    seed: 1\nstore: orgguard.db\n", accounts)
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
			}
			for i, s := range steps {
				fmt.Fprintf(e.stdout, "\n── %d. %s\n\n$ orgguard %s\n\n", i+1, s.say, demoArgs(s.args))
				root := newRootCmd(e)
				root.SetArgs(s.args)
				root.SetOut(e.stdout)
				root.SetErr(e.stderr)
				err := root.ExecuteContext(cmd.Context())
				code := ExitOK
				var xe *exitError
				if errors.As(err, &xe) {
					code = xe.code
					if xe.err != nil {
						fmt.Fprintf(e.stderr, "orgguard: %v\n", xe.err)
					}
				} else if err != nil {
					return withCode(ExitInternal, fmt.Errorf("demo step %d: %w", i+1, err))
				}
				fmt.Fprintf(e.stdout, "\n(exit code %d)\n", code)
				if code != s.wantCode {
					return withCode(ExitFailure, fmt.Errorf("demo step %d exited %d, expected %d", i+1, code, s.wantCode))
				}
			}
			fmt.Fprintln(e.stdout, "\nThe accident is refused before it happens; the quarantine touches exactly the accounts it names.")
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "keep the demo's state here (default: a temporary directory, removed afterwards)")
	cmd.Flags().IntVar(&accounts, "accounts", 1000, "size of the simulated organization")
	return cmd
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
