// Package watch notices every change made to the organization outside
// orgguard, judges it like a plan (its exact blast radius with the impact
// engine, then configurable rules) and opens incidents for critical drift.
//
// Reads are tiered so that watching is cheap on real AWS: the surfaces
// where one change reaches many accounts (the root and its policy types,
// the first-level OUs and what is attached to them, the policy list and
// every policy's content) are re-read every interval; the rest (every OU,
// account and deeper attachment) is swept in the background, a parent or a
// policy at a time, paced to a configured period and a call budget. CloudTrail
// events delivered by EventBridge to the intake (Handler) trigger an
// immediate refresh of the cheap surfaces and of what the event names.
//
// Changes recorded in orgguard's own change journal are not drift. The
// last known organization is kept in the store together with the
// incidents it led to, in one transaction, so a watcher killed at any
// moment restarts where it was and opens no incident twice.
package watch

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/store"
)

// Actor is who the watcher is in the audit log and incident timelines.
const Actor = "orgguard-watch"

// Options are what a Watcher needs.
type Options struct {
	Config   Config
	Reader   Reader
	Store    store.Store
	Analyzer *impact.Analyzer
	// Baseline reads the whole organization when the store holds no state
	// yet (the backend's Snapshot).
	Baseline func(ctx context.Context) (*org.Snapshot, error)
	// Protected are the guardrails' protected targets (IDs, names, paths).
	Protected []string
	// Name keys the state in the store; "" = "default".
	Name       string
	Remediator Remediator // nil: no remediation
	Now        func() time.Time
	Log        *slog.Logger

	// OnOpen runs in the transaction that opens an incident (notices).
	OnOpen func(ctx context.Context, tx store.Tx, in store.Incident) error
	// Started, when set, is called once Run has loaded the stored state
	// (or read the baseline) and resumed interrupted remediations.
	Started func()
}

// Watcher watches one organization. Run it once; Notify and Stats may be
// called from other goroutines.
type Watcher struct {
	o      Options
	rules  []Rule
	inc    *incident.Service
	events chan Event

	// Owned by Run's goroutine.
	known    *org.Snapshot
	knownX   *org.Index
	gen      int64
	readAt   time.Time // the last successful read of the cheap tier
	sw       *sweep
	swNext   time.Time
	swCalls  int // calls of the last complete sweep (0: not measured yet)
	interval time.Duration
	remWG    sync.WaitGroup

	mu    sync.Mutex
	stats Stats
	calls []callSample
}

// Stats is what the watcher reports.
type Stats struct {
	Generation        int64         `json:"generation"`
	Fingerprint       string        `json:"fingerprint"`
	Accounts          int           `json:"accounts"`
	FastReads         int           `json:"fastReads"`
	LastFastCalls     int64         `json:"lastFastCalls"`
	LastFastDuration  time.Duration `json:"lastFastDuration"`
	EffectiveInterval time.Duration `json:"effectiveInterval"`
	Sweeps            int           `json:"sweeps"`
	LastSweepCalls    int64         `json:"lastSweepCalls"`
	LastSweepDuration time.Duration `json:"lastSweepDuration"`
	SweepProgress     string        `json:"sweepProgress"`
	Events            int           `json:"events"`
	Drifts            int           `json:"drifts"`
	OwnChanges        int           `json:"ownChanges"`
	IncidentsOpened   int           `json:"incidentsOpened"`
	ReadErrors        int           `json:"readErrors"`
	LastError         string        `json:"lastError,omitempty"`
	Calls             int64         `json:"calls"`
	Attempts          int64         `json:"attempts"`
	CallsPerMinute    float64       `json:"callsPerMinute"` // over the last minute
	CallBudget        int           `json:"callBudget"`
}

type callSample struct {
	at    time.Time
	calls int64
}

