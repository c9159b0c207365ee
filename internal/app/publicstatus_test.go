package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/store"
)

// publicApp opens an App on a temporary store (not created yet) whose
// clock reads *now.
func publicApp(t *testing.T, now *time.Time, edit func(*config.Config)) *App {
	t.Helper()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	cfg.Status.TimeZone = "Asia/Tokyo"
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(Options{Config: &cfg, Actor: "alice", Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func mustStore(t *testing.T, a *App) store.Store {
	t.Helper()
	st, err := a.Store(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var jst = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}()

// monday is Monday 2 June 2025, 12:00 in Tokyo.
var monday = time.Date(2025, 6, 2, 12, 0, 0, 0, jst)

func TestPublicStatusBeforeAnyStore(t *testing.T) {
	now := monday
	a := publicApp(t, &now, nil)
	p, err := a.PublicStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !p.Operational() || p.Impact != ImpactNone || p.Status() != ComponentOperational || len(p.Components) != 2 {
		t.Errorf("PublicStatus() before any store = %+v; want two operational components and no impact", p)
	}
	if want := time.Date(2025, 3, 5, 0, 0, 0, 0, jst); !p.HistoryFrom.Equal(want) {
		t.Errorf("HistoryFrom = %v, want %v (90 days including today)", p.HistoryFrom, want)
	}
	if _, err := os.Stat(a.Config().Store); !os.IsNotExist(err) {
		t.Errorf("PublicStatus created the store (stat: %v); reading the status must not", err)
	}
	if err := a.Ready(context.Background()); err != nil {
		t.Fatalf("Ready() = %v", err)
	}
}

func TestPublicStatusComponents(t *testing.T) {
	components := config.StatusComponents{
		{ID: "all", Name: config.LocalText{En: "Everything"}},
		{ID: "critical", Name: config.LocalText{En: "Critical only"}, Incidents: config.IncidentMatch{Severities: []store.Severity{store.SevCritical}}},
		{ID: "deny-all", Name: config.LocalText{En: "Deny-all drift"}, Incidents: config.IncidentMatch{Sources: []string{store.SourceDrift}, Rules: []string{"deny-all"}}},
	}
	open := func(sev store.Severity, state store.IncidentState, source, rule string) store.Incident {
		return store.Incident{Title: "x", Severity: sev, State: state, Source: source, Rule: rule}
	}
	tests := []struct {
		name      string
		incidents []store.Incident
		want      map[string]ComponentStatus
		impact    Impact
	}{
		{"no incident: all operational", nil,
			map[string]ComponentStatus{"all": ComponentOperational, "critical": ComponentOperational, "deny-all": ComponentOperational}, ImpactNone},
		{"a minor incident degrades what it affects", []store.Incident{open(store.SevMinor, "", store.SourceManual, "")},
			map[string]ComponentStatus{"all": ComponentDegraded, "critical": ComponentOperational, "deny-all": ComponentOperational}, ImpactMinor},
		{"a major incident is a partial outage", []store.Incident{open(store.SevMajor, store.IncidentIdentified, store.SourceApply, "")},
			map[string]ComponentStatus{"all": ComponentPartialOutage, "critical": ComponentOperational, "deny-all": ComponentOperational}, ImpactMajor},
		{"a critical deny-all drift is a major outage of all three", []store.Incident{open(store.SevCritical, "", store.SourceDrift, "deny-all")},
			map[string]ComponentStatus{"all": ComponentMajorOutage, "critical": ComponentMajorOutage, "deny-all": ComponentMajorOutage}, ImpactCritical},
		{"the worst open incident wins", []store.Incident{open(store.SevMinor, "", store.SourceManual, ""), open(store.SevMajor, store.IncidentMonitoring, store.SourceManual, "")},
			map[string]ComponentStatus{"all": ComponentPartialOutage, "critical": ComponentOperational, "deny-all": ComponentOperational}, ImpactMajor},
		{"a resolved incident affects nothing", []store.Incident{open(store.SevCritical, store.IncidentResolved, store.SourceDrift, "deny-all")},
			map[string]ComponentStatus{"all": ComponentOperational, "critical": ComponentOperational, "deny-all": ComponentOperational}, ImpactNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := monday
			a := publicApp(t, &now, func(c *config.Config) { c.Status.Components = components })
			st := mustStore(t, a)
			for _, in := range tt.incidents {
				if _, err := st.OpenIncident(context.Background(), in); err != nil {
					t.Fatal(err)
				}
			}
			p, err := a.PublicStatus(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]ComponentStatus{}
			for _, c := range p.Components {
				got[c.ID] = c.Status
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("component statuses (-want +got):\n%s", diff)
			}
			if p.Impact != tt.impact {
				t.Errorf("Impact = %q, want %q", p.Impact, tt.impact)
			}
			if len(p.History) != len(tt.incidents) {
				t.Errorf("History has %d incidents, want %d", len(p.History), len(tt.incidents))
			}
		})
	}
}

func TestPublicStatusMaintenance(t *testing.T) {
	now := monday
	a := publicApp(t, &now, func(c *config.Config) {
		c.Guardrails.Windows = guard.Windows{TimeZone: "Asia/Tokyo",
			Weekly:  []guard.WeeklyWindow{{Spec: "Mon-Fri 11:00-13:00"}, {Spec: "Sat,Sun 00:00-24:00"}},
			Freezes: []guard.FreezeSpec{{From: "2025-06-10", To: "2025-06-11", Reason: "quarter close"}}}
		c.Status.Maintenance.Days = 7
		c.Status.Maintenance.Components = []string{config.ComponentAWSAccess}
	})
	p, err := a.PublicStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hh int) time.Time { return time.Date(2025, 6, day, hh, 0, 0, 0, jst) }
	var got [][2]time.Time
	for _, m := range p.Maintenances {
		got = append(got, [2]time.Time{m.Start, m.End})
	}
	want := [][2]time.Time{
		{at(2, 11), at(2, 13)}, {at(3, 11), at(3, 13)}, {at(4, 11), at(4, 13)}, {at(5, 11), at(5, 13)}, {at(6, 11), at(6, 13)},
		{at(7, 0), at(9, 0)}, // Saturday and Sunday are one run
		{at(9, 11), at(9, 13)},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("maintenance runs over 7 days (-want +got):\n%s", diff)
	}
	if !p.Maintenances[0].InProgress || p.Maintenances[1].InProgress || !p.InMaintenance {
		t.Errorf("the run at noon on Monday is not the one in progress: %+v", p.Maintenances[:2])
	}
	statuses := map[string]ComponentStatus{}
	for _, c := range p.Components {
		statuses[c.ID] = c.Status
	}
	if statuses[config.ComponentAWSAccess] != ComponentMaintenance || statuses[config.ComponentConsoleSignIn] != ComponentOperational {
		t.Errorf("statuses during the window = %v; want only %s under maintenance", statuses, config.ComponentAWSAccess)
	}
	if len(p.Freezes) != 0 {
		t.Errorf("a freeze 8 days ahead is listed within 7 days: %+v", p.Freezes)
	}

	// An incident is worse than maintenance; the freeze comes into view.
	now = at(4, 12)
	if _, err := mustStore(t, a).OpenIncident(context.Background(), store.Incident{Title: "x", Severity: store.SevMinor}); err != nil {
		t.Fatal(err)
	}
	if p, err = a.PublicStatus(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := p.Components[0].Status; s != ComponentDegraded {
		t.Errorf("a minor incident during maintenance: status %s, want %s", s, ComponentDegraded)
	}
	if len(p.Freezes) != 1 || p.Freezes[0].Reason != "" || p.Freezes[0].Active {
		t.Errorf("Freezes = %+v, want the coming one without its (internal) reason", p.Freezes)
	}
}

// secretIncident is an incident whose record holds everything the public
// must not see.
func secretIncident() store.Incident {
	return store.Incident{
		ID: "incident-5ec7e7000000dead", Title: "deny-all: SCP p-abcd1234efgh attached to 111122223333 of Acme Corp",
		Severity: store.SevCritical, Source: store.SourceDrift, Rule: "deny-all",
		DedupKey: "drift:0123abcd", Accounts: []string{"111122223333", "444455556666"}, Customers: []string{"Acme Corp", "株式会社サンプル"},
	}
}

func TestPublicStatusShowsOnlyPublishedRedactedText(t *testing.T) {
	ctx := context.Background()
	now := monday
	a := publicApp(t, &now, nil)
	st := mustStore(t, a)
	in, err := st.OpenIncident(ctx, secretIncident())
	if err != nil {
		t.Fatal(err)
	}
	t1, t2 := monday.Add(-50*time.Minute), monday.Add(-20*time.Minute)
	for _, n := range []store.Notice{
		{Lang: "ja", Title: "【重大】一部のお客様でアクセス障害", Body: "株式会社サンプル様のアカウント111122223333で障害。", PublishedAt: t1},
		{Lang: "en", Title: "[Critical] Access problems", Body: "Acme Corp's account 444455556666 (deny-all, incident-5ec7e7000000dead) lost access to arn:aws:s3:::bucket today.", PublishedAt: t1},
		{Lang: "en", Title: "[Critical] Access restored", Body: "A fix is in place.", State: store.IncidentMonitoring, PublishedAt: t2},
	} {
		n.IncidentID, n.PublishedBy = in.ID, "alice"
		if _, err := st.PublishNotice(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	p, err := a.PublicStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Incidents) != 1 {
		t.Fatalf("Incidents = %+v, want the open one", p.Incidents)
	}
	pi := p.Incidents[0]
	if pi.ID != PublicIncidentID(in.ID) || pi.ID == in.ID || len(pi.ID) != 12 {
		t.Errorf("public ID = %q, want the 12-character hash of the internal ID", pi.ID)
	}
	if len(pi.Updates) != 2 || pi.Updates[0].State != store.IncidentMonitoring || !pi.Updates[0].At.Equal(t2) || len(pi.Updates[1].Texts) != 2 {
		t.Fatalf("Updates = %+v, want the English-only monitoring one, then the one in both languages", pi.Updates)
	}
	if title, lang := pi.Title("ja"); title != "【重大】一部のお客様でアクセス障害" || lang != "ja" {
		t.Errorf("Title(ja) = %q in %s, want the newest Japanese title", title, lang)
	}
	if text, lang := pi.Updates[0].Text("ja"); text.Title != "[Critical] Access restored" || lang != "en" {
		t.Errorf("Updates[0].Text(ja) = %+v in %s, want the English one", text, lang)
	}
	if got, want := pi.Updates[1].Texts["en"].Body, "…'s account … (…, …) lost access to … today."; got != want {
		t.Errorf("the English body = %q, want %q", got, want)
	}
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"111122223333", "444455556666", "Acme Corp", "株式会社サンプル", in.ID, "deny-all", "p-abcd1234efgh", "drift:0123abcd", "alice", "arn:aws"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the public model holds %q:\n%s", secret, body)
		}
	}

	t.Run("showInternals adds the internal references", func(t *testing.T) {
		a.Config().Status.ShowInternals = true
		defer func() { a.Config().Status.ShowInternals = false }()
		p, err := a.PublicStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := &PublicInternals{IncidentID: in.ID, Source: store.SourceDrift, Rule: "deny-all"}
		if diff := cmp.Diff(want, p.Incidents[0].Internal); diff != "" {
			t.Errorf("Internal (-want +got):\n%s", diff)
		}
		if body := p.Incidents[0].Updates[1].Texts["en"].Body; !strings.Contains(body, "deny-all") || strings.Contains(body, "Acme") {
			t.Errorf("with showInternals the body = %q; want the rule shown, the customer still hidden", body)
		}
	})
}

func TestPublicStatusVersion(t *testing.T) {
	ctx := context.Background()
	now := monday
	a := publicApp(t, &now, func(c *config.Config) {
		c.Guardrails.Windows = guard.Windows{TimeZone: "Asia/Tokyo", Weekly: []guard.WeeklyWindow{{Spec: "Mon 13:00-14:00"}}}
	})
	version := func() string {
		t.Helper()
		v, err := a.PublicStatusVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.PublicStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != v {
			t.Fatalf("PublicStatus().Version = %s, PublicStatusVersion() = %s; want the same", p.Version, v)
		}
		return v
	}
	v0 := version()
	st := mustStore(t, a)
	steps := []struct {
		name    string
		do      func()
		changes bool
	}{
		{"nothing happened", func() {}, false},
		{"a minute passed", func() { now = now.Add(time.Minute) }, false},
		{"an incident opened", func() { mustOpen(t, st, "incident-v1") }, true},
		{"a note was added to it", func() {
			st.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: "incident-v1", Kind: "note", Message: "internal"})
		}, false},
		{"a notice was published", func() {
			st.PublishNotice(ctx, store.Notice{IncidentID: "incident-v1", Lang: "en", Title: "t", Body: "b", PublishedBy: "alice"})
		}, true},
		{"the incident moved on", func() { st.SetIncidentState(ctx, "incident-v1", store.IncidentIdentified) }, true},
		{"the incident was resolved", func() { st.SetIncidentState(ctx, "incident-v1", store.IncidentResolved) }, true},
		{"a maintenance window started", func() { now = time.Date(2025, 6, 2, 13, 0, 0, 0, jst) }, true},
		{"the day changed", func() { now = time.Date(2025, 6, 3, 0, 0, 1, 0, jst) }, true},
	}
	last := v0
	for _, s := range steps {
		s.do()
		v := version()
		if (v != last) != s.changes {
			t.Errorf("after %s the version went %s → %s; want a change: %v", s.name, last, v, s.changes)
		}
		last = v
	}
}

func mustOpen(t *testing.T, st store.Store, id string) store.Incident {
	t.Helper()
	in, err := st.OpenIncident(context.Background(), store.Incident{ID: id, Title: "x", Severity: store.SevMajor})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestReplaceWord(t *testing.T) {
	tests := []struct{ s, w, want string }{
		{"Acme Corp lost access", "Acme Corp", "… lost access"},
		{"AcmeCorpX", "AcmeCorp", "AcmeCorpX"},
		{"rule deny-all-root and deny-all.", "deny-all", "rule deny-all-root and …."},
		{"株式会社サンプル様の障害", "株式会社サンプル", "…様の障害"},
		{"Acme社とAcme", "Acme", "…社と…"},
	}
	for _, tt := range tests {
		if got := replaceWord(tt.s, tt.w, "…"); got != tt.want {
			t.Errorf("replaceWord(%q, %q) = %q, want %q", tt.s, tt.w, got, tt.want)
		}
	}
}

func TestReadyFailsWithoutAStore(t *testing.T) {
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Store = filepath.Join(blocked, "orgguard.db")
	a, err := New(Options{Config: &cfg, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Ready(context.Background()); err == nil {
		t.Errorf("Ready() with a store under a file = nil, want an error")
	}
}
