package postmortem

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/notice"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestPostmortemGolden(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "orgguard.db"), sqlstore.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inc := &incident.Service{Store: st, Now: clock}
	var in store.Incident
	err = st.WithTx(ctx, func(tx store.Tx) error {
		var err error
		in, _, err = inc.Open(ctx, tx, incident.Spec{Title: "deny-all: SCP p-abcd1234 attached to Root", Severity: store.SevCritical, Source: store.SourceDrift,
			By: "watch", Rule: "deny-all", ImpactStartedAt: t0.Add(-2 * time.Minute), DetectedAt: t0,
			Accounts: []string{"111111111111", "222222222222"}, Customers: []string{"Acme"},
			Impact:  map[string]any{"findings": []map[string]any{{"summary": "every action denied in 2 accounts", "accounts": []string{"111111111111", "222222222222"}}}},
			Message: "drift detected (1 change(s)): policy p-abcd1234 attached to r-ab12",
			Detail:  map[string]any{"events": []string{"AttachPolicy by arn:aws:iam::999999999999:user/script"}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration) { now = t0.Add(d) }
	step(3 * time.Minute)
	inc.Acknowledge(ctx, in.ID, "alice", "")
	step(7 * time.Minute)
	st.PublishNotice(ctx, store.Notice{IncidentID: in.ID, Lang: "ja", Title: "【重大】障害のお知らせ", Body: "本文"})
	step(9 * time.Minute)
	inc.SetState(ctx, in.ID, store.IncidentMonitoring, "alice", "SCP detached")
	step(30 * time.Minute)
	inc.Resolve(ctx, in.ID, "alice", "probes pass")
	err = st.WithTx(ctx, func(tx store.Tx) error { _, err := Draft(ctx, tx, in, "orgguard", now); return err })
	if err != nil {
		t.Fatal(err)
	}
	step(2 * time.Hour)
	if _, err := Edit(ctx, st, in.ID, map[string]string{"rootCause": "A cleanup script attached a deny-all SCP to Root.", "actionItems": "- Run scripts through orgguard plans (owner: bob)"}, "", "alice", now); err != nil {
		t.Fatal(err)
	}
	if _, err := Edit(ctx, st, in.ID, map[string]string{"bogus": "x"}, "", "alice", now); err == nil {
		t.Error("Edit of an unknown field = nil")
	}
	ts, err := notice.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	zone, _ := time.LoadLocation("Asia/Tokyo")
	for _, lang := range notice.Languages {
		got, err := Render(ctx, st, ts, in.ID, lang, zone, now)
		if err != nil {
			t.Fatal(err)
		}
		got = strings.ReplaceAll(got, in.ID, "incident-ID") // IDs are random
		for _, want := range []string{"TTD", "TTN", "TTR", "deny-all", "arn:aws:iam::999999999999:user/script", "A cleanup script"} {
			if !strings.Contains(got, want) {
				t.Errorf("the %s postmortem lacks %q", lang, want)
			}
		}
		p := filepath.Join("testdata", "postmortem."+lang+".golden")
		if *update {
			os.MkdirAll("testdata", 0o755)
			os.WriteFile(p, []byte(got), 0o644)
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if d := cmp.Diff(string(want), got); d != "" {
			t.Errorf("%s (-want +got):\n%s", p, d)
		}
	}
}

// TestNamesAreEscapedInTheMarkdown: titles, actors and timeline text come
// from the organization and people; they cannot add markup, HTML or
// mentions, nor break the timeline table (ADR 0008).
func TestNamesAreEscapedInTheMarkdown(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "orgguard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inc := &incident.Service{Store: st}
	in, err := inc.OpenManual(ctx, incident.Spec{Title: "OU | <img src=x onerror=alert(1)> @team *now*", Severity: store.SevMajor, By: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	inc.Note(ctx, in.ID, "carol", "cell | breaker <script>")
	ts, _ := notice.LoadTemplates("")
	for _, lang := range notice.Languages {
		md, err := Render(ctx, st, ts, in.ID, lang, time.UTC, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{"<img", "<script>", " @team", "*now*", "OU | <", "cell | breaker"} {
			if strings.Contains(md, raw) {
				t.Errorf("the %s postmortem holds %q unescaped", lang, raw)
			}
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"en", 32 * time.Minute, "32m0s"},
		{"ja", 32 * time.Minute, "32分0秒"},
		{"ja", 0, "0秒"},
		{"ja", 1400 * time.Millisecond, "1秒"},
		{"ja", time.Hour + 3*time.Second, "1時間0分3秒"},
		{"ja", -2 * time.Second, "-2秒"},
	} {
		if got := duration(tt.lang, tt.d); got != tt.want {
			t.Errorf("duration(%s, %v) = %q, want %q", tt.lang, tt.d, got, tt.want)
		}
	}
}
