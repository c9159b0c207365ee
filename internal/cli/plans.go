package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/display"
	"github.com/orgguard/orgguard/internal/store"
)

func newPlansCmd(e *env) *cobra.Command {
	var asJSON bool
	var state string
	var limit int
	cmd := &cobra.Command{
		Use:   "plans",
		Short: "List stored plans with their state, verdict and approvals",
		Long: `plans lists the plans in the store, newest first: state (pending, approved,
applying, applied, rolled-back, failed, superseded), the guardrails' verdict
and the approvals they have and need (only approvals on the plan's hash by
people other than the author count). Logged in to a server (orgguard login),
it lists the server's plans; --local lists the local store's.

orgguard plans submit takes the same arguments as orgguard plan and asks the
server to plan the change and store it, with you as its author.`,
		Example: "  orgguard plans\n  orgguard plans --state pending --json",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			ps := store.PlanState(state)
			if state != "" && !ps.Valid() {
				var names []string
				for _, s := range store.PlanStates() {
					names = append(names, string(s))
				}
				return badInput(fmt.Errorf("--state %q: want one of %s", state, strings.Join(names, ", ")))
			}
			c, err := serverClient(cmd)
			if err != nil {
				return err
			}
			if c != nil {
				if err := refuseLocalFlags(cmd, c, "store", "config"); err != nil {
					return err
				}
				rows, err := c.Plans(ctx, state, limit)
				if err != nil {
					return remoteError(err)
				}
				if asJSON {
					return writeJSON(e.stdout, rows)
				}
				if len(rows) == 0 {
					fmt.Fprintf(e.stdout, "No plans stored on %s. `orgguard plans submit ...` submits one.\n", c.Server())
					return nil
				}
				tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PLAN\tSTATE\tVERDICT\tAPPROVALS\tAUTHOR\tCREATED")
				for _, r := range rows {
					writePlanRow(tw, r.ID, string(r.State), r.Verdict, r.Author, r.Approvals, r.RequiredApprovals, r.Approvers, r.CreatedAt)
				}
				return tw.Flush()
			}
			a, err := openApp(cmd, e, &appFlags{}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			rows, err := a.Plans(ctx, store.PlanFilter{State: ps, Limit: limit})
			if err != nil {
				return appError(err)
			}
			if asJSON {
				return writeJSON(e.stdout, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(e.stdout, "No plans stored. `orgguard plan ... --out FILE` saves one.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PLAN\tSTATE\tVERDICT\tAPPROVALS\tAUTHOR\tCREATED")
			for _, r := range rows {
				writePlanRow(tw, r.ID, string(r.State), r.Verdict, r.Author, r.Have, r.Need, r.Approvers, r.CreatedAt)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plans as JSON")
	cmd.Flags().StringVar(&state, "state", "", "only plans in this state")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many plans (0: all)")
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	addLocalFlag(cmd)
	cmd.AddCommand(newPlanCommand(e, true))
	return cmd
}

// writePlanRow writes one line of the plans table.
func writePlanRow(w io.Writer, id, state, verdict, author string, have, need int, approvers []string, created time.Time) {
	ap := fmt.Sprintf("%d/%d", have, need)
	if len(approvers) > 0 {
		ap += " (" + strings.Join(approvers, ", ") + ")"
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", display.Text(id), state, verdict, display.Text(ap), display.Text(author), created.UTC().Format(time.RFC3339))
}
