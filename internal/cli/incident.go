package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/store"
)

// newIncidentCmd builds `orgguard incident`: list, show and update incidents.
func newIncidentCmd(e *env) *cobra.Command {
	var asJSON bool
	var by string
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "List, show and update incidents (their state, timeline and clock)",
		Long: `Incidents are opened by orgguard watch for critical drift, by apply for failed
applies and rollbacks, or by hand. They move investigating → identified →
monitoring → resolved; their timeline records impact start, detection,
acknowledgement, mitigation, resolution and free-text notes with their author.
Each shows its clock: time to detect, acknowledge, mitigate and resolve (TTD,
TTA, TTM, TTR), measured from the impact start.`,
		Example: `  orgguard incident list
  orgguard incident show incident-3f2a9c0d11e4b7a2
  orgguard incident ack incident-3f2a9c0d11e4b7a2 --by alice
  orgguard incident note incident-3f2a9c0d11e4b7a2 "detached the SCP by hand" --by alice
  orgguard incident state incident-3f2a9c0d11e4b7a2 identified --by alice
  orgguard incident resolve incident-3f2a9c0d11e4b7a2 --by alice
  orgguard incident open --title "console sign-in failing" --severity major --by bob
  orgguard incident metrics --since 720h --json`,
	}
	pf := cmd.PersistentFlags()
	pf.BoolVar(&asJSON, "json", false, "print JSON")
	pf.StringVar(&by, "by", "", "who does it (default: identity.user from the configuration, else the OS user)")
	addConfigFlag(cmd)
	addStoreFlag(cmd)

	withService := func(cmd *cobra.Command, readOnly bool, fn func(svc *incident.Service, actor string) error) error {
		a, err := openApp(cmd, e, &appFlags{by: by}, false)
		if err != nil {
			return err
		}
		defer a.Close()
		svc, err := a.Incidents(cmd.Context(), readOnly)
		if err != nil {
			return appError(err)
		}
		actor := a.Actor()
		if !readOnly {
			if actor, err = a.ResolveActor(cmd.Context()); err != nil {
				return appError(err)
			}
		}
		return fn(svc, actor)
	}
	show := func(ctx context.Context, svc *incident.Service, id string) error {
		in, err := svc.Store.Incident(ctx, id)
		if err != nil {
			return incidentError(err)
		}
		tl, err := svc.Store.IncidentTimeline(ctx, id)
		if err != nil {
			return withCode(ExitInternal, err)
		}
		if asJSON {
			return jsonOut(e, map[string]any{"incident": in, "clock": clockJSON(incident.ClockOf(in)), "timeline": tl})
		}
		writeIncident(e, in, tl)
		return nil
	}

	var limit int
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List incidents, newest first (active ones unless --all)", Example: "  orgguard incident list\n  orgguard incident list --all --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withService(cmd, true, func(svc *incident.Service, _ string) error {
				ins, err := svc.Store.ListIncidents(cmd.Context(), store.IncidentFilter{Active: !all, Limit: limit})
				if err != nil {
					return withCode(ExitInternal, err)
				}
				if asJSON {
					if ins == nil {
						ins = []store.Incident{}
					}
					return jsonOut(e, ins)
				}
				if len(ins) == 0 {
					fmt.Fprintln(e.stdout, "No incidents.")
					return nil
				}
				for _, in := range ins {
					fmt.Fprintf(e.stdout, "%s  %-8s  %-13s  %s  %s\n", in.ID, in.Severity, in.State, in.OpenedAt.Format(time.RFC3339), in.Title)
				}
				return nil
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 50, "at most this many")
	list.Flags().BoolVar(&all, "all", false, "include resolved incidents")

	showCmd := &cobra.Command{
		Use: "show INCIDENT", Short: "Show an incident with its timeline and clock", Example: "  orgguard incident show incident-3f2a9c0d11e4b7a2 --json", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withService(cmd, true, func(svc *incident.Service, _ string) error { return show(cmd.Context(), svc, args[0]) })
		},
	}
	ack := &cobra.Command{
		Use: "ack INCIDENT", Short: "Acknowledge an incident (you are on it)", Example: "  orgguard incident ack incident-3f2a9c0d11e4b7a2 --by alice", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withService(cmd, false, func(svc *incident.Service, actor string) error {
				if _, err := svc.Acknowledge(cmd.Context(), args[0], actor, ""); err != nil {
					return incidentError(err)
				}
				return show(cmd.Context(), svc, args[0])
			})
		},
	}
	note := &cobra.Command{
		Use: "note INCIDENT TEXT", Short: "Add a free-text entry to an incident's timeline", Example: "  orgguard incident note incident-3f2a9c0d11e4b7a2 \"customer Acme called\" --by alice", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withService(cmd, false, func(svc *incident.Service, actor string) error {
				if _, err := svc.Note(cmd.Context(), args[0], actor, args[1]); err != nil {
					return incidentError(err)
				}
				return show(cmd.Context(), svc, args[0])
			})
		},
	}
	var message string
	state := &cobra.Command{
		Use: "state INCIDENT STATE", Short: "Move an incident to investigating, identified, monitoring or resolved", Example: "  orgguard incident state incident-3f2a9c0d11e4b7a2 identified --message \"SCP attached by a script\"", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withService(cmd, false, func(svc *incident.Service, actor string) error {
				if _, err := svc.SetState(cmd.Context(), args[0], store.IncidentState(args[1]), actor, message); err != nil {
					return incidentError(err)
				}
				return show(cmd.Context(), svc, args[0])
			})
		},
	}
	state.Flags().StringVar(&message, "message", "", "why")
	resolve := &cobra.Command{
		Use: "resolve INCIDENT", Short: "Resolve an incident", Example: "  orgguard incident resolve incident-3f2a9c0d11e4b7a2 --message \"SCP detached, probes pass\"", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withService(cmd, false, func(svc *incident.Service, actor string) error {
				if _, err := svc.Resolve(cmd.Context(), args[0], actor, message); err != nil {
					return incidentError(err)
				}
				return show(cmd.Context(), svc, args[0])
			})
		},
	}
	resolve.Flags().StringVar(&message, "message", "", "how it was resolved")
	var title, severity string
	var accounts []string
	open := &cobra.Command{
		Use: "open --title TITLE --severity SEVERITY", Short: "Open an incident by hand", Example: "  orgguard incident open --title \"console sign-in failing\" --severity major", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withService(cmd, false, func(svc *incident.Service, actor string) error {
				in, err := svc.OpenManual(cmd.Context(), incident.Spec{Title: title, Severity: store.Severity(severity), By: actor, Accounts: accounts, Message: message})
				if err != nil {
					return incidentError(err)
				}
				return show(cmd.Context(), svc, in.ID)
			})
		},
	}
	open.Flags().StringVar(&title, "title", "", "what is wrong, for people")
	open.Flags().StringVar(&severity, "severity", "major", "critical, major or minor")
	open.Flags().StringSliceVar(&accounts, "accounts", nil, "affected account IDs")
	open.Flags().StringVar(&message, "message", "", "the detection entry's text")
	_ = open.MarkFlagRequired("title")
	var since time.Duration
	metrics := &cobra.Command{
		Use: "metrics", Short: "Time to detect, acknowledge, mitigate and resolve, aggregated", Example: "  orgguard incident metrics --since 720h", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withService(cmd, true, func(svc *incident.Service, _ string) error {
				f := store.IncidentFilter{}
				if since > 0 {
					f.Since = time.Now().Add(-since)
				}
				ins, err := svc.Store.ListIncidents(cmd.Context(), f)
				if err != nil {
					return withCode(ExitInternal, err)
				}
				s := incident.Summarize(ins)
				if asJSON {
					return jsonOut(e, s)
				}
				fmt.Fprintf(e.stdout, "%d incidents (%d not resolved)\n", s.Incidents, s.Open)
				for _, r := range []struct {
					name string
					st   incident.Stat
				}{{"time to detect", s.TTD}, {"time to acknowledge", s.TTA}, {"time to first notice", s.TTN}, {"time to mitigate", s.TTM}, {"time to resolve", s.TTR}} {
					fmt.Fprintf(e.stdout, "  %-20s n=%-4d mean %-10s median %-10s p90 %-10s max %s\n", r.name, r.st.N,
						r.st.Mean.Round(time.Second), r.st.Median.Round(time.Second), r.st.P90.Round(time.Second), r.st.Max.Round(time.Second))
				}
				return nil
			})
		},
	}
	metrics.Flags().DurationVar(&since, "since", 0, "only incidents opened within this long (e.g. 720h); 0 = all")
	cmd.AddCommand(list, showCmd, ack, note, state, resolve, open, metrics)
	return cmd
}

