package notice

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/notify"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, d)
	}
}

var t0 = time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC) // 17:00 JST

func sampleIncident() store.Incident {
	impact, _ := json.Marshal(map[string]any{"findings": []map[string]any{
		{"summary": "S3 and KMS are denied in 3 accounts", "accounts": []string{"111111111111", "222222222222", "333333333333"}},
		{"summary": "console sign-in denied in account 444444444444", "accounts": []string{"444444444444"}},
	}})
	return store.Incident{ID: "incident-0123456789abcdef", OpenedAt: t0.Add(40 * time.Second), Severity: store.SevCritical, State: store.IncidentInvestigating,
		Title: "deny-all: SCP p-abcd1234 attached to ou-ab12-cdef3456", ImpactStartedAt: t0, DetectedAt: t0.Add(30 * time.Second),
		Accounts: []string{"111111111111", "222222222222", "333333333333", "444444444444"}, Customers: []string{"Acme", "Globex"}, Impact: impact}
}

func testConfig() Config {
	c := DefaultConfig()
	c.TimeZone = "Asia/Tokyo"
	return c
}

func TestNoticeGolden(t *testing.T) {
	ts, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	in := sampleIncident()
	for _, lang := range Languages {
		t.Run("the "+lang+" notice says what, since when, what is done and when next, without IDs", func(t *testing.T) {
			title, body, err := ts.Draft(testConfig(), in, lang, t0.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			out := title + "\n\n" + body
			golden(t, "notice."+lang+".golden", out)
			for _, id := range []string{"111111111111", "p-abcd1234", "ou-ab12-cdef3456", "incident-0123456789abcdef", "Acme"} {
				if strings.Contains(out, id) {
					t.Errorf("the public notice shows %q", id)
				}
			}
		})
		t.Run("the "+lang+" customer message lists only the customer's own accounts", func(t *testing.T) {
			tg := Target{Customer: "Acme", Lang: lang, Email: []string{"ops@acme.example"}, Accounts: []Account{{ID: "111111111111", Name: "acme-prod"}, {ID: "222222222222"}}}
			title, body, err := ts.CustomerMessage(testConfig(), in, tg, t0.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			out := title + "\n\n" + body
			golden(t, "customer."+lang+".golden", out)
			for _, other := range []string{"333333333333", "444444444444", "Globex", "console sign-in"} {
				if strings.Contains(out, other) {
					t.Errorf("Acme's message shows %q, which is not Acme's", other)
				}
			}
			if !strings.Contains(out, "111111111111") || !strings.Contains(out, "S3 and KMS") {
				t.Errorf("Acme's message lacks its account or what it lost:\n%s", out)
			}
		})
	}
	t.Run("showAccountIDs puts the IDs in", func(t *testing.T) {
		c := testConfig()
		c.ShowAccountIDs = true
		_, body, err := ts.Draft(c, in, "en", t0)
		if err != nil || !strings.Contains(body, "444444444444") {
			t.Errorf("Draft with showAccountIDs = %q, %v", body, err)
		}
	})
}

func TestTemplatesReplaceable(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notice.en.tmpl"), []byte(`{{define "title"}}Custom {{.SeverityWord}}{{end}}{{define "body"}}{{.Scope}} since {{.Since}}{{end}}`), 0o644)
	ts, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	title, body, err := ts.Draft(testConfig(), sampleIncident(), "en", t0)
	if err != nil || title != "Custom Critical" || body != "4 AWS accounts of 2 customers since 2026-12-05 17:00 JST\n" {
		t.Errorf("Draft with a replaced template = %q, %q, %v", title, body, err)
	}
	if _, _, err := ts.Draft(testConfig(), sampleIncident(), "ja", t0); err != nil {
		t.Errorf("the ja template (not replaced) = %v", err)
	}
	for name, src := range map[string]string{"no body": `{{define "title"}}x{{end}}`, "syntax": `{{define "title"}}{{.X{{end}}`} {
		os.WriteFile(filepath.Join(dir, "notice.en.tmpl"), []byte(src), 0o644)
		if _, err := LoadTemplates(dir); err == nil {
			t.Errorf("LoadTemplates with %s = nil, want an error", name)
		}
	}
	os.WriteFile(filepath.Join(dir, "notice.en.tmpl"), []byte(`{{define "title"}}{{.Nope}}{{end}}{{define "body"}}x{{end}}`), 0o644)
	ts, _ = LoadTemplates(dir)
	if _, _, err := ts.Draft(testConfig(), sampleIncident(), "en", t0); err == nil {
		t.Error("a template naming an unknown field rendered without error")
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *fakeClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

func newService(t *testing.T, clock *fakeClock, autoPublish bool) (*Service, *incident.Service, *sqlstore.Store) {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "orgguard.db"), sqlstore.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ts, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	nc := notify.DefaultConfig()
	nc.Channels = []notify.ChannelConfig{{Name: "ops", Type: notify.TypeWebhook, URL: "http://127.0.0.1:1/"}, {Name: "oncall", Type: notify.TypeWebhook, URL: "http://127.0.0.1:1/"},
		{Name: "mail", Type: notify.TypeEmail, SMTP: notify.SMTP{Host: "127.0.0.1", From: "orgguard@example.com"}}}
	nc.IncidentChannels, nc.OnCallChannels, nc.CustomerChannel = []string{"ops"}, []string{"oncall"}, "mail"
	c := testConfig()
	c.AutoPublish = autoPublish
	ns := &Service{Store: st, Config: c, Notify: nc, Templates: ts, Now: clock.Now,
		Targets: func(_ context.Context, in store.Incident) ([]Target, error) {
			return []Target{{Customer: "Acme", Lang: "ja", Email: []string{"ops@acme.example"}, Accounts: []Account{{ID: "111111111111"}}},
				{Customer: "Globex", Lang: "en", Email: []string{"it@globex.example"}, Accounts: []Account{{ID: "444444444444"}}},
				{Customer: "NoContact", Accounts: []Account{{ID: "555555555555"}}}}, nil
		}}
	return ns, &incident.Service{Store: st, Now: clock.Now, OnOpen: ns.OnOpen}, st
}

func keys(t *testing.T, st store.Store) []string {
	t.Helper()
	ms, err := st.ListMessages(context.Background(), store.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Key)
	}
	return out
}

func TestNoticeClock(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: t0}
	ns, inc, st := newService(t, clock, false)
	spec := incident.Spec{Title: "deny-all on Root", Severity: store.SevCritical, By: "watch", Accounts: []string{"111111111111"}, Customers: []string{"Acme"}}
	in, err := inc.OpenManual(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("opening stores both drafts and tells the incident channel at once", func(t *testing.T) {
		ds, err := st.NoticeDrafts(ctx, in.ID)
		if err != nil || len(ds) != 2 || ds[0].Lang != "en" || ds[1].Lang != "ja" || ds[0].Origin != store.DraftTemplate {
			t.Fatalf("NoticeDrafts = %+v, %v", ds, err)
		}
		if got := keys(t, st); !cmp.Equal(got, []string{"incident.opened:" + in.ID + "@ops"}) {
			t.Errorf("outbox = %v", got)
		}
	})
	tick := func(at time.Duration) TickResult {
		t.Helper()
		clock.Set(t0.Add(at))
		r, err := ns.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := tick(4*time.Minute + 59*time.Second); r != (TickResult{}) {
		t.Errorf("tick before half time = %+v, want nothing", r)
	}
	if r := tick(5 * time.Minute); r.Reminded != 1 {
		t.Errorf("tick at half time = %+v, want a reminder", r)
	}
	if r := tick(6 * time.Minute); r != (TickResult{}) {
		t.Errorf("tick after the reminder = %+v, want nothing more", r)
	}
	if r := tick(10 * time.Minute); r.Escalated != 1 || r.AutoPublished != 0 {
		t.Errorf("tick at the deadline = %+v, want an escalation and no publication", r)
	}
	tick(11 * time.Minute)
	want := []string{"incident.opened:" + in.ID + "@ops", "notice.reminder:" + in.ID + "@ops", "notice.escalation:" + in.ID + "@oncall"}
	if got := keys(t, st); !cmp.Equal(got, want) {
		t.Errorf("outbox (-want +got):\n%s", cmp.Diff(want, got))
	}
	t.Run("publishing sets TTN, tells the channel and each customer with a contact", func(t *testing.T) {
		if _, err := ns.Edit(ctx, in.ID, "ja", "【重大】障害のお知らせ", "編集した本文", "alice"); err != nil {
			t.Fatal(err)
		}
		clock.Set(t0.Add(12 * time.Minute))
		ns2, err := ns.Publish(ctx, in.ID, nil, "alice")
		if err != nil || len(ns2) != 2 {
			t.Fatalf("Publish = %+v, %v", ns2, err)
		}
		if ns2[1].Lang != "ja" || ns2[1].Body != "編集した本文\n" {
			t.Errorf("published ja = %+v, want the edited text", ns2[1])
		}
		got, _ := st.Incident(ctx, in.ID)
		if c := incident.ClockOf(got); c.TTN == nil || *c.TTN != 12*time.Minute {
			t.Errorf("TTN = %v, want 12m", c.TTN)
		}
		k := keys(t, st)
		for _, w := range []string{"notice.published:" + in.ID + ":2@ops", "customer.notice:" + in.ID + ":2:Acme@mail", "customer.notice:" + in.ID + ":2:Globex@mail"} {
			if !strings.Contains(strings.Join(k, " "), w) {
				t.Errorf("outbox %v lacks %s", k, w)
			}
		}
		if strings.Contains(strings.Join(k, " "), "NoContact") {
			t.Errorf("a customer without a contact got a message: %v", k)
		}
		ms, _ := st.ListMessages(ctx, store.OutboxFilter{Channel: "mail"})
		for _, m := range ms {
			var msg notify.Message
			json.Unmarshal(m.Payload, &msg)
			if msg.Customer == "Acme" && (strings.Contains(msg.Text, "444444444444") || msg.To[0] != "ops@acme.example" || msg.Lang != "ja") {
				t.Errorf("Acme's message = %+v", msg)
			}
		}
	})
	t.Run("acknowledgement and resolution are told once", func(t *testing.T) {
		inc.Acknowledge(ctx, in.ID, "alice", "")
		inc.Resolve(ctx, in.ID, "alice", "fixed")
		tick(20 * time.Minute)
		tick(21 * time.Minute)
		n := 0
		for _, k := range keys(t, st) {
			if strings.HasPrefix(k, "incident.acknowledged:") || strings.HasPrefix(k, "incident.resolved:") {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d acknowledgement and resolution messages, want 2", n)
		}
	})
}

func TestAutoPublishAtTheDeadline(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: t0}
	ns, inc, st := newService(t, clock, true)
	in, err := inc.OpenManual(ctx, incident.Spec{Title: "x", Severity: store.SevMinor, By: "watch"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(29 * time.Minute))
	if r, _ := ns.Tick(ctx); r.AutoPublished != 0 {
		t.Errorf("published before the minor deadline (30m): %+v", r)
	}
	clock.Set(t0.Add(30 * time.Minute))
	if r, err := ns.Tick(ctx); err != nil || r.AutoPublished != 1 || r.Escalated != 1 {
		t.Errorf("Tick at the deadline = %+v, %v, want escalated and published", r, err)
	}
	pub, _ := st.ListNotices(ctx, store.NoticeFilter{IncidentID: in.ID})
	if len(pub) != 2 || !strings.HasPrefix(pub[0].PublishedBy, "orgguard") {
		t.Errorf("published = %+v, want ja and en by orgguard", pub)
	}
}

// BenchmarkOpenWithDrafts measures opening an incident with its ja and en
// drafts and the first outbox message, in one transaction (SQLite,
// synchronous=FULL).
func BenchmarkOpenWithDrafts(b *testing.B) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "orgguard.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ts, err := LoadTemplates("")
	if err != nil {
		b.Fatal(err)
	}
	nc := notify.DefaultConfig()
	nc.IncidentChannels = []string{"ops"}
	ns := &Service{Store: st, Config: testConfig(), Notify: nc, Templates: ts}
	inc := &incident.Service{Store: st, OnOpen: ns.OnOpen}
	in := sampleIncident()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inc.OpenManual(ctx, incident.Spec{Title: in.Title, Severity: in.Severity, By: "watch", Accounts: in.Accounts, Customers: in.Customers, Impact: json.RawMessage(in.Impact)}); err != nil {
			b.Fatal(err)
		}
	}
}
