package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/digest"
)

func newApproveCmd(e *env) *cobra.Command {
	var by, comment string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "approve PLAN --by NAME",
		Short: "Approve a plan (as someone other than its author)",
		Long: `approve records your approval of a plan — a plan file, or the ID of a plan in
the store — bound to the plan's hash: editing the plan afterwards voids it (the
file no longer matches its hash), and a new plan has a new hash and no
approvals. The plan's author cannot approve it; each person approves once; a
plan the guardrails refused can never be approved. When the approvals reach
the number the verdict requires, the plan becomes approved.

Your identity is --by, else identity.user in the configuration, else the OS
user. Exit codes: 0 recorded, 2 bad input, 3 refused.`,
		Example: `  orgguard approve quarantine.json --by bob --comment "checked the three accounts with the customer"
  orgguard approve plan-20261205-171500-3daabb07 --by carol`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := openStore(ctx, cmd, false)
			if err != nil {
				return err
			}
			defer st.Close()
			f, err := readPlanArg(ctx, st, args[0])
			if err != nil {
				return err
			}
			who := identity(by, cfg)
			a, err := apply.Approve(ctx, st, f, who, comment)
			if err != nil {
				return engineError(err)
			}
			if asJSON {
				return writeJSON(e.stdout, a)
			}
			fmt.Fprintf(e.stdout, "Approved plan %s as %s (hash %s): %d approval(s), %d required by its verdict; plan is %s.\n",
				f.ID, who, digest.Short(f.PlanHash), a.Have, a.Need, a.State)
			if a.Have < a.Need {
				fmt.Fprintf(e.stdout, "%d more approval(s) needed from people other than %s.\n", a.Need-a.Have, f.Author)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "who approves (default: identity.user from the configuration, else the OS user)")
	cmd.Flags().StringVar(&comment, "comment", "", "why, for the record")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the approval as JSON")
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	return cmd
}
