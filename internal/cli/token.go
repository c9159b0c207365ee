package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/display"
	"github.com/orgguard/orgguard/internal/store"
)

// parseExpiry reads --expires: a number of days (90d), weeks (2w), or a Go
// duration (36h, 90m); "", "0" and "never" mean no expiry.
func parseExpiry(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "0", "never":
		return 0, nil
	}
	bad := fmt.Errorf("--expires %q: want days (90d), weeks (2w), a duration (36h) or never, at most %d days", s, maxExpiryDays)
	const longest = maxExpiryDays * 24 * time.Hour
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 || int64(v) > int64(longest/u.unit) || n[0] == '+' {
				return 0, bad
			}
			return time.Duration(v) * u.unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > longest {
		return 0, bad
	}
	return d, nil
}

// maxExpiryDays bounds a token's lifetime: ten years.
const maxExpiryDays = 3650

// newTokenCmd builds `orgguard token`: API tokens for automation.
func newTokenCmd(e *env) *cobra.Command {
	var asJSON bool
	var by string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens for automation",
		Long: `An API token lets a script or a CI job call orgguard's server as a user
("Authorization: Bearer ogt_..."). It is shown once, when created, and only
its SHA-256 is stored. Its role is a ceiling: at most the owner's role when
created, and at every use the lower of the token's role and the owner's
current role — demoting or disabling the owner takes effect at once. A
token may expire (--expires) and can be revoked.

Exit codes: 0 done, 2 bad input (an unknown user or token, a role above
the owner's), 4 internal. See docs/auth.md.`,
		Example: `  orgguard token create --name ci-deploy --user ci-bot --role operator --expires 90d
  orgguard token list
  orgguard token revoke tok-3f2a9c0d11e4b7a2`,
	}
	pf := cmd.PersistentFlags()
	pf.BoolVar(&asJSON, "json", false, "print JSON")
	pf.StringVar(&by, "by", "", "who makes the change, for the audit log (default: identity.user, else the OS user or AWS caller)")
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	withApp := func(cmd *cobra.Command, fn func(a *app.App) error) error {
		a, err := openApp(cmd, e, &appFlags{by: by}, false)
		if err != nil {
			return err
		}
		defer a.Close()
		return fn(a)
	}

	var name, owner, role, expires string
	create := &cobra.Command{
		Use:   "create --name NAME --user USER [--role ROLE] [--expires 90d]",
		Short: "Create an API token; it is printed once, on standard output",
		Long: `create makes a token for --user and prints it, alone, on standard output (the
details go to standard error), so that a script can capture it:

  TOKEN=$(orgguard token create --name ci-deploy --user ci-bot --expires 90d)

It is never shown again: store it in your secret manager now.`,
		Example: "  orgguard token create --name ci-deploy --user ci-bot --role operator --expires 90d\n  orgguard token create --name laptop --user alice --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var r auth.Role
			if role != "" {
				var err error
				if r, err = auth.ParseRole(role); err != nil {
					return badInput(fmt.Errorf("--role: %w", err))
				}
			}
			d, err := parseExpiry(expires)
			if err != nil {
				return badInput(err)
			}
			return withApp(cmd, func(a *app.App) error {
				nt, err := a.CreateToken(cmd.Context(), app.TokenRequest{Name: name, Owner: owner, Role: r, ExpiresIn: d})
				if err != nil {
					return appError(err)
				}
				if asJSON {
					return jsonOut(e, nt)
				}
				exp := "never expires"
				if !nt.Token.ExpiresAt.IsZero() {
					exp = "expires " + nt.Token.ExpiresAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(e.stderr, "Created API token %s %q for %s (role %s, %s). It is shown once; store it now:\n",
					nt.Token.ID, nt.Token.Name, display.Text(nt.Token.Owner), nt.Token.Role, exp)
				fmt.Fprintln(e.stdout, nt.Secret)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the token is for, unique among the user's active tokens (required)")
	create.Flags().StringVar(&owner, "user", "", "the user the token acts as (required)")
	create.Flags().StringVar(&role, "role", "", "the token's role ceiling (default: the user's role)")
	create.Flags().StringVar(&expires, "expires", "", "lifetime: 90d, 2w, 36h, or never (default: never)")
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("user")

	var listUser string
	var all bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List API tokens (never their secrets), newest first",
		Example: "  orgguard token list\n  orgguard token list --user ci-bot --all --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, func(a *app.App) error {
				ts, err := a.ListTokens(cmd.Context(), listUser, all)
				if err != nil {
					return appError(err)
				}
				if asJSON {
					return jsonOut(e, ts)
				}
				if len(ts) == 0 {
					fmt.Fprintln(e.stdout, "No API tokens.")
					return nil
				}
				tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tUSER\tROLE\tTOKEN\tEXPIRES\tLAST USED\tSTATE")
				for _, t := range ts {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, display.Text(t.Name), display.Text(t.Owner), t.Role, t.Hint,
						orNever(t.ExpiresAt, "never"), orNever(t.LastUsedAt, "-"), tokenState(t, time.Now()))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listUser, "user", "", "only this user's tokens")
	list.Flags().BoolVar(&all, "all", false, "include revoked tokens")

	revoke := &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke an API token: it is refused from now on",
		Example: "  orgguard token revoke tok-3f2a9c0d11e4b7a2",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, func(a *app.App) error {
				t, err := a.RevokeToken(cmd.Context(), args[0])
				if err != nil {
					if errors.Is(err, store.ErrConflict) {
						return badInput(fmt.Errorf("token %s is revoked already", args[0]))
					}
					return appError(err)
				}
				if asJSON {
					return jsonOut(e, t)
				}
				fmt.Fprintf(e.stdout, "Revoked API token %s %q of %s.\n", t.ID, t.Name, display.Text(t.Owner))
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func orNever(t time.Time, none string) string {
	if t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

func tokenState(t store.APIToken, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "active"
}
