package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// Settled says where recovery left an unfinished change.
type Settled string

// Where recovery leaves a change: exactly before it, or exactly after it.
const (
	Before Settled = "before"
	After  Settled = "after"
)

// Recovery reports the settlement of one unfinished change.
type Recovery struct {
	ChangeID string   `json:"changeId"`
	PlanID   string   `json:"planId"`
	State    Settled  `json:"state"`
	Verified bool     `json:"verified"`
	Detail   []string `json:"detail,omitempty"`
	Incident string   `json:"incident,omitempty"`
}

// String renders the recovery for people.
func (r Recovery) String() string {
	v := "verified"
	if !r.Verified {
		v = "NOT verified"
	}
	where := "back to exactly the state BEFORE it (rolled back)"
	if r.State == After {
		where = "to the state AFTER it (every step had completed)"
	}
	return fmt.Sprintf("change %s (plan %s): brought %s; %s", r.ChangeID, r.PlanID, where, v)
}

// Recover takes the organization lock and settles every unfinished change
// (a process that died during an apply): each ends exactly before or after.
func (e *Engine) Recover(ctx context.Context) (recs []Recovery, err error) {
	h, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { e.release(ctx, h, IsCrash(err)) }()
	return e.recoverLocked(ctx)
}

func (e *Engine) recoverLocked(ctx context.Context) ([]Recovery, error) {
	chs, err := e.o.Store.UnfinishedChanges(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished changes: %w", err)
	}
	var out []Recovery
	for _, ch := range chs {
		r, err := e.recoverOne(ctx, ch)
		if err != nil {
			return out, fmt.Errorf("recovering change %s: %w", ch.ID, err)
		}
		e.logf("recovered: %s", r)
		out = append(out, r)
	}
	return out, nil
}