// New returns a Watcher.
func New(o Options) (*Watcher, error) {
	if o.Reader == nil || o.Store == nil || o.Analyzer == nil || o.Baseline == nil {
		return nil, errors.New("creating a watcher: reader, store, analyzer and baseline are required")
	}
	if err := o.Config.Validate(); err != nil {
		return nil, fmt.Errorf("creating a watcher: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Name == "" {
		o.Name = "default"
	}
	w := &Watcher{o: o, rules: o.Config.EffectiveRules(), events: make(chan Event, 1024), interval: o.Config.Interval}
	w.inc = &incident.Service{Store: o.Store, Now: o.Now, OnOpen: o.OnOpen}
	w.stats.CallBudget = o.Config.CallBudget
	return w, nil
}

// Notify queues an event for an immediate refresh. It never blocks: when
// the queue is full the event is dropped (the next poll catches the
// change) and false is returned.
func (w *Watcher) Notify(ev Event) bool {
	select {
	case w.events <- ev:
		return true
	default:
		return false
	}
}

// Stats returns the current figures.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Watcher) update(f func(s *Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

func (w *Watcher) callCount() (int64, int64) {
	if c, ok := w.o.Reader.(CallCounter); ok {
		return c.Calls()
	}
	return 0, 0
}

// sampleCalls records the call counter and updates the per-minute rate.
func (w *Watcher) sampleCalls(now time.Time) {
	calls, attempts := w.callCount()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, callSample{now, calls})
	cut := 0
	for cut < len(w.calls)-1 && now.Sub(w.calls[cut+1].at) >= time.Minute {
		cut++
	}
	w.calls = w.calls[cut:]
	first := w.calls[0]
	if span := now.Sub(first.at); span > 0 {
		w.stats.CallsPerMinute = float64(calls-first.calls) / span.Minutes()
	}
	w.stats.Calls, w.stats.Attempts = calls, attempts
}

// Run watches until ctx ends. It returns nil then; any other error means
// the watcher could not start (no baseline, no store).
func (w *Watcher) Run(ctx context.Context) error {
	if err := w.load(ctx); err != nil {
		return err
	}
	defer w.remWG.Wait()
	if w.o.Started != nil {
		w.o.Started()
	}
	w.cycle(ctx, "start", nil)
	tick := time.NewTimer(w.interval)
	defer tick.Stop()
	report := time.NewTicker(time.Minute)
	defer report.Stop()
	for {
		var sweepC <-chan time.Time
		if d := w.swNext.Sub(w.o.Now()); d <= 0 {
			sweepC = closedChan
		} else {
			t := time.NewTimer(d)
			sweepC = t.C
			defer t.Stop()
		}
		select {
		case <-ctx.Done():
			return nil
		case ev := <-w.events:
			evs := []Event{ev}
			for more := true; more; {
				select {
				case e := <-w.events:
					evs = append(evs, e)
				default:
					more = false
				}
			}
			w.update(func(s *Stats) { s.Events += len(evs) })
			w.cycle(ctx, "event", evs)
		case <-tick.C:
			w.cycle(ctx, "poll", nil)
			tick.Reset(w.interval)
		case <-sweepC:
			w.sweepStep(ctx)
		case <-report.C:
			st := w.Stats()
			w.o.Log.Info("watching", "calls_per_minute", fmt.Sprintf("%.0f", st.CallsPerMinute), "budget", st.CallBudget,
				"interval", st.EffectiveInterval, "fast_calls", st.LastFastCalls, "fast_duration", st.LastFastDuration.Round(time.Millisecond),
				"sweep", st.SweepProgress, "last_sweep_calls", st.LastSweepCalls, "last_sweep_duration", st.LastSweepDuration.Round(time.Second),
				"drifts", st.Drifts, "incidents", st.IncidentsOpened, "read_errors", st.ReadErrors)
		}
	}
}

var closedChan = func() chan time.Time { c := make(chan time.Time); close(c); return c }()

// stateEnvelope is the stored state.
type stateEnvelope struct {
	Generation int64           `json:"generation"`
	ReadAt     time.Time       `json:"readAt"`
	Snapshot   json.RawMessage `json:"snapshot"`
}

