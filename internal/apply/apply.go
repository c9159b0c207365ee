// Package apply runs reviewed plans against the organization, and nothing
// else does. An apply is refused unless the plan file is intact, the live
// organization is still the one it was planned against, the approvals its
// verdict requires are there (distinct people, not the author, bound to the
// plan hash), the schedule allows it (window, freeze, overrides), the
// operator typed the resolved target of a risky plan, and no other apply
// holds the organization lock.
//
// Around every step the engine re-reads the organization and compares the
// touched part with the expected state (the plan's steps replayed on a
// simulated copy of the base), compares the blast radius observed so far
// with the planned one, and runs probes in a sample of affected and
// unaffected accounts. When anything is off it stops, undoes the steps
// done (the recorded inverses, last first), verifies that the organization
// is back to the base fingerprint and records an incident.
//
// Every step is journaled in the store before and after it runs, so that
// after a crash Recover brings the organization to exactly the state before
// the change, or after it when every step completed — never in between.
package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// LockName is the name of the organization lock every apply, rollback and
// recovery holds.
const LockName = "organization"

// DefaultLockTTL is how long the organization lock lasts without a
// heartbeat; a running apply renews it every third of that.
const DefaultLockTTL = 30 * time.Second

// Options are what the engine needs from the outside world.
type Options struct {
	Store   store.Store
	Backend org.Backend
	// Planner is the planning pipeline built from the pinned guardrails
	// (Pinned): apply derives every plan's verdict again with it, checks
	// the schedule with its Guard and the observed impact with its
	// Analyzer.
	Planner *plan.Planner
	Pinned  review.Pinned
	// Prober runs the probes; nil runs none (the state and impact checks
	// still run). Evaluator computes the probes' expectations on the
	// expected states; nil means one with the engine's fallback RCP list.
	Prober probe.Prober
	// ProbeResults, when set, sees every round's probe results (metrics).
	ProbeResults func([]probe.Result)
	Evaluator    *probe.Evaluator
	Probes       probe.Config
	// Now is the clock for windows, freezes and records; nil = time.Now.
	Now func() time.Time
	// Actor is who runs the apply (audit log, change records).
	Actor string
	// Holder describes the lock holder to others; default "ACTOR (pid N on HOST)".
	Holder  string
	LockTTL time.Duration // 0 = DefaultLockTTL
	// Sleep waits d (the canary wait); nil = a context-aware timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress receives one line per check and step, for people; nil = none.
	Progress io.Writer
	// Parts, when set, lets health checks re-read only the parts of the
	// organization the plan touches (see Parts); nil reads the whole
	// organization for every check.
	Parts Parts
	// RoundTimeout bounds the reads and probes of one health-check round;
	// a round that cannot complete within it (a throttled API whose retry
	// budget is spent, say) fails the check, and the apply stops and rolls
	// back. 0 = no bound.
	RoundTimeout time.Duration
	// Fresh, when set, receives the whole read of the organization an
	// apply starts with (its stale-plan check); the application layer
	// keeps it as the latest read for the next plans.
	Fresh func(ctx context.Context, s *org.Snapshot)
	// OnIncident, when set, runs in the transaction that opens an incident
	// (a failed apply, a recovery): the notice drafts are written with it.
	OnIncident func(ctx context.Context, tx store.Tx, in store.Incident) error
	// Crash is a test hook called at every journal point (n counts from 1
	// over the whole run): when it returns an error the engine stops at
	// once, as if the process had died there — no rollback, no journal
	// entry, no lock release — and Apply returns that error.
	Crash func(n int, point string) error
}

// Engine applies plans, rolls them back and recovers unfinished changes.
type Engine struct {
	o      Options
	points int
}

