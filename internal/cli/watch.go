package cli

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/watch"
)

// newWatchCmd builds `orgguard watch`.
func newWatchCmd(e *env) *cobra.Command {
	var (
		interval time.Duration
		listen   string
		logLevel string
		af       = appFlags{by: watch.Actor}
		notify   bool
		team     bool
		tf       teamFlags
	)
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Watch the organization for changes made outside orgguard; open incidents for critical drift",
		Long: `watch re-reads the surfaces where one change reaches many accounts (the root
and its policy types, the first-level OUs and their attachments, every policy
and its content) every --interval, sweeps the rest in the background over
watch.sweepPeriod, and keeps within watch.callBudget calls per minute. With
--listen it also takes CloudTrail events from EventBridge (an API destination)
and refreshes at once. Drift is judged with the blast-radius engine and the
watch rules; critical drift opens an incident (orgguard incident list), and a
rule with remediate: true undoes the drift through a journaled, health-checked
apply. Changes made by orgguard's own applies are not drift.

With --team the watcher is one replica of several on one PostgreSQL store
(server.team for orgguard serve): the replicas elect a leader through a lease
in the store, and only the leader watches, runs the notice clock and sends
the outbox (--notify is implied), with every write fenced by its lease; the
others wait to take over. --listen serves the intake while this replica leads.
See docs/team-mode.md.

The intake secret comes from watch.intake.secretEnv or secretFile. Stop with
SIGINT or SIGTERM. See docs/watch.md.`,
		Example: `  orgguard watch
  orgguard watch --interval 10s --listen 127.0.0.1:8787
  ORGGUARD_INTAKE_SECRET=... orgguard watch --config prod.yaml --listen :8787
  orgguard watch --team --store postgres://orgguard@db/orgguard`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return badInput(fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel))
			}
			log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
			a, err := openApp(cmd, e, &af, true)
			if err != nil {
				return err
			}
			defer a.Close()
			if team {
				tf.interval, tf.listenIntake = interval, listen
				t, err := tf.open(cmd.Context(), a, log, a.Config().Server.LeaseTTL, cmd.Flags().Changed("lease-ttl"))
				if err != nil {
					return appError(err)
				}
				return appError(t.Run(cmd.Context()))
			}
			return appError(a.Watch(cmd.Context(), app.WatchOptions{Interval: interval, Listen: listen, Log: log, Getenv: os.Getenv, Notify: notify}))
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&interval, "interval", 0, "how often the cheap surfaces are re-read (default: watch.interval, 10s)")
	fl.StringVar(&listen, "listen", "", "serve the event intake on this address (e.g. 127.0.0.1:8787)")
	fl.StringVar(&logLevel, "log-level", "info", "log level on stderr: debug, info, warn, error")
	fl.DurationVar(&af.lockTTL, "lock-ttl", apply.DefaultLockTTL, "organization lock lifetime without a heartbeat, for remediations; for tests")
	fl.BoolVar(&notify, "notify", false, "also run the notice clock and the outbox sender (as orgguard notify run does)")
	fl.BoolVar(&team, "team", false, "team mode: one replica of several on one PostgreSQL store; only the leader watches, notifies and sends")
	tf.add(fl)
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	return cmd
}