func (w *Watcher) load(ctx context.Context) error {
	ws, err := w.o.Store.WatchState(ctx, w.o.Name)
	switch {
	case err == nil:
		env, snap, err := decodeState(ws.Body)
		if err != nil {
			return fmt.Errorf("reading the watcher's state: %w", err)
		}
		w.gen, w.readAt = env.Generation, env.ReadAt
		w.setKnown(snap)
		w.o.Log.Info("resumed from the stored state", "generation", w.gen, "fingerprint", snap.Fingerprint, "read_at", w.readAt)
	case errors.Is(err, store.ErrNotFound):
		at := w.o.Now()
		snap, err := w.o.Baseline(ctx)
		if err != nil {
			return fmt.Errorf("reading the organization for the watcher's baseline: %w", err)
		}
		w.readAt = at
		w.setKnown(snap)
		if err := w.o.Store.WithTx(ctx, func(tx store.Tx) error { return w.save(ctx, tx, snap, 0, at) }); err != nil {
			return err
		}
		w.o.Log.Info("baseline read", "accounts", len(snap.Accounts), "fingerprint", snap.Fingerprint)
	default:
		return err
	}
	w.sampleCalls(w.o.Now())
	w.startSweep()
	return w.resume(ctx)
}

func (w *Watcher) setKnown(s *org.Snapshot) {
	x, err := org.NewIndex(s)
	if err != nil {
		panic(fmt.Sprintf("indexing a validated snapshot: %v", err)) // finish and ParseSnapshot validate
	}
	w.known, w.knownX = s, x
	w.update(func(st *Stats) { st.Generation, st.Fingerprint, st.Accounts = w.gen, s.Fingerprint, len(s.Accounts) })
}

func (w *Watcher) save(ctx context.Context, tx store.Tx, s *org.Snapshot, gen int64, readAt time.Time) error {
	body, err := encodeState(s, gen, readAt)
	if err != nil {
		return err
	}
	return tx.SaveWatchState(ctx, store.WatchState{Name: w.o.Name, Fingerprint: s.Fingerprint, UpdatedAt: w.o.Now(), Body: body})
}

func encodeState(s *org.Snapshot, gen int64, readAt time.Time) ([]byte, error) {
	raw, err := org.MarshalSnapshotCompact(s.Clone())
	if err != nil {
		return nil, err
	}
	env, err := json.Marshal(stateEnvelope{Generation: gen, ReadAt: readAt.UTC(), Snapshot: raw})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(env)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// KnownState returns the organization a stored watcher state (the body
// of store.WatchState) knows, and its generation.
func KnownState(body []byte) (*org.Snapshot, int64, error) {
	env, snap, err := decodeState(body)
	if err != nil {
		return nil, 0, fmt.Errorf("reading the watcher's state: %w", err)
	}
	return snap, env.Generation, nil
}

func decodeState(body []byte) (stateEnvelope, *org.Snapshot, error) {
	var env stateEnvelope
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return env, nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return env, nil, err
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return env, nil, err
	}
	snap, err := org.ParseSnapshot(env.Snapshot, "watch state")
	return env, snap, err
}

// cycle reads the cheap tier (and what events name) and commits the result.
func (w *Watcher) cycle(ctx context.Context, trigger string, evs []Event) {
	start := w.o.Now()
	calls0, _ := w.callCount()
	next := w.known
	var touched []string
	var err error
	for _, ev := range evs {
		if ev.ErrorMsg != "" {
			continue // a refused call changed nothing
		}
		var t []string
		if next, t, err = refreshEvent(ctx, w.o.Reader, w.knownX, next, ev); err != nil {
			break
		}
		touched = append(touched, t...)
	}
	if err == nil {
		next, err = readFast(ctx, w.o.Reader, next)
	}
	calls1, _ := w.callCount()
	w.sampleCalls(w.o.Now())
	if err != nil {
		if ctx.Err() == nil {
			w.o.Log.Warn("reading the organization failed; the next read retries", "trigger", trigger, "error", err)
			w.update(func(s *Stats) { s.ReadErrors++; s.LastError = err.Error() })
		}
		return
	}
	if w.sw != nil {
		for _, id := range touched {
			w.sw.touched[id] = true
		}
	}
	cost := calls1 - calls0
	w.stretch(cost)
	w.update(func(s *Stats) {
		s.FastReads++
		s.LastFastCalls, s.LastFastDuration = cost, w.o.Now().Sub(start)
	})
	var evTime time.Time
	for _, ev := range evs {
		if !ev.Time.IsZero() && (evTime.IsZero() || ev.Time.Before(evTime)) {
			evTime = ev.Time
		}
	}
	w.commit(ctx, next, trigger, start, evTime, evs)
}

