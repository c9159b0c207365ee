package cli

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// postgresSchemaURL returns ORGGUARD_TEST_POSTGRES with a fresh schema as
// its search path (dropped after the test), skipping the test when the
// variable is unset — unless CI=true, where that is a failure.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("ORGGUARD_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ORGGUARD_TEST_POSTGRES is not set and CI=true")
		}
		t.Skip("ORGGUARD_TEST_POSTGRES is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	rand.Read(b[:])
	schema := "og_cli_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() { admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestPlanOnOneMachineApplyOnAnother: the plan, its base snapshot and the
// pinned guardrails live wholly in the shared PostgreSQL store. Operator A
// plans in one working directory; B approves and applies by plan ID from
// another, with nothing of A's on disk — the organization (a simulated
// state file both reach) and the store are all they share.
func TestPlanOnOneMachineApplyOnAnother(t *testing.T) {
	dsn := postgresSchemaURL(t)
	shared := t.TempDir()
	state := filepath.Join(shared, "sim-state.json")
	machine := func(user string) string {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "orgguard.yaml")
		body := "backend:\n  sim:\n    state: " + state + "\n    accounts: 60\n    seed: 1\nstore: \"" + dsn + "\"\nidentity:\n  user: " + user + "\nquarantine:\n  breakGlassPrincipals: []\n"
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return "--config=" + cfg
	}
	a, b := machine("alice"), machine("bob")
	code, out, stderr := orgRun(t, "plan", "quarantine", a, "--account", "beacon-retail-analytics", "--format", "json",
		"--out", filepath.Join(filepath.Dir(strings.TrimPrefix(a, "--config=")), "q.json"))
	if code != 0 {
		t.Fatalf("plan on machine A = %d\n%s", code, stderr)
	}
	var f struct{ ID string }
	if err := json.Unmarshal([]byte(out), &f); err != nil || f.ID == "" {
		t.Fatalf("plan --format json: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(filepath.Dir(strings.TrimPrefix(b, "--config="))); len(entries) != 1 {
		t.Fatalf("machine B's directory holds %d files, want only its configuration", len(entries))
	}
	if code, out, stderr := orgRun(t, "approve", b, f.ID, "--comment", "checked on machine B"); code != 0 {
		t.Fatalf("approve on machine B = %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr := orgRun(t, "apply", b, f.ID, "--by", "carol"); code != 0 || !strings.Contains(out, "Applied: change") {
		t.Fatalf("apply on machine B = %d\n%s%s", code, out, stderr)
	}
	if code, out, _ := orgRun(t, "plans", a, "--json"); code != 0 || !strings.Contains(out, `"state": "applied"`) {
		t.Errorf("machine A does not see the plan applied:\n%s", out)
	}
}
