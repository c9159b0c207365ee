package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/apply"
)

func newRecoverCmd(e *env) *cobra.Command {
	af := &applyFlags{}
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Settle an apply that was interrupted (crash, kill -9): exactly before or after it",
		Long: `recover finds changes the journal shows as unfinished — an apply whose
process died — and brings the organization to exactly the state before the
change (undoing the steps that took effect, last first), or to the state after
it when every step had completed; never in between. A step journaled as intent
without a result is checked against the live organization. It reports which,
verifies the result against the plan's fingerprints and records an incident.
apply runs it automatically before applying anything.

When the interrupted process still holds the organization lock and no longer
runs on this host, recover waits for the lock to expire (at most its TTL).
Exit codes: 0 nothing to do or settled and verified, 1 settled but not
verified, 3 the lock is held by a live process, 4 internal error.`,
		Example: "  orgguard recover\n  orgguard recover --json",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, e, &af.appFlags, af.asJSON)
			if err != nil {
				return err
			}
			defer a.Close()
			recs, err := a.Recover(cmd.Context())
			if af.asJSON {
				if recs == nil {
					recs = []apply.Recovery{}
				}
				if werr := writeJSON(e.stdout, recs); werr != nil {
					return withCode(ExitInternal, werr)
				}
			} else {
				if len(recs) == 0 && err == nil {
					fmt.Fprintln(e.stdout, "Nothing to recover: no unfinished change.")
				}
				for _, r := range recs {
					fmt.Fprintf(e.stdout, "Recovered %s\n", r)
					for _, d := range r.Detail {
						fmt.Fprintf(e.stdout, "  %s\n", d)
					}
				}
			}
			if err != nil {
				return appError(err)
			}
			for _, r := range recs {
				if !r.Verified {
					return silentExit(ExitFailure)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&af.asJSON, "json", false, "print the recoveries as JSON")
	cmd.Flags().StringVar(&af.by, "by", "", "who recovers (default: identity.user, else the OS user)")
	addEngineFlags(cmd, &af.appFlags)
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	return cmd
}
