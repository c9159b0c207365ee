package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/notice"
	"github.com/orgguard/orgguard/internal/notify"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/store"
)

// Notices returns the notice service on the store: drafts, publication,
// the notice clock and customer messages. With mustExist a missing store
// is ErrBadInput.
func (a *App) Notices(ctx context.Context, mustExist bool) (*notice.Service, error) {
	st, err := a.incidentStore(ctx, mustExist)
	if err != nil {
		return nil, err
	}
	return a.noticeService(st)
}

func (a *App) noticeService(st store.Store) (*notice.Service, error) {
	ts, err := notice.LoadTemplates(a.cfg.Notices.TemplateDir)
	if err != nil {
		return nil, BadInput(fmt.Errorf("notices.templateDir: %w", err))
	}
	ns := &notice.Service{Store: st, Config: a.cfg.Notices, Notify: a.cfg.Notify, Templates: ts, Now: a.o.Now}
	ns.Targets = a.customerTargets
	ns.Resolved = a.postmortemDraft
	return ns, nil
}

// incidentStore returns the store, or with mustExist ErrBadInput when it
// does not exist.
func (a *App) incidentStore(ctx context.Context, mustExist bool) (store.Store, error) {
	if !mustExist {
		return a.Store(ctx)
	}
	st, err := a.existingStore(ctx)
	if err != nil {
		return nil, err
	}
	if st == nil {
		_, err := OpenStore(ctx, a.storeDSN(), true) // for its message
		return nil, err
	}
	return st, nil
}

// customerTargets finds the affected customers of in, each with only its
// own accounts, and its contact: the configured list first, else the
// contact tag on one of its accounts. It reads the organization from the
// backend only when some customer needs it.
func (a *App) customerTargets(ctx context.Context, in store.Incident) ([]notice.Target, error) {
	cc := a.cfg.Notices.Customers
	if len(in.Customers) == 0 || a.cfg.Notify.CustomerChannel == "" || (len(cc.List) == 0 && cc.ContactTag == "") {
		return nil, nil
	}
	b, err := a.Backend(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := b.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the organization: %w", err)
	}
	x, err := org.NewIndex(snap)
	if err != nil {
		return nil, err
	}
	names, by := a.cfg.Watch.Customers.Customers(x, in.Accounts)
	var out []notice.Target
	for _, name := range names {
		if !slices.Contains(in.Customers, name) {
			continue
		}
		tg := notice.Target{Customer: name, Lang: cc.DefaultLang}
		for _, id := range by[name] {
			acc, _ := x.Account(id)
			tg.Accounts = append(tg.Accounts, notice.Account{ID: id, Name: acc.Name})
			if cc.ContactTag != "" && len(tg.Email) == 0 && acc.Tags[cc.ContactTag] != "" {
				tg.Email = []string{acc.Tags[cc.ContactTag]}
			}
			if cc.LangTag != "" && slices.Contains(notice.Languages, acc.Tags[cc.LangTag]) {
				tg.Lang = acc.Tags[cc.LangTag]
			}
		}
		for _, c := range cc.List {
			if c.Customer == name {
				tg.Email = c.Email
				if c.Lang != "" {
					tg.Lang = c.Lang
				}
			}
		}
		out = append(out, tg)
	}
	return out, nil
}

// NoticeView is an incident's notices: the drafts, what was published,
// and the notice clock.
type NoticeView struct {
	Incident  store.Incident      `json:"incident"`
	Drafts    []store.NoticeDraft `json:"drafts"`
	Published []store.Notice      `json:"published"`
	Clock     notice.Clock        `json:"clock"`
}

// ShowNotice returns the notices of incident id (writing its drafts first
// when it has none).
func (a *App) ShowNotice(ctx context.Context, id string) (NoticeView, error) {
	ns, err := a.Notices(ctx, false)
	if err != nil {
		return NoticeView{}, err
	}
	in, ds, err := ns.Drafts(ctx, id)
	if err != nil {
		return NoticeView{}, classify(err)
	}
	pub, err := ns.Store.ListNotices(ctx, store.NoticeFilter{IncidentID: id})
	if err != nil {
		return NoticeView{}, err
	}
	return NoticeView{Incident: in, Drafts: ds, Published: pub, Clock: notice.ClockOf(a.cfg.Notices, in, a.o.Now())}, nil
}

