package web_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/web"
	"github.com/orgguard/orgguard/internal/web/webtest"
)

// TestStatusPageInABrowser opens the status page in headless Chromium:
// English first, Japanese after choosing it, and the page updating itself
// (event stream, fragment reload) when a notice is published.
func TestStatusPageInABrowser(t *testing.T) {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	cfg.Server.Title = "Acme status"
	a, err := app.New(app.Options{Config: &cfg, Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	s, err := web.New(web.Options{App: a, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler()) // loopback
	t.Cleanup(srv.Close)                   // after the browser has gone (cleanups run last first)
	b := webtest.Start(t)

	b.Navigate(srv.URL + "/")
	if got := b.Text(".banner"); got != "All systems operational" {
		t.Errorf("the banner says %q, want All systems operational", got)
	}
	if got := b.Text("header .home"); got != "Acme status" {
		t.Errorf("the title says %q, want Acme status", got)
	}
	b.Screenshot("operational-en")

	b.Click(`nav.lang a[hreflang="ja"]`)
	b.WaitText(".banner", "すべてのシステムは正常に稼働しています")
	if got := b.Attr("html", "lang"); got != "ja" {
		t.Errorf(`<html lang> = %q after choosing 日本語, want "ja"`, got)
	}
	b.Screenshot("operational-ja")

	// The choice is remembered: the plain URL stays in Japanese.
	b.Navigate(srv.URL + "/")
	b.WaitText(".banner", "すべてのシステム")

	st, err := a.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in, err := st.OpenIncident(ctx, store.Incident{Title: "internal title", Severity: store.SevMajor})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PublishNotice(ctx, store.Notice{IncidentID: in.ID, Lang: "ja", Title: "一部のアカウントで権限エラー",
		Body: "原因を調査しています。", State: store.IncidentInvestigating, PublishedBy: "tester"}); err != nil {
		t.Fatal(err)
	}
	b.WaitText("#status", "一部のアカウントで権限エラー") // without reloading: the event stream tells the page
	if got := b.Text(".banner"); got != "一部のシステムで障害が発生しています" {
		t.Errorf("the banner says %q after a major incident, want the partial outage text", got)
	}
	b.Screenshot("incident-ja")

	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("the pages logged errors (a CSP violation?):\n%v", errs)
	}
}
