// Package app is orgguard's application layer: one file per use case —
// open, plan (and save), approve, apply, rollback, recover, list plans,
// change the pinned guardrails. The command line, the server and the
// watcher call it; none of them wires backends, stores, probers or clocks
// themselves. This is the only package that chooses them.
//
// Errors carry a kind that callers map to what they show (an exit code, an
// HTTP status): errors.Is(err, ErrBadInput) for input at fault,
// ErrRefused for a guardrail or review-chain refusal, ErrFailed for an
// apply that ran and failed; anything else is internal.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/auth/oidc"
	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/identity"
	"github.com/orgguard/orgguard/internal/metrics"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/watch"
)

// The kinds of error the application layer returns (errors.Is).
var (
	ErrBadInput = errors.New("bad input")
	ErrRefused  = errors.New("refused")
	ErrFailed   = errors.New("failed")
)

// kindError attaches a kind to an error without changing its message.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

// BadInput marks err as the caller's input at fault.
func BadInput(err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: ErrBadInput, err: err}
}

// Refused marks err as a refusal.
func Refused(err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: ErrRefused, err: err}
}

// classify gives the review chain's and the engine's errors their kind.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrBadInput), errors.Is(err, ErrRefused), errors.Is(err, ErrFailed):
		return err
	case errors.Is(err, review.ErrRefused), errors.Is(err, apply.ErrRefused):
		return Refused(err)
	case errors.Is(err, apply.ErrFailed):
		return &kindError{kind: ErrFailed, err: err}
	case errors.Is(err, identity.ErrInvalid), errors.Is(err, store.ErrNotFound):
		return BadInput(err)
	}
	return err
}

