package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
)

// dashUsers are the fixture's people, signed in by fakeAuth with their
// name in the Authorization header; roles as a ranked Auth lists them.
var dashUsers = fakeAuth{
	"alice":  {Name: "alice", Roles: []string{"viewer", "operator"}},
	"bob":    {Name: "bob", Roles: []string{"viewer", "operator", "approver"}},
	"carol":  {Name: "carol", Roles: []string{"viewer", "operator", "approver"}},
	"victor": {Name: "victor", Roles: []string{"viewer"}},
}

// dashFixture is a server on a 40-account simulated organization and a
// fresh SQLite store, with a quarantine plan of three accounts made by
// alice (risky from low, so that applying it asks for the typed
// confirmation).
type dashFixture struct {
	app      *app.App
	srv      *Server
	plan     *plan.File
	accounts []string
}

func newDashFixture(t *testing.T) *dashFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(dir, "orgguard.db")
	cfg.Backend.Sim.State = filepath.Join(dir, "sim-state.json")
	cfg.Backend.Sim.Accounts = 40
	cfg.Quarantine.BreakGlassPrincipals = nil
	cfg.Guardrails.Confirmation.RequiredFrom = guard.RiskLow
	a, err := app.New(app.Options{Config: &cfg, Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	f := &dashFixture{app: a}
	f.srv, _ = newTestServer(t, Options{App: a, Auth: dashUsers, Poll: 20 * time.Millisecond, Heartbeat: time.Second})
	base, err := a.Snapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, acc := range base.Accounts {
		if acc.ID != base.Organization.ManagementAccountID && len(f.accounts) < 3 {
			f.accounts = append(f.accounts, acc.ID)
		}
	}
	alice, err := a.As("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := alice.Plan(ctx, app.PlanRequest{Request: plan.Request{Operations: []change.Operation{{Op: change.OpQuarantine, Accounts: f.accounts}},
		Description: "quarantine three accounts", Source: "test"}, Save: true})
	if err != nil {
		t.Fatal(err)
	}
	f.plan = res.File
	if !f.plan.Guard.RequiresConfirmation {
		t.Fatalf("the fixture's plan needs no typed confirmation (risk %s)", f.plan.Guard.Risk)
	}
	return f
}

