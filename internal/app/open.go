package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/probe/awsprobe"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

// StoreHandle is an opened store that can say where it is (DSN, with any
// password redacted).
type StoreHandle = sqlstore.Store

// OpenStore opens the store at dsn. With mustExist a missing SQLite store
// is ErrBadInput instead of being created. The caller closes it.
func OpenStore(ctx context.Context, dsn string, mustExist bool) (*StoreHandle, error) {
	var opts []sqlstore.Option
	if mustExist {
		opts = append(opts, sqlstore.MustExist())
	}
	s, err := sqlstore.Open(ctx, dsn, opts...)
	switch {
	case errors.Is(err, sqlstore.ErrNoStore):
		return nil, BadInput(fmt.Errorf("%w (nothing has been recorded there yet; choose the store with --store or the configuration's store: key)", err))
	case errors.Is(err, sqlstore.ErrBadDSN):
		return nil, BadInput(err)
	case err != nil:
		return nil, err
	}
	return s, nil
}

// storeDSN is the store's address.
func (a *App) storeDSN() string {
	if a.o.StoreDSN != "" {
		return a.o.StoreDSN
	}
	if a.cfg.Store != "" {
		return a.cfg.Store
	}
	return store.DefaultDSN
}

// Store returns the store, opening (and creating) it on first use. A
// leader's view (asLeader) returns the store fenced by its lease.
func (a *App) Store(ctx context.Context) (store.Store, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil {
		st, err := OpenStore(ctx, a.storeDSN(), false)
		if err != nil {
			return nil, err
		}
		a.st = st
	}
	return a.fenced(a.st), nil
}

// fenced is st as this view writes to it: fenced by the view's lease
// tenure when it has one.
func (a *App) fenced(st store.Store) store.Store {
	if a.fence == nil || st == nil {
		return st
	}
	return st.Fenced(*a.fence)
}

// existingStore returns the store when it exists, or nil without creating
// an SQLite file.
func (a *App) existingStore(ctx context.Context) (store.Store, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st != nil {
		return a.fenced(a.st), nil
	}
	st, err := OpenStore(ctx, a.storeDSN(), true)
	if errors.Is(err, sqlstore.ErrNoStore) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a.st = st
	return a.fenced(st), nil
}

// Backend returns the configured organization backend, opening it on first
// use. The default simulated organization is generated when its state file
// does not exist yet.
func (a *App) Backend(ctx context.Context) (org.Backend, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.backend != nil {
		return a.backend, nil
	}
	b, err := a.openBackend(ctx)
	if err != nil {
		return nil, err
	}
	a.backend = b
	return b, nil
}

func (a *App) openBackend(ctx context.Context) (org.Backend, error) {
	c := a.cfg
	switch c.Backend.Type {
	case config.BackendAWS:
		b, err := awsorg.New(ctx, awsorg.Options{
			Profile:     c.Backend.AWS.Profile,
			Region:      a.awsRegion(),
			EndpointURL: c.Backend.AWS.Endpoint,
			ReadTags:    c.Backend.AWS.ReadTags,
			Progress:    a.o.BackendProgress,
		})
		if err != nil {
			return nil, fmt.Errorf("opening the AWS backend: %w", err)
		}
		return b, nil
	case config.BackendSim, "":
		return OpenSim(c.Backend.Sim, a.o.Notices)
	}
	return nil, BadInput(fmt.Errorf("backend.type %q: want %q or %q", c.Backend.Type, config.BackendSim, config.BackendAWS))
}

// OpenSimState opens the simulated organization at path, or the configured
// one (generated on first use) when path is empty, and returns it with the
// state file's path. A path that does not exist is ErrBadInput.
func OpenSimState(path string, sc config.SimBackend, notices io.Writer) (*sim.Org, string, error) {
	if path == "" {
		o, err := OpenSim(sc, notices)
		return o, sc.State, err
	}
	o, err := sim.Open(sim.Options{StatePath: path})
	if errors.Is(err, os.ErrNotExist) {
		return nil, path, BadInput(fmt.Errorf("%w (create the state with `orgguard sim generate --out %s`)", err, path))
	}
	if err != nil {
		return nil, path, BadInput(err)
	}
	return o, path, nil
}

