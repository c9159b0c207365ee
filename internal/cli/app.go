package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
)

// appFlags are the flags that shape the application layer for a command:
// who acts, the clock (--now, hidden on apply-like commands) and the lock
// lifetime (hidden, for tests).
type appFlags struct {
	by      string
	now     string
	lockTTL time.Duration
}

// parseNow parses --now: the clock starts at that instant.
func parseNow(s string) (func() time.Time, error) {
	if s == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, badInput(fmt.Errorf("--now %q: want RFC 3339, e.g. 2026-12-05T17:15:00+09:00", s))
	}
	offset := time.Since(t)
	return func() time.Time { return time.Now().Add(-offset) }, nil
}

// openApp opens the application layer for cmd: the configuration named by
// --config, the store named by --store, the actor, the clock, and where
// progress and notices go. progress receives the apply engine's lines.
func openApp(cmd *cobra.Command, e *env, af *appFlags, progressToStderr bool) (*app.App, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	o := app.Options{Config: cfg, Notices: e.stderr, LockTTL: af.lockTTL, Progress: e.stdout, Logger: e.logger}
	if progressToStderr {
		o.Progress = e.stderr
	}
	if f := cmd.Flag("store"); f != nil && f.Changed {
		o.StoreDSN = f.Value.String()
	} else if dsn := os.Getenv("ORGGUARD_STORE"); dsn != "" {
		o.StoreDSN = dsn
	}
	if isTerminal(e.stderr) {
		// Progress for long work, on a terminal only: the AWS backend's
		// reads, the stages of a plan.
		o.BackendProgress = e.stderr
		o.Status = e.stderr
	}
	o.Actor = af.by
	if o.Now, err = parseNow(af.now); err != nil {
		return nil, err
	}
	a, err := app.New(o)
	if err != nil {
		return nil, appError(err)
	}
	return a, nil
}

// appError maps the application layer's error kinds to exit codes.
func appError(err error) error {
	var xe *exitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &xe):
		return err
	case errors.Is(err, app.ErrBadInput):
		return withCode(ExitBadInput, err)
	case errors.Is(err, app.ErrRefused):
		return withCode(ExitRefused, err)
	case errors.Is(err, app.ErrFailed):
		return withCode(ExitFailure, err)
	}
	return withCode(ExitInternal, err)
}