// request serves one request as user ("" for nobody) with a form body
// (POST when form is not nil) and returns the response and body.
func (f *dashFixture) request(t *testing.T, user, method, target string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.Header.Set("Authorization", user)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// waitChange waits for change id to finish and returns its state.
func (f *dashFixture) waitChange(t *testing.T, id string) store.ChangeState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		p, err := f.app.ChangeProgress(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Done() {
			return p.Change.State
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("change %s did not finish within 30s", id)
	return ""
}

// auditActors returns "actor action" of every audit entry.
func (f *dashFixture) auditActors(t *testing.T) []string {
	t.Helper()
	p, err := f.app.AuditLog(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range p.Entries {
		out = append(out, e.Actor+" "+e.Action)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDashboardPagesNeedAViewer(t *testing.T) {
	f := newDashFixture(t)
	pages := []string{"/team/org", "/team/plans", "/team/plans/" + f.plan.ID, "/team/incidents", "/team/audit"}
	for _, p := range pages {
		t.Run("an anonymous browser visiting "+p+" is sent to sign in", func(t *testing.T) {
			res, _ := f.request(t, "", "GET", p, nil, map[string]string{"Accept": "text/html,application/xhtml+xml"})
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin?next=") {
				t.Errorf("GET %s anonymously = %d to %q, want 303 to /signin?next=", p, res.StatusCode, res.Header.Get("Location"))
			}
		})
		t.Run("a viewer reads "+p, func(t *testing.T) {
			res, body := f.request(t, "victor", "GET", p, nil, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s as a viewer = %d\n%s", p, res.StatusCode, body)
			}
			if !strings.Contains(body, `class="user">victor<`) {
				t.Errorf("GET %s does not say who is signed in", p)
			}
			if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("GET %s: Cache-Control = %q, want no-store", p, cc)
			}
		})
	}
	for _, accept := range []string{"application/json", "*/*", ""} {
		t.Run("a client accepting "+accept+" without credentials gets 401", func(t *testing.T) {
			res, _ := f.request(t, "", "GET", "/team/plans", nil, map[string]string{"Accept": accept})
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /team/plans with Accept %q anonymously = %d, want 401", accept, res.StatusCode)
			}
		})
	}
}

func TestPlanPageShowsTheBlastRadiusOnTheTree(t *testing.T) {
	f := newDashFixture(t)
	_, body := f.request(t, "victor", "GET", "/team/plans/"+f.plan.ID, nil, nil)
	for _, id := range f.accounts {
		if !strings.Contains(body, `<li class="account affected losing`) || !strings.Contains(body, `id="n-`+id+`"`) {
			t.Errorf("the plan page does not mark account %s as losing access on the tree", id)
		}
	}
	want := []string{
		fmt.Sprintf("%d of %d member accounts affected; 3 lose access.", f.plan.Impact.AccountsAffected, f.plan.Impact.AccountsTotal),
		"3 of 3 affected accounts lose access", // on the root
		f.plan.Guard.ConfirmationText,          // the verdict says what apply will ask for
	}
	for _, w := range want {
		if !strings.Contains(body, escaped(w)) {
			t.Errorf("the plan page does not say %q", w)
		}
	}
	if strings.Contains(body, `action="/team/plans/`+f.plan.ID+`/approve"`) {
		t.Errorf("a viewer is offered the approve form")
	}
}

// escaped escapes s as html/template writes text.
func escaped(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

func TestApprovingAndApplyingFromTheDashboard(t *testing.T) {
	f := newDashFixture(t)
	approve := "/team/plans/" + f.plan.ID + "/approve"
	apply := "/team/plans/" + f.plan.ID + "/apply"
	t.Run("a viewer cannot approve", func(t *testing.T) {
		res, _ := f.request(t, "victor", "POST", approve, url.Values{}, nil)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST approve as a viewer = %d, want 403", res.StatusCode)
		}
	})
	t.Run("an operator cannot approve", func(t *testing.T) {
		res, _ := f.request(t, "alice", "POST", approve, url.Values{}, nil)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST approve as an operator = %d, want 403", res.StatusCode)
		}
	})
	t.Run("a cross-origin approval is refused", func(t *testing.T) {
		res, _ := f.request(t, "bob", "POST", approve, url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin POST approve = %d, want 403", res.StatusCode)
		}
	})
	t.Run("applying before the approvals is refused", func(t *testing.T) {
		res, body := f.request(t, "alice", "POST", apply, url.Values{"confirm": {f.plan.Guard.ConfirmationText}}, nil)
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, "refused") {
			t.Errorf("POST apply before approval = %d, want 409 with the refusal\n%s", res.StatusCode, body)
		}
	})
	t.Run("the author cannot approve their own plan", func(t *testing.T) {
		alice := dashUsers["alice"]
		alice.Roles = append(alice.Roles, "approver")
		f.srv.o.Auth = fakeAuth{"alice": alice}
		defer func() { f.srv.o.Auth = dashUsers }()
		res, body := f.request(t, "alice", "POST", approve, url.Values{"comment": {"mine"}}, nil)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("POST approve by the author = %d, want 409\n%s", res.StatusCode, body)
		}
		if !strings.Contains(body, `class="flash refused"`) || !strings.Contains(body, "author") {
			t.Errorf("the refusal is not shown on the plan page:\n%s", body)
		}
	})
	t.Run("an approver approves", func(t *testing.T) {
		res, _ := f.request(t, "bob", "POST", approve, url.Values{"comment": {"checked"}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/team/plans/"+f.plan.ID+"?done=approved" {
			t.Fatalf("POST approve as bob = %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		_, body := f.request(t, "bob", "GET", res.Header.Get("Location"), nil, nil)
		if !strings.Contains(body, "Your approval is recorded.") || !strings.Contains(body, `<strong class="approver">bob</strong>`) {
			t.Errorf("the plan page after approving does not show bob's approval:\n%s", body)
		}
		if !contains(f.auditActors(t), "bob plan.approved") {
			t.Errorf("the audit log has no plan.approved by bob: %v", f.auditActors(t))
		}
	})
	t.Run("an approver cannot approve twice", func(t *testing.T) {
		if res, _ := f.request(t, "bob", "POST", approve, url.Values{}, nil); res.StatusCode != http.StatusConflict {
			t.Errorf("a second POST approve as bob = %d, want 409", res.StatusCode)
		}
	})
	t.Run("a second approver makes the plan approved", func(t *testing.T) {
		res, _ := f.request(t, "carol", "POST", approve, url.Values{}, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST approve as carol = %d", res.StatusCode)
		}
		_, body := f.request(t, "alice", "GET", "/team/plans/"+f.plan.ID, nil, nil)
		if !strings.Contains(body, `id="plan-state">approved<`) || !strings.Contains(body, `action="`+apply+`"`) {
			t.Errorf("the approved plan does not offer alice the apply form:\n%s", body)
		}
	})
	t.Run("a viewer cannot apply", func(t *testing.T) {
		res, _ := f.request(t, "victor", "POST", apply, url.Values{"confirm": {f.plan.Guard.ConfirmationText}}, nil)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("POST apply as a viewer = %d, want 403", res.StatusCode)
		}
	})
	t.Run("a wrong typed confirmation is refused", func(t *testing.T) {
		res, body := f.request(t, "alice", "POST", apply, url.Values{"confirm": {"yes"}}, nil)
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, "does not match") {
			t.Errorf("POST apply with a wrong confirmation = %d, want 409 saying it does not match\n%s", res.StatusCode, body)
		}
		if !strings.Contains(body, `value="yes"`) {
			t.Errorf("the form does not keep what was typed")
		}
	})
	t.Run("the operator applies with the typed confirmation", func(t *testing.T) {
		res, body := f.request(t, "alice", "POST", apply, url.Values{"confirm": {f.plan.Guard.ConfirmationText}}, nil)
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/team/changes/") {
			t.Fatalf("POST apply = %d to %q, want 303 to the change\n%s", res.StatusCode, loc, body)
		}
		id := strings.TrimPrefix(loc, "/team/changes/")
		if st := f.waitChange(t, id); st != store.ChangeApplied {
			t.Fatalf("change %s ended %s, want applied", id, st)
		}
		res, body = f.request(t, "victor", "GET", loc, nil, nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Applied: every step ran") || !strings.Contains(body, "phase-done") {
			t.Errorf("the change page does not show the applied journal:\n%s", body)
		}
		_, frag := f.request(t, "victor", "GET", loc+"/fragment", nil, nil)
		if strings.Contains(frag, "<html") || !strings.Contains(frag, `id="outcome"`) {
			t.Errorf("the fragment is not the progress part alone:\n%s", frag)
		}
		if actors := f.auditActors(t); !contains(actors, "alice apply.started") || !contains(actors, "alice apply.finished") {
			t.Errorf("the audit log does not name alice for the apply: %v", actors)
		}
	})
}

