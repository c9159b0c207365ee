package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/plan"
)

// planJSON is the part of the plan JSON the tests read: the fields the
// issue names as the format's contract.
type planJSON struct {
	Verdict string `json:"verdict"`
	Reasons []struct {
		Rule   string `json:"rule"`
		Effect string `json:"effect"`
	} `json:"reasons"`
	RequiredApprovals int `json:"requiredApprovals"`
	Impact            struct {
		AccountsAffected int `json:"accountsAffected"`
		AccountsTotal    int `json:"accountsTotal"`
		Accounts         []struct {
			ID               string `json:"id"`
			Name             string `json:"name"`
			Path             string `json:"path"`
			NewlyDenied      int    `json:"newlyDenied"`
			NewlyConditional int    `json:"newlyConditional"`
			NewlyAllowed     int    `json:"newlyAllowed"`
			CriticalLost     []struct {
				Pattern string `json:"pattern"`
			} `json:"criticalLost"`
		} `json:"accounts"`
		ManagementAccountID string `json:"managementAccountId"`
	} `json:"impact"`
	Steps           []json.RawMessage `json:"steps"`
	BaseFingerprint string            `json:"baseFingerprint"`
	PlanHash        string            `json:"planHash"`
}

// accidentNow is a weekday, 17:15 in Tokyo: when the 2023 accident happened.
const accidentNow = "2026-12-07T17:15:00+09:00"

func planRun(t *testing.T, snap string, args ...string) (int, planJSON, string) {
	t.Helper()
	all := append([]string{"plan"}, args...)
	all = append(all, "--snapshot", snap, "--format", "json", "--now", accidentNow, "--author", "alice", "--config", tempStoreConfig(t))
	code, stdout, stderr := orgRun(t, all...)
	var p planJSON
	if code == ExitOK || code == ExitRefused {
		if err := json.Unmarshal([]byte(stdout), &p); err != nil {
			t.Fatalf("plan output is not JSON: %v\n%s", err, stdout)
		}
	}
	return code, p, stderr
}

