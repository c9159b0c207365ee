// Package cli builds orgguard's command tree. Each command lives in its own
// file and is built by a function; there is no package-level state.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/orgguard/orgguard/internal/display"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes shared by every command. They are documented in docs/exit-codes.md.
const (
	ExitOK       = 0 // success (or: every case passed, plan allowed)
	ExitFailure  = 1 // the command ran and found a failure (a failing case, an error finding)
	ExitBadInput = 2 // unreadable or malformed input, bad flags
	ExitRefused  = 3 // a guardrail refused the change
	ExitInternal = 4 // an unexpected error while doing the work (I/O, backend)
	// ExitAuth (5, remote.go): not logged in, a refused token, --by in server mode.
)

// exitError carries an exit code with the error to show.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that Run exits with code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// badInput marks err as a problem with the user's input (exit 2).
func badInput(err error) error { return withCode(ExitBadInput, err) }

// silentExit ends the command with code without printing anything more:
// the command has already reported what went wrong.
func silentExit(code int) error { return &exitError{code: code} }

// env is what every command needs from the outside world.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// color says whether to colour stdout (--color, NO_COLOR, a terminal).
	color bool
	// verbose is -v/--verbose (or --debug): commands that talk to AWS also
	// print their call accounting.
	verbose bool
	// logger writes -v/--debug records to stderr (set before any command
	// runs; discards otherwise).
	logger *slog.Logger
}

// Run executes orgguard with args (without the program name) and returns the
// process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Everything printed goes through display.Writer: a name holding
	// terminal escape sequences or bidirectional overrides is shown, never
	// run, whichever command prints it (orgguard's own colours pass).
	color := colorFor(colorFlag(args), stdout)
	out := display.NewWriter(stdout, color)
	errw := display.NewWriter(stderr, false)
	defer out.Flush()
	defer errw.Flush()
	stdout, stderr = out, errw
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, color: color, logger: slog.New(slog.DiscardHandler)}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var xe *exitError
	if errors.As(err, &xe) {
		if xe.err != nil {
			fmt.Fprintf(stderr, "orgguard: %v\n", xe.err)
		}
		return xe.code
	}
	fmt.Fprintf(stderr, "orgguard: %v\n", err)
	if isUsageError(err) || strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "required flag") {
		return ExitBadInput
	}
	return ExitInternal
}

// isUsageError reports whether err came from cobra's argument or flag parsing.
func isUsageError(err error) bool {
	var fe *flagError
	return errors.As(err, &fe)
}

// flagError marks errors raised while parsing flags and arguments.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "orgguard",
		Short: "Make changes to an AWS Organization safe",
		Long: `orgguard shows what a change to an AWS Organization will do before it runs,
refuses the dangerous ones, and applies the rest with health checks and
automatic rollback. It works against real AWS and, by default, against an
embedded simulated organization.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &flagError{err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.CompletionOptions.DisableDefaultCmd = true // `orgguard completion` has its own, with examples
	root.Version = buildVersion().String()
	root.SetVersionTemplate("orgguard {{.Version}}\n")
	var verbose, debug bool
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		if err := checkUTF8(c, args); err != nil {
			return err
		}
		if f := c.Flag("color"); f != nil {
			if v := f.Value.String(); v != "auto" && v != "always" && v != "never" {
				return badInput(fmt.Errorf("--color %q: want auto, always or never", v))
			}
		}
		e.logger = newLogger(e.stderr, verbose, debug)
		e.verbose = verbose || debug
		e.logger.Debug("orgguard starting", "version", root.Version, "command", c.CommandPath())
		return nil
	}
	pf := root.PersistentFlags()
	pf.String("config", "", "configuration file (default: $ORGGUARD_CONFIG, else ./orgguard.yaml if it exists, else built-in defaults)")
	pf.BoolVarP(&verbose, "verbose", "v", false, "log what orgguard does to stderr")
	pf.BoolVar(&debug, "debug", false, "log in detail to stderr (implies --verbose)")
	pf.String("color", "auto", "colour the output: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always or never")
	for _, build := range commandBuilders() {
		root.AddCommand(build(e))
	}
	wrapArgs(root)
	return root
}

// wrapArgs makes every command's positional-argument errors usage errors
// (exit 2), as flag errors are.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		c.Args = usageArgs(c.Args)
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// commandBuilders lists the constructors of the top-level commands, one per
// file. Add a line here when adding a command.
func commandBuilders() []func(*env) *cobra.Command {
	return []func(*env) *cobra.Command{
		newVersionCmd,
		newEvalCmd,
		newSimulateCmd,
		newPolicyCmd,
		newOrgCmd,
		newSimCmd,
		newPlanCmd,
		newDemoCmd,
		newAuditCmd,
		newApproveCmd,
		newPlansCmd,
		newApplyCmd,
		newRecoverCmd,
		newRollbackCmd,
		newGuardrailsCmd,
		newWatchCmd,
		newIncidentCmd,
		newCompletionCmd,
		newNoticeCmd, newPostmortemCmd, newNotifyCmd,
		newUserCmd, newTokenCmd,
		newServeCmd,
		newLoginCmd, newLogoutCmd,
	}
}

// newLogger returns the logger for -v (info) and --debug (debug, with the
// source line), writing text records to w; without either it discards.
func newLogger(w io.Writer, verbose, debug bool) *slog.Logger {
	switch {
	case debug:
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}))
	case verbose:
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// colorFlag finds --color's value in args before any command runs (the
// output writer is made first); "" when not given.
func colorFlag(args []string) string {
	v := ""
	for i, a := range args {
		if a == "--" {
			break
		}
		if x, ok := strings.CutPrefix(a, "--color="); ok {
			v = x
		} else if a == "--color" && i+1 < len(args) {
			v = args[i+1]
		}
	}
	return v
}

// colorFor decides whether to colour w: --color always or never decides;
// auto (the default) colours a terminal unless NO_COLOR is set (to
// anything but "") or TERM is dumb.
func colorFor(flag string, w io.Writer) bool {
	switch flag {
	case "always":
		return true
	case "never":
		return false
	}
	return useColor(w)
}

// checkUTF8 refuses, before any work, flags and arguments that are not
// valid UTF-8: they would be stored (a plan's author, a description) and
// could then never be compared or shown faithfully.
func checkUTF8(c *cobra.Command, args []string) error {
	var bad error
	c.Flags().Visit(func(f *pflag.Flag) {
		if bad == nil && !utf8.ValidString(f.Value.String()) {
			bad = badInput(fmt.Errorf("--%s: not valid UTF-8 (%+q)", f.Name, f.Value.String()))
		}
	})
	for i, a := range args {
		if bad == nil && !utf8.ValidString(a) {
			bad = badInput(fmt.Errorf("argument %d: not valid UTF-8 (%+q)", i+1, a))
		}
	}
	return bad
}