// EditNotice replaces the draft of incident id in lang.
func (a *App) EditNotice(ctx context.Context, id, lang, title, body string) (store.NoticeDraft, error) {
	if err := a.authorize(auth.ActionRespond); err != nil {
		return store.NoticeDraft{}, err
	}
	ns, err := a.Notices(ctx, false)
	if err != nil {
		return store.NoticeDraft{}, err
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return store.NoticeDraft{}, err
	}
	d, err := ns.Edit(ctx, id, lang, title, body, actor)
	return d, noticeErr(err)
}

// PublishNotice publishes the drafts of incident id in langs (all when
// empty), tells the incident channels and the affected customers.
func (a *App) PublishNotice(ctx context.Context, id string, langs []string) ([]store.Notice, error) {
	if err := a.authorize(auth.ActionRespond); err != nil {
		return nil, err
	}
	ns, err := a.Notices(ctx, false)
	if err != nil {
		return nil, err
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return nil, err
	}
	out, err := ns.Publish(ctx, id, langs, actor)
	return out, noticeErr(err)
}

func noticeErr(err error) error {
	if errors.Is(err, notice.ErrInvalid) {
		return BadInput(err)
	}
	return classify(err)
}

// NotifyOptions shape the notifier: the notice clock and the outbox
// sender.
type NotifyOptions struct {
	Log *slog.Logger
	// Getenv reads secrets named env:NAME; nil = os.Getenv.
	Getenv func(string) string
	// Tick is how often the notice clock runs; 0 = one second.
	Tick time.Duration
	// Once runs one clock tick and sends what is due, then returns.
	Once bool
	// Leading, when set, is asked before each send (team mode: whether
	// this replica still surely leads); see notify.Sender.Leading.
	Leading func() error
}

// NotifyResult is what a --once run did.
type NotifyResult struct {
	Clock notice.TickResult `json:"clock"`
	Sent  int               `json:"sent"`
}

// Notify runs the notice clock and the outbox sender until ctx ends (or
// once). Run one per store (the leader, in team mode).
func (a *App) Notify(ctx context.Context, o NotifyOptions) (NotifyResult, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	st, err := a.Store(ctx)
	if err != nil {
		return NotifyResult{}, err
	}
	ns, err := a.noticeService(st)
	if err != nil {
		return NotifyResult{}, err
	}
	ns.Log = o.Log
	chans, err := a.cfg.Notify.Build(o.Getenv)
	if err != nil {
		return NotifyResult{}, BadInput(err)
	}
	host, _ := os.Hostname()
	snd := &notify.Sender{Store: st, Channels: chans, Owner: fmt.Sprintf("%s:%d:%d", host, os.Getpid(), a.o.Now().UnixNano()),
		Retry: a.cfg.Notify.Retry, Lease: a.cfg.Notify.Lease, Poll: a.cfg.Notify.Poll, Log: o.Log, Leading: o.Leading}
	ns.Wake = snd.Wake
	if o.Once {
		var r NotifyResult
		if r.Clock, err = ns.Tick(ctx); err != nil {
			return r, err
		}
		r.Sent, err = snd.Drain(ctx)
		return r, err
	}
	o.Log.Info("notifier running", "channels", len(chans), "tick", o.Tick)
	done := make(chan error, 1)
	go func() { done <- snd.Run(ctx) }()
	t := time.NewTicker(o.Tick)
	defer t.Stop()
	for {
		if _, err := ns.Tick(ctx); err != nil && ctx.Err() == nil {
			o.Log.Warn("notice clock", "err", err)
		}
		select {
		case <-ctx.Done():
			return NotifyResult{}, <-done
		case <-t.C:
		}
	}
}

// Outbox lists outbox messages (their payloads hold no secrets: channel
// secrets are added when sending).
func (a *App) Outbox(ctx context.Context, f store.OutboxFilter) ([]store.OutboxMessage, error) {
	st, err := a.incidentStore(ctx, true)
	if err != nil {
		return nil, err
	}
	return st.ListMessages(ctx, f)
}

// RetryMessage makes a dead (or waiting) outbox message due now.
func (a *App) RetryMessage(ctx context.Context, id int64) error {
	if err := a.authorize(auth.ActionRespond); err != nil {
		return err
	}
	st, err := a.incidentStore(ctx, true)
	if err != nil {
		return err
	}
	if err := st.RetryMessage(ctx, id); err != nil {
		return classify(err)
	}
	return nil
}
