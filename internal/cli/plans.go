package cli

import (
	"fmt"
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
people other than the author count).`,
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
				ap := fmt.Sprintf("%d/%d", r.Have, r.Need)
				if len(r.Approvers) > 0 {
					ap += " (" + strings.Join(r.Approvers, ", ") + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", display.Text(r.ID), r.State, r.Verdict, display.Text(ap), display.Text(r.Author), r.CreatedAt.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plans as JSON")
	cmd.Flags().StringVar(&state, "state", "", "only plans in this state")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many plans (0: all)")
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	return cmd
}
