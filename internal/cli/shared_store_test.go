package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/store/storetest"
)

// TestPlanOnOneMachineApplyOnAnother: the plan, its base snapshot and the
// pinned guardrails live wholly in the shared PostgreSQL store. Operator A
// plans in one working directory; B approves and applies by plan ID from
// another, with nothing of A's on disk — the organization (a simulated
// state file both reach) and the store are all they share.
func TestPlanOnOneMachineApplyOnAnother(t *testing.T) {
	dsn := storetest.PostgresSchemaURL(t, "og_cli")
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
