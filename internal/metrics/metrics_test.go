package metrics_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/metrics"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetricsCountTheStoreTheBackendAndTheWatcher(t *testing.T) {
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "orgguard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 5, 17, 15, 0, 0, time.UTC)
	for i, v := range []string{"refused", "allowed"} {
		if _, err := st.SavePlan(ctx, store.Plan{ID: "plan-" + v, Author: "alice", Hash: "sha256:" + v, BaseFingerprint: "fp",
			Verdict: v, RequiredApprovals: i, Body: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	in, err := st.OpenIncident(ctx, store.Incident{Title: "deny-all on Root", Severity: store.SevCritical,
		OpenedAt: now.Add(40 * time.Second), ImpactStartedAt: now, DetectedAt: now.Add(40 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkIncident(ctx, in.ID, store.MarkMitigated, now.Add(100*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.EnqueueMessage(ctx, store.OutboxMessage{Key: "k", Channel: "ops", Kind: "incident.opened",
		Payload: json.RawMessage(`{}`), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

	m := metrics.New(metrics.Options{
		Tally: st.Tally,
		Calls: func() (org.Calls, bool) {
			return org.Calls{ByAPI: map[string]int{"ListRoots": 1, "ListPoliciesForTarget": 7}, Retries: 3, Throttles: 2}, true
		},
		Watch: func() (metrics.WatchStats, bool) {
			return metrics.WatchStats{Reads: 12, Drifts: 1, IncidentsOpened: 1}, true
		},
		Now: func() time.Time { return now.Add(time.Hour) },
	})
	m.ObserveProbe("sts-get-caller-identity", true)
	m.ObserveProbe("sts-get-caller-identity", false)
	out := scrape(t, m)
	for _, want := range []string{
		"\n" + `orgguard_plans_total{verdict="allowed"} 1` + "\n",
		`orgguard_plans_total{verdict="refused"} 1`,
		`orgguard_incidents_total{severity="critical"} 1`,
		`orgguard_outbox_messages{state="pending"} 1`,
		`orgguard_outbox_messages{state="dead"} 0`,
		`orgguard_rollbacks_total 0`,
		// 40 s to detect: not within 30 s, within 60 s.
		`orgguard_time_to_detect_seconds_bucket{severity="critical",le="30"} 0`,
		`orgguard_time_to_detect_seconds_bucket{severity="critical",le="60"} 1`,
		`orgguard_time_to_detect_seconds_sum{severity="critical"} 40`,
		`orgguard_time_to_recover_seconds_sum{severity="critical"} 100`,
		`orgguard_aws_api_calls_total{api="ListPoliciesForTarget"} 7`,
		`orgguard_aws_api_throttles_total 2`,
		`orgguard_aws_api_retries_total 3`,
		`orgguard_drift_events_total 1`,
		`orgguard_watch_reads_total 12`,
		`orgguard_probe_results_total{probe="sts-get-caller-identity",result="fail"} 1`,
		`orgguard_probe_results_total{probe="sts-get-caller-identity",result="pass"} 1`,
		`orgguard_store_scrape_error 0`,
		`go_goroutines `, // the Go runtime's collector
	} {
		if !strings.Contains(out, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	if strings.Contains(out, "orgguard_time_to_notify_seconds_count") {
		t.Errorf("GET /metrics has a time to notify for an incident never notified:\n%s", out)
	}
}

func TestAStoreThatCannotBeReadIsReportedNotFatal(t *testing.T) {
	m := metrics.New(metrics.Options{Tally: func(ctx context.Context, since time.Time) (store.Tally, error) {
		return store.Tally{}, context.DeadlineExceeded
	}})
	if out := scrape(t, m); !strings.Contains(out, "orgguard_store_scrape_error 1") {
		t.Errorf("GET /metrics with an unreadable store lacks orgguard_store_scrape_error 1:\n%s", out)
	}
}
