package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/apiv1"
	"github.com/orgguard/orgguard/internal/client"
)

// Server mode: after `orgguard login` (or with ORGGUARD_SERVER and
// ORGGUARD_TOKEN set), approve, apply, plans and plans submit go through
// the server's API as the token's user instead of opening a store here.
// --local works on the local store as before.

// ExitAuth: not logged in, credentials the server refuses, or an identity
// flag (--by, --author) in server mode, where the token says who acts.
const ExitAuth = 5

// addLocalFlag adds --local to a command that has a server mode.
func addLocalFlag(cmd *cobra.Command) {
	cmd.Flags().Bool("local", false, "work on the local store even when logged in to a server (orgguard login)")
}

// serverClient returns the API client when cmd runs in server mode, nil
// when it runs locally: --local, else ORGGUARD_SERVER with ORGGUARD_TOKEN,
// else the credentials `orgguard login` stored.
func serverClient(cmd *cobra.Command) (*client.Client, error) {
	if f := cmd.Flags().Lookup("local"); f != nil && f.Value.String() == "true" {
		return nil, nil
	}
	server, token := os.Getenv("ORGGUARD_SERVER"), os.Getenv("ORGGUARD_TOKEN")
	switch {
	case server != "" && token == "":
		return nil, withCode(ExitAuth, errors.New("ORGGUARD_SERVER is set but ORGGUARD_TOKEN is not: set both, or neither"))
	case server == "" && token != "":
		return nil, withCode(ExitAuth, errors.New("ORGGUARD_TOKEN is set but ORGGUARD_SERVER is not: set both, or neither"))
	case server != "":
		c, err := client.New(server, token, nil)
		if err != nil {
			return nil, badInput(fmt.Errorf("ORGGUARD_SERVER, ORGGUARD_TOKEN: %w", err))
		}
		return c, nil
	}
	path, err := client.CredentialsPath(os.Getenv)
	if err != nil {
		return nil, withCode(ExitInternal, err)
	}
	creds, err := client.LoadCredentials(path)
	if errors.Is(err, client.ErrNoCredentials) {
		return nil, nil
	}
	if err != nil {
		return nil, withCode(ExitAuth, err)
	}
	c, err := client.New(creds.Server, creds.Token, nil)
	if err != nil {
		return nil, withCode(ExitAuth, fmt.Errorf("the credentials in %s: %w; log in again", path, err))
	}
	return c, nil
}

// refuseLocalFlags refuses, in server mode, the flags of cmd that only
// make sense locally: an identity flag (the token says who acts) with
// ExitAuth, any other with exit 2.
func refuseLocalFlags(cmd *cobra.Command, c *client.Client, names ...string) error {
	for _, name := range names {
		f := cmd.Flag(name)
		if f == nil || !f.Changed {
			continue
		}
		switch name {
		case "by", "author":
			return withCode(ExitAuth, fmt.Errorf("--%s: logged in to %s, you act as the user of your API token; drop --%s (or add --local to work on a local store)",
				name, c.Server(), name))
		}
		return badInput(fmt.Errorf("--%s cannot be used with a server (logged in to %s): the server decides it; drop it, or add --local to work on a local store",
			name, c.Server()))
	}
	return nil
}

// remoteError maps the API's error codes to exit codes, as the local
// commands exit: bad input 2, refused 3 (a role that does not allow the
// action, an own plan, a guardrail), not logged in 5, else 4.
func remoteError(err error) error {
	if err == nil {
		return nil
	}
	var xe *exitError
	if errors.As(err, &xe) {
		return err
	}
	switch client.Code(err) {
	case apiv1.CodeUnauthenticated:
		return withCode(ExitAuth, fmt.Errorf("%w (orgguard login to log in again)", err))
	case apiv1.CodeBadInput, apiv1.CodeNotFound, apiv1.CodeTooLarge, apiv1.CodeMediaType, apiv1.CodeMethod:
		return withCode(ExitBadInput, err)
	case apiv1.CodeForbidden, apiv1.CodeOwnPlan, apiv1.CodeRefused, apiv1.CodeConflict, apiv1.CodeLocked,
		apiv1.CodeUnconfirmed, apiv1.CodeCrossOrigin, apiv1.CodeRateLimited:
		return withCode(ExitRefused, err)
	}
	return withCode(ExitInternal, err)
}
