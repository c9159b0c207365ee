package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/orgguard/orgguard/internal/client"
	"github.com/orgguard/orgguard/internal/display"
	"github.com/orgguard/orgguard/internal/inputfile"
)

// newLoginCmd builds `orgguard login`.
func newLoginCmd(e *env) *cobra.Command {
	var server, tokenFile string
	cmd := &cobra.Command{
		Use:   "login --server URL",
		Short: "Log in to an orgguard server with an API token (approve, apply, plans then go through it)",
		Long: `login stores a server's URL and an API token (orgguard token create, on the
server's store) after checking them with the server. From then on approve,
apply, plans and plans submit go through the server's API as the token's
user: the server plans, checks roles, refuses authors approving their own
plans and records every action under that user. --by and --author are
refused in that mode (exit 5); --local works on a local store as before.

The token is read from --token-file, else from standard input (first line),
else asked on the terminal without echo; never from a flag. The credentials
go to $XDG_CONFIG_HOME/orgguard/credentials (mode 0600). ORGGUARD_SERVER and
ORGGUARD_TOKEN, both set, take the place of a login (for automation).

Exit codes: 0 logged in, 2 bad input, 4 the server could not be reached,
5 the server refused the token. See docs/api.md.`,
		Example: `  orgguard login --server https://orgguard.example.com
  orgguard login --server https://orgguard.example.com --token-file ~/.orgguard-token
  printf '%s\n' "$TOKEN" | orgguard login --server http://127.0.0.1:8080`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := client.ParseServer(server); err != nil {
				return badInput(fmt.Errorf("--server: %w", err))
			}
			token, err := readToken(e, tokenFile)
			if err != nil {
				return err
			}
			c, err := client.New(server, token, nil)
			if err != nil {
				return badInput(err)
			}
			who, err := c.Whoami(cmd.Context())
			if err != nil {
				return remoteError(fmt.Errorf("checking the token with %s: %w", c.Server(), err))
			}
			path, err := client.CredentialsPath(os.Getenv)
			if err != nil {
				return withCode(ExitInternal, err)
			}
			if err := client.SaveCredentials(path, client.Credentials{Server: c.Server(), Token: token, User: who.Name}); err != nil {
				return withCode(ExitInternal, err)
			}
			fmt.Fprintf(e.stdout, "Logged in to %s as %s (%s). Credentials saved in %s.\n", c.Server(), display.Text(who.Name), who.Role, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "the server's URL, e.g. https://orgguard.example.com (required)")
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "read the API token from this file")
	_ = cmd.MarkFlagRequired("server")
	return cmd
}

// readToken reads the API token: from file, else the first line of
// standard input when it is not a terminal, else from the terminal
// without echo.
func readToken(e *env, file string) (string, error) {
	var tok string
	switch {
	case file != "":
		b, err := inputfile.Read(file, 4<<10, "token file")
		if err != nil {
			return "", badInput(err)
		}
		tok = string(b)
	case !isTerminalReader(e.stdin):
		line, err := bufio.NewReader(io.LimitReader(e.stdin, 4<<10)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", badInput(fmt.Errorf("reading the token from standard input: %w", err))
		}
		tok = line
	default:
		f := e.stdin.(*os.File)
		fmt.Fprint(e.stderr, "API token: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", withCode(ExitInternal, fmt.Errorf("reading the token from the terminal: %w", err))
		}
		tok = string(b)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", badInput(errors.New("no API token given (--token-file, standard input or the terminal)"))
	}
	return tok, nil
}

// newLogoutCmd builds `orgguard logout`.
func newLogoutCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "logout",
		Short:   "Forget the server and token orgguard login stored",
		Long:    "logout deletes the credentials file orgguard login wrote; commands then work on the local store. The token itself stays valid on the server until revoked (orgguard token revoke).",
		Example: "  orgguard logout",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := client.CredentialsPath(os.Getenv)
			if err != nil {
				return withCode(ExitInternal, err)
			}
			ok, err := client.RemoveCredentials(path)
			if err != nil {
				return withCode(ExitInternal, err)
			}
			if !ok {
				fmt.Fprintln(e.stdout, "Not logged in.")
				return nil
			}
			fmt.Fprintf(e.stdout, "Logged out: removed %s. The token stays valid on the server until revoked.\n", path)
			return nil
		},
	}
}