func TestChangeEventsCarryTheProgressVersion(t *testing.T) {
	f := newDashFixture(t)
	for _, name := range []string{"bob", "carol"} {
		approver, _ := f.app.As(name, nil)
		if _, err := approver.Approve(context.Background(), f.plan.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	alice, _ := f.app.As("alice", nil)
	res, err := alice.Apply(context.Background(), app.ApplyRequest{Ref: f.plan.ID, Confirm: f.plan.Guard.ConfirmationText})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.srv.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/team/changes/"+res.Report.ChangeID+"/events", nil)
	req.Header.Set("Authorization", "victor")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p, _ := f.app.ChangeProgress(ctx, res.Report.ChangeID)
	want := "event: change\ndata: " + p.Version() + "\n"
	var got strings.Builder
	buf := make([]byte, 256)
	for !strings.Contains(got.String(), want) {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("reading the stream: %v; got %q, want %q", err, got.String(), want)
		}
	}
	if nf, _ := f.request(t, "victor", "GET", "/team/changes/change-nope/events", nil, nil); nf.StatusCode != http.StatusNotFound {
		t.Errorf("events of an unknown change = %d, want 404", nf.StatusCode)
	}
}

func TestIncidentResponseFromTheDashboard(t *testing.T) {
	f := newDashFixture(t)
	ctx := context.Background()
	svc, err := f.app.Incidents(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	in, err := svc.OpenManual(ctx, incident.Spec{Title: "SCP deny-all on ou-ab12", Severity: store.SevCritical, By: "watch",
		Accounts: f.accounts, Message: "drift detected"})
	if err != nil {
		t.Fatal(err)
	}
	page := "/team/incidents/" + in.ID
	post := func(user, action string, form url.Values) *http.Response {
		res, body := f.request(t, user, "POST", page+action, form, nil)
		if res.StatusCode >= 400 && res.StatusCode != http.StatusForbidden {
			t.Logf("POST %s as %s = %d\n%s", action, user, res.StatusCode, body)
		}
		return res
	}
	tests := []struct {
		name   string
		user   string
		action string
		form   url.Values
		want   int
	}{
		{"a viewer cannot acknowledge", "victor", "/ack", url.Values{}, 403},
		{"an operator acknowledges", "alice", "/ack", url.Values{}, 303},
		{"an operator adds a note", "alice", "/note", url.Values{"text": {"customer called"}}, 303},
		{"an empty note is refused", "alice", "/note", url.Values{"text": {" "}}, 400},
		{"an unknown state is refused", "alice", "/state", url.Values{"state": {"on-fire"}}, 400},
		{"an operator edits the English draft", "alice", "/notices/en", url.Values{"title": {"Access errors in some accounts"}, "body": {"We are investigating."}}, 303},
		{"a viewer cannot publish", "victor", "/publish", url.Values{"lang": {"en"}}, 403},
		{"publishing no language is refused", "alice", "/publish", url.Values{}, 400},
		{"an operator publishes both languages", "alice", "/publish", url.Values{"lang": {"en", "ja"}}, 303},
		{"an operator moves it to monitoring", "alice", "/state", url.Values{"state": {"monitoring"}, "message": {"SCP detached"}}, 303},
		{"an operator resolves it", "alice", "/state", url.Values{"state": {"resolved"}, "message": {"probes pass"}}, 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := post(tt.user, tt.action, tt.form); res.StatusCode != tt.want {
				t.Errorf("POST %s as %s = %d, want %d", tt.action, tt.user, res.StatusCode, tt.want)
			}
		})
	}
	_, body := f.request(t, "victor", "GET", page, nil, nil)
	for _, w := range []string{"customer called", "Access errors in some accounts", "3 accounts, 0 customers", "First notice published", "Resolved"} {
		if !strings.Contains(body, w) {
			t.Errorf("the incident page does not show %q", w)
		}
	}
	actors := f.auditActors(t)
	for _, w := range []string{"alice incident.acknowledged", "alice notice.published", "alice incident.resolved"} {
		if !contains(actors, w) {
			t.Errorf("the audit log lacks %q: %v", w, actors)
		}
	}
	t.Run("the postmortem editor saves and previews safely", func(t *testing.T) {
		form := url.Values{"summary": {"**Bold** summary <script>alert(1)</script> [x](javascript:alert(1))"}, "state": {"draft"}}
		res, body := f.request(t, "alice", "POST", page+"/postmortem", form, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST postmortem = %d\n%s", res.StatusCode, body)
		}
		_, body = f.request(t, "victor", "GET", page+"/postmortem", nil, nil)
		if !strings.Contains(body, "<strong>Bold</strong> summary") {
			t.Errorf("the preview does not render the Markdown:\n%s", body)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, `href="javascript:`) {
			t.Errorf("the preview lets raw HTML or a javascript: link through:\n%s", body)
		}
		if !contains(f.auditActors(t), "alice postmortem.edited") {
			t.Errorf("the postmortem edit is not audited as alice")
		}
		if res, _ := f.request(t, "victor", "POST", page+"/postmortem", form, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST postmortem as a viewer = %d, want 403", res.StatusCode)
		}
	})
}

func TestAuditPageVerifiesTheChain(t *testing.T) {
	f := newDashFixture(t)
	_, body := f.request(t, "victor", "GET", "/team/audit", nil, nil)
	if !strings.Contains(body, "The hash chain verifies") || !strings.Contains(body, "plan.saved") {
		t.Errorf("the audit page does not show a verified chain with the plan's entry:\n%s", body)
	}
	if res, _ := f.request(t, "victor", "GET", "/team/audit?before=x", nil, nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /team/audit?before=x = %d, want 400", res.StatusCode)
	}
}

// TestCatalogsTakeTheSameArguments: a message takes as many fmt arguments
// in every language (Japanese reorders them with %[n]d), so that no page
// shows %!d(MISSING).
func TestCatalogsTakeTheSameArguments(t *testing.T) {
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	verb := regexp.MustCompile(`%(\[(\d+)\])?[sdvq]`)
	args := func(s string) int {
		n := 0
		for _, m := range verb.FindAllStringSubmatch(s, -1) {
			if m[2] == "" {
				n++
			} else if i, _ := strconv.Atoi(m[2]); i > n {
				n = i
			}
		}
		return n
	}
	base := c[languages[0].String()]
	for lang, msgs := range c {
		for key, text := range msgs {
			if got, want := args(text), args(base[key]); got != want {
				t.Errorf("messages/%s.json %q takes %d arguments, the %s text %d", lang, key, got, languages[0], want)
			}
		}
	}
}
