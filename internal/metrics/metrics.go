// Package metrics exports orgguard's Prometheus metrics on a registry of
// its own (never the client library's global one).
//
// Two kinds of series: those counted from the store at scrape time (plans
// by verdict, changes by state, incidents by severity, the outbox, the
// incidents' time to detect, notify and recover) read the same on every
// replica sharing the store, so aggregate them with max, not sum; those
// counted by this process (AWS API calls, throttles and retries, probe
// results, the watcher's reads and drift events) are per process, so sum
// them.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/store"
)

// Window is how far back the time-to histograms look: the status page's
// history, 90 days.
const Window = 90 * 24 * time.Hour

// ClockBuckets are the upper bounds, in seconds, of the time-to histograms:
// from seconds (an automated detection) to hours; 600 s is the first-notice
// deadline.
var clockBuckets = []float64{5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600}

// WatchStats is what the metrics read of a running watcher.
type WatchStats struct {
	Reads, Events, Drifts, IncidentsOpened, ReadErrors int
}

// Options are where the metrics come from. Nil functions export nothing.
type Options struct {
	// Tally counts the store's records (store.Tallies).
	Tally func(ctx context.Context, since time.Time) (store.Tally, error)
	// Calls returns the backend's AWS API calls since it was opened; false
	// when the backend does not count them (the simulated organization).
	Calls func() (org.Calls, bool)
	// Watch returns the running watcher's counts; false when none runs here.
	Watch func() (WatchStats, bool)
	Now   func() time.Time
	Log   *slog.Logger
	// ScrapeTimeout bounds the store reads of one scrape; 0 = 5 s.
	ScrapeTimeout time.Duration
}

// Metrics is a registry with orgguard's collectors.
type Metrics struct {
	reg    *prometheus.Registry
	probes *prometheus.CounterVec
}

// New returns the metrics, with Go runtime and process collectors.
func New(o Options) *Metrics {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ScrapeTimeout <= 0 {
		o.ScrapeTimeout = 5 * time.Second
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgguard_probe_results_total",
			Help: "Health-check probe results run by this process, by probe and result (pass, fail).",
		}, []string{"probe", "result"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.probes,
		&collector{o: o},
	)
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// Registry is the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveProbe counts one probe result.
func (m *Metrics) ObserveProbe(probe string, ok bool) {
	if m == nil {
		return
	}
	result := "fail"
	if ok {
		result = "pass"
	}
	m.probes.WithLabelValues(probe, result).Inc()
}

var (
	descPlans = prometheus.NewDesc("orgguard_plans_total",
		"Plans recorded in the store, by verdict.", []string{"verdict"}, nil)
	descChanges = prometheus.NewDesc("orgguard_changes_total",
		"Applies, rollbacks and recoveries recorded in the store, by state (applied, rolled-back, failed, running).", []string{"state"}, nil)
	descRollbacks = prometheus.NewDesc("orgguard_rollbacks_total",
		"Changes that ended rolled back.", nil, nil)
	descIncidents = prometheus.NewDesc("orgguard_incidents_total",
		"Incidents recorded in the store, by severity.", []string{"severity"}, nil)
	descOutbox = prometheus.NewDesc("orgguard_outbox_messages",
		"Outbox messages by state; pending is the outbox depth.", []string{"state"}, nil)
	descTTD = prometheus.NewDesc("orgguard_time_to_detect_seconds",
		"From an incident's impact start to its detection, incidents of the last 90 days.", []string{"severity"}, nil)
	descTTN = prometheus.NewDesc("orgguard_time_to_notify_seconds",
		"From an incident's impact start to its first published notice, incidents of the last 90 days.", []string{"severity"}, nil)
	descTTR = prometheus.NewDesc("orgguard_time_to_recover_seconds",
		"From an incident's impact start to its mitigation (else resolution), incidents of the last 90 days.", []string{"severity"}, nil)
	descScrapeErr = prometheus.NewDesc("orgguard_store_scrape_error",
		"1 when the last scrape could not read the store.", nil, nil)
	descCalls = prometheus.NewDesc("orgguard_aws_api_calls_total",
		"AWS API calls made by this process, by API, retries not counted.", []string{"api"}, nil)
	descRetries = prometheus.NewDesc("orgguard_aws_api_retries_total",
		"AWS API call retries made by this process.", nil, nil)
	descThrottles = prometheus.NewDesc("orgguard_aws_api_throttles_total",
		"AWS API calls answered with a throttling error, in this process.", nil, nil)
	descWatchReads = prometheus.NewDesc("orgguard_watch_reads_total",
		"Organization reads by the watcher running in this process.", nil, nil)
	descWatchEvents = prometheus.NewDesc("orgguard_watch_events_total",
		"Organizations events received by the watcher running in this process.", nil, nil)
	descDrift = prometheus.NewDesc("orgguard_drift_events_total",
		"Changes made outside orgguard that the watcher in this process detected.", nil, nil)
	descWatchIncidents = prometheus.NewDesc("orgguard_watch_incidents_opened_total",
		"Incidents the watcher in this process opened.", nil, nil)
	descWatchErrors = prometheus.NewDesc("orgguard_watch_read_errors_total",
		"Watcher reads of the organization that failed, in this process.", nil, nil)
)

// collector reads the store, the backend and the watcher at scrape time.
type collector struct{ o Options }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPlans, descChanges, descRollbacks, descIncidents, descOutbox,
		descTTD, descTTN, descTTR, descScrapeErr, descCalls, descRetries, descThrottles,
		descWatchReads, descWatchEvents, descDrift, descWatchIncidents, descWatchErrors} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.o.Tally != nil {
		c.collectStore(ch)
	}
	if c.o.Calls != nil {
		if calls, ok := c.o.Calls(); ok {
			for _, api := range sortedKeys(calls.ByAPI) {
				ch <- prometheus.MustNewConstMetric(descCalls, prometheus.CounterValue, float64(calls.ByAPI[api]), api)
			}
			ch <- prometheus.MustNewConstMetric(descRetries, prometheus.CounterValue, float64(calls.Retries))
			ch <- prometheus.MustNewConstMetric(descThrottles, prometheus.CounterValue, float64(calls.Throttles))
		}
	}
	if c.o.Watch != nil {
		if w, ok := c.o.Watch(); ok {
			for _, m := range []struct {
				d *prometheus.Desc
				v int
			}{{descWatchReads, w.Reads}, {descWatchEvents, w.Events}, {descDrift, w.Drifts},
				{descWatchIncidents, w.IncidentsOpened}, {descWatchErrors, w.ReadErrors}} {
				ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v))
			}
		}
	}
}

