package cli

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/config"
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
	if path == "" {
		path = os.Getenv("ORGGUARD_CONFIG")
	}
	c, err := config.Load(path)
	if err != nil {
		return nil, badInput(err)
	}
	return c, nil
}

// isTerminal reports whether w is a terminal (a character device). Colour
// and progress bars are shown only then, and never when NO_COLOR is set.
func isTerminal(w io.Writer) bool {
	if u, ok := w.(interface{ Unwrap() io.Writer }); ok {
		w = u.Unwrap()
	}
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
