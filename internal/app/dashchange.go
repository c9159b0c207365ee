package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/store"
)

// ChangeProgress is a change as its journal in the store tells it: every
// server replica (and the command line) sees the same progress, whichever
// process runs the apply.
type ChangeProgress struct {
	Change  store.Change
	Journal []JournalLine
	// Steps are the plan's step summaries, in plan order (step N is
	// Steps[N-1]); empty when the plan cannot be read.
	Steps []string
	// Report is the apply's report once the change has finished (nil for
	// a recovery, or while running).
	Report *apply.Report
}

// Done reports whether the change has finished.
func (p ChangeProgress) Done() bool { return p.Change.State.Final() }

// Version changes whenever the progress does: a new journal entry, the
// change finishing.
func (p ChangeProgress) Version() string {
	return fmt.Sprintf("%s-%d", p.Change.State, len(p.Journal))
}

// JournalLine is one journal entry, read for people.
type JournalLine struct {
	Seq     int64
	Step    int
	Phase   store.Phase
	At      time.Time
	Op      string // "do" or "undo"
	Summary string
	Error   string
	Note    string
}

// journalText is the part of a journal entry's detail people read (the
// apply engine writes more).
type journalText struct {
	Op      string `json:"op"`
	Summary string `json:"summary"`
	Error   string `json:"error"`
	Note    string `json:"note"`
}

// ChangeProgress reads change id and its journal from the store.
func (a *App) ChangeProgress(ctx context.Context, id string) (ChangeProgress, error) {
	st, err := a.incidentStore(ctx, true)
	if err != nil {
		return ChangeProgress{}, err
	}
	c, err := st.Change(ctx, id)
	if err != nil {
		return ChangeProgress{}, classify(fmt.Errorf("reading change %s: %w", id, err))
	}
	js, err := st.Journal(ctx, id)
	if err != nil {
		return ChangeProgress{}, fmt.Errorf("reading the journal of change %s: %w", id, err)
	}
	p := ChangeProgress{Change: c, Journal: make([]JournalLine, 0, len(js))}
	for _, e := range js {
		var jt journalText
		_ = json.Unmarshal(e.Detail, &jt) // an entry without detail still shows its step and phase
		p.Journal = append(p.Journal, JournalLine{Seq: e.Seq, Step: e.Step, Phase: e.Phase, At: e.At,
			Op: jt.Op, Summary: jt.Summary, Error: jt.Error, Note: jt.Note})
	}
	if sp, err := st.Plan(ctx, c.PlanID); err == nil && sp.Kind != store.PlanGuardrails {
		var body struct {
			Steps []struct {
				Summary string `json:"summary"`
			} `json:"steps"`
		}
		if json.Unmarshal(sp.Body, &body) == nil {
			for _, s := range body.Steps {
				p.Steps = append(p.Steps, s.Summary)
			}
		}
	}
	if c.State.Final() && c.Kind != store.ChangeRecover && len(c.Detail) > 0 {
		var rep apply.Report
		if json.Unmarshal(c.Detail, &rep) == nil {
			p.Report = &rep
		}
	}
	return p, nil
}

// Changes lists changes, newest first.
func (a *App) Changes(ctx context.Context, f store.ChangeFilter) ([]store.Change, error) {
	st, err := a.incidentStore(ctx, true)
	if err != nil {
		return nil, err
	}
	return st.ListChanges(ctx, f)
}
