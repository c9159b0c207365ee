package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/notify"
	"github.com/orgguard/orgguard/internal/store"
)

// hook is a local webhook receiver recording when each kind arrived.
type hook struct {
	mu   sync.Mutex
	got  map[string]time.Time
	keys map[string]int
}

func newHook(t *testing.T) (*hook, string) {
	h := &hook{got: map[string]time.Time{}, keys: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b notify.WebhookBody
		json.Unmarshal(body, &b)
		h.mu.Lock()
		if _, ok := h.got[b.Kind]; !ok {
			h.got[b.Kind] = time.Now()
		}
		h.keys[r.Header.Get(notify.HeaderIdempotency)]++
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL
}

func (h *hook) at(kind string) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.got[kind]
	return t, ok
}

// TestNoticeClockEndToEnd measures, through the application layer as
// orgguard notify run wires it (clock tick 1s, outbox poll 250ms), the
// time from opening an incident to its drafts being stored, and from the
// first-notice deadline to the escalation reaching the on-call receiver.
func TestNoticeClockEndToEnd(t *testing.T) {
	ops, opsURL := newHook(t)
	oncall, oncallURL := newHook(t)
	cfg := config.Defaults()
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	cfg.Notices.Deadline.Critical = 3 * time.Second
	cfg.Notify.Channels = []notify.ChannelConfig{{Name: "ops", Type: notify.TypeWebhook, URL: opsURL}, {Name: "oncall", Type: notify.TypeWebhook, URL: oncallURL}}
	cfg.Notify.IncidentChannels, cfg.Notify.OnCallChannels = []string{"ops"}, []string{"oncall"}
	if err := cfg.Notify.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Config: &cfg, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	svc, err := a.Incidents(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := a.Notify(ctx, NotifyOptions{}); done <- err }()

	start := time.Now()
	in, err := svc.OpenManual(ctx, incident.Spec{Title: "deny-all on Root", Severity: store.SevCritical, By: "watch"})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := svc.Store.NoticeDrafts(ctx, in.ID)
	openToDraft := time.Since(start)
	if err != nil || len(ds) != 2 {
		t.Fatalf("drafts right after the open = %v, %v; want ja and en", ds, err)
	}
	if openToDraft > time.Second {
		t.Errorf("incident open → drafts stored took %v, want under 1s", openToDraft)
	}
	deadline := in.DetectedAt.Add(3 * time.Second)
	var esc time.Time
	for wait := time.Now().Add(15 * time.Second); ; {
		if at, ok := oncall.at(notify.KindNoticeEscalation); ok {
			esc = at
			break
		}
		if time.Now().After(wait) {
			t.Fatal("no escalation reached the on-call receiver")
		}
		time.Sleep(10 * time.Millisecond)
	}
	lag := esc.Sub(deadline)
	if lag > 5*time.Second || lag < 0 {
		t.Errorf("deadline → escalation at the receiver = %v, want 0..5s", lag)
	}
	if _, ok := ops.at(notify.KindIncidentOpened); !ok {
		t.Error("the incident channel was not told of the opening")
	}
	if _, ok := ops.at(notify.KindNoticeReminder); !ok {
		t.Error("the incident channel got no half-time reminder")
	}
	t.Logf("open → drafts stored: %v; deadline → escalation received: %v", openToDraft.Round(time.Microsecond), lag.Round(time.Millisecond))
	cancel()
	<-done
	for _, h := range []*hook{ops, oncall} {
		for k, n := range h.keys {
			if n != 1 {
				t.Errorf("%s arrived %d times", k, n)
			}
		}
	}
}