// Options are what the caller decides; everything else comes from the
// configuration.
type Options struct {
	// Config is the loaded configuration (config.Load).
	Config *config.Config
	// StoreDSN overrides the configuration's store: key.
	StoreDSN string
	// Actor is who acts (plan author, approver, applier); empty means
	// identity.user from the configuration, else the OS user.
	Actor string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Notices receives one-line notices (a simulated organization created,
	// a protected target that matches nothing); nil discards them.
	Notices io.Writer
	// BackendProgress, when set, receives the AWS backend's progress bar.
	BackendProgress io.Writer
	// Status, when set (a terminal), receives one line per stage of long
	// work (reading the organization, planning) as it starts.
	Status io.Writer
	// Progress receives the apply engine's lines; nil discards them.
	Progress io.Writer
	// Getenv reads the environment (AWS_REGION, AWS_DEFAULT_REGION); nil
	// means os.Getenv.
	Getenv func(string) string
	// Logger receives debug and progress records (-v, --debug); nil
	// discards them.
	Logger *slog.Logger
	// LockTTL is the organization lock's lifetime without a heartbeat;
	// 0 means apply.DefaultLockTTL.
	LockTTL time.Duration
}

// App is an opened application: the configuration, and the store and
// backend opened on first use. Close releases them.
type App struct {
	o     Options
	cfg   *config.Config
	actor string
	// aws, when set, resolves the actor from the caller's AWS identity
	// on first need (backend.type aws without --by or identity.user).
	aws *awsActor
	// principal, when set, is the authenticated user the server acts for
	// (AsPrincipal): use cases check its role. Nil is the command line's
	// local authority: whoever can open the store.
	principal *auth.Principal
	// fence, when set (a leader's view, asLeader), fences every write
	// through the store: see store.Store.Fenced.
	fence *store.Fence
	// remote, when set (Remote, AsPrincipal), is a view serving requests
	// from elsewhere: plans are named by stored ID only and nothing names
	// a file on this machine (a plan file, a snapshot file).
	remote bool
	*shared
}

// shared is what every view of an App (As) opens once and shares: the
// store, the backend and the catalog.
type shared struct {
	mu      sync.Mutex
	st      store.Store
	backend org.Backend
	cat     *catalog.Catalog

	authMu  sync.Mutex
	hash    *auth.Hasher   // password hashing, made on first use (users.go)
	oidc    *oidc.Provider // OIDC login, set up on first use (login.go)
	metrics *metrics.Metrics
	watcher *watch.Watcher // the one running in this process, for the metrics
}

// New returns an App. The actor is normalised (identity.Parse); a name that
// cannot be compared safely is ErrBadInput.
func New(o Options) (*App, error) {
	if o.Config == nil {
		d := config.Defaults()
		o.Config = &d
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Notices == nil {
		o.Notices = io.Discard
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{o: o, cfg: o.Config, shared: &shared{}}
	who, src := o.Actor, "--by/--author"
	if who == "" {
		who, src = o.Config.Identity.User, "identity.user"
	}
	if who == "" && o.Config.Backend.Type == config.BackendAWS {
		// The caller's AWS identity, asked on first need (actor.go).
		a.aws = &awsActor{}
		return a, nil
	}
	if who == "" {
		who, src = osUser(), "the OS user"
	}
	name, err := identity.Parse(who)
	if err != nil {
		return nil, BadInput(fmt.Errorf("%s: %w", src, err))
	}
	a.actor = name
	return a, nil
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if v := os.Getenv("USER"); v != "" {
		return v
	}
	return "unknown"
}

// As returns a view of the App acting as actor (normalised with
// identity.Parse), sharing its store, backend and catalog, with no role
// checks: the server uses AsPrincipal (users.go), which also holds the
// view to the authenticated user's role. progress, when not
// nil, receives that view's apply progress. Close the original App, never
// a view.
func (a *App) As(actor string, progress io.Writer) (*App, error) {
	name, err := identity.Parse(actor)
	if err != nil {
		return nil, BadInput(fmt.Errorf("user %q: %w", actor, err))
	}
	v := *a
	v.actor, v.aws, v.principal = name, nil, nil
	if progress != nil {
		v.o.Progress = progress
	}
	return &v, nil
}

// Remote returns a view of the App for requests that come from elsewhere
// (the server's dashboard and API): it resolves plans by stored ID only
// (PlanByID), never as a path to a file on this machine, and refuses to
// plan against a snapshot file. AsPrincipal views are remote already.
func (a *App) Remote() *App {
	v := *a
	v.remote = true
	return &v
}

// Config returns the configuration.
func (a *App) Config() *config.Config { return a.cfg }

// Actor returns who acts, normalised. When the actor is the caller's AWS
// identity it is known only once a command that records who acted has
// asked for it (ResolveActor); before that Actor returns "".
func (a *App) Actor() string {
	if a.aws != nil {
		name, _ := a.aws.resolved()
		return name
	}
	return a.actor
}

// Now returns the app's clock reading.
func (a *App) Now() time.Time { return a.o.Now() }

// Close releases the store and the backend.
func (a *App) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var err error
	if a.st != nil {
		err = a.st.Close()
		a.st = nil
	}
	if c, ok := a.backend.(io.Closer); ok {
		err = errors.Join(err, c.Close())
	}
	a.backend = nil
	return err
}

// catalog returns the embedded action catalog, loaded once.
func (a *App) catalog() (*catalog.Catalog, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cat == nil {
		c, err := catalog.Load()
		if err != nil {
			return nil, fmt.Errorf("loading the action catalog: %w", err)
		}
		a.cat = c
	}
	return a.cat, nil
}

// localRules are the decision rules of the configuration in hand.
func (a *App) localRules() review.Rules {
	return review.Rules{Guardrails: a.cfg.Guardrails, Quarantine: a.cfg.Quarantine, Critical: a.cfg.Impact.Critical,
		Watch: a.cfg.Watch.Rules}
}

// rulesSource names where the local rules came from, for messages.
func (a *App) rulesSource() string {
	if a.cfg.File != "" {
		return a.cfg.File
	}
	return ""
}

// pinned returns the rules in force: the pinned ones, checked against the
// local configuration (a difference is refused). With pinFirst, nothing
// pinned yet pins the local rules.
func (a *App) pinned(ctx context.Context, st store.Store, pinFirst bool) (review.Pinned, error) {
	actor := a.Actor()
	if pinFirst {
		var err error
		if actor, err = a.ResolveActor(ctx); err != nil {
			return review.Pinned{}, err
		}
	}
	p, err := review.Check(ctx, st, a.localRules(), a.rulesSource(), actor, pinFirst)
	return p, classify(err)
}
