package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

// applyWorld writes a configuration for a small simulated organization in a
// temporary directory. The quarantine has no break-glass exception, so its
// blast radius is plain denials.
func applyWorld(t *testing.T) (cfg, dir string) {
	t.Helper()
	dir = t.TempDir()
	cfg = filepath.Join(dir, "orgguard.yaml")
	body := "backend:\n  sim:\n    state: sim-state.json\n    accounts: 60\n    seed: 1\nstore: orgguard.db\nidentity:\n  user: alice\nquarantine:\n  breakGlassPrincipals: []\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return "--config=" + cfg, dir
}

func fingerprintOf(t *testing.T, c string) string {
	t.Helper()
	code, out, stderr := orgRun(t, "org", "snapshot", c, "--out", "-")
	if code != 0 {
		t.Fatalf("org snapshot exited %d: %s", code, stderr)
	}
	s, err := org.ParseSnapshot([]byte(out), "-")
	if err != nil {
		t.Fatal(err)
	}
	return org.ComputeFingerprint(s)
}

// TestApplyCommands walks the whole life of a change through the command
// line: plan, refused self-approval, approval, refused and then successful
// apply, plans, rollback as a new plan, its approvals and apply — ending at
// the organization's original fingerprint.
func TestApplyCommands(t *testing.T) {
	c, dir := applyWorld(t)
	planFile := filepath.Join(dir, "q.json")
	undoFile := filepath.Join(dir, "undo.json")
	start := ""
	var changeID string
	steps := []struct {
		name string
		args func() []string
		code int
		want string
	}{
		{name: "the quarantine is planned and saved", code: 0, want: "Plan written to",
			args: func() []string {
				start = fingerprintOf(t, c)
				return []string{"plan", "quarantine", c, "--account", "beacon-retail-analytics", "--account", "beacon-retail-data", "--out", planFile}
			}},
		{name: "the author cannot approve it", code: ExitRefused, want: "cannot approve",
			args: func() []string { return []string{"approve", c, planFile} }},
		{name: "apply without the approval is refused", code: ExitRefused, want: "needs 1 approval(s)",
			args: func() []string { return []string{"apply", c, planFile} }},
		{name: "a second person approves it by plan ID", code: 0, want: "plan is approved",
			args: func() []string {
				var f struct{ ID string }
				b, _ := os.ReadFile(planFile)
				_ = json.Unmarshal(b, &f)
				return []string{"approve", c, f.ID, "--by", "bob", "--comment", "checked"}
			}},
		{name: "the same person cannot approve twice", code: ExitRefused, want: "already approved",
			args: func() []string { return []string{"approve", c, planFile, "--by", "bob"} }},
		{name: "apply runs the health checks and applies it", code: 0, want: "health checks passed",
			args: func() []string { return []string{"apply", c, planFile} }},
		{name: "plans lists it as applied with its approver", code: 0, want: `"state": "applied"`,
			args: func() []string { return []string{"plans", c, "--json"} }},
		{name: "rollback makes a new plan of the recorded inverses", code: 0, want: "Rollback plan",
			args: func() []string {
				_, out, _ := orgRun(t, "plans", c, "--json")
				_ = out
				ch, err := demoLastChange(t.Context(), filepath.Join(dir, "orgguard.db"))
				if err != nil {
					t.Fatal(err)
				}
				changeID = ch
				return []string{"rollback", c, ch, "--out", undoFile}
			}},
		{name: "the rollback plan needs its own approval", code: ExitRefused, want: "needs",
			args: func() []string { return []string{"apply", c, undoFile} }},
		// Releasing accounts from quarantine only restores access: most
		// actions go from denied (the quarantine deny-all) to conditional
		// (the customer OU's condition-bearing SCPs), which is a gain
		// (impact conditionalFromDenied), not a near-deny-all. So the
		// rollback is a medium-risk change of 2 accounts: one approval, no
		// maintenance window, no typed confirmation.
		{name: "a second person approves the rollback", code: 0, want: "plan is approved",
			args: func() []string { return []string{"approve", c, undoFile, "--by", "bob"} }},
		{name: "the rollback applies without a window override or a typed confirmation", code: 0, want: "health checks passed",
			args: func() []string {
				var f struct {
					Guard struct {
						Risk                 string `json:"risk"`
						RequiresConfirmation bool   `json:"requiresConfirmation"`
					} `json:"guard"`
				}
				b, _ := os.ReadFile(undoFile)
				_ = json.Unmarshal(b, &f)
				if f.Guard.Risk != "medium" || f.Guard.RequiresConfirmation {
					t.Errorf("rollback of the quarantine: risk %q, confirmation %v; want medium without confirmation (it only restores access)", f.Guard.Risk, f.Guard.RequiresConfirmation)
				}
				return []string{"apply", c, undoFile}
			}},
		{name: "the quarantine's plan is now rolled back", code: 0, want: "rolled-back",
			args: func() []string { return []string{"plans", c, "--state", "rolled-back"} }},
		{name: "recover finds nothing to do", code: 0, want: "Nothing to recover",
			args: func() []string { return []string{"recover", c} }},
		{name: "the audit log is intact", code: 0, want: "intact",
			args: func() []string { return []string{"audit", "verify", c} }},
	}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			args := s.args()
			code, out, stderr := orgRun(t, args...)
			if code != s.code {
				t.Fatalf("orgguard %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, s.code, out, stderr)
			}
			if !strings.Contains(out+stderr, s.want) {
				t.Errorf("orgguard %s: output does not say %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), s.want, out, stderr)
			}
		})
		if !ok {
			t.FailNow()
		}
	}
	if got := fingerprintOf(t, c); got != start {
		t.Errorf("after the rollback the organization is %s, want the original %s", got, start)
	}
	_ = changeID
}

