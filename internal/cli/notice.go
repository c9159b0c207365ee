package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/store"
)

// newNoticeCmd builds `orgguard notice`: show, edit and publish the public
// notice of an incident.
func newNoticeCmd(e *env) *cobra.Command {
	var asJSON bool
	var by, lang string
	cmd := &cobra.Command{
		Use:   "notice",
		Short: "Show, edit and publish an incident's public notice (Japanese and English)",
		Long: `When an incident opens, orgguard drafts its first public notice at once in
Japanese and English (notices.languages) from templates: what is affected
(counts, no IDs unless notices.showAccountIDs), since when, what is being done,
when the next update comes. The notice clock wants it published within
notices.deadline after detection (10 minutes by default): orgguard notify run
reminds the incident channels at half time and escalates to on-call at the
deadline. Publishing also sends each affected customer its own message.`,
		Example: `  orgguard notice show incident-3f2a9c0d11e4b7a2
  orgguard notice edit incident-3f2a9c0d11e4b7a2 --lang ja --file notice-ja.txt
  orgguard notice publish incident-3f2a9c0d11e4b7a2 --by alice`,
	}
	pf := cmd.PersistentFlags()
	pf.BoolVar(&asJSON, "json", false, "print JSON")
	pf.StringVar(&by, "by", "", "who does it (default: identity.user from the configuration, else the OS user)")
	pf.StringVar(&lang, "lang", "", "ja or en (default: every language)")
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	open := func(cmd *cobra.Command) (*app.App, error) { return openApp(cmd, e, &appFlags{by: by}, false) }
	show := &cobra.Command{
		Use: "show INCIDENT", Short: "Show the drafts, the published notices and the notice clock", Args: cobra.ExactArgs(1),
		Example: "  orgguard notice show incident-3f2a9c0d11e4b7a2 --lang ja",
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := open(cmd)
			if err != nil {
				return err
			}
			defer a.Close()
			v, err := a.ShowNotice(cmd.Context(), args[0])
			if err != nil {
				return noticeError(err)
			}
			if asJSON {
				return jsonOut(e, v)
			}
			writeNotice(e.stdout, v, lang, a.Now())
			return nil
		},
	}
	var title, file string
	edit := &cobra.Command{
		Use: "edit INCIDENT --lang ja|en [--title TITLE] [--file FILE|-]", Short: "Replace a draft with your text (from a file or standard input)", Args: cobra.ExactArgs(1),
		Example: "  orgguard notice edit incident-3f2a9c0d11e4b7a2 --lang en --title \"S3 unavailable in some accounts\" --file notice.txt",
		RunE: func(cmd *cobra.Command, args []string) error {
			if lang == "" {
				return badInput(fmt.Errorf("--lang is required (ja or en)"))
			}
			var body []byte
			var err error
			switch file {
			case "", "-":
				body, err = io.ReadAll(io.LimitReader(e.stdin, 1<<20))
			default:
				body, err = os.ReadFile(file)
			}
			if err != nil {
				return badInput(fmt.Errorf("reading the notice text: %w", err))
			}
			a, err := open(cmd)
			if err != nil {
				return err
			}
			defer a.Close()
			if title == "" {
				v, err := a.ShowNotice(cmd.Context(), args[0])
				if err != nil {
					return noticeError(err)
				}
				for _, d := range v.Drafts {
					if d.Lang == lang {
						title = d.Title
					}
				}
			}
			d, err := a.EditNotice(cmd.Context(), args[0], lang, title, string(body))
			if err != nil {
				return noticeError(err)
			}
			if asJSON {
				return jsonOut(e, d)
			}
			fmt.Fprintf(e.stdout, "Draft (%s) of %s saved by %s. Publish it with: orgguard notice publish %s\n", d.Lang, d.IncidentID, d.UpdatedBy, d.IncidentID)
			return nil
		},
	}
	edit.Flags().StringVar(&title, "title", "", "the notice's title (default: keep the draft's)")
	edit.Flags().StringVar(&file, "file", "-", "the notice's text (- = standard input)")
	publish := &cobra.Command{
		Use: "publish INCIDENT", Short: "Publish the drafts (the status page shows them); tell the incident channels and each affected customer", Args: cobra.ExactArgs(1),
		Example: "  orgguard notice publish incident-3f2a9c0d11e4b7a2 --by alice",
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := open(cmd)
			if err != nil {
				return err
			}
			defer a.Close()
			var langs []string
			if lang != "" {
				langs = []string{lang}
			}
			ns, err := a.PublishNotice(cmd.Context(), args[0], langs)
			if err != nil {
				return noticeError(err)
			}
			if asJSON {
				return jsonOut(e, ns)
			}
			for _, n := range ns {
				fmt.Fprintf(e.stdout, "Published notice #%d (%s) of %s at %s by %s: %s\n", n.Seq, n.Lang, n.IncidentID, n.PublishedAt.Format(time.RFC3339), n.PublishedBy, n.Title)
			}
			return nil
		},
	}
	cmd.AddCommand(show, edit, publish)
	return cmd
}

