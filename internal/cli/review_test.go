package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/plan"
)

// The attacks of the review-integrity issue, tried as an operator with
// shell access would, each refused. docs/apply.md states the threat model.

// forge rewrites the plan file at path as an attacker would: verdict
// allowed, no approvals, no window, no confirmation, and (with newAuthor)
// a new author so that the plan gets a new ID; then re-seals it with the
// project's own seal function and writes it to out.
func forge(t *testing.T, path, out, newAuthor string) *plan.File {
	t.Helper()
	f, err := plan.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Verdict, f.Guard.Decision = guard.Allowed, guard.Allowed
	f.RequiredApprovals, f.Guard.RequiredApprovals = 0, 0
	f.Guard.RequireWindow, f.Guard.RequiresConfirmation = false, false
	f.Reasons, f.Guard.Reasons = nil, nil
	if newAuthor != "" {
		f.Author, f.ID = newAuthor, ""
	}
	if err := f.Seal(); err != nil {
		t.Fatal(err)
	}
	if err := f.Write(out); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReSealedPlansAreRefused(t *testing.T) {
	c, dir := applyWorld(t)
	root := filepath.Join(dir, "root.json")
	if code, _, stderr := orgRun(t, "plan", "attach-policy", c, "--policy", "deny-all", "--target", "Root", "--out", root); code != ExitRefused {
		t.Fatalf("plan deny-all on Root = %d, want %d (refused)\n%s", code, ExitRefused, stderr)
	}
	before := fingerprintOf(t, c)
	newID := filepath.Join(dir, "forged-new-id.json")
	sameID := filepath.Join(dir, "forged-same-id.json")
	forge(t, root, newID, "mallory")
	forge(t, root, sameID, "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a re-sealed plan with a new ID is not in the store: apply refuses", []string{"apply", c, newID, "--by", "mallory"}, "not in the store"},
		{"a re-sealed plan with a new ID cannot be approved", []string{"approve", c, newID, "--by", "bob"}, "not in the store"},
		{"a re-sealed plan keeping its ID differs from the stored one: apply refuses", []string{"apply", c, sameID}, "plan changed since it was saved"},
		{"a re-sealed plan keeping its ID cannot be approved", []string{"approve", c, sameID, "--by", "bob"}, "plan changed since it was saved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := orgRun(t, tt.args...)
			if code != ExitRefused || !strings.Contains(stderr+out, tt.want) {
				t.Fatalf("%v = %d, want %d saying %q\n%s%s", tt.args, code, ExitRefused, tt.want, out, stderr)
			}
		})
	}
	t.Run("a plan re-sealed inside the store fails the re-derivation", func(t *testing.T) {
		f, err := plan.Read(root)
		if err != nil {
			t.Fatal(err)
		}
		g := forge(t, root, filepath.Join(dir, "row.json"), "")
		body, err := g.MarshalCompact()
		if err != nil {
			t.Fatal(err)
		}
		tamperSQL(t, filepath.Join(dir, "orgguard.db"),
			"UPDATE plans SET body = x'"+hexOf(body)+"', hash = '"+g.PlanHash+"', verdict = 'allowed', required_approvals = 0 WHERE id = '"+f.ID+"'")
		code, out, stderr := orgRun(t, "apply", c, f.ID, "--by", "mallory")
		if code != ExitRefused || !strings.Contains(stderr, "does not match what orgguard derives") || !strings.Contains(stderr, `verdict (plan: "allowed", derived: "refused")`) {
			t.Fatalf("apply of the re-sealed stored plan = %d, want a refusal naming the verdict\n%s%s", code, out, stderr)
		}
		code, _, stderr = orgRun(t, "approve", c, f.ID, "--by", "bob")
		if code != ExitRefused || !strings.Contains(stderr, "does not match what orgguard derives") {
			t.Fatalf("approve of the re-sealed stored plan = %d, want a refusal\n%s", code, stderr)
		}
	})
	if got := fingerprintOf(t, c); got != before {
		t.Errorf("a forged plan changed the organization")
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// laxConfig is the 10-line configuration of the issue: deny-all on Root
// "allowed, 0 approvals".
const laxConfig = `guardrails:
  protected:
    targets: []
  denyAll:
    nearDenyAllShare: 1
    broadTargetAccounts: 100000
    broadTargetShare: 1
  approvals:
    minimum: 0
  thresholds: []
`

func TestGuardrailsArePinned(t *testing.T) {
	c, dir := applyWorld(t)
	q := filepath.Join(dir, "q.json")
	if code, _, stderr := orgRun(t, "plan", "quarantine", c, "--account", "beacon-retail-analytics", "--out", q); code != 0 {
		t.Fatalf("plan quarantine: %s", stderr)
	}
	// A weaker configuration on the same store.
	base, _ := os.ReadFile(filepath.Join(dir, "orgguard.yaml"))
	lax := filepath.Join(dir, "lax.yaml")
	if err := os.WriteFile(lax, append(base, laxConfig...), 0o644); err != nil {
		t.Fatal(err)
	}
	l := "--config=" + lax
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"plan refuses a weaker local configuration", []string{"plan", "attach-policy", l, "--policy", "deny-all", "--target", "Root"}},
		{"plan --out refuses it too", []string{"plan", "attach-policy", l, "--policy", "deny-all", "--target", "Root", "--out", filepath.Join(dir, "x.json")}},
		{"approve refuses it", []string{"approve", l, q, "--by", "bob"}},
		{"apply refuses it", []string{"apply", l, q}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := orgRun(t, tt.args...)
			if code != ExitRefused || !strings.Contains(stderr, "differ from those pinned in the store") {
				t.Fatalf("%v = %d, want %d naming the pinned guardrails\n%s%s", tt.args, code, ExitRefused, out, stderr)
			}
		})
	}
	t.Run("changing the pinned guardrails is a reviewed change", func(t *testing.T) {
		code, out, stderr := orgRun(t, "guardrails", "plan", l, "--json", "--description", "lax")
		if code != 0 {
			t.Fatalf("guardrails plan = %d\n%s", code, stderr)
		}
		var gp struct{ ID, Author string }
		if err := json.Unmarshal([]byte(out), &gp); err != nil || gp.ID == "" {
			t.Fatalf("guardrails plan --json: %v\n%s", err, out)
		}
		if code, _, stderr := orgRun(t, "apply", c, gp.ID); code != ExitRefused || !strings.Contains(stderr, "needs 1 approval") {
			t.Fatalf("apply of the unapproved guardrails plan = %d, want refused\n%s", code, stderr)
		}
		if code, _, stderr := orgRun(t, "approve", c, gp.ID, "--by", "ALICE"); code != ExitRefused || !strings.Contains(stderr, "cannot approve") {
			t.Fatalf("self-approval of the guardrails plan = %d, want refused\n%s", code, stderr)
		}
		if code, _, stderr := orgRun(t, "approve", c, gp.ID, "--by", "bob"); code != 0 {
			t.Fatalf("approve by bob = %d\n%s", code, stderr)
		}
		if code, out, stderr := orgRun(t, "apply", c, gp.ID); code != 0 || !strings.Contains(out, "Guardrails v2 pinned") {
			t.Fatalf("apply of the approved guardrails plan = %d\n%s%s", code, out, stderr)
		}
		// Now the lax configuration is the pinned one, and the old one is refused.
		if code, _, stderr := orgRun(t, "plan", "attach-policy", c, "--policy", "deny-all", "--target", "Root"); code != ExitRefused || !strings.Contains(stderr, "differ from those pinned") {
			t.Errorf("plan with the previous configuration = %d, want refused as no longer pinned\n%s", code, stderr)
		}
		// The quarantine plan was made under v1: apply derives it again under v2 and refuses.
		if code, _, stderr := orgRun(t, "apply", l, q); code != ExitRefused || !strings.Contains(stderr, "guardrails (plan:") {
			t.Errorf("apply of a plan made under the previous guardrails = %d, want refused\n%s", code, stderr)
		}
		code, out, _ = orgRun(t, "audit", "list", c, "--json")
		if code != 0 || strings.Count(out, `"guardrails.pinned"`) != 2 || !strings.Contains(out, `"guardrails.planned"`) {
			t.Errorf("audit list does not record the first pin, the plan and the second pin:\n%s", out)
		}
	})
}

