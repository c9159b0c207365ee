package app

import (
	"context"
	"errors"
	"time"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/notice"
	"github.com/orgguard/orgguard/internal/notify"
	"github.com/orgguard/orgguard/internal/postmortem"
	"github.com/orgguard/orgguard/internal/store"
)

// postmortemDraft is the notice clock's Resolved hook: a resolved incident
// gets its draft postmortem once, and the incident channels hear of it.
func (a *App) postmortemDraft(ctx context.Context, tx store.Tx, in store.Incident) (bool, error) {
	now := a.o.Now().UTC()
	wrote, err := postmortem.Draft(ctx, tx, in, notice.Actor, now)
	if err != nil || !wrote {
		return wrote, err
	}
	m := notify.Message{Kind: notify.KindPostmortemDraft, IncidentID: in.ID, Severity: string(in.Severity), State: string(in.State),
		Title: "Postmortem draft ready: " + in.Title, Text: "Write the root cause, action items and lessons: orgguard postmortem edit " + in.ID, At: now}
	_, err = notify.Enqueue(ctx, tx, a.cfg.Notify, notify.KindPostmortemDraft+":"+in.ID, m)
	return true, err
}

// Postmortem writes the Markdown postmortem of incident id in lang.
func (a *App) Postmortem(ctx context.Context, id, lang string) (string, error) {
	st, err := a.incidentStore(ctx, true)
	if err != nil {
		return "", err
	}
	ts, err := notice.LoadTemplates(a.cfg.Notices.TemplateDir)
	if err != nil {
		return "", BadInput(err)
	}
	zone, err := time.LoadLocation(a.cfg.Notices.TimeZone)
	if err != nil {
		zone = time.UTC
	}
	out, err := postmortem.Render(ctx, st, ts, id, lang, zone, a.o.Now())
	return out, pmErr(err)
}

// EditPostmortem sets fields (and the state, when not empty) of incident
// id's postmortem.
func (a *App) EditPostmortem(ctx context.Context, id string, fields map[string]string, state string) (store.Postmortem, error) {
	if err := a.authorize(auth.ActionRespond); err != nil {
		return store.Postmortem{}, err
	}
	st, err := a.incidentStore(ctx, true)
	if err != nil {
		return store.Postmortem{}, err
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return store.Postmortem{}, err
	}
	pm, err := postmortem.Edit(ctx, st, id, fields, state, actor, a.o.Now().UTC())
	return pm, pmErr(err)
}

func pmErr(err error) error {
	if errors.Is(err, postmortem.ErrInvalid) {
		return BadInput(err)
	}
	return classify(err)
}