func noticeError(err error) error {
	if strings.Contains(err.Error(), "not found") {
		return incidentError(err)
	}
	return appError(err)
}

func writeNotice(w io.Writer, v app.NoticeView, lang string, now time.Time) {
	in := v.Incident
	fmt.Fprintf(w, "%s  %s  %s\n%s\n", in.ID, strings.ToUpper(string(in.Severity)), in.State, in.Title)
	k := v.Clock
	switch {
	case !k.Noticed.IsZero():
		late := ""
		if k.Overdue {
			late = " (after the deadline)"
		}
		fmt.Fprintf(w, "  notice clock: first notice published %s%s; deadline was %s\n", k.Noticed.Format(time.RFC3339), late, k.Deadline.Format(time.RFC3339))
	case k.Overdue:
		fmt.Fprintf(w, "  notice clock: OVERDUE by %s (deadline %s) — publish now\n", (-k.Remaining).Round(time.Second), k.Deadline.Format(time.RFC3339))
	default:
		fmt.Fprintf(w, "  notice clock: %s left (deadline %s)\n", k.Remaining.Round(time.Second), k.Deadline.Format(time.RFC3339))
	}
	for _, d := range v.Drafts {
		if lang != "" && d.Lang != lang {
			continue
		}
		fmt.Fprintf(w, "\n--- draft (%s, %s by %s, %s) ---\n%s\n\n%s", d.Lang, d.Origin, d.UpdatedBy, d.UpdatedAt.Format(time.RFC3339), d.Title, d.Body)
	}
	if len(v.Published) == 0 {
		fmt.Fprintln(w, "\nNothing published yet.")
		return
	}
	fmt.Fprintln(w, "\nPublished:")
	for _, n := range v.Published {
		if lang != "" && n.Lang != lang {
			continue
		}
		fmt.Fprintf(w, "  #%d %s %s by %s: %s\n", n.Seq, n.Lang, n.PublishedAt.Format(time.RFC3339), n.PublishedBy, n.Title)
	}
	_ = now
}

