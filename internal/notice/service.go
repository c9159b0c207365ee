package notice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/notify"
	"github.com/orgguard/orgguard/internal/store"
)

// Actor is who orgguard is in drafts, timelines and the audit log.
const Actor = "orgguard"

// Timeline entry kinds written by the notice clock and publication.
const (
	KindReminder   = "notice-reminder"
	KindEscalation = "notice-escalation"
	KindPublished  = "notice-published"
)

// ErrInvalid marks bad requests (an unknown language, an empty body).
var ErrInvalid = errors.New("invalid notice request")

// Service writes drafts, publishes notices and runs the notice clock.
type Service struct {
	Store     store.Store
	Config    Config
	Notify    notify.Config
	Templates *Templates
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger
	// Targets returns the customers to tell about in, each with only its
	// own accounts; nil means no customer messages.
	Targets func(ctx context.Context, in store.Incident) ([]Target, error)
	// Resolved, when set, runs once per resolved incident in the
	// transaction that notes it (the postmortem draft); it reports
	// whether it wrote anything.
	Resolved func(ctx context.Context, tx store.Tx, in store.Incident) (bool, error)
	// Wake, when set, is called after messages are enqueued (the sender's
	// Wake).
	Wake func()
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) wake() {
	if s.Wake != nil {
		s.Wake()
	}
}

// OnOpen writes the drafts of a new incident and tells the incident
// channels, in tx (the transaction that opens it). It has the signature
// of incident.Service.OnOpen.
func (s *Service) OnOpen(ctx context.Context, tx store.Tx, in store.Incident) error {
	now := s.now()
	for _, lang := range s.Config.Languages {
		title, body, err := s.Templates.Draft(s.Config, in, lang, now)
		if err != nil {
			return fmt.Errorf("drafting the %s notice of incident %s: %w", lang, in.ID, err)
		}
		if _, err := tx.SaveNoticeDraft(ctx, store.NoticeDraft{IncidentID: in.ID, Lang: lang, Title: title, Body: body, Origin: store.DraftTemplate, UpdatedAt: now, UpdatedBy: Actor}); err != nil {
			return err
		}
	}
	dl := Deadline(s.Config, in)
	m := s.message(in, notify.KindIncidentOpened, s.Config.Languages[0], now)
	m.Fields = append(m.Fields, notify.Field{Name: "first notice due", Value: FormatTime("en", dl, zone(s.Config))})
	_, err := notify.Enqueue(ctx, tx, s.Notify, notify.KindIncidentOpened+":"+in.ID, m)
	return err
}

func zone(c Config) *time.Location {
	z, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return z
}

// message is the internal message about in: the incident's title as it
// is (the team's channels see IDs), its scope and state.
func (s *Service) message(in store.Incident, kind, lang string, now time.Time) notify.Message {
	d := BuildData(s.Config, in, lang, now)
	text := fmt.Sprintf("%s — %s, %s: %s", in.ID, d.Scope, d.StateWord, in.Title)
	return notify.Message{Kind: kind, IncidentID: in.ID, Severity: string(in.Severity), State: string(in.State), Title: in.Title, Text: text, Lang: lang, At: now,
		Fields: []notify.Field{{Name: "accounts", Value: fmt.Sprint(len(in.Accounts))}, {Name: "customers", Value: fmt.Sprint(len(in.Customers))}}}
}

// Deadline is in's first-notice deadline.
func Deadline(c Config, in store.Incident) time.Time {
	start := in.DetectedAt
	if start.IsZero() {
		start = in.OpenedAt
	}
	return start.Add(c.Deadline.For(in.Severity))
}

// Clock is where an incident's notice clock stands.
type Clock struct {
	Deadline  time.Time     `json:"deadline"`
	HalfTime  time.Time     `json:"half_time"`
	Remaining time.Duration `json:"remaining"` // negative when overdue
	Noticed   time.Time     `json:"first_notice_at,omitzero"`
	Overdue   bool          `json:"overdue"`
}

// ClockOf returns in's notice clock at now.
func ClockOf(c Config, in store.Incident, now time.Time) Clock {
	dl := Deadline(c, in)
	k := Clock{Deadline: dl, HalfTime: dl.Add(-c.Deadline.For(in.Severity) / 2), Noticed: in.FirstNoticeAt}
	if in.FirstNoticeAt.IsZero() {
		k.Remaining = dl.Sub(now)
		k.Overdue = k.Remaining < 0
	} else {
		k.Overdue = in.FirstNoticeAt.After(dl)
	}
	return k
}

