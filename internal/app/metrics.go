package app

import (
	"context"
	"time"

	"github.com/orgguard/orgguard/internal/metrics"
	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/watch"
)

// Metrics returns the process's Prometheus metrics (created on first use):
// the store's tallies, the backend's AWS API calls, the probe results of
// this process's applies and the counts of the watcher running in it.
func (a *App) Metrics() *metrics.Metrics {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.metrics == nil {
		a.metrics = metrics.New(metrics.Options{
			Tally: func(ctx context.Context, since time.Time) (store.Tally, error) {
				st, err := a.Store(ctx)
				if err != nil {
					return store.Tally{}, err
				}
				return st.Tally(ctx, since)
			},
			Calls: a.Calls,
			Watch: a.watchStats,
			Now:   a.o.Now,
			Log:   a.o.Logger,
		})
	}
	return a.metrics
}

// watching records the watcher running in this process (nil: none), for
// the metrics.
func (a *App) watching(w *watch.Watcher) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.watcher = w
}

func (a *App) watchStats() (metrics.WatchStats, bool) {
	a.mu.Lock()
	w := a.watcher
	a.mu.Unlock()
	if w == nil {
		return metrics.WatchStats{}, false
	}
	s := w.Stats()
	return metrics.WatchStats{Reads: s.FastReads + s.Sweeps, Events: s.Events, Drifts: s.Drifts,
		IncidentsOpened: s.IncidentsOpened, ReadErrors: s.ReadErrors}, true
}

// observeProbes counts each probe result in the metrics, by action.
func (a *App) observeProbes(rs []probe.Result) {
	m := a.Metrics()
	for _, r := range rs {
		m.ObserveProbe(r.Check.Action, r.OK)
	}
}