// stretch lengthens the interval when one cheap read costs more than the
// budget allows at the configured interval (leaving a tenth for the sweep).
func (w *Watcher) stretch(cost int64) {
	iv := w.o.Config.Interval
	if cost > 0 {
		perMin := float64(w.o.Config.CallBudget) * 0.9
		if need := time.Duration(float64(cost) / perMin * float64(time.Minute)); need > iv {
			iv = need
		}
	}
	if iv != w.interval {
		w.o.Log.Warn("the cheap tier does not fit the call budget at the configured interval; polling less often",
			"interval", iv, "calls_per_read", cost, "budget_per_minute", w.o.Config.CallBudget)
	}
	w.interval = iv
	w.update(func(s *Stats) { s.EffectiveInterval = iv })
}

func (w *Watcher) startSweep() {
	calls, _ := w.callCount()
	w.sw = newSweep(w.known, w.o.Now(), calls)
	w.swNext = w.o.Now()
}

// sweepRate is the sweep's pace in calls per second: a sweep per period,
// within what the budget leaves after the cheap tier.
func (w *Watcher) sweepRate() float64 {
	est := w.swCalls
	if est == 0 {
		est = estimateSweepCalls(w.known)
	}
	rate := float64(est) / w.o.Config.SweepPeriod.Seconds()
	st := w.Stats()
	fastPerMin := float64(st.LastFastCalls) * float64(time.Minute) / float64(w.interval)
	left := (float64(w.o.Config.CallBudget) - fastPerMin) / 60
	left = max(left, float64(w.o.Config.CallBudget)/600) // the sweep always gets a tenth
	return min(max(rate, 0.01), left)
}

func (w *Watcher) sweepStep(ctx context.Context) {
	if w.sw == nil {
		w.startSweep()
	}
	c0, _ := w.callCount()
	err := w.sw.step(ctx, w.o.Reader)
	c1, _ := w.callCount()
	cost := max(c1-c0, 1)
	w.swNext = w.o.Now().Add(time.Duration(float64(cost) / w.sweepRate() * float64(time.Second)))
	if err != nil {
		if ctx.Err() == nil {
			w.o.Log.Warn("sweep step failed; retrying it", "error", err)
			w.update(func(s *Stats) { s.ReadErrors++; s.LastError = err.Error() })
		}
		return
	}
	w.update(func(s *Stats) {
		s.SweepProgress = fmt.Sprintf("%d parents and %d policies to go", len(w.sw.queue), len(w.sw.policies))
	})
	if !w.sw.done() {
		return
	}
	start := w.o.Now()
	next, err := w.sw.merge(ctx, w.o.Reader, w.known)
	if err != nil {
		if ctx.Err() == nil {
			w.o.Log.Warn("finishing a sweep failed; starting over", "error", err)
			w.update(func(s *Stats) { s.ReadErrors++; s.LastError = err.Error() })
		}
		w.startSweep()
		return
	}
	c2, _ := w.callCount()
	total := c2 - w.sw.calls0
	w.swCalls = int(total)
	dur := start.Sub(w.sw.started)
	w.update(func(s *Stats) { s.Sweeps++; s.LastSweepCalls, s.LastSweepDuration = total, dur })
	w.o.Log.Info("sweep done", "calls", total, "duration", dur.Round(time.Second))
	windowStart := w.sw.started
	w.startSweep()
	w.swNext = w.o.Now().Add(time.Duration(float64(total) / w.sweepRate() * float64(time.Second) / 10))
	w.commitWindow(ctx, next, "sweep", start, windowStart)
}

// commit judges the difference between the known state and next.
func (w *Watcher) commit(ctx context.Context, next *org.Snapshot, trigger string, readAt, eventTime time.Time, evs []Event) {
	start := w.readAt
	if !eventTime.IsZero() {
		start = eventTime
	}
	w.commitAt(ctx, next, trigger, readAt, start, !eventTime.IsZero(), evs)
}

func (w *Watcher) commitWindow(ctx context.Context, next *org.Snapshot, trigger string, readAt, windowStart time.Time) {
	w.commitAt(ctx, next, trigger, readAt, windowStart, false, nil)
}

