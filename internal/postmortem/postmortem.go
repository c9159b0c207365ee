// Package postmortem writes an incident's postmortem in Markdown, in
// Japanese or English, following the Google SRE postmortem template:
// summary, impact, trigger, detection, response, recovery, the timeline
// from the record with the incident clock (TTD, TTA, TTN, TTM, TTR), root
// cause, action items and lessons learned. The facts come from the record
// (the incident, its timeline, its notices, the change and plan behind it);
// the judgement — root cause, action items, lessons — is kept in the store
// as editable fields (store.Postmortem) and starts as a draft when the
// incident is resolved.
package postmortem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/notice"
	"github.com/orgguard/orgguard/internal/store"
)

// Fields are the editable parts, in the order the template shows them.
var Fields = []string{"summary", "rootCause", "trigger", "detection", "response", "recovery", "actionItems", "wentWell", "wentWrong", "lucky"}

// ErrInvalid marks an unknown field.
var ErrInvalid = errors.New("invalid postmortem request")

// Event is a timeline entry as the template shows it.
type Event struct {
	At      string
	Kind    string
	Actor   string
	Message string
}

// Data is what a postmortem template sees.
type Data struct {
	Lang      string
	ID        string
	Title     string // the headline of the incident's notices
	Opened    string // the incident's own title, as orgguard or a person opened it
	Severity  string
	State     string
	Draft     bool
	Date      string
	Accounts  []string
	Customers []string
	Duration  string // impact start to resolution (or "ongoing")
	Lost      []string
	Trigger   Trigger
	Clock     []Metric
	Timeline  []Event
	Notices   []Event
	Fields    map[string]string // every name of Fields, "" when not written
	Updated   string
	UpdatedBy string
}

// Trigger is what set the incident off: a change through orgguard (its
// plan, author and approvers) or drift (the rule and the AWS actors named
// by the events).
type Trigger struct {
	Source    string
	Rule      string
	ChangeID  string
	PlanID    string
	Author    string
	Approvers []string
	Actors    []string // the drift's CloudTrail actors
	Detected  string   // the detection entry's text
}

// Metric is one duration of the incident clock.
type Metric struct {
	Name  string
	Value string
}

// Build gathers the data of incident id in lang at now.
func Build(ctx context.Context, st store.Store, id, lang string, zone *time.Location, now time.Time) (Data, error) {
	in, err := st.Incident(ctx, id)
	if err != nil {
		return Data{}, err
	}
	tl, err := st.IncidentTimeline(ctx, id)
	if err != nil {
		return Data{}, err
	}
	pm, err := st.Postmortem(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Data{}, err
	}
	pub, err := st.ListNotices(ctx, store.NoticeFilter{IncidentID: id})
	if err != nil {
		return Data{}, err
	}
	ts := func(t time.Time) string { return notice.FormatTime(lang, t, zone) }
	d := Data{Lang: lang, ID: in.ID, Title: notice.Headline(lang, in), Opened: in.Title, Severity: notice.Word(lang, string(in.Severity)), State: notice.Word(lang, string(in.State)),
		Draft: pm.State != store.PostmortemFinal, Date: ts(in.OpenedAt), Accounts: in.Accounts, Customers: in.Customers,
		Fields: map[string]string{}, UpdatedBy: pm.UpdatedBy}
	if !pm.UpdatedAt.IsZero() {
		d.Updated = ts(pm.UpdatedAt)
	}
	for _, f := range Fields {
		d.Fields[f] = strings.TrimSpace(pm.Fields[f])
	}
	start := in.ImpactStartedAt
	if start.IsZero() {
		start = in.DetectedAt
	}
	if in.ResolvedAt.IsZero() {
		d.Duration = map[string]string{"ja": "継続中", "en": "ongoing"}[lang]
	} else {
		d.Duration = duration(lang, in.ResolvedAt.Sub(start))
	}
	var im struct {
		Findings []struct {
			Summary string `json:"summary"`
		} `json:"findings"`
	}
	if json.Unmarshal(in.Impact, &im) == nil {
		for _, f := range im.Findings {
			if f.Summary != "" && !slices.Contains(d.Lost, f.Summary) {
				d.Lost = append(d.Lost, f.Summary)
			}
		}
	}
	c := incident.ClockOf(in)
	for _, m := range []struct {
		name string
		d    *time.Duration
	}{{"TTD", c.TTD}, {"TTA", c.TTA}, {"TTN", c.TTN}, {"TTM", c.TTM}, {"TTR", c.TTR}} {
		v := "—"
		if m.d != nil {
			v = duration(lang, *m.d)
		}
		d.Clock = append(d.Clock, Metric{m.name, v})
	}
	d.Trigger = Trigger{Source: in.Source, Rule: in.Rule, ChangeID: in.ChangeID}
	for _, ev := range tl {
		d.Timeline = append(d.Timeline, Event{At: ts(ev.At), Kind: ev.Kind, Actor: ev.Actor, Message: oneLine(ev.Message)})
		if ev.Kind == incident.KindDetected {
			d.Trigger.Detected = oneLine(ev.Message)
			var det struct {
				Events []string `json:"events"`
			}
			if json.Unmarshal(ev.Detail, &det) == nil {
				for _, e := range det.Events {
					if _, actor, ok := strings.Cut(e, " by "); ok && !slices.Contains(d.Trigger.Actors, actor) {
						d.Trigger.Actors = append(d.Trigger.Actors, actor)
					}
				}
			}
		}
	}
	slices.Reverse(pub)
	for _, n := range pub {
		d.Notices = append(d.Notices, Event{At: ts(n.PublishedAt), Kind: n.Lang, Actor: n.PublishedBy, Message: oneLine(n.Title)})
	}
	if in.ChangeID != "" {
		if ch, err := st.Change(ctx, in.ChangeID); err == nil {
			d.Trigger.PlanID = ch.PlanID
			if p, err := st.Plan(ctx, ch.PlanID); err == nil {
				d.Trigger.Author = p.Author
			}
			if as, err := st.ListApprovals(ctx, ch.PlanID); err == nil {
				for _, a := range as {
					d.Trigger.Approvers = append(d.Trigger.Approvers, a.Approver)
				}
			}
		}
	}
	return d, nil
}

