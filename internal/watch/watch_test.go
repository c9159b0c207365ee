package watch_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
	"github.com/orgguard/orgguard/internal/watch"
)

const denyAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

// rig is a simulated organization served over HTTP on 127.0.0.1, the AWS
// SDK backend talking to it, and a store in a temporary directory.
type rig struct {
	sim     *sim.Org
	backend *awsorg.Backend
	url     string
	st      store.Store
	an      *impact.Analyzer
	dbPath  string
}

func isolateAWSConfig(tb testing.TB) {
	tb.Helper()
	dir := tb.TempDir()
	tb.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ORGANIZATIONS"} {
		tb.Setenv(v, "")
	}
}

func newRig(t *testing.T, accounts int, so simserver.Options) *rig {
	t.Helper()
	isolateAWSConfig(t)
	snap, err := generate.Organization(generate.Options{Accounts: accounts, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	o, err := sim.New(snap, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(simserver.New(o, so))
	t.Cleanup(srv.Close)
	b, err := awsorg.New(t.Context(), awsorg.Options{EndpointURL: srv.URL, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "orgguard.db")
	st, err := sqlstore.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	an, err := impact.NewAnalyzer(cat, impact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{sim: o, backend: b, url: srv.URL, st: st, an: an, dbPath: db}
}

func (r *rig) config() watch.Config {
	c := watch.DefaultConfig()
	c.Interval = time.Second
	c.SweepPeriod = 20 * time.Second
	c.CallBudget = 100000
	c.Customers = incident.Mapping{OUParent: "/Customers"}
	return c
}

// start runs a watcher until the test ends (or stop is called).
func (r *rig) start(t *testing.T, c watch.Config, rem watch.Remediator) (*watch.Watcher, func()) {
	t.Helper()
	w, err := watch.New(watch.Options{Config: c, Reader: r.backend.Parts(nil), Store: r.st, Analyzer: r.an,
		Baseline: r.backend.Snapshot, Remediator: rem})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(func() {
		select {
		case <-ctx.Done():
		default:
			stop()
		}
	})
	waitFor(t, "the first read", func() bool { return w.Stats().FastReads > 0 })
	return w, stop
}

func waitFor(t *testing.T, what string, cond func() bool, ws ...*watch.Watcher) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, w := range ws {
				t.Logf("watcher stats: %+v", w.Stats())
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) incidents(t *testing.T) []store.Incident {
	t.Helper()
	ins, err := r.st.ListIncidents(context.Background(), store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

// attachDenyAll creates a deny-all SCP and attaches it to the root through
// the AWS SDK, as someone outside orgguard would.
func (r *rig) attachDenyAll(t *testing.T) (policyID, rootID string) {
	t.Helper()
	ctx := context.Background()
	p, err := r.backend.CreatePolicy(ctx, org.PolicySpec{Name: "DenyEverything", Description: "deny all", Content: denyAll, Type: org.ServiceControlPolicy})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := r.sim.Snapshot(ctx)
	if err := r.backend.AttachPolicy(ctx, p.ID, s.Root.ID); err != nil {
		t.Fatal(err)
	}
	return p.ID, s.Root.ID
}

func TestDenyAllOnRootOpensOneCriticalIncident(t *testing.T) {
	r := newRig(t, 200, simserver.Options{})
	w, stop := r.start(t, r.config(), nil)
	pid, root := r.attachDenyAll(t)
	waitFor(t, "an incident", func() bool { return len(r.incidents(t)) > 0 })
	ins := r.incidents(t)
	in := ins[0]
	if len(ins) != 1 || in.Severity != store.SevCritical || in.Rule != "deny-all" || in.Source != store.SourceDrift || in.State != store.IncidentInvestigating {
		t.Fatalf("incidents = %+v, want one critical investigating drift incident by rule deny-all", ins)
	}
	if len(in.Accounts) < 150 || len(in.Customers) == 0 {
		t.Errorf("incident affects %d accounts and customers %v, want most of the 199 members and some customers", len(in.Accounts), in.Customers)
	}
	if !strings.Contains(in.Title, pid) || !strings.Contains(in.Title, root) {
		t.Errorf("title %q does not name the policy %s and the root %s", in.Title, pid, root)
	}
	if in.ImpactStartedAt.IsZero() || in.DetectedAt.Before(in.ImpactStartedAt) {
		t.Errorf("impact start %v, detected %v: want a start before detection", in.ImpactStartedAt, in.DetectedAt)
	}
	tl, err := r.st.IncidentTimeline(context.Background(), in.ID)
	if err != nil || len(tl) != 2 || tl[0].Kind != incident.KindImpactStart || tl[1].Kind != incident.KindDetected {
		t.Errorf("timeline = %+v, %v; want impact-start then detected", tl, err)
	}
	// The stats are updated just after the transaction that made the
	// incident visible.
	waitFor(t, "the drift counted", func() bool { return w.Stats().Drifts > 0 })
	if st := w.Stats(); st.Calls == 0 || st.Drifts != 1 {
		t.Errorf("stats = %+v, want calls counted and one drift", st)
	}

	t.Run("a restart opens no duplicate", func(t *testing.T) {
		stop()
		w2, _ := r.start(t, r.config(), nil)
		waitFor(t, "a few reads", func() bool { return w2.Stats().FastReads >= 3 })
		if n := len(r.incidents(t)); n != 1 {
			t.Errorf("after a restart: %d incidents, want 1", n)
		}
	})
}

func TestRestartJudgesTheChangesMadeWhileDown(t *testing.T) {
	r := newRig(t, 100, simserver.Options{})
	_, stop := r.start(t, r.config(), nil)
	stop()
	r.attachDenyAll(t)
	r.start(t, r.config(), nil)
	waitFor(t, "an incident", func() bool { return len(r.incidents(t)) > 0 })
}

func TestThrottlingSlowsButLosesNothing(t *testing.T) {
	r := newRig(t, 100, simserver.Options{ThrottleRate: 0.3, FaultSeed: 9})
	w, _ := r.start(t, r.config(), nil)
	r.attachDenyAll(t)
	waitFor(t, "an incident", func() bool { return len(r.incidents(t)) > 0 })
	if st := w.Stats(); st.Attempts <= st.Calls {
		t.Errorf("stats %+v: want retries (attempts > calls) under throttling", st)
	}
}

func TestDeepChangesAreFoundByTheSweep(t *testing.T) {
	r := newRig(t, 100, simserver.Options{})
	c := r.config()
	c.SweepPeriod = 2 * time.Second
	w, _ := r.start(t, c, nil)
	ctx := context.Background()
	s, _ := r.sim.Snapshot(ctx)
	x := org.MustIndex(s)
	// Move an account between two OUs below the first level.
	var acct org.Account
	var dest string
	for _, a := range s.Accounts {
		if x.Depth(a.ParentID) >= 2 && a.ID != s.Organization.ManagementAccountID {
			acct = a
			break
		}
	}
	for _, u := range s.OUs {
		if x.Depth(u.ID) >= 2 && u.ID != acct.ParentID {
			dest = u.ID
			break
		}
	}
	if acct.ID == "" || dest == "" {
		t.Fatal("no deep account and OU in the generated organization")
	}
	if err := r.backend.MoveAccount(ctx, acct.ID, acct.ParentID, dest); err != nil {
		t.Fatal(err)
	}
	sweeps := w.Stats().Sweeps
	waitFor(t, "two sweeps", func() bool { return w.Stats().Sweeps >= sweeps+2 })
	if st := w.Stats(); st.Drifts != 1 {
		t.Errorf("after the move: %d drifts, want 1 (%+v)", st.Drifts, st)
	}
	if n := len(r.incidents(t)); n != 0 {
		t.Errorf("a move of one account opened %d incidents, want none (a minor finding)", n)
	}
	entries, _ := r.st.ListAudit(ctx, store.AuditQuery{})
	found := false
	for _, e := range entries {
		if e.Action == "watch.drift" && bytes.Contains(e.Detail, []byte(acct.ID)) {
			found = true
		}
	}
	if !found {
		t.Errorf("no watch.drift audit entry names account %s", acct.ID)
	}
}

func TestIntake(t *testing.T) {
	r := newRig(t, 100, simserver.Options{})
	c := r.config()
	c.Interval = time.Hour // only events refresh
	c.SweepPeriod = 2 * time.Hour
	w, _ := r.start(t, c, nil)
	h := watch.NewHandler(w, []byte("s3cret"), c.Intake, nil)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	pid, root := r.attachDenyAll(t)
	ev, err := watch.EncodeEvent("ev-1", "AttachPolicy", time.Now(), "arn:aws:iam::111111111111:user/mallory", "111111111111",
		map[string]any{"policyId": pid, "targetId": root}, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	post := func(secret string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		if secret != "" {
			req.Header.Set(watch.DefaultHeader, secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name   string
		secret string
		body   []byte
		want   int
	}{
		{"no secret is refused", "", ev, 401},
		{"a wrong secret is refused", "s3cre7", ev, 401},
		{"malformed JSON is refused", "s3cret", []byte(`{"source":`), 400},
		{"another source is refused", "s3cret", []byte(`{"source":"aws.s3","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"PutObject"}}`), 400},
		{"an oversized body is refused", "s3cret", bytes.Repeat([]byte(" "), int(c.Intake.MaxBodyBytes)+1), 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(tc.secret, tc.body); got != tc.want {
				t.Errorf("POST = %d, want %d", got, tc.want)
			}
		})
	}
	if st := w.Stats(); st.Events != 0 || len(r.incidents(t)) != 0 {
		t.Fatalf("refused requests touched state: %+v", st)
	}
	for range 2 {
		if got := post("s3cret", ev); got != 202 {
			t.Fatalf("POST event = %d, want 202", got)
		}
	}
	waitFor(t, "an incident", func() bool { return len(r.incidents(t)) > 0 }, w)
	waitFor(t, "both events", func() bool { return w.Stats().Events == 2 && w.Stats().FastReads >= 2 })
	ins := r.incidents(t)
	if len(ins) != 1 {
		t.Fatalf("an event delivered twice opened %d incidents, want 1", len(ins))
	}
	tl, _ := r.st.IncidentTimeline(context.Background(), ins[0].ID)
	if len(tl) == 0 || tl[0].Kind != incident.KindImpactStart || !strings.Contains(tl[0].Message, "time of the change") {
		t.Errorf("timeline = %+v, want the impact start from the event time", tl)
	}
}

// fakeRemediator records the remediations it is asked for and reports them
// applied.
type fakeRemediator struct {
	mu   sync.Mutex
	got  []watch.Remediation
	fail error
}

func (f *fakeRemediator) Remediate(_ context.Context, r watch.Remediation) (watch.RemediationResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, r)
	if f.fail != nil {
		return watch.RemediationResult{Outcome: "rolled-back"}, f.fail
	}
	return watch.RemediationResult{Outcome: "applied", PlanID: "plan-1", ChangeID: "change-1"}, nil
}

func (f *fakeRemediator) calls() []watch.Remediation {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// pendingIncident records what a watcher killed right after opening an
// incident leaves: the incident and its "remediation pending" entry (the
// format of the entry's detail is what the watcher writes and reads back).
func (r *rig) pendingIncident(t *testing.T, state string) store.Incident {
	t.Helper()
	ctx := context.Background()
	svc := &incident.Service{Store: r.st}
	var in store.Incident
	err := r.st.WithTx(ctx, func(tx store.Tx) error {
		var err error
		in, _, err = svc.Open(ctx, tx, incident.Spec{Title: "deny-all on Root", Severity: store.SevCritical, Source: store.SourceDrift,
			By: watch.Actor, Rule: "deny-all", DedupKey: "drift:test"})
		if err != nil {
			return err
		}
		_, err = tx.AddIncidentEvent(ctx, store.IncidentEvent{IncidentID: in.ID, Kind: incident.KindRemediation, Actor: watch.Actor,
			Message: "automatic remediation " + state,
			Detail:  []byte(`{"state":"` + state + `","rule":"deny-all","operations":[{"op":"detach-policy","policy":"p-x","target":"r-x"}]}`)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestInterruptedRemediationIsResumedAtRestart(t *testing.T) {
	for _, state := range []string{watch.RemPending, watch.RemStarted} {
		t.Run("a remediation "+state+" when the watcher stopped is resumed once", func(t *testing.T) {
			r := newRig(t, 20, simserver.Options{})
			in := r.pendingIncident(t, state)
			c := r.config()
			c.Rules = watch.DefaultRules()
			c.Rules[0].Remediate = true
			rem := &fakeRemediator{}
			_, stop1 := r.start(t, c, rem)
			waitFor(t, "the resumed remediation", func() bool { return len(rem.calls()) > 0 })
			got := rem.calls()[0]
			if !got.Resumed || got.Rule != "deny-all" || got.Incident.ID != in.ID || len(got.Operations) != 1 || got.Operations[0].Policy != "p-x" {
				t.Errorf("Remediate(%+v), want the recorded operation resumed for incident %s", got, in.ID)
			}
			waitFor(t, "the mitigation", func() bool {
				in, _ := r.st.Incident(context.Background(), in.ID)
				return !in.MitigatedAt.IsZero()
			})
			stop1()
			// A second restart finds nothing to resume.
			rem2 := &fakeRemediator{}
			_, stop2 := r.start(t, c, rem2)
			stop2()
			if n := len(rem2.calls()); n != 0 {
				t.Errorf("a restart after the mitigation resumed %d remediations, want 0", n)
			}
		})
	}
	t.Run("a pending remediation whose rule no longer remediates is abandoned, the incident stays open", func(t *testing.T) {
		r := newRig(t, 20, simserver.Options{})
		in := r.pendingIncident(t, watch.RemPending)
		rem := &fakeRemediator{}
		r.start(t, r.config(), rem) // default rules: none remediates
		waitFor(t, "the abandoned entry", func() bool {
			tl, _ := r.st.IncidentTimeline(context.Background(), in.ID)
			return strings.Contains(tl[len(tl)-1].Message, "not resumed")
		})
		if n := len(rem.calls()); n != 0 {
			t.Errorf("%d remediations run, want 0", n)
		}
		if got, _ := r.st.Incident(context.Background(), in.ID); got.State != store.IncidentInvestigating {
			t.Errorf("incident state %s, want investigating", got.State)
		}
	})
}

func TestFailedRemediationSaysSoAndLeavesTheIncidentOpen(t *testing.T) {
	r := newRig(t, 50, simserver.Options{})
	c := r.config()
	c.Rules = watch.DefaultRules()
	c.Rules[0].Remediate = true
	rem := &fakeRemediator{fail: errors.New("probe p3 failed: rolled back")}
	r.start(t, c, rem)
	r.attachDenyAll(t)
	var in store.Incident
	waitFor(t, "the failure on the timeline", func() bool {
		ins := r.incidents(t)
		if len(ins) != 1 {
			return false
		}
		in = ins[0]
		tl, _ := r.st.IncidentTimeline(context.Background(), in.ID)
		return strings.Contains(tl[len(tl)-1].Message, "AUTOMATIC REMEDIATION FAILED")
	})
	tl, _ := r.st.IncidentTimeline(context.Background(), in.ID)
	var kinds []string
	for _, ev := range tl {
		kinds = append(kinds, ev.Kind)
	}
	want := []string{incident.KindImpactStart, incident.KindDetected, incident.KindRemediation, incident.KindRemediation, incident.KindRemediation}
	if !slices.Equal(kinds, want) {
		t.Errorf("timeline kinds = %v, want %v (pending, started, failed)", kinds, want)
	}
	last := tl[len(tl)-1].Message
	for _, s := range []string{"rolled-back", "the incident stays open", "probe p3 failed"} {
		if !strings.Contains(last, s) {
			t.Errorf("failure entry %q does not say %q", last, s)
		}
	}
	if got, _ := r.st.Incident(context.Background(), in.ID); got.State != store.IncidentInvestigating || !got.MitigatedAt.IsZero() {
		t.Errorf("incident %+v, want investigating, not mitigated", got)
	}
}