// Drafts returns in's drafts, writing them first when there are none
// (an incident opened by an apply, or before notices existed).
func (s *Service) Drafts(ctx context.Context, id string) (store.Incident, []store.NoticeDraft, error) {
	in, err := s.Store.Incident(ctx, id)
	if err != nil {
		return store.Incident{}, nil, err
	}
	ds, err := s.Store.NoticeDrafts(ctx, id)
	if err != nil || len(ds) > 0 {
		return in, ds, err
	}
	if err := s.Store.WithTx(ctx, func(tx store.Tx) error { return s.OnOpen(ctx, tx, in) }); err != nil {
		return in, nil, err
	}
	ds, err = s.Store.NoticeDrafts(ctx, id)
	return in, ds, err
}

// Edit replaces the draft in lang with a person's text; it is never
// rewritten from the templates again.
func (s *Service) Edit(ctx context.Context, id, lang, title, body, by string) (store.NoticeDraft, error) {
	if !slices.Contains(Languages, lang) {
		return store.NoticeDraft{}, fmt.Errorf("editing the notice of incident %s: %w: language %q (want ja or en)", id, ErrInvalid, lang)
	}
	if strings.TrimSpace(body) == "" || strings.TrimSpace(title) == "" {
		return store.NoticeDraft{}, fmt.Errorf("editing the %s notice of incident %s: %w: title and body must not be empty", lang, id, ErrInvalid)
	}
	if _, _, err := s.Drafts(ctx, id); err != nil {
		return store.NoticeDraft{}, err
	}
	var d store.NoticeDraft
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		var err error
		d, err = tx.SaveNoticeDraft(ctx, store.NoticeDraft{IncidentID: id, Lang: lang, Title: strings.TrimSpace(title), Body: strings.TrimRight(body, "\n") + "\n", Origin: store.DraftEdited, UpdatedAt: s.now(), UpdatedBy: by})
		if err != nil {
			return err
		}
		return audit(ctx, tx, by, "notice.edited", id, map[string]any{"lang": lang})
	})
	return d, err
}