func TestIdentitiesCompareSafely(t *testing.T) {
	c, dir := applyWorld(t) // identity.user: alice
	q := filepath.Join(dir, "q.json")
	if code, _, stderr := orgRun(t, "plan", "quarantine", c, "--account", "beacon-retail-analytics", "--out", q); code != 0 {
		t.Fatalf("plan quarantine: %s", stderr)
	}
	tests := []struct {
		name, by string
		code     int
		want     string
	}{
		{"a Cyrillic a mixed into the author's name is refused", "аlice", ExitBadInput, "mixes scripts"},
		{"a zero-width space after the author's name is refused", "alice\u200b", ExitBadInput, "invisible formatting character"},
		{"an escape sequence in a name is refused", "bob\x1b[2J", ExitBadInput, "control character"},
		{"the author in capitals is the author", "ALICE", ExitRefused, "cannot approve"},
		{"fullwidth letters are the author", "ａｌｉｃｅ", ExitRefused, "cannot approve"},
		{"an all-Cyrillic look-alike is the author", "аӏісе", ExitRefused, "cannot approve"},
		{"a second person approves", "bob", 0, "Approved plan"},
		{"the same person again in other letters is refused", "BОB", ExitBadInput, "mixes scripts"},
		{"the same person in capitals approves once only", "Bob", ExitRefused, "already approved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := orgRun(t, "approve", c, q, "--by", tt.by)
			if code != tt.code || !strings.Contains(out+stderr, tt.want) {
				t.Fatalf("approve --by %+q = %d, want %d saying %q\n%s%s", tt.by, code, tt.code, tt.want, out, stderr)
			}
		})
	}
}

