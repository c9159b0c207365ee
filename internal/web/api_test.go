package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/apiv1"
	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
)

// apiFixture is the dashboard fixture served over real HTTP with the real
// Auth on users in its store, and an API token for each of them.
type apiFixture struct {
	*dashFixture
	url    string
	users  *testUsers
	tokens map[string]string
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	f := &apiFixture{dashFixture: newDashFixture(t), tokens: map[string]string{}}
	f.users = newTestUsers(t, f.app, map[string]string{"alice": "operator", "bob": "approver", "carol": "approver",
		"dave": "approver", "victor": "viewer"})
	f.srv.o.Auth = f.users
	for _, name := range []string{"alice", "bob", "carol", "dave", "victor"} {
		tok, err := f.app.CreateToken(context.Background(), app.TokenRequest{Name: "api-" + name, Owner: name})
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = tok.Secret
	}
	ts := httptest.NewServer(f.srv.Handler())
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// call sends one API request as user ("" for nobody) with body (JSON
// encoded unless it is a string) and returns the status and body.
func (f *apiFixture) call(t *testing.T, user, method, path string, body any, header map[string]string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, f.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[user])
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// errorCode decodes an API error body's code ("" when it is not one).
func errorCode(b []byte) string {
	var e apiv1.ErrorBody
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	return e.Error.Code
}

func TestAPIPlanApproveApply(t *testing.T) {
	f := newAPIFixture(t)
	quarantine := apiv1.PlanRequest{Operations: []change.Operation{{Op: change.OpQuarantine, Accounts: f.accounts}},
		Description: "quarantine three accounts through the API", Source: "test"}

	t.Run("whoami names the token's owner and role", func(t *testing.T) {
		for _, name := range []string{"alice", "victor"} {
			code, b := f.call(t, name, "GET", "/api/v1/whoami", nil, nil)
			var w apiv1.Whoami
			if code != 200 || json.Unmarshal(b, &w) != nil || w.Name != name || w.Method != "token" {
				t.Errorf("GET whoami as %s = %d %s", name, code, b)
			}
		}
	})

	var id, confirm string
	t.Run("an operator submits a plan: the server plans it and stores it with them as author", func(t *testing.T) {
		code, b := f.call(t, "dave", "POST", "/api/v1/plans", quarantine, nil)
		var p apiv1.Plan
		if code != http.StatusCreated || json.Unmarshal(b, &p) != nil {
			t.Fatalf("POST /plans as dave = %d %s", code, b)
		}
		id, confirm = p.ID, p.ConfirmationText
		if p.Author != "dave" || p.State != store.PlanPending || !p.RequiresConfirmation || p.ConfirmationText == "" {
			t.Errorf("the submitted plan = %+v, want dave's, pending, asking for a typed confirmation", p.PlanSummary)
		}
		pf, err := plan.Parse(p.File, "response")
		if err != nil || pf.ID != id || pf.Source != "api:test" || pf.Impact.AccountsAffected != 3 {
			t.Errorf("the plan file in the answer: %v (source %q, %d affected)", err, pf.Source, pf.Impact.AccountsAffected)
		}
	})
	if id == "" {
		t.FailNow()
	}
	plans := "/api/v1/plans/" + id

	refusals := []struct {
		name, user, method, path string
		body                     any
		header                   map[string]string
		status                   int
		code                     string
	}{
		{"nobody signed in is 401", "", "GET", "/api/v1/plans", nil, nil, 401, apiv1.CodeUnauthenticated},
		{"a bad token is 401", "", "GET", "/api/v1/whoami", nil, map[string]string{"Authorization": "Bearer ogt_nope"}, 401, apiv1.CodeUnauthenticated},
		{"a viewer cannot submit a plan", "victor", "POST", "/api/v1/plans", quarantine, nil, 403, apiv1.CodeForbidden},
		{"a viewer cannot approve", "victor", "POST", plans + "/approve", nil, nil, 403, apiv1.CodeForbidden},
		{"an operator cannot approve", "alice", "POST", plans + "/approve", nil, nil, 403, apiv1.CodeForbidden},
		{"the author cannot approve their own plan", "dave", "POST", plans + "/approve", apiv1.ApproveRequest{Comment: "mine"}, nil, 403, apiv1.CodeOwnPlan},
		{"an unapproved plan is not applied", "alice", "POST", plans + "/apply", apiv1.ApplyRequest{Confirm: confirm}, nil, 409, apiv1.CodeRefused},
		{"a viewer cannot apply", "victor", "POST", plans + "/apply", nil, nil, 403, apiv1.CodeForbidden},
		{"an unknown plan is 404", "bob", "GET", "/api/v1/plans/plan-nope", nil, nil, 404, apiv1.CodeNotFound},
		{"an unknown endpoint is 404", "bob", "GET", "/api/v1/nope", nil, nil, 404, apiv1.CodeNotFound},
		{"an unknown change is 404", "bob", "GET", "/api/v1/changes/chg-nope", nil, nil, 404, apiv1.CodeNotFound},
		{"a body that is not JSON is 415", "dave", "POST", "/api/v1/plans", "operations=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, apiv1.CodeMediaType},
		{"an unknown field is 400", "dave", "POST", "/api/v1/plans", `{"operations":[],"planFile":"x"}`, nil, 400, apiv1.CodeBadInput},
		{"a plan without operations is 400", "dave", "POST", "/api/v1/plans", `{"operations":[]}`, nil, 400, apiv1.CodeBadInput},
		{"an unknown operation is 400", "dave", "POST", "/api/v1/plans", `{"operations":[{"op":"launch-missiles"}]}`, nil, 400, apiv1.CodeBadInput},
		{"a body over 64 KiB is 413", "dave", "POST", "/api/v1/plans", `{"description":"` + strings.Repeat("x", apiv1.MaxBodyBytes) + `"}`, nil, 413, apiv1.CodeTooLarge},
		{"a bad state filter is 400", "bob", "GET", "/api/v1/plans?state=nope", nil, nil, 400, apiv1.CodeBadInput},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			code, b := f.call(t, tt.user, tt.method, tt.path, tt.body, tt.header)
			if code != tt.status || errorCode(b) != tt.code {
				t.Errorf("%s %s as %q = %d %s, want %d with code %q", tt.method, tt.path, tt.user, code, b, tt.status, tt.code)
			}
		})
	}

	t.Run("path-like plan IDs are 404 and read no file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "plan.json")
		if err := f.plan.Write(path); err != nil {
			t.Fatal(err)
		}
		p := "/api/v1/plans/" + url.PathEscape(path)
		for _, tt := range []struct{ user, method, path string }{
			{"bob", "GET", p}, {"bob", "POST", p + "/approve"}, {"alice", "POST", p + "/apply"},
		} {
			if code, b := f.call(t, tt.user, tt.method, tt.path, nil, nil); code != 404 || errorCode(b) != apiv1.CodeNotFound {
				t.Errorf("%s %s = %d %s, want 404", tt.method, tt.path, code, b)
			}
		}
	})

	t.Run("other approvers approve until the plan is approved", func(t *testing.T) {
		var ap apiv1.Approval
		for _, who := range []string{"bob", "carol"} {
			code, b := f.call(t, who, "POST", plans+"/approve", apiv1.ApproveRequest{Comment: "checked"}, nil)
			if code != 200 || json.Unmarshal(b, &ap) != nil || ap.Approver != who {
				t.Fatalf("POST approve as %s = %d %s", who, code, b)
			}
			if ap.State == store.PlanApproved {
				break
			}
		}
		if ap.State != store.PlanApproved {
			t.Errorf("after the approvals the plan is %s", ap.State)
		}
		if code, b := f.call(t, "bob", "POST", plans+"/approve", nil, nil); code != 409 || errorCode(b) != apiv1.CodeRefused {
			t.Errorf("approving twice = %d %s, want 409 refused", code, b)
		}
	})

	t.Run("an apply without the typed confirmation is 422", func(t *testing.T) {
		for _, confirm := range []string{"", "yes"} {
			code, b := f.call(t, "alice", "POST", plans+"/apply", apiv1.ApplyRequest{Confirm: confirm}, nil)
			if code != http.StatusUnprocessableEntity || errorCode(b) != apiv1.CodeUnconfirmed {
				t.Errorf("apply with confirm %q = %d %s, want 422 unconfirmed", confirm, code, b)
			}
		}
	})

	t.Run("an apply is 202 and its change completes", func(t *testing.T) {
		code, b := f.call(t, "alice", "POST", plans+"/apply", apiv1.ApplyRequest{Confirm: confirm}, nil)
		var st apiv1.ApplyStarted
		if code != http.StatusAccepted || json.Unmarshal(b, &st) != nil || st.ChangeID == "" || st.Location != "/api/v1/changes/"+st.ChangeID {
			t.Fatalf("POST apply = %d %s, want 202 with the change", code, b)
		}
		var ch apiv1.Change
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			code, b := f.call(t, "victor", "GET", st.Location, nil, nil)
			if code != 200 || json.Unmarshal(b, &ch) != nil {
				t.Fatalf("GET %s = %d %s", st.Location, code, b)
			}
			if ch.Done || time.Now().After(deadline) {
				break
			}
		}
		if !ch.Done || ch.State != store.ChangeApplied || ch.Report == nil || ch.Report.Outcome != "applied" || len(ch.Journal) == 0 || ch.StartedBy != "alice" {
			t.Errorf("the change = done %v, state %s, report %v, %d journal lines, started by %q; want applied by alice", ch.Done, ch.State, ch.Report != nil, len(ch.Journal), ch.StartedBy)
		}
		if code, b := f.call(t, "alice", "POST", plans+"/apply", apiv1.ApplyRequest{Confirm: confirm}, nil); code != 409 {
			t.Errorf("applying an applied plan again = %d %s, want 409", code, b)
		}
	})

	t.Run("every action is audited as the authenticated user", func(t *testing.T) {
		actors := f.auditActors(t)
		for _, want := range []string{"dave plan.saved", "bob plan.approved", "alice apply.started", "alice apply.finished"} {
			if !contains(actors, want) {
				t.Errorf("the audit log has no %q: %v", want, actors)
			}
		}
	})

	t.Run("the list shows the plan with its approvals", func(t *testing.T) {
		code, b := f.call(t, "victor", "GET", "/api/v1/plans?state=applied", nil, nil)
		var l apiv1.PlanList
		if code != 200 || json.Unmarshal(b, &l) != nil || len(l.Plans) != 1 || l.Plans[0].ID != id || l.Plans[0].Approvals < 1 {
			t.Errorf("GET /plans?state=applied = %d %s", code, b)
		}
	})
}

// TestAPICrossOrigin: a browser's cross-origin POST with the session
// cookie is refused; the same with a bearer token is not a browser's.
func TestAPICrossOrigin(t *testing.T) {
	f := newAPIFixture(t)
	res, body := f.request(t, "", "POST", "/signin", url.Values{"name": {"bob"}, "password": {f.users.password("bob")}}, nil)
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == SessionCookie {
			cookie = SessionCookie + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatalf("signing bob in = %d, no session cookie\n%s", res.StatusCode, body)
	}
	approve := "/api/v1/plans/" + f.plan.ID + "/approve"
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	tests := []struct {
		name   string
		user   string
		header map[string]string
		status int
		code   string
	}{
		{"a cross-site POST with the cookie is refused", "", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403, apiv1.CodeCrossOrigin},
		{"a cross-site POST with a bearer token is the token's", "bob", crossSite, 200, ""},
		{"a same-origin POST with the cookie is the user's", "", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}, 409, apiv1.CodeRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, b := f.call(t, tt.user, "POST", approve, nil, tt.header)
			if code != tt.status || errorCode(b) != tt.code {
				t.Errorf("POST approve = %d %s, want %d %q", code, b, tt.status, tt.code)
			}
		})
	}
}
