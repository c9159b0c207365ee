package web

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/web/webtest"
)

// TestDashboardInABrowser runs the two-person change in headless
// Chromium through the real sign-in page: alice (operator) signs in and
// opens her quarantine plan of three accounts, made through app.Plan on
// the simulated organization, and sees its blast radius on the tree; bob
// (approver) signs in and approves it; alice signs in again and applies it
// with the typed confirmation; the progress page shows it applied.
// Screenshots are saved as artifacts.
func TestDashboardInABrowser(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(dir, "orgguard.db")
	cfg.Backend.Sim.State = filepath.Join(dir, "sim-state.json")
	cfg.Backend.Sim.Accounts = 100 // three accounts are under the 5% that asks for a second approval
	cfg.Quarantine.BreakGlassPrincipals = nil
	cfg.Guardrails.Confirmation.RequiredFrom = guard.RiskLow
	a, err := app.New(app.Options{Config: &cfg, Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	users := newTestUsers(t, a, map[string]string{"alice": "operator", "bob": "approver"})
	base, err := a.Snapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var accounts []string
	for _, acc := range base.Accounts {
		if acc.ID != base.Organization.ManagementAccountID && len(accounts) < 3 {
			accounts = append(accounts, acc.ID)
		}
	}
	alice, err := a.As("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := alice.Plan(ctx, app.PlanRequest{Request: plan.Request{Operations: []change.Operation{{Op: change.OpQuarantine, Accounts: accounts}},
		Description: "quarantine three compromised accounts", Source: "test"}, Save: true})
	if err != nil {
		t.Fatal(err)
	}
	f := res.File
	if f.RequiredApprovals != 1 || !f.Guard.RequiresConfirmation {
		t.Fatalf("the plan needs %d approvals and confirmation %v; the test wants 1 and a typed confirmation", f.RequiredApprovals, f.Guard.RequiresConfirmation)
	}
	s, err := New(Options{App: a, Auth: users, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close) // after the browser has gone (cleanups run last first)
	b := webtest.Start(t)

	signIn := func(name, next string) {
		t.Helper()
		b.Navigate(srv.URL + next)
		b.WaitText("h1", "Sign in") // a page of the dashboard sends a stranger to sign in
		b.Fill("#name", name)
		b.Fill("#password", users.password(name))
		b.Click("#signin")
		b.WaitText("nav.team .user", name)
	}
	signOut := func() {
		t.Helper()
		b.Click("form.signout button")
		b.WaitText("main", "You are signed out.")
	}
	planURL := "/team/plans/" + f.ID

	// Alice opens her plan and sees the blast radius on the tree.
	signIn("alice", planURL)
	if got := b.Location(); !strings.HasSuffix(got, planURL) {
		t.Fatalf("after signing in alice is at %s, want the plan she asked for", got)
	}
	if got := b.Text("#blast-summary"); !strings.Contains(got, "3 lose access") {
		t.Errorf("the blast radius says %q, want 3 accounts losing access", got)
	}
	for _, id := range accounts {
		if cls := b.Attr("#n-"+id, "class"); !strings.Contains(cls, "losing") {
			t.Errorf("account %s on the tree has class %q, want it marked as losing access", id, cls)
		}
	}
	if got := b.Text("#blast-tree li.root > details > summary .impact"); !strings.Contains(got, "3 of 3") {
		t.Errorf("the root of the tree says %q, want 3 of 3 affected accounts losing access", got)
	}
	b.Screenshot("1-alice-plan-blast-radius")
	signOut()

	// Bob approves.
	signIn("bob", planURL)
	b.Fill(`form.approve input[name="comment"]`, "checked the three accounts with the customer")
	b.Click("#approve")
	b.WaitText(".flash.ok", "Your approval is recorded.")
	b.WaitText("#plan-state", "approved")
	b.Screenshot("2-bob-approved")
	signOut()

	// Alice applies with the typed confirmation and watches it finish.
	signIn("alice", planURL)
	b.Fill("#confirm", f.Guard.ConfirmationText)
	b.Screenshot("3-alice-typed-confirmation")
	b.Click("#apply")
	b.WaitText("#outcome", "Applied")
	if got := b.Location(); !strings.Contains(got, "/team/changes/") {
		t.Errorf("after applying alice is at %s, want the change's progress page", got)
	}
	b.WaitText("table.journal", "done")
	b.Screenshot("4-alice-applied")

	// The audit log names each of them for what they did.
	b.Navigate(srv.URL + "/team/audit")
	b.WaitText("#chain", "The hash chain verifies")
	for _, want := range []string{"bob", "plan.approved", "apply.finished"} {
		b.WaitText("table.audit", want)
	}
	b.Screenshot("5-audit-log")
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("the pages logged errors (a CSP violation?):\n%v", errs)
	}
}
