package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/review"
)

func newGuardrailsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "guardrails",
		Short: "Show, pin and change the guardrails pinned in the store",
		Long: `The guardrails that decide every verdict (the guardrails:, quarantine: and
impact: sections of the configuration) are pinned in the store: the first plan
saved pins the configuration in force, and from then on a configuration whose
guardrails differ from the pinned ones is refused by plan, approve and apply.
Changing them is itself a reviewed change: 'guardrails plan' stores a plan to
pin the guardrails of the configuration given, someone other than its author
approves it (orgguard approve), and orgguard apply pins them. Every pin is in
the audit log. See docs/guardrails.md.`,
		Example: `  orgguard guardrails show
  orgguard guardrails plan --config stricter.yaml --description "2 approvals above 5 accounts"
  orgguard approve guardrails-20261206-101500-1a2b3c4d --by bob
  orgguard apply guardrails-20261206-101500-1a2b3c4d`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	cmd.AddCommand(newGuardrailsShowCmd(e), newGuardrailsPinCmd(e), newGuardrailsPlanCmd(e))
	return cmd
}

func newGuardrailsShowCmd(e *env) *cobra.Command {
	var asJSON, asYAML bool
	cmd := &cobra.Command{
		Use:     "show",
		Short:   "Show the pinned guardrails and whether the configuration matches them",
		Example: "  orgguard guardrails show\n  orgguard guardrails show --yaml > pinned.yaml",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, e, &appFlags{}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			gs, err := a.Guardrails(cmd.Context())
			if err != nil {
				return appError(err)
			}
			switch {
			case asJSON:
				return writeJSON(e.stdout, gs)
			case asYAML:
				if gs.Pinned == nil {
					return badInput(fmt.Errorf("no guardrails are pinned yet"))
				}
				b, err := yaml.Marshal(pinnedYAML(gs.Pinned.Rules))
				if err != nil {
					return withCode(ExitInternal, err)
				}
				_, err = e.stdout.Write(b)
				return err
			}
			if gs.Pinned == nil {
				fmt.Fprintf(e.stdout, "No guardrails pinned yet: the first plan saved (orgguard plan ... --out FILE) or orgguard guardrails pin pins those of %s (%s).\n", gs.Source, digest.Short(gs.Local))
				return nil
			}
			v := gs.Pinned.Version
			fmt.Fprintf(e.stdout, "Pinned guardrails v%d (%s), pinned %s by %s", v.Seq, digest.Short(v.Hash), v.PinnedAt.Format("2006-01-02 15:04:05Z07:00"), v.PinnedBy)
			if v.PlanID != "" {
				fmt.Fprintf(e.stdout, " through plan %s", v.PlanID)
			} else {
				fmt.Fprint(e.stdout, " on first use")
			}
			fmt.Fprintln(e.stdout)
			if gs.Matches {
				fmt.Fprintf(e.stdout, "The configuration in force (%s) has the same guardrails.\n", gs.Source)
			} else {
				fmt.Fprintf(e.stdout, "The configuration in force (%s, %s) DIFFERS: plan, approve and apply refuse it. Change the pinned guardrails with: orgguard guardrails plan --config FILE\n", gs.Source, digest.Short(gs.Local))
			}
			fmt.Fprintf(e.stdout, "%d version(s) in the store; orgguard guardrails show --yaml prints the pinned ones as configuration.\n", len(gs.Versions))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().BoolVar(&asYAML, "yaml", false, "print the pinned guardrails as configuration sections (guardrails:, quarantine:, impact:)")
	return cmd
}

// pinnedYAML shapes pinned rules as the configuration sections they come from.
func pinnedYAML(r review.Rules) map[string]any {
	return map[string]any{"guardrails": r.Guardrails, "quarantine": r.Quarantine, "impact": map[string]any{"critical": r.Critical}}
}

func newGuardrailsPinCmd(e *env) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "Pin the configuration's guardrails when none are pinned yet",
		Long: `pin pins the guardrails of the configuration in force when the store has none
yet (the first plan saved does the same). When guardrails are pinned it only
checks that the configuration has the same ones: changing them takes
orgguard guardrails plan and a second person's approval.`,
		Example: "  orgguard guardrails pin --config orgguard.yaml",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, e, &appFlags{by: by}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			p, err := a.PinGuardrails(cmd.Context())
			if err != nil {
				return appError(err)
			}
			fmt.Fprintf(e.stdout, "Guardrails v%d (%s) are pinned; the configuration matches them.\n", p.Version.Seq, digest.Short(p.Hash()))
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "who pins (default: identity.user, else the OS user)")
	return cmd
}

func newGuardrailsPlanCmd(e *env) *cobra.Command {
	var by, description string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan --config FILE",
		Short: "Plan to pin the guardrails of a configuration (approved by someone else, then applied)",
		Long: `plan stores a plan to replace the pinned guardrails with those of the
configuration given (--config). It needs at least one approval from someone
other than its author (and at least guardrails.approvals.minimum of the pinned
guardrails); orgguard apply then pins them. A plan made against guardrails
that are no longer pinned is refused.`,
		Example: `  orgguard guardrails plan --config stricter.yaml --by alice --description "approvals above 5 accounts"
  orgguard approve guardrails-20261206-101500-1a2b3c4d --by bob
  orgguard apply guardrails-20261206-101500-1a2b3c4d --by alice`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, e, &appFlags{by: by}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			gp, err := a.PlanGuardrails(cmd.Context(), description)
			if err != nil {
				return appError(err)
			}
			if asJSON {
				return writeJSON(e.stdout, gp)
			}
			fmt.Fprintf(e.stdout, "Guardrails plan %s saved: v%d (%s) -> %s, by %s; needs %d approval(s) from someone else.\nNext: orgguard approve %s --by NAME, then orgguard apply %s\n",
				gp.ID, gp.FromVersion, digest.Short(gp.From), digest.Short(gp.To), gp.Author, gp.RequiredApprovals, gp.ID, gp.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&by, "by", "", "who plans the change (its author; default: identity.user, else the OS user)")
	cmd.Flags().StringVar(&description, "description", "", "why, shown to approvers")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	return cmd
}