// OpenSim opens the simulated organization's state, generating it (and
// saying so on notices) when it does not exist yet.
func OpenSim(sc config.SimBackend, notices io.Writer) (*sim.Org, error) {
	created := false
	o, err := sim.OpenOrCreate(sim.Options{StatePath: sc.State}, func() (*org.Snapshot, error) {
		created = true
		return generate.Organization(generate.Options{Accounts: sc.Accounts, Seed: sc.Seed})
	})
	if err != nil {
		if errors.Is(err, org.ErrInvalidSnapshot) {
			return nil, BadInput(fmt.Errorf("%w (fix or remove the file; orgguard never overwrites a corrupt state)", err))
		}
		return nil, err
	}
	if created && notices != nil {
		fmt.Fprintf(notices, "orgguard: created a simulated organization of %d accounts (seed %d) in %s\n", sc.Accounts, sc.Seed, sc.State)
	}
	return o, nil
}

// Snapshot reads the organization: the snapshot file at path when given,
// else the configured backend.
func (a *App) Snapshot(ctx context.Context, path string) (*org.Snapshot, error) {
	start := time.Now()
	defer func() {
		a.o.Logger.Debug("read the organization", "from", path, "elapsed", time.Since(start).Round(time.Millisecond))
	}()
	if path != "" {
		a.status("reading %s…", path)
		s, err := org.ReadSnapshotFile(path)
		if err != nil {
			return nil, BadInput(err)
		}
		return s, nil
	}
	b, err := a.Backend(ctx)
	if err != nil {
		return nil, err
	}
	a.status("reading the organization from the %s backend…", a.cfg.Backend.Type)
	s, err := b.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the organization: %w", err)
	}
	if _, ok := b.(*awsorg.Backend); ok {
		// A whole read of AWS is worth keeping: the next plan starts from it.
		if st, err := a.existingStore(ctx); err == nil && st != nil {
			if err := rememberSnapshot(ctx, st, s); err != nil {
				fmt.Fprintf(a.o.Notices, "orgguard: the snapshot was not stored for later plans: %v\n", err)
			}
		}
	}
	return s, nil
}

// NoCalls is the reading of a backend that has made no call yet.
func NoCalls() org.Calls { return org.Calls{} }

// Calls reports the API calls the backend made since it was opened, when
// it counts them (the AWS backend): by API, with retries and throttles.
func (a *App) Calls() (org.Calls, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.backend.(org.CallCounter); ok {
		return c.Calls(), true
	}
	return org.Calls{}, false
}

// CallStats counts the AWS API calls of a read.
type CallStats = awsorg.Stats

// SnapshotCalls reports the AWS API calls the last snapshot took, when the
// backend counts them.
func (a *App) SnapshotCalls() (CallStats, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if sb, ok := a.backend.(interface{ LastStats() awsorg.Stats }); ok {
		return sb.LastStats(), true
	}
	return awsorg.Stats{}, false
}

// planner builds the planning pipeline from rules.
func (a *App) planner(r review.Rules) (*plan.Planner, error) {
	g, err := guard.Compile(r.Guardrails)
	if err != nil {
		return nil, BadInput(fmt.Errorf("guardrails configuration: %w", err))
	}
	cat, err := a.catalog()
	if err != nil {
		return nil, err
	}
	an, err := impact.NewAnalyzer(cat, impact.Options{Critical: r.Critical})
	if err != nil {
		return nil, BadInput(fmt.Errorf("impact configuration: %w", err))
	}
	return &plan.Planner{Guard: g, Analyzer: an, Quarantine: r.Quarantine}, nil
}

// DefaultRoundTimeout bounds one health-check round of an apply on AWS:
// its partial reads, retries included, and its probes. A round that cannot
// complete within it stops the apply, which rolls back.
const DefaultRoundTimeout = 2 * time.Minute

