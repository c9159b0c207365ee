package web

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/web/webtest"
)

// TestStatusPageLifecycleInABrowser opens the status page in headless
// Chromium before an incident (everything operational), during one (the
// watcher opens it, its drafts are published: the open page updates
// itself over the event stream) and after it (resolved, in the history),
// in English and Japanese, and saves a screenshot of each.
func TestStatusPageLifecycleInABrowser(t *testing.T) {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	cfg.Server.Title = "Acme status"
	cfg.Status.TimeZone = "Asia/Tokyo"
	a, err := app.New(app.Options{Config: &cfg, Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	s, err := New(Options{App: a, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler()) // loopback
	t.Cleanup(srv.Close)                   // after the browser has gone (cleanups run last first)
	b := webtest.Start(t)
	texts := func(sel string) string { return strings.Join(strings.Fields(b.Text(sel)), " ") }

	// Before.
	for _, tt := range []struct{ lang, banner, component string }{
		{"en", "All systems operational", "AWS account access Operational"},
		{"ja", "すべてのシステムは正常に稼働しています", "AWSアカウントへのアクセス 正常"},
	} {
		b.Navigate(srv.URL + "/?lang=" + tt.lang)
		if got := b.Text(".banner"); got != tt.banner {
			t.Errorf("before, in %s, the banner says %q, want %q", tt.lang, got, tt.banner)
		}
		if got := texts(".components"); !strings.Contains(got, tt.component) {
			t.Errorf("before, in %s, the components say %q, want %q in them", tt.lang, got, tt.component)
		}
		if got := b.Text(".history"); strings.Count(got, map[string]string{"en": "No incidents reported.", "ja": "障害の報告はありません。"}[tt.lang]) != 7 {
			t.Errorf("before, in %s, the past seven days are not all quiet:\n%s", tt.lang, got)
		}
		b.Screenshot("before-" + tt.lang)
	}

	// During: the page open in English updates itself.
	b.Navigate(srv.URL + "/?lang=en")
	in := openLikeTheWatcher(t, a)
	if _, err := a.PublishNotice(ctx, in.ID, nil); err != nil {
		t.Fatal(err)
	}
	b.WaitText("#status", "[Critical]")
	if got := b.Text(".banner"); got != "Major outage" {
		t.Errorf("during, the banner says %q, want Major outage", got)
	}
	if got := texts(".components"); !strings.Contains(got, "AWS account access Major outage") {
		t.Errorf("during, the components say %q", got)
	}
	b.Screenshot("during-en")
	b.Navigate(srv.URL + "/?lang=ja")
	b.WaitText(".banner", "大規模な障害が発生しています")
	if got := texts(".incident"); !strings.Contains(got, "【重大】") || !strings.Contains(got, "調査中") {
		t.Errorf("during, in Japanese, the incident says %q", got)
	}
	b.Screenshot("during-ja")
	b.Click(".incident h3 a")
	b.WaitText("h1", "【重大】")
	if loc := b.Location(); !strings.HasSuffix(loc, "/incidents/"+app.PublicIncidentID(in.ID)) {
		t.Errorf("the incident link went to %s", loc)
	}
	b.Screenshot("incident-ja")

	// After: resolved and published; the open page returns to operational.
	b.Navigate(srv.URL + "/?lang=ja")
	svc, err := a.Incidents(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, in.ID, "alice", "the SCP was detached"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PublishNotice(ctx, in.ID, nil); err != nil {
		t.Fatal(err)
	}
	b.WaitText(".banner", "すべてのシステムは正常に稼働しています")
	b.Navigate(srv.URL + "/?lang=ja")
	b.WaitText(".history", "解決済み")
	b.Screenshot("after-ja")
	b.Navigate(srv.URL + "/history?lang=en")
	b.WaitText(".history", "Resolved")
	if got := b.Text("h1"); got != "Incident history: the past 90 days" {
		t.Errorf("the history page is headed %q", got)
	}
	b.Screenshot("after-history-en")

	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("the pages logged errors (a CSP violation?):\n%v", errs)
	}
}

// TestStatusPageWithMaintenanceInABrowser shows the fixed page of the
// golden files — an unresolved critical incident with two updates, a
// maintenance window in progress, a freeze ahead, a resolved incident in
// the history — in both languages, and saves screenshots.
func TestStatusPageWithMaintenanceInABrowser(t *testing.T) {
	f := goldenFixture(t)
	srv := httptest.NewServer(f.srv.Handler())
	t.Cleanup(srv.Close)
	b := webtest.Start(t)
	for _, tt := range []struct{ lang, banner, maintenance string }{
		{"en", "Major outage", "In progress"},
		{"ja", "大規模な障害が発生しています", "実施中"},
	} {
		b.Navigate(srv.URL + "/?lang=" + tt.lang)
		if got := b.Text(".banner"); got != tt.banner {
			t.Errorf("in %s the banner says %q, want %q", tt.lang, got, tt.banner)
		}
		b.WaitText("ul.maintenance", tt.maintenance)
		if got := b.Text(`[data-component="remediation"] .component-status`); got != map[string]string{"en": "Under maintenance", "ja": "メンテナンス中"}[tt.lang] {
			t.Errorf("in %s the remediation component says %q, want under maintenance", tt.lang, got)
		}
		b.Screenshot("maintenance-" + tt.lang)
	}
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("the pages logged errors (a CSP violation?):\n%v", errs)
	}
}