func (w *Watcher) commitAt(ctx context.Context, next *org.Snapshot, trigger string, readAt, impactStart time.Time, exact bool, evs []Event) {
	if next.Fingerprint == w.known.Fingerprint {
		if trigger != "sweep" {
			w.readAt = readAt
		}
		return
	}
	nx, err := org.NewIndex(next)
	if err != nil {
		w.o.Log.Error("indexing the organization read", "error", err)
		return
	}
	prevX := w.knownX
	changes := org.Diff(prevX, nx)
	lookback := w.o.Config.SweepPeriod*2 + 10*w.o.Config.Interval + 5*time.Minute
	sigs, err := ownChanges(ctx, w.o.Store, w.o.Now().Add(-lookback))
	if err != nil {
		w.o.Log.Warn("reading the change journal failed; judging every change as drift", "error", err)
	}
	var foreign []org.Change
	own := 0
	for _, c := range changes {
		if isOwn(sigs, c) {
			own++
		} else {
			foreign = append(foreign, c)
		}
	}
	gen := w.gen + 1
	var j *Judgement
	if len(foreign) > 0 {
		im, err := w.o.Analyzer.Compute(w.known, next)
		if err != nil {
			w.o.Log.Error("computing the blast radius of drift", "error", err)
			return
		}
		j = &Judgement{Changes: foreign, Impact: im.Report}
		j.Findings = judge(w.rules, w.o.Protected, w.knownX, nx, foreign, &im.Report)
	}
	var opened store.Incident
	created := false
	var top *Finding
	var rem *Remediation
	if j != nil && len(j.Findings) > 0 && j.Findings[0].Remediate && w.o.Remediator != nil {
		ops, not := inverse(prevX, nx, foreign)
		rem = &Remediation{Rule: j.Findings[0].Rule, Operations: ops, NotUndone: not}
	}
	err = w.o.Store.WithTx(ctx, func(tx store.Tx) error {
		created = false
		if j != nil {
			detail := map[string]any{"trigger": trigger, "from": w.known.Fingerprint, "to": next.Fingerprint,
				"changes": changeStrings(foreign), "ownChanges": own, "findings": j.Findings,
				"accountsAffected": j.Impact.AccountsAffected}
			if err := audit(ctx, tx, "watch.drift", next.Fingerprint, detail); err != nil {
				return err
			}
			if len(j.Findings) > 0 && AtLeast(j.Findings[0].Severity, w.o.Config.IncidentSeverity) {
				top = &j.Findings[0]
				spec := w.spec(j, top, gen, nx, impactStart, readAt, exact, evs)
				in, c, err := w.inc.Open(ctx, tx, spec)
				if err != nil {
					return err
				}
				opened, created = in, c
				if c {
					if err := audit(ctx, tx, "incident.opened", in.ID, map[string]any{"severity": in.Severity, "title": in.Title, "rule": in.Rule, "source": in.Source}); err != nil {
						return err
					}
					if rem != nil {
						// Recorded with the incident: a watcher killed before
						// the remediation ran resumes it at its restart.
						rem.Incident = in
						rem.Description = fmt.Sprintf("automatic remediation of incident %s, allowed by watch rule %q", in.ID, rem.Rule)
						msg := fmt.Sprintf("automatic remediation pending (allowed by rule %q): %d operation(s)", rem.Rule, len(rem.Operations))
						if err := addRemEntry(ctx, tx, in.ID, msg, rem.record(RemPending, nil)); err != nil {
							return err
						}
					}
				}
			}
		}
		return w.save(ctx, tx, next, gen, readAt)
	})
	if err != nil {
		if ctx.Err() == nil {
			w.o.Log.Error("recording drift failed; it will be judged again", "error", err)
		}
		return
	}
	w.gen = gen
	if trigger != "sweep" {
		w.readAt = readAt
	}
	w.setKnown(next)
	w.update(func(s *Stats) {
		s.OwnChanges += own
		if j != nil {
			s.Drifts++
		}
		if created {
			s.IncidentsOpened++
		}
	})
	if j == nil {
		w.o.Log.Info("own changes seen", "changes", own, "trigger", trigger)
		return
	}
	w.o.Log.Warn("drift", "trigger", trigger, "changes", len(foreign), "severity", j.Severity(),
		"accounts_affected", j.Impact.AccountsAffected, "incident", opened.ID, "new", created)
	if created && rem != nil {
		w.startRemediation(ctx, *rem)
	}
}