// duration writes d to the second: 1h5m3s in English, 1時間5分3秒 in
// Japanese.
func duration(lang string, d time.Duration) string {
	d = d.Round(time.Second)
	if lang != "ja" {
		return d.String()
	}
	var b strings.Builder
	if d < 0 {
		b.WriteString("-")
		d = -d
	}
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	if h > 0 {
		fmt.Fprintf(&b, "%d時間", h)
	}
	if h > 0 || m > 0 {
		fmt.Fprintf(&b, "%d分", m)
	}
	fmt.Fprintf(&b, "%d秒", s)
	return b.String()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "|", "/")), " ")
}

// Render writes the postmortem of incident id in lang.
func Render(ctx context.Context, st store.Store, ts *notice.Templates, id, lang string, zone *time.Location, now time.Time) (string, error) {
	if !slices.Contains(notice.Languages, lang) {
		return "", fmt.Errorf("writing the postmortem of incident %s: %w: language %q (want ja or en)", id, ErrInvalid, lang)
	}
	d, err := Build(ctx, st, id, lang, zone, now)
	if err != nil {
		return "", err
	}
	out, err := ts.Render(notice.KindPostmortem, lang, "body", d)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out) + "\n", nil
}

// Draft stores an empty draft postmortem for a resolved incident that has
// none, in tx, and reports whether it did.
func Draft(ctx context.Context, tx store.Tx, in store.Incident, by string, now time.Time) (bool, error) {
	if _, err := tx.Postmortem(ctx, in.ID); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if _, err := tx.SavePostmortem(ctx, store.Postmortem{IncidentID: in.ID, State: store.PostmortemDraft, Fields: map[string]string{}, UpdatedAt: now, UpdatedBy: by}); err != nil {
		return false, err
	}
	_, err := tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: in.ID, At: now, Kind: "postmortem", Actor: by,
		Message: "postmortem draft written (orgguard postmortem " + in.ID + ")"})
	return err == nil, err
}

// Edit sets fields (names from Fields) of incident id's postmortem, and
// its state when state is not empty.
func Edit(ctx context.Context, st store.Store, id string, set map[string]string, state, by string, now time.Time) (store.Postmortem, error) {
	for k := range set {
		if !slices.Contains(Fields, k) {
			return store.Postmortem{}, fmt.Errorf("editing the postmortem of incident %s: %w: field %q (want one of %s)", id, ErrInvalid, k, strings.Join(Fields, ", "))
		}
	}
	if state != "" && state != store.PostmortemDraft && state != store.PostmortemFinal {
		return store.Postmortem{}, fmt.Errorf("editing the postmortem of incident %s: %w: state %q (want draft or final)", id, ErrInvalid, state)
	}
	var out store.Postmortem
	err := st.WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.Incident(ctx, id); err != nil {
			return err
		}
		pm, err := tx.Postmortem(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			pm, err = store.Postmortem{IncidentID: id, State: store.PostmortemDraft, Fields: map[string]string{}}, nil
		}
		if err != nil {
			return err
		}
		if pm.Fields == nil {
			pm.Fields = map[string]string{}
		}
		for k, v := range set {
			pm.Fields[k] = v
		}
		if state != "" {
			pm.State = state
		}
		pm.UpdatedAt, pm.UpdatedBy = now, by
		if out, err = tx.SavePostmortem(ctx, pm); err != nil {
			return err
		}
		raw, _ := json.Marshal(map[string]any{"fields": slices.Sorted(mapsKeys(set)), "state": pm.State})
		_, err = tx.AppendAudit(ctx, store.AuditRecord{Actor: by, Action: "postmortem.edited", Subject: id, Detail: raw})
		return err
	})
	return out, err
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