// tempStoreConfig writes a configuration whose store lives in a temporary
// directory, so that plans saved by --out stay out of the source tree.
func tempStoreConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "orgguard.yaml")
	if err := os.WriteFile(p, []byte("store: orgguard.db\nbackend:\n  sim:\n    state: sim-state.json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPlanRefusesTheAccident replays 2023-12-05: a deny-all SCP attached to
// Root. SCPs never restrict the management account, so it is exempt; every
// member account loses every action (except those already denied
// everything, as the Suspended OU's accounts are).
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
func TestPlanRefusesTheAccident(t *testing.T) {
	path := generated(t, 300, "1")
	s, err := org.ReadSnapshotFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x := org.MustIndex(s)
	suspended, err := x.Resolve("/Suspended")
	if err != nil {
		t.Fatal(err)
	}
	alreadyDenied := len(x.AccountsUnder(suspended.ID))
	members := len(s.Accounts) - 1

	code, p, stderr := planRun(t, path, "attach-policy", "--policy", "deny-all", "--target", "Root")
	if code != ExitRefused {
		t.Fatalf("exit code = %d, want %d (refused); stderr: %s", code, ExitRefused, stderr)
	}
	if p.Verdict != "refused" {
		t.Errorf("verdict = %q, want refused", p.Verdict)
	}
	if p.Impact.AccountsTotal != members {
		t.Errorf("accountsTotal = %d, want %d member accounts", p.Impact.AccountsTotal, members)
	}
	if want := members - alreadyDenied; p.Impact.AccountsAffected != want {
		t.Errorf("accountsAffected = %d, want %d (every member account but the %d already denied everything)", p.Impact.AccountsAffected, want, alreadyDenied)
	}
	for _, a := range p.Impact.Accounts {
		if a.ID == s.Organization.ManagementAccountID {
			t.Errorf("the management account %s is reported affected; SCPs never apply to it", a.ID)
		}
		if !slices.ContainsFunc(a.CriticalLost, func(c struct {
			Pattern string `json:"pattern"`
		}) bool {
			return c.Pattern == "sts:AssumeRole"
		}) {
			t.Errorf("account %s: criticalLost %v lacks sts:AssumeRole: nobody could enter the account any more", a.ID, a.CriticalLost)
		}
	}
	rules := map[string]bool{}
	for _, r := range p.Reasons {
		if r.Effect == "refuse" {
			rules[r.Rule] = true
		}
	}
	for _, want := range []string{"protected-target", "near-deny-all", "threshold"} {
		if !rules[want] {
			t.Errorf("refusing rules = %v, want %s among them", rules, want)
		}
	}
	if p.BaseFingerprint == "" || !strings.HasPrefix(p.PlanHash, "sha256:") || len(p.Steps) != 1 {
		t.Errorf("baseFingerprint %q, planHash %q, %d steps: want a fingerprint, a sha256 hash and 1 step", p.BaseFingerprint, p.PlanHash, len(p.Steps))
	}
}

// TestPlanQuarantineAffectsExactlyTheNamedAccounts is what the operator meant.
func TestPlanQuarantineAffectsExactlyTheNamedAccounts(t *testing.T) {
	path := generated(t, 300, "1")
	s, _ := org.ReadSnapshotFile(path)
	x := org.MustIndex(s)
	var named []string
	for _, a := range s.Accounts {
		if strings.HasPrefix(x.PathString(a.ID), "/Customers/") && len(named) < 3 {
			named = append(named, a.ID)
		}
	}
	out := filepath.Join(t.TempDir(), "plan.json")
	code, p, stderr := planRun(t, path, "quarantine", "--account", named[0], "--account", named[1], "--account", named[2], "--out", out)
	if code != ExitOK {
		t.Fatalf("exit code = %d, want 0; stderr: %s\nreasons: %+v", code, stderr, p.Reasons)
	}
	if p.Verdict == "refused" {
		t.Fatalf("verdict = refused, reasons %+v", p.Reasons)
	}
	var got []string
	for _, a := range p.Impact.Accounts {
		got = append(got, a.ID)
	}
	slices.Sort(got)
	want := slices.Clone(named)
	slices.Sort(want)
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("affected accounts (-got +want):\n%s", diff)
	}
	f, err := plan.Read(out)
	if err != nil {
		t.Fatalf("plan.Read(%s): %v", out, err)
	}
	if f.PlanHash != p.PlanHash {
		t.Errorf("plan file hash %s, printed %s", f.PlanHash, p.PlanHash)
	}
}

func TestPlanDeclaredIntent(t *testing.T) {
	path := generated(t, 300, "1")
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"a matching count is accepted", []string{"attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--expect-count", "5"}, ExitOK},
		{"a different count is refused", []string{"attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--expect-count", "3"}, ExitRefused},
		{"an unknown expected account is bad input", []string{"attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--expect-accounts", "nobody"}, ExitBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, p, stderr := planRun(t, path, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr %s; reasons %+v", code, tt.wantCode, stderr, p.Reasons)
			}
		})
	}
}

func TestPlanBadInput(t *testing.T) {
	path := generated(t, 100, "1")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"an unknown policy", []string{"attach-policy", "--policy", "nope", "--target", "Root"}, ExitBadInput, `policy "nope"`},
		{"an unknown target", []string{"attach-policy", "--policy", "deny-all", "--target", "/Nowhere"}, ExitBadInput, "/Nowhere"},
		{"detaching the last SCP (AWS would reject it)", []string{"detach-policy", "--policy", "deny-all", "--target", "/Suspended"}, ExitRefused, "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"},
		{"a bad override", []string{"attach-policy", "--policy", "deny-all", "--target", "Root", "--override", "window"}, ExitBadInput, "RULE=REASON"},
		{"nothing to plan", []string{}, ExitBadInput, "say what to plan"},
		{"a bad format", []string{"attach-policy", "--policy", "deny-all", "--target", "Root", "--format", "yaml"}, ExitBadInput, "--format"},
		{"a missing change file", []string{"-f", "/nonexistent/change.yaml"}, ExitBadInput, "reading change file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"plan"}, tt.args...)
			args = append(args, "--snapshot", path)
			if !slices.Contains(tt.args, "--format") {
				args = append(args, "--format", "json")
			}
			code, _, stderr := orgRun(t, args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.wantErr)
			}
		})
	}
}

