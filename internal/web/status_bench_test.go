package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/store"
)

// The status page's speed target: p99 under 20 ms at 500 requests/s on
// loopback. BenchmarkStatusPageLoad measures it the way a load tester
// would, not with a timed test: an open-loop generator sends requests on
// a fixed schedule (500/s for 3 s per iteration, whether or not earlier
// ones were answered) to an httptest server on 127.0.0.1, over real HTTP
// with keep-alive, and reports the latency percentiles with
// b.ReportMetric. The store is a real SQLite one holding 90 days of
// history (60 incidents, one unresolved) and, half-way through each
// iteration, a notice is published: the page is rebuilt once under load.
//
//	go test ./internal/web -run '^$' -bench StatusPageLoad -benchtime 1x
const (
	loadRate     = 500
	loadDuration = 3 * time.Second
)

func BenchmarkStatusPageLoad(b *testing.B) {
	for _, tt := range []struct {
		name, path string
	}{
		{"page", "/"},
		{"summary.json", "/api/v2/summary.json"},
		{"history.atom", "/history.atom"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			a, publish := loadApp(b)
			s, err := New(Options{App: a, Log: slog.New(slog.DiscardHandler)}) // the production refresh interval
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}
			defer client.CloseIdleConnections()
			for i := range 50 { // warm up: connections, the first render of each language
				if _, err := fetch(client, srv.URL+tt.path, []string{"en", "ja"}[i%2]); err != nil {
					b.Fatal(err)
				}
			}
			var all []time.Duration
			var failed, sent int64
			var lag time.Duration
			b.ReportAllocs()
			for b.Loop() {
				r := openLoop(b, client, srv.URL+tt.path, publish)
				all = append(all, r.latencies...)
				failed += r.failed
				sent += int64(len(r.latencies)) + r.failed
				lag = max(lag, r.maxLag)
			}
			slices.Sort(all)
			pct := func(p float64) float64 {
				if len(all) == 0 {
					return 0
				}
				return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.90), "p90-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(pct(1), "max-ms")
			b.ReportMetric(float64(failed), "errors")
			b.ReportMetric(float64(lag.Microseconds())/1000, "gen-lag-ms")
			b.ReportMetric(float64(sent)/(loadDuration.Seconds()*float64(b.N)), "req/s")
		})
	}
}

// loadResult is one open-loop run.
type loadResult struct {
	latencies []time.Duration
	failed    int64
	maxLag    time.Duration // how late the generator sent a request at worst
}

// openLoop sends loadRate requests a second for loadDuration, each on
// its own schedule, and publishes a notice half-way.
func openLoop(b *testing.B, client *http.Client, url string, publish func()) loadResult {
	n := int(loadRate * loadDuration.Seconds())
	interval := time.Second / loadRate
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	var res loadResult
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		res.maxLag = max(res.maxLag, time.Since(due))
		if i == n/2 {
			wg.Go(publish)
		}
		wg.Go(func() {
			t0 := time.Now()
			if _, err := fetch(client, url, []string{"en", "ja"}[i%2]); err != nil {
				failed.Add(1)
				return
			}
			lat[i], ok[i] = time.Since(t0), true
		})
	}
	wg.Wait()
	for i := range n {
		if ok[i] {
			res.latencies = append(res.latencies, lat[i])
		}
	}
	res.failed = failed.Load()
	return res
}

// fetch GETs url in lang and reads the whole body.
func fetch(client *http.Client, url, lang string) (int64, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept-Language", lang)
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return n, err
}

// loadApp opens an App on an SQLite store holding 90 days of history: 60
// resolved incidents with two updates each (ja and en), and one unresolved
// critical incident with three. publish publishes one more update.
func loadApp(b *testing.B) (*app.App, func()) {
	b.Helper()
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(b.TempDir(), "orgguard.db")
	cfg.Status.TimeZone = "Asia/Tokyo"
	a, err := app.New(app.Options{Config: &cfg, Actor: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	st, err := a.Store(ctx)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	notice := func(id string, state store.IncidentState, at time.Time) {
		for _, lang := range []string{"ja", "en"} {
			if _, err := st.PublishNotice(ctx, store.Notice{IncidentID: id, Lang: lang, State: state, PublishedAt: at, PublishedBy: "bench",
				Title: fmt.Sprintf("[%s] Access problems in some AWS accounts", lang),
				Body:  "We are investigating a problem affecting 12 AWS accounts of 3 customers.\nNext update within 30 minutes."}); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 60 {
		opened := now.Add(-time.Duration(i*36+12) * time.Hour)
		id := fmt.Sprintf("incident-bench-%04d", i)
		if _, err := st.OpenIncident(ctx, store.Incident{ID: id, Title: "x", Severity: []store.Severity{store.SevCritical, store.SevMajor, store.SevMinor}[i%3],
			State: store.IncidentResolved, OpenedAt: opened, ResolvedAt: opened.Add(40 * time.Minute)}); err != nil {
			b.Fatal(err)
		}
		notice(id, store.IncidentInvestigating, opened.Add(5*time.Minute))
		notice(id, store.IncidentResolved, opened.Add(40*time.Minute))
	}
	if _, err := st.OpenIncident(ctx, store.Incident{ID: "incident-bench-open", Title: "x", Severity: store.SevCritical, OpenedAt: now.Add(-time.Hour)}); err != nil {
		b.Fatal(err)
	}
	for i := range 3 {
		notice("incident-bench-open", store.IncidentInvestigating, now.Add(-time.Duration(50-10*i)*time.Minute))
	}
	return a, func() { notice("incident-bench-open", store.IncidentIdentified, time.Now()) }
}

// BenchmarkStatusPageHandler is the server's own cost of one status page
// request, in process (no network, no client): what the open-loop load
// above spends on the server side of each request.
//
//	go test ./internal/web -run '^$' -bench StatusPageHandler -benchmem
func BenchmarkStatusPageHandler(b *testing.B) {
	a, _ := loadApp(b)
	s, err := New(Options{App: a, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	for _, path := range []string{"/", "/api/v2/summary.json", "/history.atom"} {
		name := strings.TrimPrefix(path, "/api/v2/")
		if path == "/" {
			name = "page"
		}
		b.Run(strings.TrimPrefix(name, "/"), func(b *testing.B) {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Accept-Language", "ja,en;q=0.8")
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", path, rec.Code)
				}
			}
		})
	}
}
