package web

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/status")

// statusFixture is a Server on an App on a fresh SQLite store, whose
// public status is re-read on every request (no refresh interval), and
// whose clock reads *now (the real clock when now is nil).
type statusFixture struct {
	t   *testing.T
	app *app.App
	srv *Server
}

func newStatusFixture(t *testing.T, now *time.Time, edit func(*config.Config)) *statusFixture {
	t.Helper()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	cfg.Server.Title = "Acme status"
	if edit != nil {
		edit(&cfg)
	}
	clock := time.Now
	if now != nil {
		clock = func() time.Time { return *now }
	}
	a, err := app.New(app.Options{Config: &cfg, Actor: "tester", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	s, _ := newTestServer(t, Options{App: a})
	s.statusOnce.Do(func() { s.status = newStatusCache(a, 0, s.log) })
	return &statusFixture{t: t, app: a, srv: s}
}

func (f *statusFixture) get(target string, header map[string]string) (*http.Response, string) {
	f.t.Helper()
	return do(f.t, f.srv.Handler(), "GET", target, header)
}

func (f *statusFixture) store() store.Store {
	f.t.Helper()
	st, err := f.app.Store(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// openLikeTheWatcher opens an incident as the watcher does for a
// critical deny-all drift: through the incident service, in a
// transaction, which writes the notice drafts; every internal detail is
// in the record.
func openLikeTheWatcher(t *testing.T, a *app.App) store.Incident {
	t.Helper()
	ctx := context.Background()
	svc, err := a.Incidents(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	var in store.Incident
	err = svc.Store.WithTx(ctx, func(tx store.Tx) error {
		var err error
		in, _, err = svc.Open(ctx, tx, incident.Spec{
			Title:    "deny-all: SCP p-0123456789abcdef denies every action — attached p-0123456789abcdef to r-ab12 (111122223333)",
			Severity: store.SevCritical, Source: store.SourceDrift, By: "watch", Rule: "deny-all", DedupKey: "drift:feedface",
			ImpactStartedAt: a.Now().Add(-3 * time.Minute),
			Accounts:        []string{"111122223333", "444455556666"}, Customers: []string{"Acme Corp", "株式会社サンプル"},
			Impact: map[string]any{"findings": []map[string]any{{
				"summary":  "Acme Corp lost sts:AssumeRole in 111122223333 through p-0123456789abcdef",
				"accounts": []string{"111122223333"},
			}}},
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// publicRoutes are every public route of the status page, for in.
func publicStatusRoutes(publicID string) []string {
	routes := []string{"/", "/status/fragment", "/history", "/history.atom", "/api/status", "/incidents/" + publicID}
	for _, doc := range []string{"summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
		"scheduled-maintenances.json", "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json"} {
		routes = append(routes, "/api/v2/"+doc)
	}
	return routes
}

func TestStatusPageBeforeDuringAfter(t *testing.T) {
	ctx := context.Background()
	f := newStatusFixture(t, nil, nil)
	type want struct {
		lang     string
		contains []string
		missing  []string
	}
	check := func(t *testing.T, target string, wants []want) {
		t.Helper()
		for _, w := range wants {
			res, body := f.get(target+"?lang="+w.lang, nil)
			if res.StatusCode != 200 {
				t.Fatalf("GET %s?lang=%s = %d\n%s", target, w.lang, res.StatusCode, body)
			}
			for _, s := range w.contains {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s?lang=%s does not contain %q:\n%s", target, w.lang, s, body)
				}
			}
			for _, s := range w.missing {
				if strings.Contains(body, s) {
					t.Errorf("GET %s?lang=%s contains %q:\n%s", target, w.lang, s, body)
				}
			}
		}
	}

	t.Run("before: every component operational, no incident in the history", func(t *testing.T) {
		check(t, "/", []want{
			{"en", []string{"All systems operational", "AWS account access", "Console sign-in", "Operational", "No incidents reported.", `<title>Acme status</title>`, "Times are in UTC."}, []string{"Active incidents"}},
			{"ja", []string{"すべてのシステムは正常に稼働しています", "AWSアカウントへのアクセス", "正常", "障害の報告はありません。"}, nil},
		})
	})

	in := openLikeTheWatcher(t, f.app)
	pid := app.PublicIncidentID(in.ID)
	t.Run("an incident without a published notice is said to be looked into", func(t *testing.T) {
		check(t, "/", []want{{"en", []string{"Major outage", "We are looking into an issue", "/incidents/" + pid}, []string{"deny-all", "111122223333"}}})
	})
	if _, err := f.app.PublishNotice(ctx, in.ID, nil); err != nil {
		t.Fatal(err)
	}
	t.Run("during: the published notice, in each language", func(t *testing.T) {
		check(t, "/", []want{
			{"en", []string{"Major outage", "[Critical]", "We are investigating a problem affecting 2 AWS accounts of 2 customers.", "Investigating"}, []string{"【重大】"}},
			{"ja", []string{"大規模な障害が発生しています", "重大な障害", "【重大】", "2社のお客様のAWSアカウント2件", "調査中"}, []string{"[Critical]"}},
		})
		check(t, "/incidents/"+pid, []want{
			{"en", []string{"[Critical]", "Updates", "What we are doing"}, nil},
			{"ja", []string{"【重大】", "更新情報"}, nil},
		})
	})

	svc, err := f.app.Incidents(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, in.ID, "alice", "the SCP was detached"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.PublishNotice(ctx, in.ID, nil); err != nil {
		t.Fatal(err)
	}
	t.Run("after: operational again, the incident in the history with both updates", func(t *testing.T) {
		check(t, "/", []want{
			{"en", []string{"All systems operational", "Past incidents", "/incidents/" + pid, "Resolved"}, []string{"Active incidents", "Major outage"}},
			{"ja", []string{"すべてのシステムは正常に稼働しています", "解決済み"}, nil},
		})
		check(t, "/history", []want{{"en", []string{"Incident history: the past 90 days", "/incidents/" + pid}, nil}})
		_, body := f.get("/incidents/"+pid+"?lang=en", nil)
		if n := strings.Count(body, `class="update"`); n != 2 {
			t.Errorf("the incident page shows %d updates, want 2 (resolved, then investigating)", n)
		}
		if i, j := strings.Index(body, "Resolved"), strings.Index(body, "Investigating"); i < 0 || j < 0 || i > j {
			t.Errorf("the updates are not newest first:\n%s", body)
		}
	})
}

// TestPublicResponsesShowNothingInternal opens an incident whose record
// holds account IDs, customer names, a policy ID, a rule and an internal
// ID, publishes its drafts and a hand-written notice naming all of them,
// and reads every public response in both languages.
func TestPublicResponsesShowNothingInternal(t *testing.T) {
	ctx := context.Background()
	f := newStatusFixture(t, nil, nil)
	in := openLikeTheWatcher(t, f.app)
	if _, err := f.app.PublishNotice(ctx, in.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.EditNotice(ctx, in.ID, "en", "Acme Corp: deny-all on 111122223333",
		"Incident "+in.ID+": p-0123456789abcdef denied everything in 444455556666 (Acme Corp, 株式会社サンプル), rule deny-all."); err != nil {
		t.Fatal(err)
	}
	if _, err := f.app.PublishNotice(ctx, in.ID, []string{"en"}); err != nil {
		t.Fatal(err)
	}
	secrets := []string{in.ID, "Acme Corp", "株式会社サンプル", "p-0123456789abcdef", "r-ab12", "deny-all", "drift:feedface", "tester", "watch"}
	twelveDigits := regexp.MustCompile(`\b\d{12}\b`)
	uuid := regexp.MustCompile(`urn:uuid:[0-9a-f-]+`)
	for _, lang := range []string{"en", "ja"} {
		for _, route := range publicStatusRoutes(app.PublicIncidentID(in.ID)) {
			t.Run(lang+" "+route, func(t *testing.T) {
				res, body := f.get(route, map[string]string{"Accept-Language": lang})
				if res.StatusCode != 200 {
					t.Fatalf("GET %s = %d\n%s", route, res.StatusCode, body)
				}
				for _, s := range secrets {
					if strings.Contains(body, s) {
						t.Errorf("GET %s shows %q:\n%s", route, s, body)
					}
				}
				if m := twelveDigits.FindString(uuid.ReplaceAllString(body, "")); m != "" {
					t.Errorf("GET %s shows the account ID %s:\n%s", route, m, body)
				}
			})
		}
	}
	t.Run("the hand-written notice shows, redacted", func(t *testing.T) {
		_, body := f.get("/?lang=en", nil)
		if !strings.Contains(body, "…: … on …") || !strings.Contains(body, "denied everything in … (…, …), rule ….") {
			t.Errorf("the redacted notice is not on the page:\n%s", body)
		}
	})
}

func TestStatusInternalsAreShownOnlyWhenConfigured(t *testing.T) {
	f := newStatusFixture(t, nil, func(c *config.Config) { c.Status.ShowInternals = true })
	in := openLikeTheWatcher(t, f.app)
	_, body := f.get("/incidents/"+app.PublicIncidentID(in.ID), nil)
	for _, want := range []string{"Internal reference", in.ID, "drift", "deny-all"} {
		if !strings.Contains(body, want) {
			t.Errorf("with status.showInternals the incident page does not show %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Acme Corp") {
		t.Errorf("status.showInternals shows a customer name:\n%s", body)
	}
}

// goldenFixture is a fixed page: an unresolved critical drift with two
// updates, a resolved major incident, a resolved minor one never
// published, a maintenance window in progress and a freeze ahead, on
// Monday 2 June 2025 at 12:00 in Tokyo.
func goldenFixture(t *testing.T) *statusFixture {
	t.Helper()
	jst, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hh, mm int) time.Time { return time.Date(2025, 6, day, hh, mm, 0, 0, jst) }
	may := func(day, hh, mm int) time.Time { return time.Date(2025, 5, day, hh, mm, 0, 0, jst) }
	now := at(2, 12, 0)
	f := newStatusFixture(t, &now, func(c *config.Config) {
		c.Server.PublicURL = "https://status.example.com"
		c.Status.TimeZone = "Asia/Tokyo"
		c.Status.Maintenance.Days = 2
		c.Status.Components = append(c.Status.Components, config.StatusComponent{ID: "remediation",
			Name:      config.LocalText{En: "Automatic remediation", Ja: "自動修復"},
			Incidents: config.IncidentMatch{Sources: []string{store.SourceApply}}})
		c.Guardrails.Windows = guard.Windows{TimeZone: "Asia/Tokyo", Weekly: []guard.WeeklyWindow{{Spec: "Mon-Fri 11:30-12:30"}},
			Freezes: []guard.FreezeSpec{{From: "2025-06-04", To: "2025-06-04", Reason: "quarter close"}}}
	})
	ctx := context.Background()
	st := f.store()
	incidents := []store.Incident{
		{ID: "incident-golden-0001", Title: "deny-all on 111122223333", Severity: store.SevCritical, State: store.IncidentIdentified,
			Source: store.SourceDrift, Rule: "deny-all", OpenedAt: at(2, 11, 10), ImpactStartedAt: at(2, 11, 2),
			Accounts: []string{"111122223333"}, Customers: []string{"Acme Corp"}},
		{ID: "incident-golden-0002", Title: "rollback", Severity: store.SevMajor, State: store.IncidentResolved, Source: store.SourceManual,
			OpenedAt: may(30, 10, 0), MitigatedAt: may(30, 10, 40), ResolvedAt: may(30, 11, 0)},
		{ID: "incident-golden-0003", Title: "failed apply", Severity: store.SevMinor, State: store.IncidentResolved, Source: store.SourceApply,
			OpenedAt: may(28, 9, 0), ResolvedAt: may(28, 9, 30)},
	}
	for _, in := range incidents {
		if _, err := st.OpenIncident(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	notices := []store.Notice{
		{IncidentID: "incident-golden-0001", Lang: "ja", Title: "【重大】AWSアカウントへのアクセス障害", Body: "一部のお客様のAWSアカウントにアクセスできません。\n調査しております。", State: store.IncidentInvestigating, PublishedAt: at(2, 11, 20)},
		{IncidentID: "incident-golden-0001", Lang: "en", Title: "[Critical] AWS account access", Body: "Some customers cannot reach their AWS accounts.\nWe are investigating.", State: store.IncidentInvestigating, PublishedAt: at(2, 11, 20)},
		{IncidentID: "incident-golden-0001", Lang: "ja", Title: "【重大】AWSアカウントへのアクセス障害（原因特定）", Body: "原因を特定しました。復旧作業中です。", State: store.IncidentIdentified, PublishedAt: at(2, 11, 45)},
		{IncidentID: "incident-golden-0001", Lang: "en", Title: "[Critical] AWS account access (cause identified)", Body: "We found the cause & are fixing it.", State: store.IncidentIdentified, PublishedAt: at(2, 11, 45)},
		{IncidentID: "incident-golden-0002", Lang: "ja", Title: "【障害】変更の取り消し", Body: "変更を取り消しています。", State: store.IncidentInvestigating, PublishedAt: may(30, 10, 15)},
		{IncidentID: "incident-golden-0002", Lang: "en", Title: "[Major] A change is being undone", Body: "We are undoing a change.", State: store.IncidentInvestigating, PublishedAt: may(30, 10, 15)},
		{IncidentID: "incident-golden-0002", Lang: "en", Title: "[Major] Resolved", Body: "The change was undone; everything works.", State: store.IncidentResolved, PublishedAt: may(30, 11, 0)},
	}
	for _, n := range notices {
		n.PublishedBy = "alice"
		if _, err := st.PublishNotice(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestStatusGolden compares the JSON API and the feed with the files in
// testdata/status (go test -run TestStatusGolden -update rewrites them).
func TestStatusGolden(t *testing.T) {
	f := goldenFixture(t)
	tests := []struct {
		target, lang, file string
	}{
		{"/api/v2/summary.json", "en", "summary.en.json"},
		{"/api/v2/summary.json", "ja", "summary.ja.json"},
		{"/api/v2/status.json", "en", "status.en.json"},
		{"/api/v2/components.json", "en", "components.en.json"},
		{"/api/v2/incidents.json", "en", "incidents.en.json"},
		{"/api/v2/incidents.json", "ja", "incidents.ja.json"},
		{"/api/v2/incidents/unresolved.json", "en", "unresolved.en.json"},
		{"/api/v2/scheduled-maintenances.json", "en", "scheduled-maintenances.en.json"},
		{"/api/v2/scheduled-maintenances/upcoming.json", "en", "upcoming.en.json"},
		{"/api/v2/scheduled-maintenances/active.json", "ja", "active.ja.json"},
		{"/api/status", "en", "api-status.json"},
		{"/history.atom", "en", "history.en.atom"},
		{"/history.atom", "ja", "history.ja.atom"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, body := f.get(tt.target+"?lang="+tt.lang, nil)
			if res.StatusCode != 200 {
				t.Fatalf("GET %s = %d\n%s", tt.target, res.StatusCode, body)
			}
			path := filepath.Join("testdata", "status", tt.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading the golden file (run with -update to write it): %v", err)
			}
			if diff := cmp.Diff(string(want), body); diff != "" {
				t.Errorf("GET %s?lang=%s differs from %s (-want +got):\n%s", tt.target, tt.lang, path, diff)
			}
		})
	}
}

// TestStatusAPIShape checks the Statuspage field names and values that
// clients rely on, beside the golden files.
func TestStatusAPIShape(t *testing.T) {
	f := goldenFixture(t)
	_, body := f.get("/api/v2/summary.json?lang=en", nil)
	var sum struct {
		Page       map[string]any   `json:"page"`
		Status     map[string]any   `json:"status"`
		Components []map[string]any `json:"components"`
		Incidents  []struct {
			ID, Name, Status, Impact, Shortlink string
			Updates                             []map[string]any `json:"incident_updates"`
		} `json:"incidents"`
		Maintenances []map[string]any `json:"scheduled_maintenances"`
	}
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatalf("summary.json is not JSON: %v\n%s", err, body)
	}
	for _, k := range []string{"id", "name", "url", "time_zone", "updated_at"} {
		if _, ok := sum.Page[k]; !ok {
			t.Errorf("page lacks %q: %v", k, sum.Page)
		}
	}
	if sum.Status["indicator"] != "critical" || sum.Status["description"] != "Major Service Outage" {
		t.Errorf("status = %v, want critical, Major Service Outage", sum.Status)
	}
	statuses := map[string]any{}
	for _, c := range sum.Components {
		statuses[c["id"].(string)] = c["status"]
	}
	want := map[string]any{config.ComponentAWSAccess: "major_outage", config.ComponentConsoleSignIn: "major_outage", "remediation": "under_maintenance"}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("component statuses (-want +got):\n%s", diff)
	}
	if len(sum.Incidents) != 1 {
		t.Fatalf("incidents = %+v, want the unresolved one", sum.Incidents)
	}
	in := sum.Incidents[0]
	if in.ID != app.PublicIncidentID("incident-golden-0001") || in.Status != "identified" || in.Impact != "critical" ||
		in.Shortlink != "https://status.example.com/incidents/"+in.ID || len(in.Updates) != 2 || in.Updates[0]["status"] != "identified" {
		t.Errorf("incident = %+v", in)
	}
	if len(sum.Maintenances) != 3 || sum.Maintenances[0]["status"] != "in_progress" || sum.Maintenances[1]["status"] != "scheduled" ||
		sum.Maintenances[0]["impact"] != "maintenance" {
		t.Errorf("scheduled_maintenances = %v, want one in progress then two scheduled", sum.Maintenances)
	}
}

func TestStatusFeedIsAtom(t *testing.T) {
	f := goldenFixture(t)
	for _, lang := range []string{"en", "ja"} {
		res, body := f.get("/history.atom?lang="+lang, nil)
		if ct := res.Header.Get("Content-Type"); ct != "application/atom+xml; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		var feed struct {
			XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
			Lang    string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
			ID      string   `xml:"id"`
			Title   string   `xml:"title"`
			Updated string   `xml:"updated"`
			Author  struct {
				Name string `xml:"name"`
			} `xml:"author"`
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Entries []struct {
				ID      string `xml:"id"`
				Title   string `xml:"title"`
				Updated string `xml:"updated"`
				Link    struct {
					Href string `xml:"href,attr"`
				} `xml:"link"`
				Content struct {
					Type string `xml:"type,attr"`
					Text string `xml:",chardata"`
				} `xml:"content"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal([]byte(body), &feed); err != nil {
			t.Fatalf("the %s feed is not XML: %v\n%s", lang, err, body)
		}
		if feed.Lang != lang || !strings.HasPrefix(feed.ID, "urn:uuid:") || feed.Title == "" || feed.Author.Name != "Acme status" {
			t.Errorf("the %s feed's head = %+v", lang, feed)
		}
		if _, err := time.Parse(time.RFC3339, feed.Updated); err != nil {
			t.Errorf("the %s feed's updated %q is not RFC 3339", lang, feed.Updated)
		}
		if len(feed.Links) == 0 || feed.Links[0].Rel != "self" {
			t.Errorf("the %s feed has no self link: %+v", lang, feed.Links)
		}
		if len(feed.Entries) != 4 {
			t.Fatalf("the %s feed has %d entries, want one per published update (4)", lang, len(feed.Entries))
		}
		ids := map[string]bool{}
		for i, e := range feed.Entries {
			if !strings.HasPrefix(e.ID, "urn:uuid:") || ids[e.ID] || e.Title == "" || e.Content.Type != "text" || e.Link.Href == "" {
				t.Errorf("entry %d = %+v", i, e)
			}
			ids[e.ID] = true
			u, err := time.Parse(time.RFC3339, e.Updated)
			if err != nil {
				t.Errorf("entry %d: updated %q is not RFC 3339", i, e.Updated)
			}
			if i > 0 {
				prev, _ := time.Parse(time.RFC3339, feed.Entries[i-1].Updated)
				if u.After(prev) {
					t.Errorf("entry %d is newer than the one before it", i)
				}
			}
		}
		if feed.Updated != feed.Entries[0].Updated {
			t.Errorf("the feed's updated %s is not its newest entry's %s", feed.Updated, feed.Entries[0].Updated)
		}
	}
}

func TestStatusResponsesAreCachedAndRevalidated(t *testing.T) {
	f := goldenFixture(t)
	for _, target := range []string{"/", "/api/v2/summary.json", "/history.atom", "/incidents/" + app.PublicIncidentID("incident-golden-0001")} {
		res, _ := f.get(target, nil)
		etag := res.Header.Get("ETag")
		if etag == "" || res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: ETag %q, Cache-Control %q; want an ETag and no-cache", target, etag, res.Header.Get("Cache-Control"))
		}
		res, body := f.get(target, map[string]string{"If-None-Match": etag})
		if res.StatusCode != http.StatusNotModified || body != "" {
			t.Errorf("GET %s with If-None-Match %s = %d %q, want 304 and no body", target, etag, res.StatusCode, body)
		}
		if res, _ := f.get(target, map[string]string{"If-None-Match": etag, "Accept-Language": "ja"}); res.StatusCode != 200 {
			t.Errorf("GET %s in Japanese with the English ETag = %d, want 200", target, res.StatusCode)
		}
	}
	if res, _ := f.get("/api/v2/summary.json", nil); res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("the JSON API is not readable from other origins")
	}
}

func TestStatusNotFound(t *testing.T) {
	f := goldenFixture(t)
	tests := []struct {
		target string
		json   bool
	}{
		{"/incidents/nosuchincident", false},
		{"/incidents/incident-golden-0001", false}, // the internal ID is not a public one
		{"/api/v2/nothing.json", true},
	}
	for _, tt := range tests {
		res, body := f.get(tt.target, nil)
		if res.StatusCode != 404 || strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") != tt.json {
			t.Errorf("GET %s = %d %s %s, want 404 (JSON: %v)", tt.target, res.StatusCode, res.Header.Get("Content-Type"), body, tt.json)
		}
	}
}

func TestStatusCatalogsHaveTheBuiltKeys(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range app.ComponentStatuses {
		keys = append(keys, "component."+string(s))
	}
	for _, i := range []string{"none", "minor", "major", "critical", "maintenance"} {
		keys = append(keys, "api.indicator."+i)
	}
	for _, i := range []app.Impact{app.ImpactMinor, app.ImpactMajor, app.ImpactCritical} {
		keys = append(keys, "banner."+string(i))
	}
	keys = append(keys, "banner.maintenance", "status.operational", "status.noNotice", "status.unpublished", "incident.lasted",
		"duration.minutes", "duration.hours", "maintenance.scheduled", "maintenance.inProgress", "maintenance.description",
		"maintenance.name", "freeze.text", "feed.title", "api.unnamed", "format.date", "zone.note", "zone.utc")
	for lang, msgs := range c {
		for _, k := range keys {
			if _, ok := msgs[k]; !ok {
				t.Errorf("messages/%s.json lacks %s", lang, k)
			}
		}
	}
}

// fakeStatus is a statusSource that counts its reads.
type fakeStatus struct {
	mu       sync.Mutex
	version  string
	err      error
	versions atomic.Int64
	builds   atomic.Int64
	block    chan struct{} // when set, reads wait for it
}

func (f *fakeStatus) PublicStatusVersion(ctx context.Context) (string, error) {
	f.versions.Add(1)
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version, f.err
}

func (f *fakeStatus) PublicStatus(ctx context.Context) (app.PublicPage, error) {
	f.builds.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return app.PublicPage{Version: f.version}, f.err
}

func (f *fakeStatus) set(version string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version, f.err = version, err
}

func TestStatusCacheReadsTheStoreOncePerInterval(t *testing.T) {
	ctx := context.Background()
	first := make(chan struct{})
	src := &fakeStatus{version: "v1", block: first}
	c := newStatusCache(src, time.Second, slog.New(slog.DiscardHandler))
	now := time.Date(2025, 6, 2, 3, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	// 200 requests at once while the first read is slow: one read.
	var wg sync.WaitGroup
	versions := make(chan string, 200)
	for range 200 {
		wg.Go(func() {
			s, err := c.get(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			versions <- s.page.Version
		})
	}
	for src.versions.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue behind it
	src.mu.Lock()
	src.block = nil
	src.mu.Unlock()
	close(first)
	wg.Wait()
	close(versions)
	for v := range versions {
		if v != "v1" {
			t.Errorf("a request got version %q, want v1", v)
		}
	}
	steps := []struct {
		name             string
		do               func()
		versions, builds int64
	}{
		{"200 concurrent first requests", func() {}, 1, 1},
		{"a request within the interval reads nothing", func() { advance(500 * time.Millisecond); c.get(ctx) }, 1, 1},
		{"after the interval the version is read, the status is not rebuilt", func() { advance(time.Second); c.get(ctx) }, 2, 1},
		{"a new version rebuilds once", func() { src.set("v2", nil); advance(time.Second); c.get(ctx); c.get(ctx) }, 3, 2},
	}
	for _, s := range steps {
		s.do()
		if v, b := src.versions.Load(), src.builds.Load(); v != s.versions || b != s.builds {
			t.Errorf("after %s: %d version reads and %d builds, want %d and %d", s.name, v, b, s.versions, s.builds)
		}
	}

	t.Run("while one request checks, the others get the last status without waiting", func(t *testing.T) {
		block := make(chan struct{})
		src.mu.Lock()
		src.block = block
		src.mu.Unlock()
		advance(time.Second)
		before := src.versions.Load()
		leader := make(chan string)
		go func() {
			s, _ := c.get(ctx)
			leader <- s.page.Version
		}()
		for src.versions.Load() == before {
			time.Sleep(time.Millisecond)
		}
		done := make(chan string)
		go func() {
			s, _ := c.get(ctx)
			done <- s.page.Version
		}()
		select {
		case v := <-done:
			if v != "v2" {
				t.Errorf("a request during the check got %q, want the last status (v2)", v)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a request during the check waited for it")
		}
		src.mu.Lock()
		src.block = nil
		src.mu.Unlock()
		close(block)
		if v := <-leader; v != "v2" {
			t.Errorf("the checking request got %q, want v2", v)
		}
	})
	t.Run("a failing store serves the last status and retries after the interval", func(t *testing.T) {
		src.set("v3", fmt.Errorf("database is locked"))
		advance(time.Second)
		s, err := c.get(ctx)
		if err != nil || s.page.Version != "v2" {
			t.Fatalf("get() while the store fails = %v, %v; want the last status (v2)", s, err)
		}
		before := src.versions.Load()
		c.get(ctx)
		if src.versions.Load() != before {
			t.Errorf("a failed read was retried within the interval")
		}
	})
	t.Run("without any status a failure is an error", func(t *testing.T) {
		c := newStatusCache(&fakeStatus{err: fmt.Errorf("no store")}, time.Second, slog.New(slog.DiscardHandler))
		if _, err := c.get(ctx); err == nil {
			t.Error("get() with a failing store and nothing cached = nil error")
		}
	})
}

func TestStatusOutputsRenderOncePerVersion(t *testing.T) {
	src := &fakeStatus{version: "v1"}
	c := newStatusCache(src, 0, slog.New(slog.DiscardHandler))
	var renders atomic.Int64
	render := func() ([]byte, error) { renders.Add(1); return []byte("page"), nil }
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			s, err := c.get(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			s.output(outputKey{kind: "page", lang: "en", path: "/"}, render)
		})
	}
	wg.Wait()
	if n := renders.Load(); n != 1 {
		t.Errorf("50 requests of one version rendered the page %d times, want 1", n)
	}
	src.set("v2", nil)
	s, _ := c.get(context.Background())
	s.output(outputKey{kind: "page", lang: "en", path: "/"}, render)
	if n := renders.Load(); n != 2 {
		t.Errorf("a new version rendered the page %d times in all, want 2", n)
	}
}