// TestPlanGoldenAfterQuarantine pins the renderings of a plan that
// restores access: releasing quarantined accounts is a gain (allowed and
// partly restored, never newly conditional), and the quarantine OU the
// accounts leave shows its count before and after.
func TestPlanGoldenAfterQuarantine(t *testing.T) {
	c, dir := applyWorld(t)
	q := filepath.Join(dir, "q.json")
	for _, args := range [][]string{
		{"plan", "quarantine", c, "--account", "beacon-retail-analytics", "--account", "beacon-retail-data", "--out", q},
		{"approve", c, q, "--by", "bob"},
		{"apply", c, q},
	} {
		if code, _, stderr := orgRun(t, args...); code != 0 {
			t.Fatalf("orgguard %s exited %d: %s", strings.Join(args, " "), code, stderr)
		}
	}
	for _, format := range []string{"text", "markdown"} {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := orgRun(t, "plan", "release", c, "--account", "beacon-retail-analytics", "--account", "beacon-retail-data",
				"--to", "/Customers/Beacon Retail", "--format", format, "--now", accidentNow, "--author", "alice")
			if code != 0 {
				t.Fatalf("plan release exited %d: %s", code, stderr)
			}
			// The quarantine OU's ID, the base and the hashes differ from run
			// to run.
			stdout = strings.ReplaceAll(stdout, dir, "DIR")
			if m := regexp.MustCompile(`/Quarantine \((ou-[a-z0-9-]+)\)`).FindStringSubmatch(stdout); m != nil {
				stdout = strings.ReplaceAll(stdout, m[1], "ou-QUARANTINE")
			}
			stdout = regexp.MustCompile(`(plan-\d{8}-\d{6}-)[0-9a-f]{8}`).ReplaceAllString(stdout, "${1}ID")
			stdout = regexp.MustCompile("(base `?|plan hash `)[0-9a-f]{12}").ReplaceAllString(stdout, "${1}HASH")
			checkGolden(t, filepath.Join("testdata", "plan", "release-after-quarantine"+map[string]string{"text": ".txt", "markdown": ".md"}[format]), stdout)
			if strings.Contains(stdout, "near-deny-all") {
				t.Errorf("a release is judged near-deny-all:\n%s", stdout)
			}
		})
	}
}

// checkGolden compares got with the golden file (rewritten with -update).
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if updateGolden() {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(got, string(want)); diff != "" {
		t.Errorf("output differs from %s (-got +want):\n%s", golden, diff)
	}
}

// TestPlanGoldenOutput pins the text and markdown renderings.
func TestPlanGoldenOutput(t *testing.T) {
	path := generated(t, 120, "1")
	for _, format := range []string{"text", "markdown"} {
		for _, c := range []struct {
			name string
			args []string
		}{
			{"deny-all-on-root", []string{"attach-policy", "--policy", "deny-all", "--target", "Root"}},
			{"deny-s3-on-infrastructure", []string{"attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure"}},
		} {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				args := append([]string{"plan"}, c.args...)
				args = append(args, "--snapshot", path, "--format", format, "--now", accidentNow, "--author", "alice")
				_, stdout, stderr := orgRun(t, args...)
				stdout = strings.ReplaceAll(stdout, path, "SNAPSHOT")
				ext := map[string]string{"text": ".txt", "markdown": ".md"}[format]
				golden := filepath.Join("testdata", "plan", c.name+ext)
				if updateGolden() {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it); stderr: %s", err, stderr)
				}
				if diff := cmp.Diff(stdout, string(want)); diff != "" {
					t.Errorf("%s output differs from %s (-got +want):\n%s", format, golden, diff)
				}
			})
		}
	}
}