// Publish publishes in's drafts in langs (every draft when empty) as they
// stand (a template draft is rewritten from the record at this moment
// first), tells the incident channels and each affected customer.
func (s *Service) Publish(ctx context.Context, id string, langs []string, by string) ([]store.Notice, error) {
	for _, l := range langs {
		if !slices.Contains(Languages, l) {
			return nil, fmt.Errorf("publishing the notice of incident %s: %w: language %q (want ja or en)", id, ErrInvalid, l)
		}
	}
	in, drafts, err := s.Drafts(ctx, id)
	if err != nil {
		return nil, err
	}
	var targets []Target
	if s.Targets != nil {
		if targets, err = s.Targets(ctx, in); err != nil {
			return nil, fmt.Errorf("finding the customers of incident %s: %w", id, err)
		}
	}
	now := s.now()
	var out []store.Notice
	err = s.Store.WithTx(ctx, func(tx store.Tx) error {
		out = out[:0]
		if in, err = tx.Incident(ctx, id); err != nil {
			return err
		}
		for _, d := range drafts {
			if len(langs) > 0 && !slices.Contains(langs, d.Lang) {
				continue
			}
			if d.Origin == store.DraftTemplate {
				if d.Title, d.Body, err = s.Templates.Draft(s.Config, in, d.Lang, now); err != nil {
					return err
				}
			}
			n, err := tx.PublishNotice(ctx, store.Notice{IncidentID: id, Lang: d.Lang, Title: d.Title, Body: d.Body, PublishedAt: now, PublishedBy: by})
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		if len(out) == 0 {
			return fmt.Errorf("publishing the notice of incident %s: %w: no draft in %v", id, ErrInvalid, langs)
		}
		seq := out[len(out)-1].Seq
		if _, err := tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: id, At: now, Kind: KindPublished, Actor: by,
			Message: fmt.Sprintf("notice #%d published (%s)", seq, langList(out))}); err != nil {
			return err
		}
		m := s.message(in, notify.KindNoticePublished, out[0].Lang, now)
		m.Title, m.Text = out[0].Title, out[0].Body
		if _, err := notify.Enqueue(ctx, tx, s.Notify, fmt.Sprintf("%s:%s:%d", notify.KindNoticePublished, id, seq), m); err != nil {
			return err
		}
		if err := s.tellCustomers(ctx, tx, in, targets, seq, now); err != nil {
			return err
		}
		return audit(ctx, tx, by, "notice.published", id, map[string]any{"seq": seq, "langs": langList(out), "customers": len(targets)})
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return out, nil
}

func langList(ns []store.Notice) string {
	var l []string
	for _, n := range ns {
		l = append(l, n.Lang)
	}
	return strings.Join(l, ", ")
}

// tellCustomers enqueues one message per customer with a contact, in its
// language, listing only its accounts.
func (s *Service) tellCustomers(ctx context.Context, tx store.Tx, in store.Incident, targets []Target, seq int64, now time.Time) error {
	ch := s.Notify.CustomerChannel
	if ch == "" {
		return nil
	}
	for _, tg := range targets {
		if len(tg.Email) == 0 || len(tg.Accounts) == 0 {
			continue
		}
		title, body, err := s.Templates.CustomerMessage(s.Config, in, tg, now)
		if err != nil {
			return err
		}
		m := notify.Message{Kind: notify.KindCustomerNotice, IncidentID: in.ID, Severity: string(in.Severity), State: string(in.State),
			Title: title, Text: body, Lang: tg.Lang, At: now, To: tg.Email, Customer: tg.Customer}
		if _, err := notify.EnqueueTo(ctx, tx, []string{ch}, fmt.Sprintf("%s:%s:%d:%s", notify.KindCustomerNotice, in.ID, seq, tg.Customer), m); err != nil {
			return err
		}
	}
	return nil
}

// TickResult counts what one tick of the clock did.
type TickResult struct {
	Drafted       int `json:"drafted"`
	Reminded      int `json:"reminded"`
	Escalated     int `json:"escalated"`
	AutoPublished int `json:"autoPublished"`
	Told          int `json:"told"`
	Resolved      int `json:"resolved"`
}

// Tick runs the notice clock once over the active incidents and the
// recently resolved ones: drafts for incidents that have none, template
// drafts rewritten when the record changed, the reminder at half time,
// the escalation (and, when configured, the publication) at the deadline,
// acknowledgement and resolution messages, and the Resolved hook. Each
// step happens once whatever the number of ticks or restarts: the
// timeline and the outbox keys record what was done.
func (s *Service) Tick(ctx context.Context) (TickResult, error) {
	var r TickResult
	active, err := s.Store.ListIncidents(ctx, store.IncidentFilter{Active: true, Limit: 500})
	if err != nil {
		return r, err
	}
	resolved, err := s.Store.ListIncidents(ctx, store.IncidentFilter{State: store.IncidentResolved, Limit: 50})
	if err != nil {
		return r, err
	}
	var errs []error
	for _, in := range append(active, resolved...) {
		if err := s.tick(ctx, in, &r); err != nil {
			errs = append(errs, fmt.Errorf("incident %s: %w", in.ID, err))
		}
	}
	if r.Reminded+r.Escalated+r.AutoPublished+r.Told+r.Drafted+r.Resolved > 0 {
		s.wake()
	}
	return r, errors.Join(errs...)
}

func (s *Service) tick(ctx context.Context, in store.Incident, r *TickResult) error {
	now := s.now()
	drafts, err := s.Store.NoticeDrafts(ctx, in.ID)
	if err != nil {
		return err
	}
	if len(drafts) == 0 && in.State.Active() {
		if err := s.Store.WithTx(ctx, func(tx store.Tx) error { return s.OnOpen(ctx, tx, in) }); err != nil {
			return err
		}
		r.Drafted++
	} else if in.State.Active() {
		if err := s.refresh(ctx, in, drafts); err != nil {
			return err
		}
	}
	tl, err := s.Store.IncidentTimeline(ctx, in.ID)
	if err != nil {
		return err
	}
	has := func(kind string) bool {
		return slices.ContainsFunc(tl, func(ev store.IncidentEvent) bool { return ev.Kind == kind })
	}
	sent, err := s.Store.ListMessages(ctx, store.OutboxFilter{IncidentID: in.ID})
	if err != nil {
		return err
	}
	told := func(base string) bool {
		return slices.ContainsFunc(sent, func(m store.OutboxMessage) bool { return strings.HasPrefix(m.Key, base+"@") })
	}
	k := ClockOf(s.Config, in, now)
	lang := s.Config.Languages[0]
	if in.State.Active() && in.FirstNoticeAt.IsZero() {
		if !now.Before(k.HalfTime) && !has(KindReminder) {
			err := s.Store.WithTx(ctx, func(tx store.Tx) error {
				m := s.message(in, notify.KindNoticeReminder, lang, now)
				m.Title = "Half the time to the first notice has passed: " + in.Title
				m.Text = fmt.Sprintf("No notice is published yet for %s. The first notice is due at %s (%s left). Review and publish: orgguard notice show %s / orgguard notice publish %s",
					in.ID, FormatTime("en", k.Deadline, zone(s.Config)), k.Remaining.Round(time.Second), in.ID, in.ID)
				if _, err := notify.Enqueue(ctx, tx, s.Notify, notify.KindNoticeReminder+":"+in.ID, m); err != nil {
					return err
				}
				_, err := tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: in.ID, At: now, Kind: KindReminder, Actor: Actor,
					Message: fmt.Sprintf("notice clock: half time, no notice published; due at %s", k.Deadline.UTC().Format(time.RFC3339))})
				return err
			})
			if err != nil {
				return err
			}
			r.Reminded++
		}
		if !now.Before(k.Deadline) && !has(KindEscalation) {
			err := s.Store.WithTx(ctx, func(tx store.Tx) error {
				m := s.message(in, notify.KindNoticeEscalation, lang, now)
				m.Title = "First-notice deadline passed: " + in.Title
				m.Text = fmt.Sprintf("No notice was published for %s by its deadline %s. Publish now: orgguard notice publish %s",
					in.ID, FormatTime("en", k.Deadline, zone(s.Config)), in.ID)
				if _, err := notify.Enqueue(ctx, tx, s.Notify, notify.KindNoticeEscalation+":"+in.ID, m); err != nil {
					return err
				}
				_, err := tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: in.ID, At: now, Kind: KindEscalation, Actor: Actor,
					Message: fmt.Sprintf("notice clock: deadline %s passed without a notice; escalated to on-call", k.Deadline.UTC().Format(time.RFC3339))})
				return err
			})
			if err != nil {
				return err
			}
			r.Escalated++
			s.log().Warn("notice deadline passed; escalated", "incident", in.ID)
			if s.Config.AutoPublish {
				if _, err := s.Publish(ctx, in.ID, nil, Actor+" (automatic at the deadline)"); err != nil {
					return fmt.Errorf("publishing automatically: %w", err)
				}
				r.AutoPublished++
			}
		}
	}
	if !in.AcknowledgedAt.IsZero() && !told(notify.KindIncidentAcknowledged+":"+in.ID) {
		n := 0
		err := s.Store.WithTx(ctx, func(tx store.Tx) error {
			var err error
			n, err = notify.Enqueue(ctx, tx, s.Notify, notify.KindIncidentAcknowledged+":"+in.ID, s.message(in, notify.KindIncidentAcknowledged, lang, now))
			return err
		})
		if err != nil {
			return err
		}
		r.Told += n
	}
	if in.State == store.IncidentResolved {
		if !told(notify.KindIncidentResolved + ":" + in.ID) {
			n := 0
			err := s.Store.WithTx(ctx, func(tx store.Tx) error {
				var err error
				n, err = notify.Enqueue(ctx, tx, s.Notify, notify.KindIncidentResolved+":"+in.ID, s.message(in, notify.KindIncidentResolved, lang, now))
				return err
			})
			if err != nil {
				return err
			}
			r.Told += n
		}
		if s.Resolved != nil {
			wrote := false
			err := s.Store.WithTx(ctx, func(tx store.Tx) error {
				var err error
				wrote, err = s.Resolved(ctx, tx, in)
				return err
			})
			if err != nil {
				return err
			}
			if wrote {
				r.Resolved++
			}
		}
	}
	return nil
}

// refresh rewrites template drafts whose incident changed since.
func (s *Service) refresh(ctx context.Context, in store.Incident, drafts []store.NoticeDraft) error {
	for _, d := range drafts {
		if d.Origin != store.DraftTemplate {
			continue
		}
		title, body, err := s.Templates.Draft(s.Config, in, d.Lang, d.UpdatedAt)
		if err != nil {
			return err
		}
		if title == d.Title && body == d.Body {
			continue
		}
		now := s.now()
		if title, body, err = s.Templates.Draft(s.Config, in, d.Lang, now); err != nil {
			return err
		}
		if _, err := s.Store.SaveNoticeDraft(ctx, store.NoticeDraft{IncidentID: in.ID, Lang: d.Lang, Title: title, Body: body, Origin: store.DraftTemplate, UpdatedAt: now, UpdatedBy: Actor}); err != nil {
			return err
		}
	}
	return nil
}

func audit(ctx context.Context, tx store.Tx, actor, action, subject string, detail any) error {
	raw, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encoding the audit detail: %w", err)
	}
	_, err = tx.AppendAudit(ctx, store.AuditRecord{Actor: actor, Action: action, Subject: subject, Detail: raw})
	return err
}
