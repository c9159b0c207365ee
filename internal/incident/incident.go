// Package incident runs the life of incidents: opening them (from drift the
// watcher judged critical, from failed applies, or by hand), moving them
// through investigating → identified → monitoring → resolved, and keeping
// their timeline — impact start, detected, acknowledged, mitigated,
// resolved, plus free-text entries with their author — in the store.
//
// It also maps affected accounts to customers (an account tag, or the OU
// under a configured parent such as /Customers/<customer>) and computes the
// incident clock: time to detect, acknowledge, mitigate and resolve, per
// incident and aggregated. Notices (issue 9) and the status page (issue 10)
// read the same records.
package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// Timeline entry kinds written by this package. Notices and postmortems
// key on them; free text is KindNote.
const (
	KindImpactStart  = "impact-start"
	KindDetected     = "detected"
	KindAcknowledged = "acknowledged"
	KindMitigated    = "mitigated"
	KindResolved     = "resolved"
	KindState        = "state"
	KindNote         = "note"
	KindRemediation  = "remediation"
)

// ErrInvalid marks bad requests (an unknown state or severity, an empty
// note); errors.Is matches it.
var ErrInvalid = errors.New("invalid incident request")

// Service opens and updates incidents in a store.
type Service struct {
	Store store.Store
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// OnOpen, when set, runs in the transaction that opens an incident,
	// after its first timeline entries (the notice drafts and the first
	// message to the incident channel); its error undoes the opening.
	OnOpen func(ctx context.Context, tx store.Tx, in store.Incident) error
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// Spec describes an incident to open.
type Spec struct {
	Title    string
	Severity store.Severity
	Source   string // store.SourceDrift, store.SourceApply, store.SourceManual
	By       string // who or what opens it
	Rule     string
	DedupKey string
	ChangeID string

	ImpactStartedAt time.Time // zero: unknown
	// ImpactWindow, when the start is only known to lie in a window (a
	// poll found the change), is the window's end; the start is its
	// beginning.
	ImpactWindow time.Time
	DetectedAt   time.Time // zero: now
	Accounts     []string
	Customers    []string
	Impact       any    // encoded as the incident's impact JSON
	Message      string // the "detected" entry's text
	Detail       any    // the "detected" entry's detail
}

// Open records a new incident and its first timeline entries (impact
// start, detected) in tx. When spec.DedupKey names an existing incident it
// returns that one and created false, writing nothing.
func (s *Service) Open(ctx context.Context, tx store.Tx, spec Spec) (in store.Incident, created bool, err error) {
	if spec.DedupKey != "" {
		old, err := tx.IncidentByKey(ctx, spec.DedupKey)
		if err == nil {
			return old, false, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Incident{}, false, err
		}
	}
	if spec.Severity == "" {
		spec.Severity = store.SevMajor
	}
	if !spec.Severity.Valid() {
		return store.Incident{}, false, fmt.Errorf("opening an incident: %w: severity %q (want critical, major or minor)", ErrInvalid, spec.Severity)
	}
	if strings.TrimSpace(spec.Title) == "" {
		return store.Incident{}, false, fmt.Errorf("opening an incident: %w: a title is required", ErrInvalid)
	}
	now := s.now()
	if spec.DetectedAt.IsZero() {
		spec.DetectedAt = now
	}
	var impact json.RawMessage
	if spec.Impact != nil {
		if impact, err = json.Marshal(spec.Impact); err != nil {
			return store.Incident{}, false, fmt.Errorf("encoding the impact: %w", err)
		}
	}
	in, err = tx.OpenIncident(ctx, store.Incident{
		OpenedAt: now, Severity: spec.Severity, Title: spec.Title, ChangeID: spec.ChangeID, Impact: impact,
		Source: spec.Source, OpenedBy: spec.By, Rule: spec.Rule, DedupKey: spec.DedupKey,
		ImpactStartedAt: spec.ImpactStartedAt, DetectedAt: spec.DetectedAt,
		Accounts: spec.Accounts, Customers: spec.Customers,
	})
	if err != nil {
		return store.Incident{}, false, err
	}
	var events []store.IncidentEvent
	if !spec.ImpactStartedAt.IsZero() {
		msg := "impact started (time of the change)"
		if !spec.ImpactWindow.IsZero() {
			msg = fmt.Sprintf("impact started between %s and %s (the change fell between two reads)",
				spec.ImpactStartedAt.UTC().Format(time.RFC3339), spec.ImpactWindow.UTC().Format(time.RFC3339))
		}
		events = append(events, store.IncidentEvent{At: spec.ImpactStartedAt, Kind: KindImpactStart, Actor: spec.By, Message: msg})
	}
	msg := spec.Message
	if msg == "" {
		msg = "incident opened: " + spec.Title
	}
	var detail json.RawMessage
	if spec.Detail != nil {
		if detail, err = json.Marshal(spec.Detail); err != nil {
			return store.Incident{}, false, fmt.Errorf("encoding the detection detail: %w", err)
		}
	}
	events = append(events, store.IncidentEvent{At: spec.DetectedAt, Kind: KindDetected, Actor: spec.By, Message: msg, Detail: detail})
	for _, ev := range events {
		ev.IncidentID = in.ID
		if _, err := tx.AddIncidentEvent(ctx, ev); err != nil {
			return store.Incident{}, false, err
		}
	}
	if s.OnOpen != nil {
		if err := s.OnOpen(ctx, tx, in); err != nil {
			return store.Incident{}, false, fmt.Errorf("opening incident %s: %w", in.ID, err)
		}
	}
	return in, true, nil
}

// OpenManual opens an incident by hand in its own transaction, with an
// audit entry.
func (s *Service) OpenManual(ctx context.Context, spec Spec) (store.Incident, error) {
	spec.Source = store.SourceManual
	var in store.Incident
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		var err error
		if in, _, err = s.Open(ctx, tx, spec); err != nil {
			return err
		}
		return audit(ctx, tx, spec.By, "incident.opened", in.ID, map[string]any{"severity": in.Severity, "title": in.Title, "source": in.Source})
	})
	return in, err
}