func (c *collector) collectStore(ch chan<- prometheus.Metric) {
	// Collect has no context of its own: the scrape's store reads get a
	// bounded one.
	ctx, cancel := context.WithTimeout(context.Background(), c.o.ScrapeTimeout)
	defer cancel()
	t, err := c.o.Tally(ctx, c.o.Now().Add(-Window))
	if err != nil {
		c.o.Log.Warn("metrics: reading the store", "err", err)
		ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrapeErr, prometheus.GaugeValue, 0)
	for _, v := range sortedKeys(t.PlansByVerdict) {
		ch <- prometheus.MustNewConstMetric(descPlans, prometheus.CounterValue, float64(t.PlansByVerdict[v]), v)
	}
	for _, s := range sortedKeys(t.ChangesByState) {
		ch <- prometheus.MustNewConstMetric(descChanges, prometheus.CounterValue, float64(t.ChangesByState[s]), string(s))
	}
	ch <- prometheus.MustNewConstMetric(descRollbacks, prometheus.CounterValue, float64(t.ChangesByState[store.ChangeRolledBack]))
	for _, s := range sortedKeys(t.IncidentsBySeverity) {
		ch <- prometheus.MustNewConstMetric(descIncidents, prometheus.CounterValue, float64(t.IncidentsBySeverity[s]), string(s))
	}
	// Every state is exported, zero included, so that an empty outbox
	// reads 0 rather than nothing.
	for _, s := range []store.OutboxState{store.OutboxPending, store.OutboxSent, store.OutboxDead} {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(t.OutboxByState[s]), string(s))
	}
	for _, h := range []struct {
		d   *prometheus.Desc
		end func(store.IncidentClock) time.Time
	}{
		{descTTD, func(c store.IncidentClock) time.Time { return c.DetectedAt }},
		{descTTN, func(c store.IncidentClock) time.Time { return c.FirstNoticeAt }},
		{descTTR, func(c store.IncidentClock) time.Time {
			if !c.MitigatedAt.IsZero() {
				return c.MitigatedAt
			}
			return c.ResolvedAt
		}},
	} {
		for sev, hist := range histograms(t.Clocks, h.end) {
			ch <- prometheus.MustNewConstHistogram(h.d, hist.count, hist.sum, hist.buckets, string(sev))
		}
	}
}

type histogram struct {
	count   uint64
	sum     float64
	buckets map[float64]uint64 // cumulative
}

// histograms groups the durations from each clock's start to end(clock) by
// severity; clocks that have not reached end are left out.
func histograms(clocks []store.IncidentClock, end func(store.IncidentClock) time.Time) map[store.Severity]*histogram {
	out := map[store.Severity]*histogram{}
	for _, c := range clocks {
		e, s := end(c), c.Start()
		if e.IsZero() || s.IsZero() {
			continue
		}
		d := max(e.Sub(s).Seconds(), 0)
		h := out[c.Severity]
		if h == nil {
			h = &histogram{buckets: make(map[float64]uint64, len(clockBuckets))}
			for _, b := range clockBuckets {
				h.buckets[b] = 0
			}
			out[c.Severity] = h
		}
		h.count++
		h.sum += d
		for _, b := range clockBuckets {
			if d <= b {
				h.buckets[b]++
			}
		}
	}
	return out
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
