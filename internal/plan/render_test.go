package plan

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
)

// bigPlan is a plan of n account moves, each account affected.
func bigPlan(n int) *File {
	f := &File{ID: "plan-20261207-081500-abcdef01", BaseFingerprint: "sha256:0123456789abcdef", PlanHash: "sha256:fedcba9876543210"}
	f.Guard = guard.Verdict{Decision: guard.NeedsApprovals, Risk: guard.RiskHigh, RequiredApprovals: 2}
	g := impact.Group{Counts: impact.Counts{NewlyDenied: 3}, DeniedActions: []impact.Fold{{Pattern: "s3:Get*", Count: 3}}}
	for i := range n {
		id := fmt.Sprintf("%012d", 100000000000+i)
		f.Steps = append(f.Steps, change.Planned{Step: change.Step{Summary: fmt.Sprintf("move account acct-%d (%s) from OU /Customers/Some Long Name (ou-q47j-abcdefgh) to OU /Sandbox (ou-q47j-hgfedcba)", i, id)},
			Inverse: []change.Step{{Summary: fmt.Sprintf("move account acct-%d (%s) back to OU /Customers/Some Long Name (ou-q47j-abcdefgh)", i, id)}}})
		f.Impact.Accounts = append(f.Impact.Accounts, impact.AccountImpact{ID: id, Name: fmt.Sprintf("acct-%d", i), Path: "/Sandbox/acct", Counts: g.Counts})
		g.Accounts = append(g.Accounts, id)
	}
	f.Impact.AccountsAffected, f.Impact.AccountsTotal = n, n
	f.Impact.Groups = []impact.Group{g}
	return f
}

func TestMarkdownFitsInAGitHubComment(t *testing.T) {
	tests := []struct {
		name     string
		moves    int
		max      int
		wantCut  bool
		wantText []string
	}{
		{name: "a small plan is shown whole", moves: 3, wantText: []string{"Steps (3)", "Affected accounts (3)", "`s3:Get*` (3)"}},
		{name: "400 moves are cut to GitHub's limit, saying where the rest is", moves: 400, wantCut: true,
			wantText: []string{"Steps (400)", "more steps not shown", "the plan file `plans/big.json` has them all", "**What changes**"}},
		{name: "10,000 moves too", moves: 10000, wantCut: true, wantText: []string{"more accounts not shown", "plan hash"}},
		{name: "a smaller limit is kept", moves: 400, max: 8000, wantCut: true, wantText: []string{"more steps not shown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteMarkdown(&b, bigPlan(tt.moves), MarkdownOptions{MaxChars: tt.max, PlanFile: "plans/big.json"}); err != nil {
				t.Fatalf("WriteMarkdown() = %v", err)
			}
			limit := tt.max
			if limit == 0 {
				limit = GitHubCommentLimit
			}
			if n := utf8.RuneCountInString(b.String()); n > limit {
				t.Errorf("WriteMarkdown() wrote %d characters, more than %d", n, limit)
			}
			if got := strings.Contains(b.String(), "not shown"); got != tt.wantCut {
				t.Errorf("cut = %v, want %v", got, tt.wantCut)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output does not say %q", w)
				}
			}
			if strings.Count(b.String(), "<details>") != strings.Count(b.String(), "</details>") {
				t.Errorf("unbalanced <details> blocks")
			}
		})
	}
}

func TestMarkdownGivesRoomLeftByASmallBlockToALargeOne(t *testing.T) {
	f := bigPlan(10000)
	f.Steps = f.Steps[:3] // three steps, 10,000 affected accounts
	var b strings.Builder
	if err := WriteMarkdown(&b, f, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "more steps not shown") {
		t.Errorf("three steps were cut")
	}
	// The accounts fill what the steps leave: well over half the limit.
	if n := utf8.RuneCountInString(b.String()); n < GitHubCommentLimit*9/10 || n > GitHubCommentLimit {
		t.Errorf("%d characters, want most of the %d allowed", n, GitHubCommentLimit)
	}
}
