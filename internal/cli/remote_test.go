package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/plan"
)

// TestServerModeEndToEnd: a real server (orgguard serve, in process) on a
// store with users and tokens; alice logs in, submits a plan the server
// plans itself, cannot approve it (her own) nor pass --by; bob and carol
// approve through the API; alice applies it and follows it to the end.
func TestServerModeEndToEnd(t *testing.T) {
	c, dir := applyWorld(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("ORGGUARD_SERVER", "")
	t.Setenv("ORGGUARD_TOKEN", "")
	tokens := map[string]string{}
	for name, role := range map[string]string{"alice": "approver", "bob": "approver", "carol": "approver", "victor": "viewer"} {
		if code, _, stderr := runIn(t, testPassword+"\n", "user", "add", name, "--role", role, "--password-stdin", c); code != 0 {
			t.Fatalf("user add %s: %s", name, stderr)
		}
		code, stdout, stderr := runIn(t, "", "token", "create", "--name", "cli", "--user", name, c)
		if code != 0 {
			t.Fatalf("token create for %s: %s", name, stderr)
		}
		tokens[name] = strings.TrimSpace(stdout)
	}
	code, snap, stderr := orgRun(t, "org", "snapshot", c, "--out", "-")
	if code != 0 {
		t.Fatalf("org snapshot: %s", stderr)
	}
	s, err := org.ParseSnapshot([]byte(snap), "-")
	if err != nil {
		t.Fatal(err)
	}
	var accounts []string
	for _, a := range s.Accounts {
		if a.ID != s.Organization.ManagementAccountID && len(accounts) < 3 {
			accounts = append(accounts, "--account", a.ID)
		}
	}
	url, _ := startServe(t, c)
	submit := append([]string{"plans", "submit", "quarantine", "--description", "quarantine three accounts", "--json"}, accounts...)

	if code, _, stderr := runIn(t, "", submit...); code != ExitAuth || !strings.Contains(stderr, "orgguard login") {
		t.Errorf("plans submit before logging in = %d %q, want %d asking to log in", code, stderr, ExitAuth)
	}
	if code, _, stderr := runIn(t, "ogt_not-a-token\n", "login", "--server", url); code != ExitAuth {
		t.Errorf("login with a bad token = %d %q, want %d", code, stderr, ExitAuth)
	}
	code, stdout, stderr := runIn(t, tokens["alice"]+"\n", "login", "--server", url)
	if code != 0 || !strings.Contains(stdout, "as alice (approver)") {
		t.Fatalf("login = %d %q %q", code, stdout, stderr)
	}
	creds := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "orgguard", "credentials")
	if fi, err := os.Stat(creds); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the credentials file: %v, %v; want mode 0600", fi, err)
	}

	code, stdout, stderr = runIn(t, "", submit...)
	if code != 0 {
		t.Fatalf("plans submit = %d\n%s", code, stderr)
	}
	f, err := plan.Parse([]byte(stdout), "stdout")
	if err != nil {
		t.Fatalf("plans submit --json printed no plan file: %v\n%s", err, stdout)
	}
	if f.Author != "alice" || f.Impact.AccountsAffected == 0 || !strings.Contains(stderr, "stored on "+url) {
		t.Errorf("the submitted plan: author %q, %d affected; stderr %q", f.Author, f.Impact.AccountsAffected, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "orgguard.db")); err != nil {
		t.Fatalf("the server's store: %v", err)
	}

	refusals := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"--by is refused in server mode", []string{"approve", f.ID, "--by", "bob"}, ExitAuth, "--by"},
		{"--author is refused in server mode", append(append([]string{}, submit...), "--author", "bob"), ExitAuth, "--author"},
		{"the author cannot approve their own plan", []string{"approve", f.ID}, ExitRefused, "author"},
		{"an apply of an unapproved plan is refused", []string{"apply", f.ID}, ExitRefused, "approval"},
		{"--now cannot be used remotely", []string{"apply", f.ID, "--now", "2026-12-05T17:15:00Z"}, ExitBadInput, "--now"},
		{"--store cannot be used remotely", []string{"plans", "--store", filepath.Join(dir, "other.db")}, ExitBadInput, "--store"},
		{"--snapshot cannot be used remotely", append(append([]string{}, submit...), "--snapshot", "x.json"), ExitBadInput, "--snapshot"},
		{"a plan file is not a plan ID", []string{"approve", filepath.Join(dir, "plan.json")}, ExitBadInput, "by its ID"},
		{"an unknown plan is bad input", []string{"approve", "plan-nope"}, ExitBadInput, "plan-nope"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runIn(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("orgguard %s = %d\nstdout %s\nstderr %s\nwant %d mentioning %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.wantCode, tt.want)
			}
		})
	}

	t.Run("a viewer's token cannot approve", func(t *testing.T) {
		t.Setenv("ORGGUARD_SERVER", url)
		t.Setenv("ORGGUARD_TOKEN", tokens["victor"])
		if code, _, stderr := runIn(t, "", "approve", f.ID); code != ExitRefused || !strings.Contains(stderr, "not allowed") {
			t.Errorf("approve as a viewer = %d %q, want %d", code, stderr, ExitRefused)
		}
	})
	for _, who := range []string{"bob", "carol"} {
		t.Setenv("ORGGUARD_SERVER", url)
		t.Setenv("ORGGUARD_TOKEN", tokens[who])
		code, stdout, stderr := runIn(t, "", "approve", f.ID, "--comment", "checked")
		if code != 0 || !strings.Contains(stdout, "as "+who) {
			t.Fatalf("approve as %s = %d %q %q", who, code, stdout, stderr)
		}
	}
	t.Setenv("ORGGUARD_SERVER", "")
	t.Setenv("ORGGUARD_TOKEN", "")

	args := []string{"apply", f.ID}
	if f.Guard.RequiresConfirmation {
		args = append(args, "--confirm", f.Guard.ConfirmationText)
	}
	code, stdout, stderr = runIn(t, "", args...)
	if code != 0 || !strings.Contains(stdout, "Applied: change") || !strings.Contains(stdout, "applied by alice") {
		t.Fatalf("apply = %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	code, stdout, _ = runIn(t, "", "plans", "--json")
	var rows []struct{ ID, State, Author string }
	if code != 0 || json.Unmarshal([]byte(stdout), &rows) != nil || len(rows) != 1 || rows[0].State != "applied" || rows[0].Author != "alice" {
		t.Errorf("plans --json after the apply = %d %s", code, stdout)
	}
	if code, stdout, _ := runIn(t, "", "plans", "--local", "--json", c); code != 0 || !strings.Contains(stdout, f.ID) {
		t.Errorf("plans --local on the server's store = %d %s", code, stdout)
	}
	if code, stdout, _ := runIn(t, "", "logout"); code != 0 || !strings.Contains(stdout, "Logged out") {
		t.Errorf("logout = %d %q", code, stdout)
	}
	if _, err := os.Stat(creds); !os.IsNotExist(err) {
		t.Errorf("after logout the credentials file is still there: %v", err)
	}
}
