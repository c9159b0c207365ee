package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/plan"
)

func newRollbackCmd(e *env) *cobra.Command {
	af := &appFlags{}
	var out, format, description string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rollback CHANGE",
		Short: "Plan the undo of an applied change, as a new plan through the guardrails",
		Long: `rollback makes a NEW plan that undoes an applied change: the inverses recorded
in its plan, last step first, with the IDs of the objects the change created
taken from its journal. The new plan has its own blast radius and verdict and
needs its own approvals; apply it like any plan. (An apply that fails its
health checks rolls itself back; this command is for changes that were
applied and must now be undone.)

Exit codes: 0 planned (allowed or needs approvals), 3 refused, 2 bad input.`,
		Example: `  orgguard rollback change-afb870fa93efb1a0 --out undo.json
  orgguard approve undo.json --by bob && orgguard apply undo.json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			a, err := openApp(cmd, e, af, false)
			if err != nil {
				return err
			}
			defer a.Close()
			res, err := a.Rollback(ctx, args[0], description, a.Now())
			if err != nil && res == nil {
				return appError(err)
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "orgguard: warning: %v\n", err)
			}
			f := res.File
			if out != "" {
				if err := f.Write(out); err != nil {
					return withCode(ExitInternal, err)
				}
			}
			if asJSON {
				format = "json"
			}
			switch format {
			case "json":
				err = writeJSON(e.stdout, f)
			default:
				err = plan.WriteText(e.stdout, f, plan.TextOptions{Color: e.color})
				if err == nil {
					_, err = fmt.Fprintf(e.stdout, "\nRollback plan %s saved (%s); approve and apply it like any plan.\n", f.ID, digest.Short(f.PlanHash))
				}
			}
			if err != nil {
				return withCode(ExitInternal, err)
			}
			if f.Verdict == guard.Refused {
				return silentExit(ExitRefused)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "also write the rollback plan file here")
	cmd.Flags().StringVar(&format, "format", "text", "output: text or json")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the rollback plan as JSON (same as --format json)")
	cmd.Flags().StringVar(&description, "description", "", "what the rollback is for, shown to approvers")
	cmd.Flags().StringVar(&af.by, "by", "", "who plans the rollback (its author; default: identity.user, else the OS user)")
	addEngineFlags(cmd, af)
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	return cmd
}