// New returns an Engine.
func New(o Options) *Engine {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LockTTL <= 0 {
		o.LockTTL = DefaultLockTTL
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Evaluator == nil {
		o.Evaluator = probe.NewEvaluator(nil)
	}
	if o.Actor == "" {
		o.Actor = "unknown"
	}
	if o.Holder == "" {
		host, _ := os.Hostname()
		o.Holder = fmt.Sprintf("%s (pid %d on %s)", o.Actor, os.Getpid(), host)
	}
	if len(o.Probes.Actions) == 0 && o.Probes.Role == "" {
		o.Probes = probe.DefaultConfig()
	}
	return &Engine{o: o}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (e *Engine) logf(format string, args ...any) {
	if e.o.Progress != nil {
		fmt.Fprintf(e.o.Progress, format+"\n", args...)
	}
}

// point passes journal point name; the Crash hook may stop the run there.
func (e *Engine) point(name string) error {
	e.points++
	if e.o.Crash != nil {
		if err := e.o.Crash(e.points, name); err != nil {
			return &crashError{point: e.points, name: name, err: err}
		}
	}
	return nil
}

// crashError is the Crash hook's stop: it must travel up untouched.
type crashError struct {
	point int
	name  string
	err   error
}

func (c *crashError) Error() string {
	return fmt.Sprintf("stopped at journal point %d (%s): %v", c.point, c.name, c.err)
}
func (c *crashError) Unwrap() error { return c.err }

// IsCrash reports whether err is the Crash hook's stop.
func IsCrash(err error) bool {
	var c *crashError
	return errors.As(err, &c)
}

// ErrRefused marks every refusal (errors.Is); the error is a *RefusedError.
var ErrRefused = errors.New("apply refused")

// ErrUnconfirmed marks a refusal whose reasons include a risky plan's
// typed confirmation missing or not matching: errors.Is(err,
// ErrUnconfirmed) holds as well as errors.Is(err, ErrRefused).
var ErrUnconfirmed = errors.New("the typed confirmation is missing or does not match")

// ErrLocked marks a refusal because another apply (or recovery) holds the
// organization lock, alive: errors.Is(err, ErrLocked) holds as well as
// errors.Is(err, ErrRefused). Waiting and trying again may succeed.
var ErrLocked = errors.New("the organization lock is held")

// ErrFailed marks an apply that started and was stopped by a check or an
// error: the report says whether the rollback was verified.
var ErrFailed = errors.New("apply failed")

// RefusedError says why an apply (or approval) was refused, each reason a
// sentence for the operator.
type RefusedError struct {
	Reasons []string
	// Changes are what changed in the organization since the plan's base
	// (a stale plan).
	Changes []org.Change
	// NextWindow is the next time the schedule allows the apply, when known.
	NextWindow time.Time
	// Unconfirmed says one of the reasons is the typed confirmation of a
	// risky plan, missing or not matching (ErrUnconfirmed).
	Unconfirmed bool
	// Locked says the reason is the organization lock, held by another
	// running apply or recovery (ErrLocked).
	Locked bool
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("refused: ")
	b.WriteString(strings.Join(e.Reasons, "; "))
	const maxShown = 20
	for i, c := range e.Changes {
		if i == maxShown {
			fmt.Fprintf(&b, "\n  ... and %d more changes", len(e.Changes)-maxShown)
			break
		}
		b.WriteString("\n  " + c.String())
	}
	if !e.NextWindow.IsZero() {
		b.WriteString("\n  next allowed time: " + e.NextWindow.Format(time.RFC3339))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrRefused) true, errors.Is(err,
// ErrUnconfirmed) when the confirmation is among the reasons, and
// errors.Is(err, ErrLocked) when the lock is.
func (e *RefusedError) Is(target error) bool {
	return target == ErrRefused || (e.Unconfirmed && target == ErrUnconfirmed) || (e.Locked && target == ErrLocked)
}

func refused(reasons ...string) *RefusedError { return &RefusedError{Reasons: reasons} }

// asRefused turns the review chain's refusals into a *RefusedError and
// returns other errors unchanged.
func asRefused(err error) error {
	var rr *review.RefusedError
	switch {
	case errors.As(err, &rr):
		return refused(rr.Reason)
	case errors.Is(err, review.ErrRefused):
		return refused(err.Error())
	}
	return err
}

// Request is one apply.
type Request struct {
	Plan *plan.File
	// Confirm is the typed confirmation for a risky plan.
	Confirm string
	// OverrideWindow, when set, overrides the window and freeze rules with
	// this reason; it needs the configured extra approvals on top of the
	// plan's (unless the plan was made with these overrides).
	OverrideWindow string
	// Canary lists the targets (IDs, names or paths) to apply first; the
	// rest follows after CanaryWait if the checks pass.
	Canary     []string
	CanaryWait time.Duration
}

// Outcome is how an apply ended.
type Outcome string

// The outcomes.
const (
	Applied    Outcome = "applied"
	RolledBack Outcome = "rolled-back"
	Failed     Outcome = "failed" // stopped and the rollback could not be verified
)

// CheckReport is one round of health checks.
type CheckReport struct {
	When        string         `json:"when"` // "before step 2", "after step 2", "canary"
	StateOK     bool           `json:"stateOk"`
	Drift       []string       `json:"drift,omitempty"`
	ImpactOK    bool           `json:"impactOk"`
	Unplanned   []string       `json:"unplannedImpact,omitempty"`
	ProbesRun   int            `json:"probesRun"`
	ProbeFailed []probe.Result `json:"probeFailures,omitempty"`
	// APICalls, Retries and Throttles count the backend's API calls of
	// the round, when it counts them (the AWS backend).
	APICalls  int `json:"apiCalls,omitempty"`
	Retries   int `json:"retries,omitempty"`
	Throttles int `json:"throttles,omitempty"`
	// WallMS is the round's wall time in milliseconds, with the calls.
	WallMS int64 `json:"wallMs,omitempty"`
}

// OK reports whether every check of the round passed.
func (c CheckReport) OK() bool { return c.StateOK && c.ImpactOK && len(c.ProbeFailed) == 0 }

// Summary renders the round on one line.
func (c CheckReport) Summary() string {
	parts := []string{}
	if c.StateOK {
		parts = append(parts, "state as expected")
	} else {
		parts = append(parts, fmt.Sprintf("STATE DRIFT (%d)", len(c.Drift)))
	}
	if c.ImpactOK {
		parts = append(parts, "impact as planned")
	} else {
		parts = append(parts, fmt.Sprintf("UNPLANNED IMPACT (%d accounts)", len(c.Unplanned)))
	}
	parts = append(parts, fmt.Sprintf("probes %d/%d ok", c.ProbesRun-len(c.ProbeFailed), c.ProbesRun))
	if c.APICalls > 0 {
		parts = append(parts, fmt.Sprintf("%d API calls (%d retries) in %s", c.APICalls, c.Retries, (time.Duration(c.WallMS)*time.Millisecond).String()))
	}
	status := "ok  "
	if !c.OK() {
		status = "FAIL"
	}
	return fmt.Sprintf("%s %-15s %s", status, c.When+":", strings.Join(parts, ", "))
}

// StepReport is one step as it ran.
type StepReport struct {
	Index   int    `json:"index"` // 1-based, in the plan's order
	Summary string `json:"summary"`
	Created string `json:"created,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Report is what an apply did.
type Report struct {
	ChangeID  string            `json:"changeId"`
	PlanID    string            `json:"planId"`
	PlanHash  string            `json:"planHash"`
	Outcome   Outcome           `json:"outcome"`
	Steps     []StepReport      `json:"steps"`
	Checks    []CheckReport     `json:"checks"`
	Failure   string            `json:"failure,omitempty"`
	Rollback  *Rollback         `json:"rollback,omitempty"`
	Incident  string            `json:"incident,omitempty"`
	Recovered []Recovery        `json:"recovered,omitempty"`
	Approvers []string          `json:"approvers"`
	Bindings  map[string]string `json:"bindings,omitempty"`
	// Staged is true when a policy update ran staged through a temporary
	// copy on the canary targets (docs/apply.md, "Canary").
	Staged bool `json:"staged,omitempty"`
	// PlanBindings are the IDs planning gave the created objects (those in
	// the plan's step summaries and afterFingerprint).
	PlanBindings map[string]string `json:"planBindings,omitempty"`
	// Calls counts the backend's API calls of the whole apply (the
	// stale-plan read, the rounds, the steps, any rollback), when it counts
	// them; it is kept with the finished change.
	Calls *org.Calls `json:"calls,omitempty"`
}

// Rollback reports an undo.
type Rollback struct {
	Undone   []string `json:"undone"` // the inverse steps run
	Skipped  []string `json:"skipped,omitempty"`
	Verified bool     `json:"verified"`
	Detail   []string `json:"detail,omitempty"` // what differs from the base when not verified
}

// audit appends an audit entry; failures to audit are returned.
// audit appends an audit entry recording, with detail, the hash of the
// pinned guardrails the engine runs under.
func (e *Engine) audit(ctx context.Context, tx store.Tx, actor, action, subject string, detail map[string]any) error {
	if h := e.o.Pinned.Hash(); h != "" {
		detail["guardrails"] = h
	}
	return appendAudit(ctx, tx, actor, action, subject, detail)
}

func appendAudit(ctx context.Context, tx store.Tx, actor, action, subject string, detail any) error {
	var raw json.RawMessage
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("encoding the audit detail: %w", err)
		}
		raw = b
	}
	_, err := tx.AppendAudit(ctx, store.AuditRecord{Actor: actor, Action: action, Subject: subject, Detail: raw})
	return err
}