func (w *Watcher) startRemediation(ctx context.Context, rem Remediation) {
	w.remWG.Add(1)
	go func() {
		defer w.remWG.Done()
		w.remediate(context.WithoutCancel(ctx), rem)
	}()
}

func (r Remediation) record(state string, res *RemediationResult) remRecord {
	return remRecord{State: state, Rule: r.Rule, Operations: r.Operations, NotUndone: r.NotUndone, Description: r.Description, Result: res}
}

func addRemEntry(ctx context.Context, tx store.Tx, id, msg string, rec remRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: id, Kind: incident.KindRemediation, Actor: Actor, Message: msg, Detail: raw})
	return err
}

// resume restarts the remediations that were pending or running when the
// watcher stopped: on every active drift incident not mitigated yet whose
// last remediation entry is pending or started. A remediation whose rule
// no longer remediates (or a watcher without a remediator) is recorded as
// abandoned, and the incident stays open for a person.
func (w *Watcher) resume(ctx context.Context) error {
	ins, err := w.o.Store.ListIncidents(ctx, store.IncidentFilter{Active: true})
	if err != nil {
		return fmt.Errorf("listing open incidents for interrupted remediations: %w", err)
	}
	for _, in := range ins {
		if in.Source != store.SourceDrift || !in.MitigatedAt.IsZero() {
			continue
		}
		tl, err := w.o.Store.IncidentTimeline(ctx, in.ID)
		if err != nil {
			return fmt.Errorf("reading the timeline of incident %s: %w", in.ID, err)
		}
		var last *remRecord
		for _, ev := range tl {
			switch ev.Kind {
			case incident.KindRemediation:
				var rec remRecord
				if json.Unmarshal(ev.Detail, &rec) == nil && rec.State != "" {
					last = &rec
				}
			case incident.KindMitigated, incident.KindResolved:
				last = nil
			}
		}
		if last == nil || (last.State != RemPending && last.State != RemStarted) {
			continue
		}
		rem := Remediation{Incident: in, Rule: last.Rule, Operations: last.Operations, NotUndone: last.NotUndone,
			Description: last.Description, Resumed: true}
		still := false
		for _, r := range w.rules {
			still = still || (r.Name == rem.Rule && r.Remediate)
		}
		if !still || w.o.Remediator == nil {
			msg := fmt.Sprintf("automatic remediation %s when the watcher stopped, not resumed: rule %q no longer remediates; the incident stays open", last.State, rem.Rule)
			if err := w.o.Store.WithTx(ctx, func(tx store.Tx) error {
				return addRemEntry(ctx, tx, in.ID, msg, rem.record(RemAbandoned, nil))
			}); err != nil {
				return err
			}
			w.o.Log.Warn("interrupted remediation abandoned", "incident", in.ID, "rule", rem.Rule)
			continue
		}
		w.o.Log.Warn("resuming an interrupted remediation", "incident", in.ID, "rule", rem.Rule, "was", last.State)
		w.startRemediation(ctx, rem)
	}
	return nil
}

func changeStrings(cs []org.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.String()
	}
	return out
}

// spec describes the incident for a judged drift.
func (w *Watcher) spec(j *Judgement, top *Finding, gen int64, nx *org.Index, impactStart, readAt time.Time, exact bool, evs []Event) incident.Spec {
	cs := changeStrings(j.Changes)
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|%s|%s", w.o.Name, gen, top.Rule, strings.Join(slices.Sorted(slices.Values(cs)), "\n"))
	first := cs[0]
	for i, c := range j.Changes {
		if c.Kind == org.AttachmentAdded || c.Kind == org.AttachmentRemoved || c.Kind == org.PolicyContentChanged {
			first = cs[i]
			break
		}
	}
	if len(cs) > 1 {
		first += fmt.Sprintf(" (+%d more)", len(cs)-1)
	}
	accounts := top.Accounts
	customers, _ := w.o.Config.Customers.Customers(nx, accounts)
	if customers == nil {
		customers, _ = w.o.Config.Customers.Customers(w.knownX, accounts)
	}
	spec := incident.Spec{
		Title:    fmt.Sprintf("%s: %s — %s", top.Rule, top.Summary, first),
		Severity: top.Severity, Source: store.SourceDrift, By: Actor, Rule: top.Rule,
		DedupKey:        "drift:" + hex.EncodeToString(h.Sum(nil)),
		ImpactStartedAt: impactStart, DetectedAt: w.o.Now(),
		Accounts: accounts, Customers: customers,
		Impact:  map[string]any{"accountsAffected": j.Impact.AccountsAffected, "accountsTotal": j.Impact.AccountsTotal, "findings": j.Findings, "changes": cs},
		Message: fmt.Sprintf("drift detected (%d change(s)): %s", len(cs), strings.Join(cs, "; ")),
		Detail:  map[string]any{"changes": j.Changes, "findings": j.Findings},
	}
	if !exact && !impactStart.IsZero() {
		spec.ImpactWindow = readAt
	}
	if len(evs) > 0 {
		var names []string
		for _, e := range evs {
			names = append(names, e.Name+" by "+e.Actor)
		}
		spec.Detail = map[string]any{"changes": j.Changes, "findings": j.Findings, "events": names}
	}
	if len(spec.Title) > 300 {
		spec.Title = spec.Title[:297] + "..."
	}
	return spec
}

