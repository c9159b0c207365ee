package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/orgguard/orgguard/internal/leader"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

// ErrTeamNeedsPostgres: team mode was asked for on an SQLite store.
var ErrTeamNeedsPostgres = errors.New("team mode needs PostgreSQL: SQLite is single-process; set store: to a postgres:// DSN")

// TeamOptions shape team mode: several replicas (orgguard serve --team,
// orgguard watch --team) on one PostgreSQL store, of which one — the
// leader — runs the watcher, the notice clock and the outbox sender.
type TeamOptions struct {
	Log *slog.Logger
	// Getenv reads the intake secret and the channels' secrets; nil =
	// the App's.
	Getenv func(string) string
	// Interval overrides watch.interval when positive.
	Interval time.Duration
	// Listen, when set, serves the event intake on this address while
	// this replica leads (followers do not listen: EventBridge retries,
	// and the polling catches what an event would have shown).
	Listen string
	// TTL and Period shape the lease (0: leader.DefaultTTL and
	// leader.DefaultPeriod).
	TTL, Period time.Duration
	// Holder names this replica in the lease; "" = host, pid and a
	// random part.
	Holder string
}

// TeamStatus is what a replica reports about leadership.
type TeamStatus = leader.Status

// Team is one replica in team mode. Make it with App.Team; Run it once.
type Team struct {
	a *App
	o TeamOptions
	e *leader.Elector
}

// Team checks that the store can be shared (PostgreSQL), opens it and
// returns the replica's elector and duties. On SQLite the result is
// ErrBadInput (ErrTeamNeedsPostgres).
func (a *App) Team(ctx context.Context, o TeamOptions) (*Team, error) {
	dsn, err := sqlstore.ParseDSN(a.storeDSN())
	if err != nil {
		return nil, BadInput(err)
	}
	if dsn.Driver != sqlstore.Postgres {
		return nil, BadInput(fmt.Errorf("%w (the store is %s)", ErrTeamNeedsPostgres, dsn))
	}
	if o.Log == nil {
		o.Log = a.o.Logger
	}
	if o.Getenv == nil {
		o.Getenv = a.o.Getenv
	}
	st, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	e, err := leader.New(leader.Options{Store: st, TTL: o.TTL, Period: o.Period, Holder: o.Holder, Log: o.Log})
	if err != nil {
		return nil, BadInput(err)
	}
	return &Team{a: a, o: o, e: e}, nil
}

// Status reports this replica's leadership.
func (t *Team) Status() TeamStatus { return t.e.Status() }

// Healthy returns nil while the elector's loop runs: it acts at least
// every period as a follower and every third of the lease as a leader,
// so a loop silent for two leases is stuck.
func (t *Team) Healthy() error {
	st := t.e.Status()
	last := st.Tick
	if last.IsZero() {
		last = st.Since
	}
	if last.IsZero() {
		return errors.New("the elector has not started")
	}
	if quiet := time.Since(last); quiet > 2*t.e.TTL() {
		return fmt.Errorf("the elector has been silent for %v", quiet.Round(time.Second))
	}
	return nil
}

// Run campaigns for leadership until ctx ends and runs the leader duties
// during each tenure (RunLeaderDuties). It returns nil when ctx ends, or
// an error that stops the replica (bad configuration).
func (t *Team) Run(ctx context.Context) error {
	return t.e.Run(ctx, func(ctx context.Context, fence store.Fence) error {
		return t.a.RunLeaderDuties(ctx, fence, LeaderDutiesOptions{Log: t.o.Log, Getenv: t.o.Getenv,
			Interval: t.o.Interval, Listen: t.o.Listen, Leading: t.e.Leading})
	})
}

// LeaderDutiesOptions shape RunLeaderDuties.
type LeaderDutiesOptions struct {
	Log      *slog.Logger
	Getenv   func(string) string
	Interval time.Duration
	Listen   string
	// Leading says whether this replica still surely leads; asked before
	// each message is sent.
	Leading func() error
}

// RunLeaderDuties runs what only the leader may run — the watcher
// (resuming from its stored state and its interrupted remediations), the
// notice clock and the outbox sender — until ctx ends, with every write
// they make through the store fenced by fence: once the tenure is over
// the store refuses them (store.ErrFenced). It returns nil when ctx ends;
// a configuration error as ErrBadInput; any other failure wrapped in
// leader.ErrStepDown, so that the elector gives the lease up and tries
// again later.
func (a *App) RunLeaderDuties(ctx context.Context, fence store.Fence, o LeaderDutiesOptions) error {
	if o.Log == nil {
		o.Log = a.o.Logger
	}
	log := o.Log.With("epoch", fence.Epoch)
	v := *a
	v.fence = &fence
	start := time.Now()
	settled := make(chan struct{})
	sctx, stopSettling := context.WithCancel(ctx)
	go func() {
		defer close(settled)
		v.settleInterrupted(sctx, log, v.settlePeriod())
	}()
	defer func() { stopSettling(); <-settled }()
	err := v.Watch(ctx, WatchOptions{Interval: o.Interval, Listen: o.Listen, Log: log, Getenv: o.Getenv, Notify: true, Leading: o.Leading,
		Started: func() {
			log.Info("leader duties running", "lease", fence.Name, "took", time.Since(start).Round(time.Millisecond))
		}})
	switch {
	case err == nil, ctx.Err() != nil:
		return nil
	case errors.Is(err, ErrBadInput), errors.Is(err, store.ErrFenced):
		return err
	}
	return fmt.Errorf("running the leader duties: %w (%w)", err, leader.ErrStepDown)
}

// SettlePeriod is how often, at most, the leader looks for applies that
// a replica left unfinished.
const SettlePeriod = 30 * time.Second

// settlePeriod is SettlePeriod, or the organization lock's lifetime when
// shorter: an interrupted apply becomes settleable when its lock expires,
// so looking more often than that finds nothing new.
func (a *App) settlePeriod() time.Duration {
	if a.o.LockTTL > 0 && a.o.LockTTL < SettlePeriod {
		return a.o.LockTTL
	}
	return SettlePeriod
}

// settleInterrupted settles, until ctx ends, the applies a replica left
// unfinished (killed mid-apply, its machine gone): once their organization
// lock has expired — nobody heartbeats it any more — the leader runs the
// same recovery as `orgguard recover`, which brings the organization
// exactly before or after each step and records it. An apply still
// running elsewhere holds the lock, and is left alone.
func (a *App) settleInterrupted(ctx context.Context, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.settleOnce(ctx, log); err != nil && ctx.Err() == nil {
			log.Warn("settling interrupted applies", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// settleOnce recovers the unfinished changes when there are any and no
// running apply holds the organization lock.
func (a *App) settleOnce(ctx context.Context, log *slog.Logger) error {
	st, err := a.Store(ctx)
	if err != nil {
		return err
	}
	chs, err := st.UnfinishedChanges(ctx)
	if err != nil || len(chs) == 0 {
		return err
	}
	recs, err := a.Recover(ctx)
	if errors.Is(err, ErrRefused) {
		// Another apply holds the lock: it runs, it is not interrupted.
		return nil
	}
	for _, r := range recs {
		log.Info("settled an interrupted apply", "change", r.ChangeID, "plan", r.PlanID, "state", r.State)
	}
	return err
}