func TestNamesAreShownNotRun(t *testing.T) {
	c, _ := applyWorld(t)
	evil := "Evil\x1b[2J\x1b]0;pwned\x07 *iam:** <b>x</b> |y|"
	code, out, stderr := orgRun(t, "plan", "create-ou", c, "--name", evil)
	if code != 0 {
		t.Fatalf("plan create-ou = %d\n%s", code, stderr)
	}
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Errorf("text output carries raw control characters: %+q", out)
	}
	if !strings.Contains(out, `Evil\u001b[2J\u001b]0;pwned\u0007`) {
		t.Errorf("text output does not show the escape sequence visibly:\n%s", out)
	}
	code, md, stderr := orgRun(t, "plan", "create-ou", c, "--name", evil, "--format", "markdown")
	if code != 0 {
		t.Fatalf("plan --format markdown = %d\n%s", code, stderr)
	}
	for _, want := range []string{`\*iam:\*\*`, `&lt;b&gt;x&lt;/b&gt;`, `\|y\|`} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown does not escape as %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<b>") || strings.ContainsRune(md, 0x1b) {
		t.Errorf("markdown carries raw HTML or escape sequences:\n%s", md)
	}
}

func TestInputsAreBounded(t *testing.T) {
	c, dir := applyWorld(t)
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("description: "+strings.Repeat("x", 2<<20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a change file over 1 MiB is refused", []string{"plan", c, "-f", big}, "a change file is at most 1 MiB"},
		{"a description over 4 KiB is refused", []string{"plan", "create-ou", c, "--name", "x", "--description", strings.Repeat("d", 5000)}, "more than the 4096 allowed"},
		{"invalid UTF-8 in a flag is refused at once", []string{"plan", "create-ou", c, "--name", "x\xff", "--out", filepath.Join(dir, "p.json")}, "not valid UTF-8"},
		{"invalid UTF-8 in an author is refused at once", []string{"plan", "create-ou", c, "--name", "x", "--author", "al\xffice"}, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := orgRun(t, tt.args...)
			if code != ExitBadInput || !strings.Contains(stderr, tt.want) {
				t.Fatalf("%v = %d, want %d saying %q\n%s%s", tt.name, code, ExitBadInput, tt.want, out, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "p.json")); err == nil {
		t.Errorf("a plan with an invalid UTF-8 flag was written")
	}
	code, out, _ := orgRun(t, "plans", c, "--json")
	if code == 0 && strings.Contains(out, `"id"`) {
		t.Errorf("a refused input left a plan in the store:\n%s", out)
	}
}

func TestMalformedPolicyInASnapshotIsBadInput(t *testing.T) {
	snap := generated(t, 20, "1")
	var s map[string]any
	b, _ := os.ReadFile(snap)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	ps := s["policies"].([]any)
	p := ps[len(ps)-1].(map[string]any)
	p["content"] = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": 5, "Resource": "*"}]}`
	delete(s, "fingerprint")
	bad := filepath.Join(t.TempDir(), "bad.json")
	b, _ = json.Marshal(s)
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := orgRun(t, "plan", "attach-policy", "--policy", "deny-all", "--target", "Root", "--snapshot", bad)
	if code != ExitBadInput || !strings.Contains(stderr, p["id"].(string)) || !strings.Contains(stderr, "Action must be a string") {
		t.Fatalf("plan on a snapshot with a malformed policy = %d, want %d naming the policy and the problem\n%s", code, ExitBadInput, stderr)
	}
}