// remediate runs a remediation and records its outcome on the incident.
func (w *Watcher) remediate(ctx context.Context, rem Remediation) {
	id := rem.Incident.ID
	log := w.o.Log.With("incident", id, "rule", rem.Rule)
	note := func(msg string, rec remRecord) {
		err := w.o.Store.WithTx(ctx, func(tx store.Tx) error {
			if err := addRemEntry(ctx, tx, id, msg, rec); err != nil {
				return err
			}
			return audit(ctx, tx, "watch.remediation", id, map[string]any{"rule": rem.Rule, "message": msg, "detail": rec})
		})
		if err != nil {
			log.Error("recording the remediation", "error", err)
		}
	}
	if len(rem.Operations) == 0 {
		note("automatic remediation not possible: nothing in this drift has an automatic inverse; the incident stays open", rem.record(RemImpossible, nil))
		return
	}
	verb := "started"
	if rem.Resumed {
		verb = "resumed after the watcher restarted"
	}
	note(fmt.Sprintf("automatic remediation %s (allowed by rule %q): %d operation(s)", verb, rem.Rule, len(rem.Operations)), rem.record(RemStarted, nil))
	res, err := w.o.Remediator.Remediate(ctx, rem)
	if err != nil || (res.Outcome != "applied" && res.Outcome != OutcomeUndone) {
		msg := fmt.Sprintf("AUTOMATIC REMEDIATION FAILED (%s): the incident stays open", res.Outcome)
		if err != nil {
			msg += ": " + err.Error()
		}
		log.Error("remediation failed", "outcome", res.Outcome, "error", err)
		note(msg, rem.record(RemFailed, &res))
		return
	}
	log.Info("remediation applied", "plan", res.PlanID, "change", res.ChangeID, "outcome", res.Outcome)
	err = w.o.Store.WithTx(ctx, func(tx store.Tx) error {
		msg := fmt.Sprintf("mitigated by automatic remediation (rule %q): plan %s, change %s applied and health-checked", rem.Rule, res.PlanID, res.ChangeID)
		if res.Outcome == OutcomeUndone {
			msg = fmt.Sprintf("mitigated: the automatic remediation (rule %q) resumed after a restart found the drift undone already", rem.Rule)
			if res.Detail != "" {
				msg += " (" + res.Detail + ")"
			}
		}
		if len(rem.NotUndone) > 0 {
			msg += fmt.Sprintf("; %d change(s) not undone: %s", len(rem.NotUndone), strings.Join(rem.NotUndone, "; "))
		}
		_, err := w.inc.Mitigated(ctx, tx, id, Actor, msg, res)
		if err != nil {
			return err
		}
		return audit(ctx, tx, "watch.remediation", id, map[string]any{"rule": rem.Rule, "outcome": res.Outcome, "plan": res.PlanID, "change": res.ChangeID})
	})
	if err != nil {
		log.Error("recording the mitigation", "error", err)
	}
}

func audit(ctx context.Context, tx store.Tx, action, subject string, detail any) error {
	raw, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encoding the audit detail: %w", err)
	}
	_, err = tx.AppendAudit(ctx, store.AuditRecord{Actor: Actor, Action: action, Subject: subject, Detail: raw})
	return err
}