// TestApplyCommandInput: bad input exits 2 with a message.
func TestApplyCommandInput(t *testing.T) {
	c, dir := applyWorld(t)
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`{"formatVersion":1}`), 0o644)
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "an unknown plan ID is bad input", args: []string{"apply", c, "plan-nope"}, code: ExitBadInput, want: "neither a plan file nor the ID"},
		{name: "a file that is not a plan is refused as not matching its hash", args: []string{"apply", c, bad}, code: ExitRefused, want: "planHash"},
		{name: "plans --state checks the state", args: []string{"plans", c, "--state", "done"}, code: ExitBadInput, want: "want one of"},
		{name: "rollback of an unknown change is bad input", args: []string{"rollback", c, "change-nope"}, code: ExitBadInput, want: "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := orgRun(t, tt.args...)
			if code != tt.code || !strings.Contains(out+stderr, tt.want) {
				t.Errorf("orgguard %s = %d %q %q, want %d and %q", strings.Join(tt.args, " "), code, out, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestRecoverCommand: an apply that died half-way (the engine stopped at a
// journal point, its lock left behind) is settled by `orgguard recover`,
// which says which way; `orgguard apply` of another plan would do the same
// first.
func TestRecoverCommand(t *testing.T) {
	c, dir := applyWorld(t)
	planFile := filepath.Join(dir, "q.json")
	if code, _, stderr := orgRun(t, "plan", "quarantine", c, "--account", "beacon-retail-analytics", "--out", planFile); code != 0 {
		t.Fatalf("plan: %s", stderr)
	}
	if code, _, stderr := orgRun(t, "approve", c, planFile, "--by", "bob"); code != 0 {
		t.Fatalf("approve: %s", stderr)
	}
	before := fingerprintOf(t, c)
	ctx := t.Context()
	st, err := sqlstore.Open(ctx, filepath.Join(dir, "orgguard.db"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := sim.Open(sim.Options{StatePath: filepath.Join(dir, "sim-state.json")})
	if err != nil {
		t.Fatal(err)
	}
	f, err := plan.Read(planFile)
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := review.Current(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	g, err := guard.Compile(pinned.Rules.Guardrails)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	an, err := impact.NewAnalyzer(cat, impact.Options{Critical: pinned.Rules.Critical})
	if err != nil {
		t.Fatal(err)
	}
	planner := &plan.Planner{Guard: g, Analyzer: an, Quarantine: pinned.Rules.Quarantine}
	e := apply.New(apply.Options{Store: st, Backend: o, Planner: planner, Pinned: pinned, Actor: "alice", LockTTL: time.Millisecond,
		Crash: func(n int, _ string) error {
			if n == 9 { // step 2's intent journaled, the call not made
				return errors.New("killed")
			}
			return nil
		}})
	if _, err := e.Apply(ctx, apply.Request{Plan: f}); !apply.IsCrash(err) {
		t.Fatalf("Apply = %v, want the injected crash", err)
	}
	st.Close()
	if fingerprintOf(t, c) == before {
		t.Fatal("the interrupted apply changed nothing; the test needs it half-way")
	}
	time.Sleep(5 * time.Millisecond) // the dead apply's lock expires
	code, out, stderr := orgRun(t, "recover", c)
	if code != 0 || !strings.Contains(out, "BEFORE") || !strings.Contains(out, "; verified") {
		t.Fatalf("recover = %d\n%s\n%s", code, out, stderr)
	}
	if got := fingerprintOf(t, c); got != before {
		t.Errorf("after recovery the organization is not as before the apply")
	}
	code, out, _ = orgRun(t, "plans", c, "--json")
	if code != 0 || !strings.Contains(out, `"state": "rolled-back"`) {
		t.Errorf("plans after recovery:\n%s", out)
	}
}
