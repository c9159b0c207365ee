package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/notice"
	"github.com/orgguard/orgguard/internal/store"
)

// IncidentDetail is an incident as the team works it: the record, its
// timeline, its clock, the notice drafts and what was published, the
// notice clock, and the postmortem when one was started.
type IncidentDetail struct {
	Incident  store.Incident
	Timeline  []store.IncidentEvent
	Clock     incident.Clock
	Drafts    []store.NoticeDraft
	Published []store.Notice // newest first
	Notice    notice.Clock
	// Postmortem is nil until one is drafted (on resolution) or edited.
	Postmortem *store.Postmortem
}

// Incidents lists incidents, newest first. A store that does not exist
// yet holds none.
func (a *App) IncidentList(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	st, err := a.existingStore(ctx)
	if err != nil || st == nil {
		return nil, err
	}
	return st.ListIncidents(ctx, f)
}

// IncidentDetail reads incident id. It only reads: an incident without
// drafts (none should be) shows none until WriteNoticeDrafts.
func (a *App) IncidentDetail(ctx context.Context, id string) (*IncidentDetail, error) {
	st, err := a.incidentStore(ctx, true)
	if err != nil {
		return nil, err
	}
	in, err := st.Incident(ctx, id)
	if err != nil {
		return nil, classify(fmt.Errorf("reading incident %s: %w", id, err))
	}
	d := &IncidentDetail{Incident: in, Clock: incident.ClockOf(in), Notice: notice.ClockOf(a.cfg.Notices, in, a.o.Now())}
	if d.Timeline, err = st.IncidentTimeline(ctx, id); err != nil {
		return nil, fmt.Errorf("reading the timeline of incident %s: %w", id, err)
	}
	if d.Drafts, err = st.NoticeDrafts(ctx, id); err != nil {
		return nil, fmt.Errorf("reading the notice drafts of incident %s: %w", id, err)
	}
	if d.Published, err = st.ListNotices(ctx, store.NoticeFilter{IncidentID: id}); err != nil {
		return nil, fmt.Errorf("reading the notices of incident %s: %w", id, err)
	}
	pm, err := st.Postmortem(ctx, id)
	switch {
	case err == nil:
		d.Postmortem = &pm
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("reading the postmortem of incident %s: %w", id, err)
	}
	return d, nil
}

// WriteNoticeDrafts writes the notice drafts of incident id from the
// templates when it has none (ShowNotice does it on first look).
func (a *App) WriteNoticeDrafts(ctx context.Context, id string) error {
	if err := a.authorize(auth.ActionRespond); err != nil {
		return err
	}
	_, err := a.ShowNotice(ctx, id)
	return err
}

// responder returns the incident service and who acts, once the
// principal (if any) may respond to incidents.
func (a *App) responder(ctx context.Context) (*incident.Service, string, error) {
	if err := a.authorize(auth.ActionRespond); err != nil {
		return nil, "", err
	}
	svc, err := a.Incidents(ctx, true)
	if err != nil {
		return nil, "", err
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return nil, "", err
	}
	return svc, actor, nil
}

// AcknowledgeIncident records that the actor has taken incident id.
func (a *App) AcknowledgeIncident(ctx context.Context, id, message string) (store.Incident, error) {
	svc, actor, err := a.responder(ctx)
	if err != nil {
		return store.Incident{}, err
	}
	in, err := svc.Acknowledge(ctx, id, actor, message)
	return in, incidentErr(err)
}

// NoteIncident adds the actor's note to incident id's timeline.
func (a *App) NoteIncident(ctx context.Context, id, text string) error {
	svc, actor, err := a.responder(ctx)
	if err != nil {
		return err
	}
	_, err = svc.Note(ctx, id, actor, text)
	return incidentErr(err)
}

// SetIncidentState moves incident id to state (resolved resolves it),
// with message as the reason on its timeline.
func (a *App) SetIncidentState(ctx context.Context, id string, state store.IncidentState, message string) (store.Incident, error) {
	svc, actor, err := a.responder(ctx)
	if err != nil {
		return store.Incident{}, err
	}
	in, err := svc.SetState(ctx, id, state, actor, message)
	return in, incidentErr(err)
}

func incidentErr(err error) error {
	if errors.Is(err, incident.ErrInvalid) || errors.Is(err, store.ErrInvalid) {
		return BadInput(err)
	}
	return classify(err)
}

// PostmortemRecord returns incident id's postmortem fields as stored, or
// an empty draft when none was written yet.
func (a *App) PostmortemRecord(ctx context.Context, id string) (store.Postmortem, error) {
	st, err := a.incidentStore(ctx, true)
	if err != nil {
		return store.Postmortem{}, err
	}
	if _, err := st.Incident(ctx, id); err != nil {
		return store.Postmortem{}, classify(fmt.Errorf("reading incident %s: %w", id, err))
	}
	pm, err := st.Postmortem(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Postmortem{IncidentID: id, State: store.PostmortemDraft, Fields: map[string]string{}}, nil
	}
	if err != nil {
		return store.Postmortem{}, fmt.Errorf("reading the postmortem of incident %s: %w", id, err)
	}
	if pm.Fields == nil {
		pm.Fields = map[string]string{}
	}
	return pm, nil
}
