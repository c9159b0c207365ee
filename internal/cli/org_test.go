package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/org"
)

// orgRun runs orgguard in process and returns its exit code and output.
func orgRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// generated writes a generated organization and returns its path.
func generated(t *testing.T, accounts int, seed string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "org-"+seed+".json")
	if code, _, stderr := orgRun(t, "sim", "generate", "--accounts", itoa(accounts), "--seed", seed, "--out", path); code != 0 {
		t.Fatalf("sim generate exited %d: %s", code, stderr)
	}
	return path
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestSimGenerateCommand(t *testing.T) {
	t.Run("the same seed writes the same bytes", func(t *testing.T) {
		a, b := generated(t, 60, "3"), generated(t, 60, "3")
		da, _ := os.ReadFile(a)
		db, _ := os.ReadFile(b)
		if !bytes.Equal(da, db) {
			t.Error("two runs with seed 3 differ")
		}
		s, err := org.ReadSnapshotFile(a)
		if err != nil {
			t.Fatalf("generated file does not load: %v", err)
		}
		if len(s.Accounts) != 60 {
			t.Errorf("accounts = %d, want 60", len(s.Accounts))
		}
	})
	t.Run("the summary is printed, as JSON with --json", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "o.json")
		code, stdout, _ := orgRun(t, "sim", "generate", "--accounts", "20", "--out", path, "--json")
		var sum struct {
			Accounts    int    `json:"accounts"`
			Fingerprint string `json:"fingerprint"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &sum) != nil || sum.Accounts != 20 || !strings.HasPrefix(sum.Fingerprint, "sha256:") {
			t.Errorf("sim generate --json = %d, %q", code, stdout)
		}
	})
	t.Run("--out - writes the snapshot to standard output", func(t *testing.T) {
		code, stdout, _ := orgRun(t, "sim", "generate", "--accounts", "5", "--out", "-")
		if _, err := org.ParseSnapshot([]byte(stdout), "stdout"); code != 0 || err != nil {
			t.Errorf("sim generate --out - = %d, %v", code, err)
		}
	})
	bad := []struct {
		name string
		args []string
		want string
	}{
		{"a missing --out is bad input", []string{"sim", "generate"}, "--out is required"},
		{"zero accounts is bad input", []string{"sim", "generate", "--accounts", "0", "--out", "x.json"}, "between 1 and"},
		{"a non-numeric seed is bad input", []string{"sim", "generate", "--seed", "abc", "--out", "x.json"}, "invalid argument"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := orgRun(t, tt.args...)
			if code != ExitBadInput || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v = %d, %q; want %d and %q", tt.args, code, stderr, ExitBadInput, tt.want)
			}
		})
	}
}

func TestOrgShowCommand(t *testing.T) {
	snap := generated(t, 200, "5")
	t.Run("the tree shows the root, OUs and their policies without colour when not on a terminal", func(t *testing.T) {
		code, stdout, stderr := orgRun(t, "org", "show", "--snapshot", snap)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, want := range []string{"Root r-", "├── Customers/", "SCP: FullAWSAccess", "RCP: RCPFullAWSAccess", "Sandbox/", "sandbox-allow-list", "management "} {
			if !strings.Contains(stdout, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		if strings.Contains(stdout, "\x1b[") {
			t.Error("colour codes written to a non-terminal")
		}
	})
	t.Run("--depth and --accounts=false prune the tree and say what is hidden", func(t *testing.T) {
		_, stdout, _ := orgRun(t, "org", "show", "--snapshot", snap, "--depth", "1", "--accounts=false")
		if strings.Count(stdout, "\n") != 6 {
			t.Errorf("want the root and its 5 OUs, got:\n%s", stdout)
		}
		if !strings.Contains(stdout, "not shown)") {
			t.Errorf("hidden nodes are not counted:\n%s", stdout)
		}
	})
	t.Run("a node argument shows that subtree", func(t *testing.T) {
		code, stdout, _ := orgRun(t, "org", "show", "--snapshot", snap, "/Security")
		if code != 0 || !strings.HasPrefix(stdout, "/Security\nSecurity/") || !strings.Contains(stdout, "log-archive") || strings.Contains(stdout, "Customers") {
			t.Errorf("org show /Security = %d:\n%s", code, stdout)
		}
	})
	t.Run("--json prints the tree with policies at each node", func(t *testing.T) {
		code, stdout, _ := orgRun(t, "org", "show", "--snapshot", snap, "--json")
		var doc struct {
			Fingerprint string
			Tree        struct {
				Kind     string
				SCPs     []struct{ Name string }
				Children []struct{ Name, Kind string }
			}
		}
		if err := json.Unmarshal([]byte(stdout), &doc); code != 0 || err != nil {
			t.Fatalf("org show --json = %d, %v", code, err)
		}
		if doc.Tree.Kind != "root" || len(doc.Tree.SCPs) == 0 || len(doc.Tree.Children) != 6 {
			t.Errorf("JSON tree root = %+v", doc.Tree)
		}
	})
	t.Run("an ambiguous node is bad input listing the candidates", func(t *testing.T) {
		code, _, stderr := orgRun(t, "org", "show", "--snapshot", snap, "Prod")
		s, _ := org.ReadSnapshotFile(snap)
		prods := 0
		for _, o := range s.OUs {
			if o.Name == "Prod" {
				prods++
			}
		}
		if prods < 2 {
			t.Skipf("the generated organization has %d Prod OUs", prods)
		}
		if code != ExitBadInput || !strings.Contains(stderr, `"Prod" names`) || !strings.Contains(stderr, "/Customers/") {
			t.Errorf("org show Prod = %d, %q", code, stderr)
		}
	})
	t.Run("an unknown node is bad input with suggestions", func(t *testing.T) {
		code, _, stderr := orgRun(t, "org", "show", "--snapshot", snap, "/Securty")
		if code != ExitBadInput || !strings.Contains(stderr, "did you mean /Security") {
			t.Errorf("org show /Securty = %d, %q", code, stderr)
		}
	})
	t.Run("a corrupt snapshot is bad input naming the file", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		os.WriteFile(bad, []byte(`{"formatVersion": 1, "root": {"id": "r-ab12"}, "accounts": [{"id": "123456789012", "parentId": "ou-ab12-zzzzzzzz"}]}`), 0o644)
		code, _, stderr := orgRun(t, "org", "show", "--snapshot", bad)
		if code != ExitBadInput || !strings.Contains(stderr, bad) || !strings.Contains(stderr, "accounts[0].parentId") {
			t.Errorf("org show bad.json = %d, %q", code, stderr)
		}
	})
}

func TestOrgDiffCommand(t *testing.T) {
	a := generated(t, 80, "1")
	b := filepath.Join(t.TempDir(), "b.json")
	s, err := org.ReadSnapshotFile(a)
	if err != nil {
		t.Fatal(err)
	}
	x := org.MustIndex(s)
	sandbox, _ := x.Resolve("/Sandbox")
	moved := s.Accounts[3]
	s.Accounts[3].ParentID = sandbox.ID
	if err := org.WriteSnapshotFile(b, s); err != nil {
		t.Fatal(err)
	}
	t.Run("identical snapshots exit 0", func(t *testing.T) {
		code, stdout, _ := orgRun(t, "org", "diff", a, a)
		if code != 0 || !strings.Contains(stdout, "no differences") {
			t.Errorf("org diff a a = %d, %q", code, stdout)
		}
	})
	t.Run("different snapshots exit 1 and list the change", func(t *testing.T) {
		code, stdout, _ := orgRun(t, "org", "diff", a, b)
		if code != ExitFailure || !strings.Contains(stdout, "account-moved") || !strings.Contains(stdout, moved.ID) || !strings.Contains(stdout, "-> /Sandbox") {
			t.Errorf("org diff a b = %d:\n%s", code, stdout)
		}
	})
	t.Run("--json lists the changes", func(t *testing.T) {
		code, stdout, _ := orgRun(t, "org", "diff", a, b, "--json")
		var doc struct {
			Same    bool
			Changes []org.Change
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != ExitFailure || doc.Same || len(doc.Changes) != 1 || doc.Changes[0].Kind != org.AccountMoved {
			t.Errorf("org diff --json = %d, %+v, %v", code, doc, err)
		}
	})
	t.Run("a missing file is bad input", func(t *testing.T) {
		code, _, stderr := orgRun(t, "org", "diff", a, filepath.Join(t.TempDir(), "nope.json"))
		if code != ExitBadInput || !strings.Contains(stderr, "nope.json") {
			t.Errorf("org diff a nope = %d, %q", code, stderr)
		}
	})
	t.Run("one argument is a usage error", func(t *testing.T) {
		if code, _, _ := orgRun(t, "org", "diff", a); code != ExitBadInput {
			t.Errorf("org diff a = %d, want %d", code, ExitBadInput)
		}
	})
}

func TestOrgSnapshotCommand(t *testing.T) {
	t.Run("a configured simulated organization is created on first use and snapshotted", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "orgguard.yaml")
		os.WriteFile(cfg, []byte("backend:\n  sim:\n    state: state/sim.json\n    accounts: 40\n    seed: 9\n"), 0o644)
		out := filepath.Join(dir, "snap.json")
		code, stdout, stderr := orgRun(t, "org", "snapshot", "--config", cfg, "--out", out)
		if code != 0 {
			t.Fatalf("org snapshot = %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, "created a simulated organization of 40 accounts (seed 9)") {
			t.Errorf("stderr = %q, want the creation notice", stderr)
		}
		if !strings.Contains(stdout, "wrote "+out+": 40 accounts") {
			t.Errorf("stdout = %q", stdout)
		}
		state, err := org.ReadSnapshotFile(filepath.Join(dir, "state", "sim.json"))
		if err != nil {
			t.Fatalf("state: %v", err)
		}
		snap, err := org.ReadSnapshotFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Fingerprint != state.Fingerprint {
			t.Error("the snapshot's fingerprint differs from the state's")
		}
		// The second run opens the existing state quietly.
		code, _, stderr = orgRun(t, "org", "snapshot", "--config", cfg, "--out", out)
		if code != 0 || stderr != "" {
			t.Errorf("second org snapshot = %d, %q", code, stderr)
		}
	})
	t.Run("without a configuration file the default organization of 1,000 accounts is used", func(t *testing.T) {
		if testing.Short() {
			t.Skip("generates 1,000 accounts")
		}
		t.Chdir(t.TempDir())
		code, stdout, stderr := orgRun(t, "org", "snapshot", "--out", "s.json", "--json")
		if code != 0 {
			t.Fatalf("org snapshot = %d: %s", code, stderr)
		}
		var sum struct{ Accounts int }
		if json.Unmarshal([]byte(stdout), &sum) != nil || sum.Accounts != 1000 {
			t.Errorf("summary = %q", stdout)
		}
		if _, err := os.Stat(filepath.Join(".orgguard", "sim-state.json")); err != nil {
			t.Errorf("default state not created: %v", err)
		}
	})
	t.Run("a corrupt state is bad input, named, and left alone", func(t *testing.T) {
		dir := t.TempDir()
		state := filepath.Join(dir, "sim.json")
		os.WriteFile(state, []byte(`{"formatVersion": 1, "root": `), 0o644)
		cfg := filepath.Join(dir, "orgguard.yaml")
		os.WriteFile(cfg, []byte("backend:\n  sim:\n    state: sim.json\n"), 0o644)
		code, _, stderr := orgRun(t, "org", "snapshot", "--config", cfg, "--out", filepath.Join(dir, "o.json"))
		if code != ExitBadInput || !strings.Contains(stderr, state) || !strings.Contains(stderr, "truncated") {
			t.Errorf("org snapshot with a corrupt state = %d, %q", code, stderr)
		}
		if data, _ := os.ReadFile(state); string(data) != `{"formatVersion": 1, "root": ` {
			t.Error("the corrupt state was modified")
		}
	})
	t.Run("a configuration error is bad input with line and column", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "orgguard.yaml")
		os.WriteFile(cfg, []byte("backend:\n  typ: sim\n"), 0o644)
		code, _, stderr := orgRun(t, "org", "snapshot", "--config", cfg, "--out", "x.json")
		if code != ExitBadInput || !strings.Contains(stderr, cfg+":2:3: backend.typ: unknown key") {
			t.Errorf("org snapshot with a bad config = %d, %q", code, stderr)
		}
	})
	t.Run("a missing --out is bad input", func(t *testing.T) {
		if code, _, _ := orgRun(t, "org", "snapshot"); code != ExitBadInput {
			t.Errorf("org snapshot = %d, want %d", code, ExitBadInput)
		}
	})
}

func TestOrgCommandsHaveExamples(t *testing.T) {
	for _, args := range [][]string{{"org"}, {"org", "snapshot"}, {"org", "show"}, {"org", "diff"}, {"sim"}, {"sim", "generate"}} {
		code, stdout, _ := orgRun(t, append(args, "--help")...)
		if code != 0 || !strings.Contains(stdout, "Examples:") {
			t.Errorf("%v --help = %d, no Examples section", args, code)
		}
	}
}
