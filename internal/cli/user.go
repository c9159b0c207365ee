package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/display"
	"github.com/orgguard/orgguard/internal/store"
)

// newUserCmd builds `orgguard user`: the users of server mode.
func newUserCmd(e *env) *cobra.Command {
	var asJSON bool
	var by string
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add users, set their password and role, disable them, list them",
		Long: `Users log in to orgguard's server (orgguard serve) with a password or through
OpenID Connect. Each has one role; each role includes the ones before it:

  viewer     reads plans, incidents, notices, the audit log
  operator   also plans and applies, works incidents and notices
  approver   also approves plans made by others
  admin      also manages users, API tokens and the guardrails

Names are normalised (Unicode NFKC) and compared case-folded and by
look-alike letters: "Alice" and "аlice" (Cyrillic а) cannot both exist.
Passwords have at least 12 characters (auth.password.minLength) and are
stored as argon2id hashes only. They are read from the terminal without
echo, or from standard input with --password-stdin; never from a flag.

These commands act on the store directly, as whoever can open it (recorded
in the audit log as --by, else identity.user, else the OS user or the AWS
caller): use them to add the first admin. Exit codes: 0 done, 2 bad input
(an unknown user, a weak password), 3 refused (the last admin), 4 internal.
See docs/auth.md.`,
		Example: `  orgguard user add alice --role admin
  printf '%s\n' "$PASSWORD" | orgguard user add ci-bot --role operator --password-stdin
  orgguard user add bob --role approver --email bob@example.com --no-password
  orgguard user passwd alice
  orgguard user role bob operator
  orgguard user disable bob
  orgguard user list --json`,
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
	show := func(u store.User, format string, args ...any) error {
		if asJSON {
			return jsonOut(e, u)
		}
		fmt.Fprintf(e.stdout, format+"\n", args...)
		return nil
	}

	var role, email string
	var stdin, noPassword bool
	add := &cobra.Command{
		Use:   "add NAME --role ROLE",
		Short: "Add a user with a role and a password (asked for, or --password-stdin)",
		Example: `  orgguard user add alice --role admin
  printf '%s\n' "$PASSWORD" | orgguard user add ci-bot --role operator --password-stdin
  orgguard user add bob --role approver --email bob@example.com --no-password`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := auth.ParseRole(role)
			if err != nil {
				return badInput(fmt.Errorf("--role: %w", err))
			}
			u := app.NewUser{Name: args[0], Role: r, Email: email, NoPassword: noPassword}
			if noPassword && stdin {
				return badInput(fmt.Errorf("--no-password and --password-stdin exclude each other"))
			}
			if !noPassword {
				if u.Password, err = readPassword(e, args[0], stdin); err != nil {
					return err
				}
			}
			return withApp(cmd, func(a *app.App) error {
				out, err := a.AddUser(cmd.Context(), u)
				if err != nil {
					return appError(err)
				}
				return show(out, "Added user %s (%s).", display.Text(out.Name), out.Role)
			})
		},
	}
	add.Flags().StringVar(&role, "role", "", "viewer, operator, approver or admin (required)")
	add.Flags().StringVar(&email, "email", "", "the e-mail address OIDC logins map to the user")
	add.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from the first line of standard input")
	add.Flags().BoolVar(&noPassword, "no-password", false, "no password: the user logs in through OIDC only (needs --email)")
	_ = add.MarkFlagRequired("role")

	var passwdStdin bool
	passwd := &cobra.Command{
		Use:     "passwd NAME",
		Short:   "Set a user's password; their sessions end",
		Example: "  orgguard user passwd alice\n  printf '%s\\n' \"$PASSWORD\" | orgguard user passwd ci-bot --password-stdin",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(e, args[0], passwdStdin)
			if err != nil {
				return err
			}
			return withApp(cmd, func(a *app.App) error {
				out, err := a.SetPassword(cmd.Context(), args[0], pw)
				if err != nil {
					return appError(err)
				}
				return show(out, "Set the password of %s; their sessions have ended.", display.Text(out.Name))
			})
		},
	}
	passwd.Flags().BoolVar(&passwdStdin, "password-stdin", false, "read the password from the first line of standard input")

	disable := &cobra.Command{
		Use:     "disable NAME",
		Short:   "Disable a user: logins, sessions and API tokens stop working",
		Example: "  orgguard user disable bob",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, func(a *app.App) error {
				out, err := a.DisableUser(cmd.Context(), args[0])
				if err != nil {
					return appError(err)
				}
				return show(out, "Disabled %s; their sessions have ended and their API tokens are refused.", display.Text(out.Name))
			})
		},
	}
	enable := &cobra.Command{
		Use:     "enable NAME",
		Short:   "Enable a disabled user again",
		Example: "  orgguard user enable bob",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, func(a *app.App) error {
				out, err := a.EnableUser(cmd.Context(), args[0])
				if err != nil {
					return appError(err)
				}
				return show(out, "Enabled %s.", display.Text(out.Name))
			})
		},
	}
	roleCmd := &cobra.Command{
		Use:     "role NAME ROLE",
		Short:   "Give a user another role (viewer, operator, approver, admin)",
		Example: "  orgguard user role bob approver",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := auth.ParseRole(args[1])
			if err != nil {
				return badInput(err)
			}
			return withApp(cmd, func(a *app.App) error {
				out, err := a.SetRole(cmd.Context(), args[0], r)
				if err != nil {
					return appError(err)
				}
				return show(out, "%s is now %s.", display.Text(out.Name), out.Role)
			})
		},
	}
	emailCmd := &cobra.Command{
		Use:     "email NAME ADDRESS",
		Short:   "Set the e-mail address OIDC logins map to a user (\"\" clears it)",
		Example: "  orgguard user email bob bob@example.com",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withApp(cmd, func(a *app.App) error {
				out, err := a.SetEmail(cmd.Context(), args[0], args[1])
				if err != nil {
					return appError(err)
				}
				return show(out, "%s's e-mail address is now %q.", display.Text(out.Name), out.Email)
			})
		},
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the users with their role and state",
		Example: "  orgguard user list\n  orgguard user list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd, func(a *app.App) error {
				us, err := a.ListUsers(cmd.Context())
				if err != nil {
					return appError(err)
				}
				if asJSON {
					return jsonOut(e, us)
				}
				if len(us) == 0 {
					fmt.Fprintln(e.stdout, "No users. `orgguard user add NAME --role admin` adds the first.")
					return nil
				}
				tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tLOGIN\tE-MAIL\tCREATED")
				for _, u := range us {
					state, login := "enabled", "password"
					if u.Disabled {
						state = "disabled"
					}
					switch {
					case u.PasswordHash == "":
						login = "oidc"
					case u.Email != "":
						login = "password, oidc"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", display.Text(u.Name), u.Role, state, login, display.Text(u.Email), u.CreatedAt.UTC().Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	cmd.AddCommand(add, passwd, disable, enable, roleCmd, emailCmd, list)
	return cmd
}