// newPostmortemCmd builds `orgguard postmortem`.
func newPostmortemCmd(e *env) *cobra.Command {
	var lang, out, by string
	cmd := &cobra.Command{
		Use:   "postmortem INCIDENT [--lang ja|en] [--out FILE]",
		Short: "Write an incident's postmortem in Markdown (Google SRE template) from the record",
		Long: `The facts — impact, trigger (the plan, its author and approvers, or the drift
and its AWS actor), the full timeline and the clock (TTD, TTA, TTN, TTM, TTR) —
come from orgguard's record; summary, root cause, action items and lessons
learned are fields you write with 'orgguard postmortem edit'. A draft is
started when the incident is resolved.`,
		Example: `  orgguard postmortem incident-3f2a9c0d11e4b7a2 --lang ja --out postmortem.md
  orgguard postmortem edit incident-3f2a9c0d11e4b7a2 --set rootCause="a script attached a deny-all SCP" --set actionItems=@items.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(cmd, e, &appFlags{by: by}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			md, err := a.Postmortem(cmd.Context(), args[0], lang)
			if err != nil {
				return noticeError(err)
			}
			if out == "" || out == "-" {
				fmt.Fprint(e.stdout, md)
				return nil
			}
			if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
				return withCode(ExitInternal, fmt.Errorf("writing %s: %w", out, err))
			}
			fmt.Fprintf(e.stderr, "Wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "en", "ja or en")
	cmd.Flags().StringVar(&out, "out", "", "write to FILE instead of standard output")
	cmd.PersistentFlags().StringVar(&by, "by", "", "who edits (default: identity.user, else the OS user)")
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	var sets []string
	var state string
	var asJSON bool
	edit := &cobra.Command{
		Use: "edit INCIDENT --set FIELD=TEXT ...", Short: "Set editable fields: summary, rootCause, trigger, detection, response, recovery, actionItems, wentWell, wentWrong, lucky", Args: cobra.ExactArgs(1),
		Example: "  orgguard postmortem edit incident-3f2a9c0d11e4b7a2 --set rootCause=@cause.md --state final",
		RunE: func(cmd *cobra.Command, args []string) error {
			fields := map[string]string{}
			for _, s := range sets {
				k, v, ok := strings.Cut(s, "=")
				if !ok {
					return badInput(fmt.Errorf("--set %q: want FIELD=TEXT or FIELD=@FILE", s))
				}
				if f, isFile := strings.CutPrefix(v, "@"); isFile {
					b, err := os.ReadFile(f)
					if err != nil {
						return badInput(fmt.Errorf("--set %s: %w", k, err))
					}
					v = string(b)
				}
				fields[k] = v
			}
			a, err := openApp(cmd, e, &appFlags{by: by}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			pm, err := a.EditPostmortem(cmd.Context(), args[0], fields, state)
			if err != nil {
				return noticeError(err)
			}
			if asJSON {
				return jsonOut(e, pm)
			}
			fmt.Fprintf(e.stdout, "Postmortem of %s (%s) saved by %s.\n", pm.IncidentID, pm.State, pm.UpdatedBy)
			return nil
		},
	}
	edit.Flags().StringArrayVar(&sets, "set", nil, "FIELD=TEXT or FIELD=@FILE (repeatable)")
	edit.Flags().StringVar(&state, "state", "", "draft or final")
	edit.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(edit)
	return cmd
}

// newNotifyCmd builds `orgguard notify`: the notifier and the outbox.
func newNotifyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Run the notice clock and the outbox sender; list the outbox",
		Example: `  orgguard notify run
  orgguard notify run --once --json
  orgguard notify list --state pending
  orgguard notify retry 42`,
	}
	var once, asJSON bool
	var logLevel string
	run := &cobra.Command{
		Use: "run", Short: "Run the notice clock and deliver the outbox until stopped (SIGINT/SIGTERM)", Args: cobra.NoArgs,
		Example: "  ORGGUARD_SLACK_URL=https://hooks.slack.com/services/... orgguard notify run",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return badInput(fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel))
			}
			a, err := openApp(cmd, e, &appFlags{by: "orgguard"}, true)
			if err != nil {
				return err
			}
			defer a.Close()
			r, err := a.Notify(cmd.Context(), app.NotifyOptions{Once: once, Getenv: os.Getenv,
				Log: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))})
			if err != nil {
				return appError(err)
			}
			if once {
				if asJSON {
					return jsonOut(e, r)
				}
				fmt.Fprintf(e.stdout, "clock: %+v; sent %d\n", r.Clock, r.Sent)
			}
			return nil
		},
	}
	run.Flags().BoolVar(&once, "once", false, "run the clock once, send what is due, and exit")
	run.Flags().BoolVar(&asJSON, "json", false, "print JSON (with --once)")
	run.Flags().StringVar(&logLevel, "log-level", "info", "log level on stderr: debug, info, warn, error")
	addConfigFlag(run)
	addStoreFlag(run)
	var state, channel string
	var limit int
	list := &cobra.Command{
		Use: "list", Short: "List outbox messages (oldest first)", Args: cobra.NoArgs,
		Example: "  orgguard notify list --state dead --json",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, e, &appFlags{}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			ms, err := a.Outbox(cmd.Context(), store.OutboxFilter{State: store.OutboxState(state), Channel: channel, Limit: limit})
			if err != nil {
				return appError(err)
			}
			if asJSON {
				if ms == nil {
					ms = []store.OutboxMessage{}
				}
				return jsonOut(e, ms)
			}
			for _, m := range ms {
				fmt.Fprintf(e.stdout, "%6d  %-7s  %-10s  attempts %-2d  %s  %s\n", m.ID, m.State, m.Channel, m.Attempts, m.Key, m.LastError)
			}
			return nil
		},
	}
	list.Flags().StringVar(&state, "state", "", "pending, sent or dead")
	list.Flags().StringVar(&channel, "channel", "", "only this channel")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	addConfigFlag(list)
	addStoreFlag(list)
	retry := &cobra.Command{
		Use: "retry MESSAGE-ID", Short: "Make a dead or waiting outbox message due now (the sender picks it up)", Args: cobra.ExactArgs(1),
		Example: "  orgguard notify retry 42",
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return badInput(fmt.Errorf("message ID %q: want a number (orgguard notify list shows them)", args[0]))
			}
			a, err := openApp(cmd, e, &appFlags{}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.RetryMessage(cmd.Context(), id); err != nil {
				return appError(err)
			}
			fmt.Fprintf(e.stdout, "Message %d is due now.\n", id)
			return nil
		},
	}
	addConfigFlag(retry)
	addStoreFlag(retry)
	cmd.AddCommand(run, list, retry)
	return cmd
}