// Acknowledge records that by has taken the incident (the first time
// only sets AcknowledgedAt; every call writes a timeline entry).
func (s *Service) Acknowledge(ctx context.Context, id, by, msg string) (store.Incident, error) {
	if msg == "" {
		msg = "acknowledged by " + by
	}
	return s.update(ctx, id, by, "incident.acknowledged", func(tx store.Tx, now time.Time) (store.Incident, error) {
		in, err := tx.MarkIncident(ctx, id, store.MarkAcknowledged, now)
		if err != nil {
			return in, err
		}
		_, err = tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: id, At: now, Kind: KindAcknowledged, Actor: by, Message: msg})
		return in, err
	})
}

// Note appends a free-text entry by its author.
func (s *Service) Note(ctx context.Context, id, by, text string) (store.IncidentEvent, error) {
	if strings.TrimSpace(text) == "" {
		return store.IncidentEvent{}, fmt.Errorf("adding a note to incident %s: %w: the note is empty", id, ErrInvalid)
	}
	var ev store.IncidentEvent
	_, err := s.update(ctx, id, by, "", func(tx store.Tx, now time.Time) (store.Incident, error) {
		var err error
		ev, err = tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: id, At: now, Kind: KindNote, Actor: by, Message: text})
		if err != nil {
			return store.Incident{}, err
		}
		return tx.Incident(ctx, id)
	})
	return ev, err
}

// Mitigated records that the harm stopped (by a remediation or a person)
// and moves an investigating or identified incident to monitoring.
func (s *Service) Mitigated(ctx context.Context, tx store.Tx, id, by, msg string, detail any) (store.Incident, error) {
	now := s.now()
	in, err := tx.MarkIncident(ctx, id, store.MarkMitigated, now)
	if err != nil {
		return in, err
	}
	if in.State == store.IncidentInvestigating || in.State == store.IncidentIdentified {
		if in, err = tx.SetIncidentState(ctx, id, store.IncidentMonitoring); err != nil {
			return in, err
		}
	}
	raw, _ := json.Marshal(detail)
	if detail == nil {
		raw = nil
	}
	_, err = tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: id, At: now, Kind: KindMitigated, Actor: by, Message: msg, Detail: raw})
	return in, err
}

// SetState moves an incident to state; reaching monitoring marks it
// mitigated, reaching resolved marks it resolved (see store.Incidents).
func (s *Service) SetState(ctx context.Context, id string, state store.IncidentState, by, msg string) (store.Incident, error) {
	if !state.Valid() {
		return store.Incident{}, fmt.Errorf("setting incident %s: %w: state %q (want one of %s)", id, ErrInvalid, state, stateNames())
	}
	return s.update(ctx, id, by, "incident."+string(state), func(tx store.Tx, now time.Time) (store.Incident, error) {
		old, err := tx.Incident(ctx, id)
		if err != nil {
			return old, err
		}
		in, err := tx.SetIncidentState(ctx, id, state)
		if err != nil {
			return in, err
		}
		kind := KindState
		switch {
		case state == store.IncidentResolved:
			kind = KindResolved
		case state == store.IncidentMonitoring && old.MitigatedAt.IsZero():
			kind = KindMitigated
		}
		text := fmt.Sprintf("%s → %s", old.State, state)
		if msg != "" {
			text += ": " + msg
		}
		_, err = tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: id, At: now, Kind: kind, Actor: by, Message: text})
		return in, err
	})
}

// Resolve is SetState(resolved).
func (s *Service) Resolve(ctx context.Context, id, by, msg string) (store.Incident, error) {
	return s.SetState(ctx, id, store.IncidentResolved, by, msg)
}

// update runs fn in a transaction, with an audit entry named action when
// action is not empty.
func (s *Service) update(ctx context.Context, id, by, action string, fn func(tx store.Tx, now time.Time) (store.Incident, error)) (store.Incident, error) {
	var in store.Incident
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		var err error
		if in, err = fn(tx, s.now()); err != nil {
			return err
		}
		if action == "" {
			return nil
		}
		return audit(ctx, tx, by, action, id, map[string]any{"state": in.State})
	})
	return in, err
}

func audit(ctx context.Context, tx store.Tx, actor, action, subject string, detail any) error {
	raw, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encoding the audit detail: %w", err)
	}
	_, err = tx.AppendAudit(ctx, store.AuditRecord{Actor: actor, Action: action, Subject: subject, Detail: raw})
	return err
}

func stateNames() string {
	var s []string
	for _, st := range store.IncidentStates {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}