func (e *Engine) recoverOne(ctx context.Context, ch store.Change) (Recovery, error) {
	rec := Recovery{ChangeID: ch.ID, PlanID: ch.PlanID}
	f, _, err := review.Load(ctx, e.o.Store, ch.PlanID)
	if err != nil {
		return rec, err
	}
	var d changeDetail
	if len(ch.Detail) > 0 {
		if err := json.Unmarshal(ch.Detail, &d); err != nil {
			return rec, fmt.Errorf("reading the change's detail: %w", err)
		}
	}
	planSteps := f.Steps
	if len(d.Staged) > 0 {
		planSteps = d.Staged
	}
	if len(d.Order) == 0 {
		for i := range planSteps {
			d.Order = append(d.Order, i)
		}
	}
	entries, err := e.o.Store.Journal(ctx, ch.ID)
	if err != nil {
		return rec, err
	}
	bind := change.Bindings{}
	intent, done := map[int]bool{}, map[int]bool{}
	undoStarted, failed := false, false
	for _, en := range entries {
		var jd journalDetail
		if err := json.Unmarshal(en.Detail, &jd); err != nil {
			return rec, fmt.Errorf("reading journal entry %d: %w", en.Seq, err)
		}
		for k, v := range jd.Bindings {
			bind[k] = v
		}
		if jd.Op == "undo" {
			undoStarted = true
			continue
		}
		switch en.Phase {
		case store.PhaseIntent:
			intent[en.Step] = true
		case store.PhaseDone:
			done[en.Step] = true
		case store.PhaseFailed:
			failed = true
		}
	}
	steps := make([]change.Planned, len(d.Order))
	ran := 0
	for k, i := range d.Order {
		steps[k] = planSteps[i]
		if intent[i+1] {
			ran = k + 1
		}
	}
	allDone := !undoStarted && !failed && ran == len(steps)
	for k := 0; allDone && k < len(steps); k++ {
		n := d.Order[k] + 1
		if done[n] {
			continue
		}
		// Journaled as intent without a result: look at the organization.
		live, err := e.o.Backend.Snapshot(ctx)
		if err != nil {
			return rec, fmt.Errorf("reading the organization: %w", err)
		}
		x, err := org.NewIndex(live)
		if err != nil {
			return rec, err
		}
		in, note, err := inEffect(x, steps, steps[k].Step, bind)
		if err != nil || !in || k != len(steps)-1 {
			allDone = false
			break
		}
		rec.Detail = append(rec.Detail, fmt.Sprintf("step %d (%s) was journaled without a result; the organization shows it took effect (%s)", n, steps[k].Summary, note))
		if _, err := e.o.Store.AppendJournal(ctx, store.JournalEntry{ChangeID: ch.ID, Step: n, Phase: store.PhaseDone,
			Detail: mustJSON(journalDetail{Op: "do", Summary: steps[k].Summary, Note: "found in effect by recovery", Bindings: bind})}); err != nil {
			return rec, err
		}
	}
	var cstate store.ChangeState
	var pstate store.PlanState
	if allDone {
		rec.State = After
		live, err := e.o.Backend.Snapshot(ctx)
		if err != nil {
			return rec, fmt.Errorf("reading the organization: %w", err)
		}
		fp := org.ComputeFingerprint(translate(live, invert(idMap(d.PlanBindings, bind))))
		rec.Verified = fp == f.AfterFingerprint
		if !rec.Verified {
			rec.Detail = append(rec.Detail, fmt.Sprintf("the organization's fingerprint is %s, the plan's after-state is %s: something else changed too", digest.Short(fp), digest.Short(f.AfterFingerprint)))
		}
		cstate, pstate = store.ChangeApplied, store.PlanApplied
	} else {
		rec.State = Before
		for k := range ran {
			n := d.Order[k] + 1
			if intent[n] && !done[n] {
				rec.Detail = append(rec.Detail, fmt.Sprintf("step %d (%s) was journaled without a result; the rollback inspects the organization to undo it only if it took effect", n, steps[k].Summary))
			}
		}
		rb, err := e.undo(ctx, ch.ID, f, steps, steps[:ran], d.Order[:ran], bind, nil)
		if err != nil {
			return rec, err
		}
		rec.Verified = rb.Verified
		rec.Detail = append(rec.Detail, rb.Detail...)
		for _, u := range rb.Undone {
			rec.Detail = append(rec.Detail, "undone: "+u)
		}
		cstate, pstate = store.ChangeRolledBack, store.PlanRolledBack
		if !rb.Verified {
			cstate, pstate = store.ChangeFailed, store.PlanFailed
		}
	}
	err = e.o.Store.WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.FinishChange(ctx, ch.ID, cstate, mustJSON(rec)); err != nil {
			return err
		}
		p, err := tx.Plan(ctx, f.ID)
		if err != nil {
			return err
		}
		if p.State != pstate {
			if _, err := tx.SetPlanState(ctx, f.ID, p.State, pstate); err != nil && !errors.Is(err, store.ErrInvalid) {
				return err
			}
		}
		sev := store.SevMinor
		if !rec.Verified {
			sev = store.SevCritical
		}
		in, err := tx.OpenIncident(ctx, store.Incident{Source: store.SourceApply, Severity: sev, State: store.IncidentMitigated, ChangeID: ch.ID,
			Title:  fmt.Sprintf("apply of plan %s was interrupted; recovery brought the organization to the state %s it", f.ID, rec.State),
			Impact: mustJSON(map[string]any{"state": rec.State, "verified": rec.Verified, "detail": rec.Detail})})
		if err != nil {
			return err
		}
		if e.o.OnIncident != nil {
			if err := e.o.OnIncident(ctx, tx, in); err != nil {
				return err
			}
		}
		rec.Incident = in.ID
		if _, err := tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: in.ID, Kind: "mitigation", Actor: e.o.Actor, Message: rec.String()}); err != nil {
			return err
		}
		return e.audit(ctx, tx, e.o.Actor, "change.recovered", ch.ID, map[string]any{"plan": f.ID, "state": rec.State,
			"verified": rec.Verified, "detail": rec.Detail, "incident": in.ID})
	})
	if err != nil {
		return rec, fmt.Errorf("recording the recovery: %w", err)
	}
	return rec, nil
}

var holderPID = regexp.MustCompile(`\(pid (\d+) on (.+)\)$`)

// deadHolder reports whether a lock is held by a process of this host that
// no longer runs, and how long until the lock expires.
func deadHolder(h *store.LockHeldError, now time.Time) (time.Duration, bool) {
	m := holderPID.FindStringSubmatch(h.Holder)
	if m == nil {
		return 0, false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(m[1])
	if err != nil || m[2] != host || pid == os.Getpid() {
		return 0, false
	}
	if processAlive(pid) {
		return 0, false
	}
	wait := h.ExpiresAt.Sub(now) + 100*time.Millisecond
	if wait < 0 {
		wait = 100 * time.Millisecond
	}
	return wait, true
}
