package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/store"
)

func testNotices(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	in := must[store.Incident](t, "OpenIncident")(s.OpenIncident(ctx, store.Incident{OpenedAt: t0, Severity: store.SevCritical, Title: "deny-all"}))
	t.Run("a draft is saved per language and replaced", func(t *testing.T) {
		for _, lang := range []string{"ja", "en"} {
			must[store.NoticeDraft](t, "SaveNoticeDraft")(s.SaveNoticeDraft(ctx, store.NoticeDraft{IncidentID: in.ID, Lang: lang, Title: "t-" + lang, Body: "b", Origin: store.DraftTemplate, UpdatedBy: "orgguard"}))
		}
		want := store.NoticeDraft{IncidentID: in.ID, Lang: "ja", Title: "障害のお知らせ", Body: "本文", Origin: store.DraftEdited, UpdatedAt: t0.Add(time.Minute), UpdatedBy: "alice"}
		must[store.NoticeDraft](t, "SaveNoticeDraft")(s.SaveNoticeDraft(ctx, want))
		got := must[[]store.NoticeDraft](t, "NoticeDrafts")(s.NoticeDrafts(ctx, in.ID))
		if len(got) != 2 || got[0].Lang != "en" || !cmp.Equal(got[1], want) {
			t.Errorf("NoticeDrafts = %+v, want en then the edited ja %+v", got, want)
		}
	})
	t.Run("bad drafts are refused", func(t *testing.T) {
		_, err := s.SaveNoticeDraft(ctx, store.NoticeDraft{IncidentID: "incident-none", Lang: "en", Body: "x", Origin: store.DraftTemplate})
		wantErr(t, "SaveNoticeDraft(no incident)", err, store.ErrNotFound)
		_, err = s.SaveNoticeDraft(ctx, store.NoticeDraft{IncidentID: in.ID, Lang: "en", Body: "x", Origin: "guess"})
		wantErr(t, "SaveNoticeDraft(unknown origin)", err, store.ErrInvalid)
	})
	t.Run("publishing numbers notices and sets the first notice time once", func(t *testing.T) {
		first := must[store.Notice](t, "PublishNotice")(s.PublishNotice(ctx, store.Notice{IncidentID: in.ID, Lang: "ja", Title: "a", Body: "本文", PublishedAt: t0.Add(4 * time.Minute), PublishedBy: "alice"}))
		second := must[store.Notice](t, "PublishNotice")(s.PublishNotice(ctx, store.Notice{IncidentID: in.ID, Lang: "en", Title: "a", Body: "body", PublishedAt: t0.Add(9 * time.Minute), PublishedBy: "bob"}))
		if first.Seq != 1 || second.Seq != 2 || first.State != store.IncidentInvestigating {
			t.Errorf("PublishNotice seqs = %d, %d (state %q), want 1, 2 (investigating)", first.Seq, second.Seq, first.State)
		}
		got := must[store.Incident](t, "Incident")(s.Incident(ctx, in.ID))
		if !got.FirstNoticeAt.Equal(t0.Add(4 * time.Minute)) {
			t.Errorf("FirstNoticeAt = %v, want the first publication %v", got.FirstNoticeAt, t0.Add(4*time.Minute))
		}
		list := must[[]store.Notice](t, "ListNotices")(s.ListNotices(ctx, store.NoticeFilter{IncidentID: in.ID}))
		if len(list) != 2 || !cmp.Equal(list[0], second) || !cmp.Equal(list[1], first) {
			t.Errorf("ListNotices (-want +got):\n%s", cmp.Diff([]store.Notice{second, first}, list))
		}
		if l := must[[]store.Notice](t, "ListNotices")(s.ListNotices(ctx, store.NoticeFilter{Since: t0.Add(5 * time.Minute)})); len(l) != 1 {
			t.Errorf("ListNotices(since) = %d notices, want 1", len(l))
		}
		_, err := s.PublishNotice(ctx, store.Notice{IncidentID: "incident-none", Lang: "en", Body: "x"})
		wantErr(t, "PublishNotice(no incident)", err, store.ErrNotFound)
		_, err = s.PublishNotice(ctx, store.Notice{IncidentID: in.ID, Lang: "en", Body: " "})
		wantErr(t, "PublishNotice(empty body)", err, store.ErrInvalid)
	})
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	msg := func(key, channel string) store.OutboxMessage {
		return store.OutboxMessage{Key: key, Channel: channel, Kind: "incident.opened", IncidentID: "incident-1", Payload: json.RawMessage(`{"n":1}`), CreatedAt: t0}
	}
	a, created, err := s.EnqueueMessage(ctx, msg("k1", "ops"))
	if err != nil || !created || a.ID == 0 || a.State != store.OutboxPending || !a.NextAt.Equal(t0) {
		t.Fatalf("EnqueueMessage = %+v, %v, %v; want a new pending message due at %v", a, created, err, t0)
	}
	t.Run("the same key is enqueued once", func(t *testing.T) {
		again, created, err := s.EnqueueMessage(ctx, store.OutboxMessage{Key: "k1", Channel: "other", Kind: "x", Payload: json.RawMessage(`{}`)})
		if err != nil || created || again.ID != a.ID || again.Channel != "ops" {
			t.Errorf("EnqueueMessage(same key) = %+v, %v, %v; want the first message, not created", again, created, err)
		}
		if _, err := s.WithTx(ctx, func(tx store.Tx) error {
			_, _, err := tx.EnqueueMessage(ctx, msg("k1", "ops"))
			return err
		}), error(nil); err != nil {
			t.Errorf("EnqueueMessage(same key) in a transaction = %v", err)
		}
	})
	must[store.OutboxMessage](t, "EnqueueMessage")(func() (store.OutboxMessage, error) {
		m, _, err := s.EnqueueMessage(ctx, msg("k2", "ops"))
		return m, err
	}())
	must[store.OutboxMessage](t, "EnqueueMessage")(func() (store.OutboxMessage, error) {
		m, _, err := s.EnqueueMessage(ctx, msg("k3", "mail"))
		return m, err
	}())
	t.Run("bad messages are refused", func(t *testing.T) {
		for name, m := range map[string]store.OutboxMessage{
			"no key":       {Channel: "c", Kind: "k", Payload: json.RawMessage(`{}`)},
			"no payload":   {Key: "x", Channel: "c", Kind: "k"},
			"bad payload":  {Key: "x", Channel: "c", Kind: "k", Payload: json.RawMessage(`{`)},
			"too long key": {Key: string(make([]byte, 300)), Channel: "c", Kind: "k", Payload: json.RawMessage(`{}`)},
		} {
			_, _, err := s.EnqueueMessage(ctx, m)
			wantErr(t, "EnqueueMessage("+name+")", err, store.ErrInvalid)
		}
	})
	t.Run("claims lease due messages of one channel, oldest first", func(t *testing.T) {
		got := must[[]store.OutboxMessage](t, "ClaimMessages")(s.ClaimMessages(ctx, store.ClaimRequest{Channel: "ops", Owner: "r1", Now: t0, Until: t0.Add(time.Minute), Limit: 10}))
		if len(got) != 2 || got[0].Key != "k1" || got[1].Key != "k2" || got[0].Attempts != 1 || got[0].LeaseOwner != "r1" {
			t.Fatalf("ClaimMessages = %+v, want k1, k2 leased to r1 with one attempt", got)
		}
		if again := must[[]store.OutboxMessage](t, "ClaimMessages")(s.ClaimMessages(ctx, store.ClaimRequest{Channel: "ops", Owner: "r2", Now: t0.Add(time.Second), Until: t0.Add(time.Minute), Limit: 10})); len(again) != 0 {
			t.Errorf("ClaimMessages by another owner during the lease = %+v, want none", again)
		}
		// The lease ends (the claimer died): another owner takes them.
		taken := must[[]store.OutboxMessage](t, "ClaimMessages")(s.ClaimMessages(ctx, store.ClaimRequest{Channel: "ops", Owner: "r2", Now: t0.Add(2 * time.Minute), Until: t0.Add(3 * time.Minute), Limit: 1}))
		if len(taken) != 1 || taken[0].Key != "k1" || taken[0].Attempts != 2 {
			t.Fatalf("ClaimMessages after the lease = %+v, want k1 on its second attempt", taken)
		}
		// The old owner's failure no longer counts; its delivery does.
		if err := s.MarkFailed(ctx, taken[0].ID, "r1", t0.Add(time.Hour), "late", false); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkSent(ctx, taken[0].ID, t0.Add(150*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkFailed(ctx, taken[0].ID, "r2", t0.Add(time.Hour), "after sent", false); err != nil {
			t.Fatal(err)
		}
		sent := must[[]store.OutboxMessage](t, "ListMessages")(s.ListMessages(ctx, store.OutboxFilter{State: store.OutboxSent}))
		if len(sent) != 1 || sent[0].Key != "k1" || !sent[0].SentAt.Equal(t0.Add(150*time.Second)) || sent[0].LastError != "" {
			t.Errorf("sent messages = %+v, want k1 sent at %v", sent, t0.Add(150*time.Second))
		}
	})
	t.Run("a failure makes the message due later, or dead", func(t *testing.T) {
		m := must[[]store.OutboxMessage](t, "ClaimMessages")(s.ClaimMessages(ctx, store.ClaimRequest{Channel: "mail", Owner: "r1", Now: t0, Until: t0.Add(time.Minute), Limit: 5}))
		if len(m) != 1 {
			t.Fatalf("ClaimMessages(mail) = %+v, want k3", m)
		}
		if err := s.MarkFailed(ctx, m[0].ID, "r1", t0.Add(10*time.Second), "connection refused", false); err != nil {
			t.Fatal(err)
		}
		if got := must[[]store.OutboxMessage](t, "ClaimMessages")(s.ClaimMessages(ctx, store.ClaimRequest{Channel: "mail", Owner: "r1", Now: t0.Add(5 * time.Second), Until: t0.Add(time.Minute), Limit: 5})); len(got) != 0 {
			t.Errorf("ClaimMessages before the retry time = %+v, want none", got)
		}
		got := must[[]store.OutboxMessage](t, "ClaimMessages")(s.ClaimMessages(ctx, store.ClaimRequest{Channel: "mail", Owner: "r1", Now: t0.Add(10 * time.Second), Until: t0.Add(time.Minute), Limit: 5}))
		if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "connection refused" {
			t.Fatalf("ClaimMessages at the retry time = %+v, want k3 on attempt 2 with its last error", got)
		}
		if err := s.MarkFailed(ctx, got[0].ID, "r1", t0.Add(time.Minute), "550 no such user", true); err != nil {
			t.Fatal(err)
		}
		if l := must[[]store.OutboxMessage](t, "ClaimMessages")(s.ClaimMessages(ctx, store.ClaimRequest{Channel: "mail", Owner: "r1", Now: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour), Limit: 5})); len(l) != 0 {
			t.Errorf("ClaimMessages of a dead message = %+v, want none", l)
		}
		if err := s.RetryMessage(ctx, got[0].ID); err != nil {
			t.Fatal(err)
		}
		if l := must[[]store.OutboxMessage](t, "ListMessages")(s.ListMessages(ctx, store.OutboxFilter{Channel: "mail", State: store.OutboxPending})); len(l) != 1 {
			t.Errorf("after RetryMessage: %+v, want k3 pending", l)
		}
		wantErr(t, "RetryMessage(none)", s.RetryMessage(ctx, 999999), store.ErrNotFound)
	})
}

// testOutboxRace: claimers racing on one channel never lease one message
// twice, and between them lease every message.
func testOutboxRace(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	const n = 60
	for i := range n {
		if _, _, err := s.EnqueueMessage(ctx, store.OutboxMessage{Key: fmt.Sprintf("m%d", i), Channel: "ops", Kind: "k", Payload: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("replica-%d", c)
			for {
				now := time.Now()
				got, err := s.ClaimMessages(ctx, store.ClaimRequest{Channel: "ops", Owner: owner, Now: now, Until: now.Add(time.Hour), Limit: 7})
				if err != nil {
					t.Errorf("ClaimMessages: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					if prev, ok := seen[m.Key]; ok {
						t.Errorf("%s leased to %s and %s", m.Key, prev, owner)
					}
					seen[m.Key] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d messages leased, want %d", len(seen), n)
	}
}

func testPostmortems(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	in := must[store.Incident](t, "OpenIncident")(s.OpenIncident(ctx, store.Incident{OpenedAt: t0, Severity: store.SevMajor, Title: "x"}))
	_, err := s.Postmortem(ctx, in.ID)
	wantErr(t, "Postmortem(none yet)", err, store.ErrNotFound)
	first := must[store.Postmortem](t, "SavePostmortem")(s.SavePostmortem(ctx, store.Postmortem{IncidentID: in.ID, UpdatedAt: t0, UpdatedBy: "orgguard"}))
	if first.State != store.PostmortemDraft || !first.CreatedAt.Equal(t0) {
		t.Errorf("SavePostmortem = %+v, want a draft created at %v", first, t0)
	}
	want := store.Postmortem{IncidentID: in.ID, State: store.PostmortemFinal, Fields: map[string]string{"rootCause": "根本原因", "lessons": "x"},
		CreatedAt: t0, UpdatedAt: t0.Add(time.Hour), UpdatedBy: "alice"}
	got := must[store.Postmortem](t, "SavePostmortem")(s.SavePostmortem(ctx, store.Postmortem{IncidentID: in.ID, State: store.PostmortemFinal, Fields: want.Fields, UpdatedAt: want.UpdatedAt, UpdatedBy: "alice"}))
	if !cmp.Equal(got, want) {
		t.Errorf("SavePostmortem again (-want +got):\n%s", cmp.Diff(want, got))
	}
	if got := must[store.Postmortem](t, "Postmortem")(s.Postmortem(ctx, in.ID)); !cmp.Equal(got, want) {
		t.Errorf("Postmortem (-want +got):\n%s", cmp.Diff(want, got))
	}
	_, err = s.SavePostmortem(ctx, store.Postmortem{IncidentID: "incident-none"})
	wantErr(t, "SavePostmortem(no incident)", err, store.ErrNotFound)
	_, err = s.SavePostmortem(ctx, store.Postmortem{IncidentID: in.ID, State: "published"})
	wantErr(t, "SavePostmortem(unknown state)", err, store.ErrInvalid)
}