var _ apply.Parts = (*awsorg.Backend)(nil)

// engine is an apply engine with the prober the backend calls for.
type engine struct {
	*apply.Engine
	st      store.Store
	planner *plan.Planner
	pinned  review.Pinned
	// Probes says how probes run, for reports.
	Probes string
}

// engine opens the store (pinning the local rules on first use), the
// backend and the prober, and returns an engine over them.
func (a *App) engine(ctx context.Context) (*engine, error) {
	st, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	pinned, err := a.pinned(ctx, st, true)
	if err != nil {
		return nil, err
	}
	planner, err := a.planner(pinned.Rules)
	if err != nil {
		return nil, err
	}
	b, err := a.Backend(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := a.catalog()
	if err != nil {
		return nil, err
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return nil, err
	}
	ev := probe.NewEvaluator(cat.RCPSupported)
	o := apply.Options{Store: st, Backend: b, Planner: planner, Pinned: pinned, Evaluator: ev,
		Probes: a.cfg.Probes, Now: a.o.Now, Actor: actor, LockTTL: a.o.LockTTL, Progress: a.o.Progress}
	// An incident a failed apply or a recovery opens gets its notice
	// drafts in the same transaction, as the watcher's do.
	ns, err := a.noticeService(st)
	if err != nil {
		return nil, err
	}
	o.OnIncident = ns.OnOpen
	x := &engine{st: st, planner: planner, pinned: pinned}
	if ab, ok := b.(*awsorg.Backend); ok {
		// Health checks re-read only what the plan touches (a few dozen
		// calls a round instead of a whole read), within a bounded time.
		o.Parts, o.RoundTimeout = ab, DefaultRoundTimeout
		o.Fresh = func(ctx context.Context, s *org.Snapshot) {
			if err := rememberSnapshot(ctx, st, s); err != nil {
				fmt.Fprintf(a.o.Notices, "orgguard: the snapshot was not stored for later plans: %v\n", err)
			}
		}
	}
	aws := a.cfg.Backend.AWS
	switch _, isSim := b.(*sim.Org); {
	case isSim:
		o.Prober = &probe.Engine{Reader: b, Eval: ev}
		x.Probes = "engine probes on the simulated organization's live state"
	case a.cfg.Backend.Type == config.BackendAWS && isLoopbackURL(aws.Endpoint):
		// `orgguard sim serve`: no real accounts to sign in to; the engine
		// answers on the served organization's live state.
		o.Prober = &probe.Engine{Reader: b, Eval: ev}
		x.Probes = "engine probes on the served simulated organization (" + aws.Endpoint + ")"
	case a.cfg.Backend.Type == config.BackendAWS:
		p, err := awsprobe.New(ctx, awsprobe.Options{Profile: aws.Profile, Region: a.awsRegion(),
			EndpointURL: aws.Endpoint, RoleName: a.cfg.Probes.Role})
		if err != nil {
			return nil, fmt.Errorf("setting up the probes: %w", err)
		}
		o.Prober = p
		x.Probes = "probes in each sampled account as role " + a.cfg.Probes.Role + " (read calls, IAM simulator fallback)"
	default:
		x.Probes = "no prober for this backend: probes skipped (state and impact checks run)"
	}
	o.ProbeResults = a.observeProbes
	x.Engine = apply.New(o)
	return x, nil
}

// isLoopbackURL reports whether u is an http(s) URL on a loopback host.
func isLoopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false
	}
	h := p.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// awsRegion is the region of the AWS backend, chosen as the AWS CLI does:
// backend.aws.region when configured, else AWS_REGION, else
// AWS_DEFAULT_REGION; "" leaves it to the profile's region, else us-east-1.
func (a *App) awsRegion() string {
	if r := a.cfg.Backend.AWS.Region; r != "" {
		return r
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r := a.o.Getenv(k); r != "" {
			return r
		}
	}
	return ""
}
