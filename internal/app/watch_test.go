package app_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/watch"
)

const denyAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

func isolateAWSConfig(tb testing.TB) {
	tb.Helper()
	dir := tb.TempDir()
	tb.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ORGANIZATIONS"} {
		tb.Setenv(v, "")
	}
}

// watchWorld is a simulated organization served over the Organizations
// wire protocol on 127.0.0.1, an App configured on backend.type aws with
// that loopback endpoint and an SQLite store in a temporary directory, and
// an SDK client for the "someone outside orgguard" who makes the drift.
type watchWorld struct {
	sim     *sim.Org
	outside *awsorg.Backend
	cfg     config.Config
	dir     string
}

func newWatchWorld(t *testing.T, accounts int, rules []watch.Rule) *watchWorld {
	t.Helper()
	isolateAWSConfig(t)
	snap, err := generate.Organization(generate.Options{Accounts: accounts, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	o, err := sim.New(snap, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := simserver.New(o, simserver.Options{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	outside, err := awsorg.New(t.Context(), awsorg.Options{EndpointURL: hs.URL, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.Backend.Type = config.BackendAWS
	cfg.Backend.AWS.Endpoint = hs.URL
	cfg.Store = filepath.Join(dir, "orgguard.db")
	cfg.Identity.User = "ops"
	cfg.Watch.Interval = time.Second
	cfg.Watch.SweepPeriod = time.Minute
	cfg.Watch.CallBudget = 100000
	cfg.Watch.Rules = rules
	return &watchWorld{sim: o, outside: outside, cfg: cfg, dir: dir}
}

func (w *watchWorld) app(t *testing.T) *app.App {
	t.Helper()
	cfg := w.cfg
	a, err := app.New(app.Options{Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// run runs App.Watch until the returned stop is called (or the test ends).
func (w *watchWorld) run(t *testing.T) (a *app.App, stop func()) {
	t.Helper()
	a = w.app(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Watch(ctx, app.WatchOptions{Log: slog.New(slog.NewTextHandler(tWriter{t}, nil))}) }()
	var once bool
	stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch = %v", err)
		}
	}
	t.Cleanup(stop)
	return a, stop
}

func (w *watchWorld) attachDenyAllToRoot(t *testing.T) (policyID, rootID string) {
	t.Helper()
	ctx := context.Background()
	p, err := w.outside.CreatePolicy(ctx, org.PolicySpec{Name: "DenyEverything", Description: "deny all", Content: denyAll, Type: org.ServiceControlPolicy})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := w.sim.Snapshot(ctx)
	if err := w.outside.AttachPolicy(ctx, p.ID, s.Root.ID); err != nil {
		t.Fatal(err)
	}
	return p.ID, s.Root.ID
}

func attached(t *testing.T, o *sim.Org, policyID, target string) bool {
	t.Helper()
	s, err := o.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x := org.MustIndex(s)
	for _, p := range x.PoliciesAttached(target, org.ServiceControlPolicy) {
		if p.ID == policyID {
			return true
		}
	}
	return false
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
	return time.Since(start)
}

func incidentsOf(t *testing.T, a *app.App) []store.Incident {
	t.Helper()
	svc, err := a.Incidents(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	ins, err := svc.Store.ListIncidents(context.Background(), store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

func timeline(t *testing.T, a *app.App, id string) []store.IncidentEvent {
	t.Helper()
	svc, err := a.Incidents(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := svc.Store.IncidentTimeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func remediatingRules() []watch.Rule {
	rules := watch.DefaultRules()
	rules[0].Remediate = true // deny-all
	return rules
}

// TestWatchRemediatesADenyAllOnRoot: with the default guardrails (refuse
// above 50% of the accounts affected, Root protected), detaching a deny-all
// someone attached to Root is planned, approved by the rule's standing
// approval and applied through the apply engine; the incident is mitigated.
func TestWatchRemediatesADenyAllOnRoot(t *testing.T) {
	w := newWatchWorld(t, 60, remediatingRules())
	a, _ := w.run(t)
	waitUntil(t, 30*time.Second, "the watcher's baseline", func() bool {
		st, err := a.Store(context.Background())
		if err != nil {
			return false
		}
		_, err = st.WatchState(context.Background(), "default")
		return err == nil
	})
	pid, root := w.attachDenyAllToRoot(t)
	waitUntil(t, 30*time.Second, "the deny-all detached", func() bool { return !attached(t, w.sim, pid, root) })
	waitUntil(t, 30*time.Second, "the incident mitigated", func() bool {
		ins := incidentsOf(t, a)
		return len(ins) == 1 && !ins[0].MitigatedAt.IsZero()
	})
	in := incidentsOf(t, a)[0]
	if in.State != store.IncidentMonitoring || in.Rule != "deny-all" {
		t.Errorf("incident = %+v, want deny-all in monitoring", in)
	}
	var texts []string
	for _, ev := range timeline(t, a, in.ID) {
		texts = append(texts, ev.Kind+": "+ev.Message)
	}
	t.Logf("timeline:\n%s", strings.Join(texts, "\n"))
	tl := timeline(t, a, in.ID)
	if last := tl[len(tl)-1]; last.Kind != incident.KindMitigated || !strings.Contains(last.Message, "deny-all") {
		t.Errorf("last timeline entry = %s %q, want mitigated naming the rule", last.Kind, last.Message)
	}
	st, _ := a.Store(context.Background())
	plans, err := st.ListPlans(context.Background(), store.PlanFilter{})
	if err != nil || len(plans) != 1 {
		t.Fatalf("plans = %+v, %v; want the remediation plan", plans, err)
	}
	apps, err := st.ListApprovals(context.Background(), plans[0].ID)
	if err != nil || len(apps) == 0 || !strings.HasPrefix(apps[0].Approver, "watch-rule:deny-all#") {
		t.Errorf("approvals = %+v, %v; want standing approvals watch-rule:deny-all#n", apps, err)
	}
}

// TestFailedRemediationLeavesTheIncidentOpen: when the pinned guardrails
// do not let the protected-target rule be overridden, the detach from Root
// is refused; the deny-all stays, the incident stays investigating and its
// timeline says the remediation failed and why.
func TestFailedRemediationLeavesTheIncidentOpen(t *testing.T) {
	w := newWatchWorld(t, 40, remediatingRules())
	w.cfg.Guardrails.Overrides.Allow = []guard.Rule{guard.RuleThreshold, guard.RuleWindow, guard.RuleFreeze}
	a, _ := w.run(t)
	waitUntil(t, 30*time.Second, "the watcher's baseline", func() bool {
		st, err := a.Store(context.Background())
		if err != nil {
			return false
		}
		_, err = st.WatchState(context.Background(), "default")
		return err == nil
	})
	pid, root := w.attachDenyAllToRoot(t)
	var in store.Incident
	waitUntil(t, 30*time.Second, "the remediation's failure on the timeline", func() bool {
		ins := incidentsOf(t, a)
		if len(ins) != 1 {
			return false
		}
		in = ins[0]
		for _, ev := range timeline(t, a, in.ID) {
			if strings.Contains(ev.Message, "AUTOMATIC REMEDIATION FAILED") {
				return true
			}
		}
		return false
	})
	in = incidentsOf(t, a)[0]
	if in.State != store.IncidentInvestigating || !in.MitigatedAt.IsZero() {
		t.Errorf("incident state %s, mitigated at %v; want investigating and not mitigated", in.State, in.MitigatedAt)
	}
	if !attached(t, w.sim, pid, root) {
		t.Errorf("the deny-all was detached although the remediation was refused")
	}
	var failure string
	for _, ev := range timeline(t, a, in.ID) {
		if strings.Contains(ev.Message, "AUTOMATIC REMEDIATION FAILED") {
			failure = ev.Message
		}
	}
	for _, want := range []string{"refused", "the incident stays open", "protected-target"} {
		if !strings.Contains(failure, want) {
			t.Errorf("failure entry %q does not say %q", failure, want)
		}
	}
}

// tWriter sends log lines to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