func jsonOut(e *env, v any) error {
	if err := writeJSON(e.stdout, v); err != nil {
		return withCode(ExitInternal, err)
	}
	return nil
}

func incidentError(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return badInput(fmt.Errorf("%w (orgguard incident list --all lists them)", err))
	case errors.Is(err, incident.ErrInvalid), errors.Is(err, store.ErrInvalid):
		return badInput(err)
	}
	return withCode(ExitInternal, err)
}

func clockJSON(c incident.Clock) map[string]string {
	out := map[string]string{}
	for k, d := range map[string]*time.Duration{"ttd": c.TTD, "tta": c.TTA, "ttn": c.TTN, "ttm": c.TTM, "ttr": c.TTR} {
		if d != nil {
			out[k] = d.String()
		}
	}
	return out
}

func writeIncident(e *env, in store.Incident, tl []store.IncidentEvent) {
	w := e.stdout
	fmt.Fprintf(w, "%s  %s  %s\n%s\n", in.ID, strings.ToUpper(string(in.Severity)), in.State, in.Title)
	src := in.Source
	if in.Rule != "" {
		src += " (rule " + in.Rule + ")"
	}
	if src != "" {
		fmt.Fprintf(w, "  source:     %s, opened by %s\n", src, in.OpenedBy)
	}
	if len(in.Accounts) > 0 {
		fmt.Fprintf(w, "  accounts:   %d affected\n", len(in.Accounts))
	}
	if len(in.Customers) > 0 {
		fmt.Fprintf(w, "  customers:  %d: %s\n", len(in.Customers), strings.Join(in.Customers, ", "))
	}
	c := incident.ClockOf(in)
	dur := func(d *time.Duration) string {
		if d == nil {
			return "—"
		}
		return d.Round(time.Second).String()
	}
	fmt.Fprintf(w, "  clock:      TTD %s  TTA %s  TTN %s  TTM %s  TTR %s\n", dur(c.TTD), dur(c.TTA), dur(c.TTN), dur(c.TTM), dur(c.TTR))
	fmt.Fprintln(w, "  timeline:")
	for _, ev := range tl {
		actor := ""
		if ev.Actor != "" {
			actor = " (" + ev.Actor + ")"
		}
		fmt.Fprintf(w, "    %s  %-13s %s%s\n", ev.At.Format(time.RFC3339), ev.Kind, ev.Message, actor)
	}
}
