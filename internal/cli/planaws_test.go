package cli

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/plan"
)

// awsWorld serves a generated organization over the AWS wire protocol on
// 127.0.0.1 and configures backend.type aws against it, with a store.
func awsWorld(t *testing.T, so simserver.Options) (cfg, dir string, o *sim.Org) {
	t.Helper()
	s, err := generate.Organization(generate.Options{Accounts: 60, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	o, err = sim.New(s, sim.Options{StatePath: filepath.Join(dir, "sim.json")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(simserver.New(o, so))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_PROFILE", "")
	cfg = filepath.Join(dir, "orgguard.yaml")
	body := "backend:\n  type: aws\n  aws:\n    endpoint: " + srv.URL + "\nstore: " + filepath.Join(dir, "orgguard.db") +
		"\nidentity:\n  user: alice\nquarantine:\n  breakGlassPrincipals: []\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return "--config=" + cfg, dir, o
}

func readPlan(t *testing.T, path string) *plan.File {
	t.Helper()
	f, err := plan.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var quarantineArgs = []string{"quarantine", "--account", "beacon-retail-analytics", "--account", "beacon-retail-data"}

// TestPlanOnAWSStartsFromTheStoredRead: the first plan reads the whole
// organization and stores the read; the next starts from it, verified by
// partial reads, records so, is approved (its verdict derived again from
// the stored base) and applied with partial health checks; a plan whose
// touched parts changed since is made on a whole read again.
func TestPlanOnAWSStartsFromTheStoredRead(t *testing.T) {
	c, dir, _ := awsWorld(t, simserver.Options{})
	plan1, plan2 := filepath.Join(dir, "q1.json"), filepath.Join(dir, "q2.json")
	code, _, stderr := orgRun(t, append([]string{"plan", c, "--out", plan1, "-v"}, quarantineArgs...)...)
	if code != 0 {
		t.Fatalf("first plan = %d: %s", code, stderr)
	}
	first := readPlan(t, plan1).BaseRead
	if first == nil || first.Kind != plan.BaseFullRead || !strings.Contains(stderr, "API calls") {
		t.Fatalf("first plan's baseRead = %+v, stderr %q; want a whole read and the calls printed", first, stderr)
	}
	code, _, stderr = orgRun(t, append([]string{"plan", c, "--out", plan2, "-v"}, quarantineArgs...)...)
	if code != 0 {
		t.Fatalf("second plan = %d: %s", code, stderr)
	}
	second := readPlan(t, plan2).BaseRead
	if second == nil || second.Kind != plan.BaseStored || len(second.Verified) == 0 || second.APICalls >= first.APICalls/2 {
		t.Fatalf("second plan's baseRead = %+v, want the stored read verified in fewer calls than the whole read's %d", second, first.APICalls)
	}
	if code, _, stderr := orgRun(t, "approve", plan2, c, "--by", "bob"); code != 0 {
		t.Fatalf("approve of the plan made on the stored read = %d: %s", code, stderr)
	}
	code, stdout, stderr := orgRun(t, "apply", plan2, c, "--json")
	if code != 0 {
		t.Fatalf("apply = %d: %s", code, stderr)
	}
	var rep apply.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != apply.Applied || rep.Calls == nil || len(rep.Checks) == 0 {
		t.Fatalf("apply report: outcome %s, calls %v, %d checks; want applied with calls counted", rep.Outcome, rep.Calls, len(rep.Checks))
	}
	for _, cr := range rep.Checks {
		if cr.APICalls == 0 || cr.APICalls >= 40 {
			t.Errorf("check %q made %d API calls, want a partial read (1..39)", cr.When, cr.APICalls)
		}
	}
	// The apply's whole read is now the latest; the accounts it moved
	// are what a move touches, so the stored read is verified afresh.
	plan3 := filepath.Join(dir, "r.json")
	code, _, stderr = orgRun(t, "plan", c, "--out", plan3, "move-account", "--account", "beacon-retail-analytics", "--to", "Root")
	if code != 0 {
		t.Fatalf("move plan = %d: %s", code, stderr)
	}
	if br := readPlan(t, plan3).BaseRead; br == nil || br.Kind != plan.BaseFullRead {
		t.Errorf("move plan's baseRead = %+v, want a whole read: the stored one is out of date where the move touches", br)
	}
	code, _, stderr = orgRun(t, "plan", c, "--refresh", "move-account", "--account", "beacon-retail-analytics", "--to", "Root")
	if code != 0 || !strings.Contains(stderr, "--refresh") {
		t.Errorf("plan --refresh = %d, stderr %q; want a whole read because of --refresh", code, stderr)
	}
}
