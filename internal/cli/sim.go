package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
)

// newSimCmd builds `orgguard sim`: the simulated organization.
func newSimCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Work with the simulated organization (generate, serve)",
		Long: `The simulated organization behaves like AWS Organizations — default policies,
attachment limits, OU depth, policy size, errors named like AWS's — and is the
default backend, so orgguard works offline. Without a configuration file it
starts from a generated organization of 1,000 accounts (seed 1) saved under
./.orgguard/ on first use.`,
		Example: `  orgguard sim generate --accounts 10000 --seed 7 --out big.json
  orgguard sim serve --listen 127.0.0.1:4566 --state big.json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addConfigFlag(cmd)
	for _, build := range simCommandBuilders() {
		cmd.AddCommand(build(e))
	}
	return cmd
}

// simCommandBuilders lists the constructors of the `sim` subcommands, one
// per file. Add a line here when adding one.
func simCommandBuilders() []func(*env) *cobra.Command {
	return []func(*env) *cobra.Command{
		newSimGenerateCmd,
		newSimServeCmd,
	}
}

func newSimGenerateCmd(e *env) *cobra.Command {
	var (
		accounts int
		seed     uint64
		out      string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "generate --accounts N [--seed S] --out FILE",
		Short: "Write a synthetic organization shaped like a managed-service provider's",
		Long: `Write a realistic synthetic organization as a snapshot file: a management
account; Security and Infrastructure OUs; a Customers OU with an OU per
customer (some nested to depth 4) holding 1 to 30 accounts each; Sandbox and
Suspended OUs; a few dozen SCPs of the kinds real organizations use (region
locks, deny leaving the organization, deny root-user actions, guardrails with
principal exceptions, allow-lists replacing FullAWSAccess) and a few RCPs.

The same --accounts and --seed always give the same file, byte for byte. The
file can be read by every command taking --snapshot and can be the state of
the simulator (backend.sim.state, or sim serve --state).`,
		Example: `  orgguard sim generate --accounts 1000 --out org.json
  orgguard sim generate --accounts 10000 --seed 42 --out .orgguard/sim-state.json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return badInput(errors.New("--out is required (a file name, or - for standard output)"))
			}
			s, err := generate.Organization(generate.Options{Accounts: accounts, Seed: seed})
			if err != nil {
				return badInput(err)
			}
			if out == "-" {
				data, err := org.MarshalSnapshot(s)
				if err != nil {
					return withCode(ExitInternal, err)
				}
				_, err = e.stdout.Write(data)
				return err
			}
			if err := org.WriteSnapshotFile(out, s); err != nil {
				return withCode(ExitInternal, err)
			}
			sum := summarize(s)
			if asJSON {
				return writeJSON(e.stdout, map[string]any{
					"file": out, "fingerprint": s.Fingerprint, "seed": seed,
					"accounts": sum.accounts, "organizationalUnits": sum.ous, "scps": sum.scps, "rcps": sum.rcps,
				})
			}
			fmt.Fprintf(e.stdout, "wrote %s: %d accounts, %d OUs, %d SCPs, %d RCPs (seed %d)\nfingerprint %s\n",
				out, sum.accounts, sum.ous, sum.scps, sum.rcps, seed, s.Fingerprint)
			return nil
		},
	}
	cmd.Flags().IntVar(&accounts, "accounts", 1000, fmt.Sprintf("number of accounts, the management account included (1 to %d)", generate.MaxAccounts))
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed; the same seed gives the same organization")
	cmd.Flags().StringVar(&out, "out", "", "file to write (- for standard output)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}
