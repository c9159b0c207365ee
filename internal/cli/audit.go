package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/audit"
	"github.com/orgguard/orgguard/internal/store"
)

// addStoreFlag adds --store to cmd and its subcommands.
func addStoreFlag(cmd *cobra.Command) {
	cmd.PersistentFlags().String("store", "", "state store: an SQLite file, sqlite://PATH or postgres://URL (default: $ORGGUARD_STORE, else the configuration's store:, else "+store.DefaultDSN+")")
}

// storeDSN returns the store address for cmd: --store when given, else
// the configuration's store: key (when the command has --config), else the
// default SQLite file.
func storeDSN(cmd *cobra.Command) (string, error) {
	if f := cmd.Flag("store"); f != nil && f.Changed {
		return f.Value.String(), nil
	}
	if dsn := os.Getenv("ORGGUARD_STORE"); dsn != "" {
		return dsn, nil
	}
	if cmd.Flag("config") != nil {
		c, err := loadConfig(cmd)
		if err != nil {
			return "", err
		}
		return c.Store, nil
	}
	return store.DefaultDSN, nil
}

// openStore opens the store for cmd (see storeDSN). readOnly commands do
// not create a missing SQLite store. Errors carry their exit code: 2 for a
// bad or missing address, 4 when the store cannot be opened.
func openStore(ctx context.Context, cmd *cobra.Command, readOnly bool) (*app.StoreHandle, error) {
	dsn, err := storeDSN(cmd)
	if err != nil {
		return nil, err
	}
	s, err := app.OpenStore(ctx, dsn, readOnly)
	if err != nil {
		return nil, appError(err)
	}
	return s, nil
}

func newAuditCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Inspect and verify the hash-chained audit log",
		Long: `Every approval, apply, rollback and lock takeover is recorded in the store's
audit log. Each entry carries the SHA-256 hash of the one before it, so any
edit, deletion or reordering breaks the chain, and 'audit verify' finds it.`,
		Example: `  orgguard audit verify
  orgguard audit list --limit 50
  orgguard audit verify --store postgres://orgguard@db/orgguard --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addStoreFlag(cmd)
	addConfigFlag(cmd)
	cmd.AddCommand(newAuditVerifyCmd(e), newAuditListCmd(e))
	return cmd
}

func newAuditVerifyCmd(e *env) *cobra.Command {
	var (
		asJSON  bool
		anchors []string
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit log's hash chain and report the first break",
		Long: `verify reads every audit entry in order and checks that sequence numbers have
no gaps, that each entry names the previous entry's hash, that each entry's
hash matches its content, and that the chain ends at the store's head
checkpoint. It exits 0 when the chain is intact and 1 at the first break,
naming the entry where it breaks.

Someone able to rewrite the database could rebuild the whole chain and its
checkpoint. To detect that too, keep the 'anchor' verify prints somewhere
else (a ticket, a chat message) and pass it back with --anchor later.`,
		Example: `  orgguard audit verify
  orgguard audit verify --anchor 1042:5f1c...e9 --json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var as []audit.Anchor
			for _, a := range anchors {
				p, err := audit.ParseAnchor(a)
				if err != nil {
					return badInput(fmt.Errorf("--anchor: %w", err))
				}
				as = append(as, p)
			}
			s, err := openStore(cmd.Context(), cmd, true)
			if err != nil {
				return err
			}
			defer s.Close()
			r, err := audit.Verify(cmd.Context(), s, as...)
			if err != nil {
				return withCode(ExitInternal, fmt.Errorf("verifying the audit log in %s: %w", s.DSN(), err))
			}
			if asJSON {
				err = writeJSON(e.stdout, verifyJSON{Store: s.DSN(), Intact: r.Intact(), Report: r})
			} else {
				err = writeVerifyText(e.stdout, s.DSN(), r)
			}
			if err != nil {
				return withCode(ExitInternal, err)
			}
			if !r.Intact() {
				return silentExit(ExitFailure)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().StringArrayVar(&anchors, "anchor", nil, "SEQ:HASH recorded earlier; the chain must still contain it (repeatable)")
	return cmd
}

type verifyJSON struct {
	Store  string `json:"store"`
	Intact bool   `json:"intact"`
	audit.Report
}

func writeVerifyText(w io.Writer, dsn string, r audit.Report) error {
	if r.Intact() {
		if r.Entries == 0 {
			_, err := fmt.Fprintf(w, "audit log intact: no entries yet (%s)\n", dsn)
			return err
		}
		_, err := fmt.Fprintf(w, "audit log intact: %s, ending at entry %d (%s)\nanchor: %s\n",
			entriesText(r.Entries), r.Last.Seq, dsn, r.Last)
		return err
	}
	_, err := fmt.Fprintf(w, "audit log BROKEN at entry %d: %s\n%s before it verified (%s)\n",
		r.Break.Seq, r.Break.Reason, entriesText(r.Entries), dsn)
	return err
}

func newAuditListCmd(e *env) *cobra.Command {
	var (
		asJSON bool
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the newest audit log entries, oldest first",
		Example: `  orgguard audit list
  orgguard audit list --limit 0 --json > audit.json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return badInput(fmt.Errorf("--limit %d: want 0 (everything) or more", limit))
			}
			s, err := openStore(cmd.Context(), cmd, true)
			if err != nil {
				return err
			}
			defer s.Close()
			entries, err := s.ListAudit(cmd.Context(), store.AuditQuery{Newest: true, Limit: limit})
			if err != nil {
				return withCode(ExitInternal, err)
			}
			slices.Reverse(entries)
			if entries == nil {
				entries = []store.AuditEntry{}
			}
			if asJSON {
				err = writeJSON(e.stdout, entries)
			} else {
				err = writeAuditTable(e.stdout, entries)
			}
			if err != nil {
				return withCode(ExitInternal, err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the entries as JSON, with their hashes")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many of the newest entries to show; 0 for all")
	return cmd
}

func writeAuditTable(w io.Writer, entries []store.AuditEntry) error {
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "no audit entries")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME (UTC)\tACTOR\tACTION\tSUBJECT\tDETAIL")
	for _, en := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", en.Seq, en.At.UTC().Format(time.DateTime), cell(en.Actor, 40),
			cell(en.Action, 40), cell(en.Subject, 40), cell(string(en.Detail), 60))
	}
	return tw.Flush()
}

// cell makes s fit one table cell: control characters (a tab or newline
// would break the table) become spaces, and long text is cut with "…".
func cell(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

func entriesText(n int64) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}
