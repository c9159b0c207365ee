package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/orgguard/orgguard/internal/client"

	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/display"
	"github.com/spf13/cobra"
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

Only plans orgguard saved in the store can be approved (orgguard plan --out),
and only when the verdict orgguard derives for them again — from their
operations, their base snapshot and the pinned guardrails — is the one they
carry: an edited, re-sealed plan is refused.

With a server (orgguard login), the approval goes through its API as your
token's user; --by is refused there (exit 5). Otherwise your identity is --by, else identity.user in the configuration, else the OS
user; names are normalised (Unicode NFKC) and compared case-folded and by
look-alike letters, and names with control, invisible or mixed-script
characters are refused. Exit codes: 0 recorded, 2 bad input, 3 refused.`,
		Example: `  orgguard approve quarantine.json --by bob --comment "checked the three accounts with the customer"
  orgguard approve plan-20261205-171500-3daabb07 --by carol`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := serverClient(cmd)
			if err != nil {
				return err
			}
			if c != nil {
				return runRemoteApprove(cmd, e, c, args[0], comment, asJSON)
			}
			a, err := openApp(cmd, e, &appFlags{by: by}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			ap, err := a.Approve(cmd.Context(), args[0], comment)
			if err != nil {
				return appError(err)
			}
			if asJSON {
				return writeJSON(e.stdout, ap)
			}
			fmt.Fprintf(e.stdout, "Approved plan %s as %s (hash %s): %d approval(s), %d required by its verdict; plan is %s.\n",
				ap.PlanID, display.Text(a.Actor()), digest.Short(ap.Hash), ap.Have, ap.Need, ap.State)
			if ap.Have < ap.Need {
				fmt.Fprintf(e.stdout, "%d more approval(s) needed from people other than %s.\n", ap.Need-ap.Have, display.Text(ap.Author))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "who approves (default: identity.user from the configuration, else the OS user)")
	cmd.Flags().StringVar(&comment, "comment", "", "why, for the record")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the approval as JSON")
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	addLocalFlag(cmd)
	return cmd
}

// runRemoteApprove approves plan id through the server as the token's user.
func runRemoteApprove(cmd *cobra.Command, e *env, c *client.Client, id, comment string, asJSON bool) error {
	if err := refuseLocalFlags(cmd, c, "by", "store", "config"); err != nil {
		return err
	}
	if err := remotePlanRef(id); err != nil {
		return err
	}
	ap, err := c.Approve(cmd.Context(), id, comment)
	if err != nil {
		return remoteError(err)
	}
	if asJSON {
		return writeJSON(e.stdout, ap)
	}
	fmt.Fprintf(e.stdout, "Approved plan %s as %s on %s (hash %s): %d approval(s), %d required by its verdict; plan is %s.\n",
		display.Text(ap.PlanID), display.Text(ap.Approver), c.Server(), digest.Short(ap.Hash), ap.Have, ap.Need, ap.State)
	if ap.Have < ap.Need {
		fmt.Fprintf(e.stdout, "%d more approval(s) needed from people other than %s.\n", ap.Need-ap.Have, display.Text(ap.Author))
	}
	return nil
}

// remotePlanRef refuses a plan file in server mode: the server names plans
// by stored ID only.
func remotePlanRef(ref string) error {
	if _, err := os.Stat(ref); err == nil || strings.ContainsAny(ref, "/\\") {
		return badInput(fmt.Errorf("%q: with a server, name the plan by its ID (orgguard plans lists them), not a plan file; or add --local", ref))
	}
	return nil
}
