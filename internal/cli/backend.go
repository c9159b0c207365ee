package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
)

// addConfigFlag adds --config to cmd and its subcommands.
func addConfigFlag(cmd *cobra.Command) {
	cmd.PersistentFlags().String("config", "", "configuration file (default: ./orgguard.yaml if it exists, else built-in defaults)")
}

// loadConfig reads the configuration named by --config (wherever in the
// command tree the flag is defined), or ./orgguard.yaml, or the defaults.
func loadConfig(cmd *cobra.Command) (*config.Config, error) {
	path := ""
	if f := cmd.Flag("config"); f != nil {
		path = f.Value.String()
	}
	c, err := config.Load(path)
	if err != nil {
		return nil, badInput(err)
	}
	return c, nil
}

// openBackend opens the organization backend the configuration selects.
// The default simulated organization is generated on first use.
func openBackend(ctx context.Context, e *env, c *config.Config) (org.Backend, error) {
	switch c.Backend.Type {
	case config.BackendAWS:
		var progress io.Writer
		if isTerminal(e.stderr) {
			progress = e.stderr
		}
		b, err := awsorg.New(ctx, awsorg.Options{
			Profile:     c.Backend.AWS.Profile,
			Region:      c.Backend.AWS.Region,
			EndpointURL: c.Backend.AWS.Endpoint,
			ReadTags:    c.Backend.AWS.ReadTags,
			Progress:    progress,
		})
		if err != nil {
			return nil, withCode(ExitInternal, fmt.Errorf("opening the AWS backend: %w", err))
		}
		return b, nil
	case config.BackendSim, "":
		return openSim(e, c.Backend.Sim)
	}
	return nil, badInput(fmt.Errorf("backend.type %q: want %q or %q", c.Backend.Type, config.BackendSim, config.BackendAWS))
}

// openSim opens the simulated organization's state, generating it when it
// does not exist yet.
func openSim(e *env, sc config.SimBackend) (*sim.Org, error) {
	created := false
	o, err := sim.OpenOrCreate(sim.Options{StatePath: sc.State}, func() (*org.Snapshot, error) {
		created = true
		return generate.Organization(generate.Options{Accounts: sc.Accounts, Seed: sc.Seed})
	})
	if err != nil {
		if errors.Is(err, org.ErrInvalidSnapshot) {
			return nil, badInput(fmt.Errorf("%w (fix or remove the file; orgguard never overwrites a corrupt state)", err))
		}
		return nil, withCode(ExitInternal, err)
	}
	if created {
		fmt.Fprintf(e.stderr, "orgguard: created a simulated organization of %d accounts (seed %d) in %s\n", sc.Accounts, sc.Seed, sc.State)
	}
	return o, nil
}

// isTerminal reports whether w is a terminal (a character device). Colour
// and progress bars are shown only then, and never when NO_COLOR is set.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// useColor reports whether to colour output written to w.
func useColor(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}
