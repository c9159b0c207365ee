package guard

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// catalogSize stands for the number of actions in the IAM action catalog.
const catalogSize = 15000

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time.Parse(%q): %v", s, err)
	}
	return v
}

func acct(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// affectedAccounts returns n affected accounts, ids acct(0..n-1), each with
// denied newly denied actions, under OU ou.
func affectedAccounts(n, denied int, ous ...string) []AccountImpact {
	out := make([]AccountImpact, n)
	for i := range out {
		out[i] = AccountImpact{ID: acct(i), OUs: ous, NewlyDenied: denied}
	}
	return out
}

var root = func(n int) Target { return Target{ID: "r-ab12", Name: "Root", Kind: KindRoot, AccountsUnder: n} }

// accidentInput is the 2023 accident: a deny-all SCP attached to Root of an
// org of n member accounts. SCPs never affect the management account, so it
// is not among the affected accounts.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
func accidentInput(now time.Time, n int) Input {
	return Input{
		Now: now, Operation: "attach-policy",
		Targets: []Target{root(n)},
		Impact:  Impact{AccountsTotal: n, CatalogActions: catalogSize, Accounts: affectedAccounts(n, catalogSize)},
	}
}

// quarantineInput quarantines the first k accounts of an org of n: the
// deny-all with a break-glass exception makes every action conditional.
func quarantineInput(now time.Time, n, k int) Input {
	in := Input{Now: now, Operation: "quarantine", Quarantine: &Quarantine{OU: "ou-ab12-quar"},
		Targets: []Target{{ID: "ou-ab12-quar", Name: "Quarantine", Kind: KindOU}},
		Impact:  Impact{AccountsTotal: n, CatalogActions: catalogSize}}
	for i := range k {
		in.Quarantine.Accounts = append(in.Quarantine.Accounts, acct(i))
		in.Targets = append(in.Targets, Target{ID: acct(i), Kind: KindAccount, AccountsUnder: 1})
		in.Impact.Accounts = append(in.Impact.Accounts, AccountImpact{ID: acct(i), OUs: []string{"ou-ab12-quar"}, NewlyConditional: catalogSize - 2, NewlyDenied: 2})
	}
	return in
}

// tokyoConfig is Default() with the Tokyo windows.
func tokyoConfig() Config {
	c := Default()
	w := tokyo()
	w.RequiredFor = c.Windows.RequiredFor
	c.Windows = w
	return c
}

func mustCompile(t testing.TB, c Config) *Guard {
	t.Helper()
	g, err := Compile(c)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return g
}

// summary is the part of a verdict the table compares: each reason as
// "rule effect" plus " overridden" when it was.
type summary struct {
	Decision  Decision
	Approvals int
	Risk      Risk
	Reasons   []string
}

func summarize(v Verdict) summary {
	s := summary{Decision: v.Decision, Approvals: v.RequiredApprovals, Risk: v.Risk}
	for _, r := range v.Reasons {
		line := string(r.Rule) + " " + string(r.Effect)
		if r.Overridden {
			line += " overridden"
		}
		s.Reasons = append(s.Reasons, line)
	}
	return s
}

func TestEvaluate(t *testing.T) {
	// 2023-06-02 was a Friday: 17:15 JST is outside the Tokyo windows.
	friday1715 := mustTime(t, "2023-06-02T17:15:00+09:00")
	friday0200 := mustTime(t, "2023-06-02T02:00:00+09:00")
	tests := []struct {
		name   string
		cfg    func(*Config)
		in     func() Input
		want   summary
		checks func(t *testing.T, v Verdict)
	}{
		{
			name: "the 2023 accident, deny-all on Root of 1,000 accounts at 17:15 JST, is refused for every reason",
			in:   func() Input { return accidentInput(friday1715, 1000) },
			want: summary{Refused, 2, RiskCritical, []string{
				"protected-target refuse", "near-deny-all refuse", "threshold refuse", "threshold approvals",
				"window schedule", "confirmation notice"}},
			checks: func(t *testing.T, v Verdict) {
				wantMsgs := map[Rule]string{
					RuleProtectedTarget: "the change targets Root r-ab12 (1,000 accounts), which is always protected",
					RuleNearDenyAll:     "newly denies or makes conditional more than 90% of the catalog's 15,000 actions in 1,000 accounts (up to 100%) on a broad scope (Root r-ab12 is the root, 1,000 accounts)",
					RuleThreshold:       "the change affects 1,000 of 1,000 accounts (100%), more than 50% of the organization: refused",
					RuleWindow:          "Fri 2023-06-02 17:15 JST is outside every window; the next allowed time is Sat 2023-06-03 00:00 JST",
				}
				for rule, want := range wantMsgs {
					if !hasMessage(v, rule, want) {
						t.Errorf("no %s reason containing %q in %s", rule, want, messages(v))
					}
				}
				if !v.RequireWindow || v.InWindow {
					t.Errorf("RequireWindow, InWindow = %v, %v; want true, false", v.RequireWindow, v.InWindow)
				}
				if want := mustTime(t, "2023-06-03T00:00:00+09:00"); !v.NextWindowStart.Equal(want) {
					t.Errorf("NextWindowStart = %v, want %v", v.NextWindowStart, want)
				}
				if !v.RequiresConfirmation || v.ConfirmationText != "Root r-ab12 (1,000 accounts)" {
					t.Errorf("confirmation = %v %q, want true %q", v.RequiresConfirmation, v.ConfirmationText, "Root r-ab12 (1,000 accounts)")
				}
			},
		},
		{
			name: "the accident evaluated at apply time refuses for the window too",
			in:   func() Input { in := accidentInput(friday1715, 1000); in.Stage = StageApply; return in },
			want: summary{Refused, 2, RiskCritical, []string{
				"protected-target refuse", "near-deny-all refuse", "threshold refuse", "threshold approvals",
				"window refuse", "confirmation notice"}},
		},
		{
			name: "the intended quarantine of 3 accounts needs one approval and matches its intent exactly",
			in:   func() Input { return quarantineInput(friday1715, 1000, 3) },
			want: summary{NeedsApprovals, 1, RiskMedium, []string{"near-deny-all notice", "approvals approvals"}},
			checks: func(t *testing.T, v Verdict) {
				if v.RequireWindow || v.RequiresConfirmation {
					t.Errorf("RequireWindow, RequiresConfirmation = %v, %v; want false, false for a medium quarantine", v.RequireWindow, v.RequiresConfirmation)
				}
			},
		},
		{
			name: "a quarantine whose blast radius exceeds the named accounts is refused, listing the extra account",
			in: func() Input {
				in := quarantineInput(friday1715, 1000, 3)
				in.Impact.Accounts = append(in.Impact.Accounts, AccountImpact{ID: acct(99), NewlyDenied: catalogSize})
				return in
			},
			want: summary{Refused, 1, RiskHigh, []string{"intent refuse", "near-deny-all notice", "approvals approvals", "window schedule", "confirmation notice"}},
			checks: func(t *testing.T, v Verdict) {
				want := "the quarantine names 3 accounts, but the change affects 4 accounts: 1 account affected but not declared: " + acct(99)
				if !hasMessage(v, RuleIntent, want) {
					t.Errorf("no intent reason %q in %s", want, messages(v))
				}
			},
		},
		{
			name: "the quarantine exemption does not cover a deny-all on another OU",
			in: func() Input {
				in := quarantineInput(friday1715, 1000, 3)
				in.Targets = append(in.Targets, Target{ID: "ou-ab12-prod", Name: "Prod", Kind: KindOU, AccountsUnder: 400})
				return in
			},
			want: summary{Refused, 1, RiskCritical, []string{"near-deny-all refuse", "approvals approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "a deny-all on a small OU is not broad but is high risk",
			in: func() Input {
				return Input{Now: friday0200, Targets: []Target{{ID: "ou-ab12-sbx", Name: "Sandbox", Kind: KindOU, AccountsUnder: 5}},
					Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(5, catalogSize)}}
			},
			want: summary{NeedsApprovals, 1, RiskHigh, []string{"near-deny-all notice", "approvals approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "a deny-all on an OU of 11 accounts is broad (more than 10)",
			in: func() Input {
				return Input{Now: friday0200, Targets: []Target{{ID: "ou-ab12-dev", Name: "Dev", Kind: KindOU, AccountsUnder: 11}},
					Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(11, catalogSize)}}
			},
			want: summary{Refused, 2, RiskCritical, []string{"near-deny-all refuse", "threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "a deny-all on an OU of 10 accounts in an org of 200 is not broad (10 is not more than 10, 5% is not more than 10%)",
			in: func() Input {
				return Input{Now: friday0200, Targets: []Target{{ID: "ou-ab12-dev", Name: "Dev", Kind: KindOU, AccountsUnder: 10}},
					Impact: Impact{AccountsTotal: 200, CatalogActions: catalogSize, Accounts: affectedAccounts(10, catalogSize)}}
			},
			want: summary{NeedsApprovals, 1, RiskHigh, []string{"near-deny-all notice", "approvals approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "a deny-all on an OU holding 20% of a small org is broad by share",
			in: func() Input {
				return Input{Now: friday0200, Targets: []Target{{ID: "ou-ab12-dev", Name: "Dev", Kind: KindOU, AccountsUnder: 4}},
					Impact: Impact{AccountsTotal: 20, CatalogActions: catalogSize, Accounts: affectedAccounts(4, catalogSize)}}
			},
			want: summary{Refused, 2, RiskCritical, []string{"near-deny-all refuse", "threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "denying 90% exactly is not near-deny-all (more than 90% is)",
			in: func() Input {
				return Input{Now: friday0200, Targets: []Target{root(1000)},
					Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(3, catalogSize*9/10)}}
			},
			want: summary{Refused, 1, RiskHigh, []string{"protected-target refuse", "approvals approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "newly conditional actions count toward near-deny-all by default (a break-glass exception does not hide a deny-all)",
			in: func() Input {
				in := accidentInput(friday0200, 1000)
				for i := range in.Impact.Accounts {
					in.Impact.Accounts[i].NewlyDenied, in.Impact.Accounts[i].NewlyConditional = 0, catalogSize
				}
				return in
			},
			want: summary{Refused, 2, RiskCritical, []string{
				"protected-target refuse", "near-deny-all refuse", "threshold refuse", "threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "with ignoreConditional, newly conditional actions do not count",
			cfg:  func(c *Config) { c.DenyAll.IgnoreConditional = true },
			in: func() Input {
				in := accidentInput(friday0200, 1000)
				for i := range in.Impact.Accounts {
					in.Impact.Accounts[i].NewlyDenied, in.Impact.Accounts[i].NewlyConditional = 0, catalogSize
				}
				return in
			},
			want: summary{Refused, 2, RiskCritical, []string{"protected-target refuse", "threshold refuse", "threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "a change that affects no account is allowed without approvals",
			in: func() Input {
				return Input{Now: friday1715, Operation: "create-policy", Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize}}
			},
			want: summary{Allowed, 0, RiskLow, nil},
		},
		{
			name: "one affected account needs the minimum of one approval",
			in: func() Input {
				return Input{Now: friday1715, Targets: []Target{{ID: acct(0), Kind: KindAccount, AccountsUnder: 1}},
					Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(1, 10)}}
			},
			want: summary{NeedsApprovals, 1, RiskMedium, []string{"approvals approvals"}},
		},
		{
			name: "10 affected accounts stay at one approval (the tier is more than 10)",
			in: func() Input {
				return Input{Now: friday1715, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(10, 10)}}
			},
			want: summary{NeedsApprovals, 1, RiskMedium, []string{"approvals approvals"}},
		},
		{
			name: "11 affected accounts need two approvals and are high risk",
			in: func() Input {
				return Input{Now: friday0200, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(11, 10)}}
			},
			want: summary{NeedsApprovals, 2, RiskHigh, []string{"threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "6 of 100 accounts (more than 5% of the org) need two approvals",
			in: func() Input {
				return Input{Now: friday1715, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize, Accounts: affectedAccounts(6, 10)}}
			},
			want: summary{NeedsApprovals, 2, RiskMedium, []string{"threshold approvals"}},
		},
		{
			name: "5 of 100 accounts (exactly 5%) need one approval",
			in: func() Input {
				return Input{Now: friday1715, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize, Accounts: affectedAccounts(5, 10)}}
			},
			want: summary{NeedsApprovals, 1, RiskMedium, []string{"approvals approvals"}},
		},
		{
			name: "exactly half of the org is not refused (the tier is more than 50%)",
			in: func() Input {
				return Input{Now: friday0200, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize, Accounts: affectedAccounts(50, 10)}}
			},
			want: summary{NeedsApprovals, 2, RiskHigh, []string{"threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			// The remediation of the 2023 accident: detaching the deny-all from
			// Root gives every account its actions back. Nobody loses access,
			// so the refusing tier (an outage guard) does not apply; the
			// approval tier still does, and Root stays protected.
			name: "a change that only restores access to the whole org is not refused by the thresholds",
			in: func() Input {
				in := Input{Now: friday0200, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize}}
				for i := range 100 {
					in.Impact.Accounts = append(in.Impact.Accounts, AccountImpact{ID: acct(i), NewlyAllowed: catalogSize})
				}
				return in
			},
			want: summary{NeedsApprovals, 2, RiskCritical, []string{"threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "detaching a deny-all from Root is still refused as a change on Root, not as a loss",
			in: func() Input {
				in := Input{Now: friday0200, Targets: []Target{root(100)}, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize}}
				for i := range 100 {
					in.Impact.Accounts = append(in.Impact.Accounts, AccountImpact{ID: acct(i), NewlyAllowed: catalogSize})
				}
				return in
			},
			want: summary{Refused, 2, RiskCritical, []string{"protected-target refuse", "threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			// Detaching a deny-all where a condition-bearing SCP stays: most
			// actions go from denied to conditional. Partly restored access is
			// no near-deny-all and no loss.
			name: "actions going from denied to conditional are neither a near-deny-all nor a loss",
			in: func() Input {
				in := Input{Now: friday0200, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize}}
				for i := range 100 {
					in.Impact.Accounts = append(in.Impact.Accounts, AccountImpact{ID: acct(i), NewlyConditional: catalogSize - 10, ConditionalFromDenied: catalogSize - 10, NewlyAllowed: 10})
				}
				return in
			},
			want: summary{NeedsApprovals, 2, RiskCritical, []string{"threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "a change where 51 of 100 accounts lose access and the rest gain is refused, counting the losses",
			in: func() Input {
				in := Input{Now: friday0200, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize, Accounts: affectedAccounts(51, 10)}}
				for i := 51; i < 100; i++ {
					in.Impact.Accounts = append(in.Impact.Accounts, AccountImpact{ID: acct(i), NewlyAllowed: 10})
				}
				return in
			},
			want: summary{Refused, 2, RiskCritical, []string{"threshold refuse", "threshold approvals", "window schedule", "confirmation notice"}},
			checks: func(t *testing.T, v Verdict) {
				for _, r := range v.Reasons {
					if r.Rule == RuleThreshold && r.Effect == EffectRefuse && !strings.Contains(r.Message, "restricts access in 51 of 100 accounts") {
						t.Errorf("refusal %q does not count the 51 accounts that lose access", r.Message)
					}
				}
			},
		},
		{
			name: "49 accounts losing access and 51 gaining is not refused (gains are not losses)",
			in: func() Input {
				in := Input{Now: friday0200, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize, Accounts: affectedAccounts(49, 10)}}
				for i := 49; i < 100; i++ {
					in.Impact.Accounts = append(in.Impact.Accounts, AccountImpact{ID: acct(i), NewlyAllowed: 10})
				}
				return in
			},
			want: summary{NeedsApprovals, 2, RiskCritical, []string{"threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "more than half of the org is refused",
			in: func() Input {
				return Input{Now: friday0200, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize, Accounts: affectedAccounts(51, 10)}}
			},
			want: summary{Refused, 2, RiskCritical, []string{"threshold refuse", "threshold approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "a threshold refusal overridden with a reason needs one extra approval",
			in: func() Input {
				in := Input{Now: friday0200, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize, Accounts: affectedAccounts(51, 10)}}
				in.Overrides = []Override{{Rule: RuleThreshold, Reason: "org-wide tag policy rollout, CHG-1234"}}
				return in
			},
			want: summary{NeedsApprovals, 3, RiskCritical, []string{"threshold refuse overridden", "threshold approvals", "window schedule", "confirmation notice", "override approvals"}},
			checks: func(t *testing.T, v Verdict) {
				want := []Override{{Rule: RuleThreshold, Reason: "org-wide tag policy rollout, CHG-1234"}}
				if d := cmp.Diff(v.Overrides, want); d != "" {
					t.Errorf("recorded overrides (-got +want):\n%s", d)
				}
			},
		},
		{
			name: "an override without a reason is ignored and the refusal stands",
			in: func() Input {
				in := Input{Now: friday0200, Impact: Impact{AccountsTotal: 100, CatalogActions: catalogSize, Accounts: affectedAccounts(51, 10)}}
				in.Overrides = []Override{{Rule: RuleThreshold, Reason: "  "}}
				return in
			},
			want: summary{Refused, 2, RiskCritical, []string{"threshold refuse", "threshold approvals", "window schedule", "confirmation notice", "override notice"}},
		},
		{
			name: "a protected OU targeted directly is refused",
			in: func() Input {
				return Input{Now: friday1715, ProtectedIDs: []string{"ou-ab12-sec"},
					Targets: []Target{{ID: "ou-ab12-sec", Name: "Security", Kind: KindOU, AccountsUnder: 2}},
					Impact:  Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(2, 5, "ou-ab12-sec")}}
			},
			want: summary{Refused, 1, RiskHigh, []string{"protected-target refuse", "protected-target refuse", "approvals approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "an account under a protected OU, affected from a parent, is refused",
			in: func() Input {
				return Input{Now: friday1715, ProtectedIDs: []string{"ou-ab12-sec"},
					Targets: []Target{{ID: "ou-ab12-core", Name: "Core", Kind: KindOU, AccountsUnder: 4}},
					Impact:  Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(2, 5, "ou-ab12-core", "ou-ab12-sec")}}
			},
			want: summary{Refused, 1, RiskHigh, []string{"protected-target refuse", "approvals approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "a protected target overridden with a reason, inside a window, needs an extra approval",
			in: func() Input {
				in := Input{Now: friday0200, ProtectedIDs: []string{"ou-ab12-sec"},
					Targets: []Target{{ID: "ou-ab12-sec", Name: "Security", Kind: KindOU, AccountsUnder: 2}},
					Impact:  Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(2, 5, "ou-ab12-sec")}}
				in.Overrides = []Override{{Rule: RuleProtectedTarget, Reason: "rotate the log-archive guardrail, CHG-42"}}
				return in
			},
			want: summary{NeedsApprovals, 2, RiskHigh, []string{"protected-target refuse overridden", "protected-target refuse overridden", "approvals approvals", "window schedule", "confirmation notice", "override approvals"}},
		},
		{
			name: "near-deny-all is not overridable by default",
			in: func() Input {
				in := accidentInput(friday0200, 1000)
				in.Overrides = []Override{{Rule: RuleProtectedTarget, Reason: "r"}, {Rule: RuleThreshold, Reason: "r"}, {Rule: RuleNearDenyAll, Reason: "r"}}
				return in
			},
			want: summary{Refused, 4, RiskCritical, []string{
				"protected-target refuse overridden", "near-deny-all refuse", "threshold refuse overridden", "threshold approvals",
				"window schedule", "confirmation notice", "override approvals", "override approvals", "override notice"}},
		},
		{
			name: "near-deny-all can be overridden when the configuration allows it",
			cfg:  func(c *Config) { c.Overrides.Allow = append(c.Overrides.Allow, RuleNearDenyAll) },
			in: func() Input {
				in := Input{Now: friday0200, Targets: []Target{{ID: "ou-ab12-susp", Name: "Suspended", Kind: KindOU, AccountsUnder: 40}},
					Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(40, catalogSize)}}
				in.Overrides = []Override{{Rule: RuleNearDenyAll, Reason: "deny-all on the Suspended OU of closed accounts"}}
				return in
			},
			want: summary{NeedsApprovals, 3, RiskCritical, []string{"near-deny-all refuse overridden", "threshold approvals", "window schedule", "confirmation notice", "override approvals"}},
		},
		{
			name: "losing the recovery path is refused and cannot be overridden",
			in: func() Input {
				in := Input{Now: friday0200, Targets: []Target{{ID: acct(0), Kind: KindAccount, AccountsUnder: 1}},
					Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(1, 10),
						RecoveryPathLost: true, RecoveryPathDetail: "orgguard runs as delegated administrator 100000000000, which would lose organizations:DetachPolicy"}}
				in.Overrides = []Override{{Rule: RuleRecoveryPath, Reason: "trust me"}}
				return in
			},
			want: summary{Refused, 1, RiskCritical, []string{"recovery-path refuse", "approvals approvals", "window schedule", "confirmation notice", "override notice"}},
		},
		{
			name: "an impact reaching the management account is refused",
			in: func() Input {
				in := Input{Now: friday0200, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(1, 10), ManagementAccountAffected: true}}
				return in
			},
			want: summary{Refused, 1, RiskCritical, []string{"recovery-path refuse", "approvals approvals", "window schedule", "confirmation notice"}},
		},
		{
			name: "a declared count that differs is refused and cannot be overridden",
			in: func() Input {
				n := 3
				in := Input{Now: friday1715, Intent: &Intent{Count: &n}, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(4, 10)}}
				in.Overrides = []Override{{Rule: RuleIntent, Reason: "close enough"}}
				return in
			},
			want: summary{Refused, 1, RiskMedium, []string{"intent refuse", "approvals approvals", "override notice"}},
		},
		{
			name: "a declared account list that matches is not mentioned",
			in: func() Input {
				return Input{Now: friday1715, Intent: &Intent{Accounts: []string{acct(1), acct(0)}}, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(2, 10)}}
			},
			want: summary{NeedsApprovals, 1, RiskMedium, []string{"approvals approvals"}},
		},
		{
			name: "an override of a rule that did not refuse has no effect and adds no approval",
			in: func() Input {
				in := Input{Now: friday1715, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(1, 10)}}
				in.Overrides = []Override{{Rule: RuleProtectedTarget, Reason: "just in case"}}
				return in
			},
			want: summary{NeedsApprovals, 1, RiskMedium, []string{"approvals approvals", "override notice"}},
		},
		{
			name: "a window override at plan time is recorded and costs an approval",
			in: func() Input {
				in := Input{Now: friday1715, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(11, 10)}}
				in.Overrides = []Override{{Rule: RuleWindow, Reason: "incident INC-7 mitigation"}}
				return in
			},
			want: summary{NeedsApprovals, 3, RiskHigh, []string{"threshold approvals", "window schedule overridden", "confirmation notice", "override approvals"}},
		},
		{
			name: "an active freeze restricts a medium change at plan time",
			cfg: func(c *Config) {
				c.Windows.Freezes = []FreezeSpec{{From: "2023-06-01", To: "2023-06-05", Reason: "quarter close"}}
			},
			in: func() Input {
				return Input{Now: friday1715, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(1, 10)}}
			},
			want: summary{NeedsApprovals, 1, RiskMedium, []string{"approvals approvals", "freeze schedule"}},
			checks: func(t *testing.T, v Verdict) {
				if v.ActiveFreeze == nil || v.ActiveFreeze.Reason != "quarter close" {
					t.Errorf("ActiveFreeze = %+v, want the quarter close freeze", v.ActiveFreeze)
				}
				if want := mustTime(t, "2023-06-06T00:00:00+09:00"); !v.NextWindowStart.Equal(want) {
					t.Errorf("NextWindowStart = %v, want the end of the freeze %v", v.NextWindowStart, want)
				}
			},
		},
		{
			name: "an active freeze refuses a medium change at apply time",
			cfg: func(c *Config) {
				c.Windows.Freezes = []FreezeSpec{{From: "2023-06-01", To: "2023-06-05", Reason: "quarter close"}}
			},
			in: func() Input {
				return Input{Now: friday1715, Stage: StageApply, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(1, 10)}}
			},
			want: summary{Refused, 1, RiskMedium, []string{"approvals approvals", "freeze refuse"}},
		},
		{
			name: "a freeze takes precedence over an open window at apply time",
			cfg: func(c *Config) {
				c.Windows.Freezes = []FreezeSpec{{From: "2023-06-01", To: "2023-06-05", Reason: "quarter close"}}
			},
			in: func() Input {
				return Input{Now: friday0200, Stage: StageApply, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(11, 10)}}
			},
			want: summary{Refused, 2, RiskHigh, []string{"threshold approvals", "freeze refuse", "confirmation notice"}},
		},
		{
			name: "a freeze does not block a low-risk change",
			cfg: func(c *Config) {
				c.Windows.Freezes = []FreezeSpec{{From: "2023-06-01", To: "2023-06-05", Reason: "quarter close"}}
			},
			in: func() Input {
				return Input{Now: friday1715, Stage: StageApply, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize}}
			},
			want: summary{Allowed, 0, RiskLow, nil},
		},
		{
			name: "a freeze overridden with a reason lets the change through at apply, with an extra approval",
			cfg: func(c *Config) {
				c.Windows.Freezes = []FreezeSpec{{From: "2023-06-01", To: "2023-06-05", Reason: "quarter close"}}
			},
			in: func() Input {
				return Input{Now: friday1715, Stage: StageApply, Overrides: []Override{{Rule: RuleFreeze, Reason: "security fix"}},
					Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(1, 10)}}
			},
			want: summary{NeedsApprovals, 2, RiskMedium, []string{"approvals approvals", "freeze refuse overridden", "override approvals"}},
		},
		{
			name: "without configured windows a high-risk change needs a window override",
			cfg:  func(c *Config) { c.Windows = Default().Windows },
			in: func() Input {
				return Input{Now: friday0200, Stage: StageApply, Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(11, 10)}}
			},
			want: summary{Refused, 2, RiskHigh, []string{"threshold approvals", "window refuse", "confirmation notice"}},
			checks: func(t *testing.T, v Verdict) {
				if !hasMessage(v, RuleWindow, "none is configured (guardrails.windows.weekly)") {
					t.Errorf("window reason does not say none is configured: %s", messages(v))
				}
			},
		},
		{
			name: "the caller's confirmation text is carried verbatim",
			in: func() Input {
				in := Input{Now: friday0200, Targets: []Target{{ID: "ou-ab12-dev", Name: "Dev", Kind: KindOU, AccountsUnder: 30}},
					Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(30, 10)}}
				in.ConfirmationText = "OU Dev ou-ab12-dev (30 accounts)"
				return in
			},
			want: summary{NeedsApprovals, 2, RiskHigh, []string{"threshold approvals", "window schedule", "confirmation notice"}},
			checks: func(t *testing.T, v Verdict) {
				if v.ConfirmationText != "OU Dev ou-ab12-dev (30 accounts)" {
					t.Errorf("ConfirmationText = %q", v.ConfirmationText)
				}
			},
		},
		{
			name: "typed confirmation can be required from medium",
			cfg:  func(c *Config) { c.Confirmation.RequiredFrom = RiskMedium },
			in: func() Input {
				return Input{Now: friday1715, Targets: []Target{{ID: acct(0), Name: "prod-1", Kind: KindAccount, AccountsUnder: 1}},
					Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(1, 10)}}
			},
			want: summary{NeedsApprovals, 1, RiskMedium, []string{"approvals approvals", "confirmation notice"}},
			checks: func(t *testing.T, v Verdict) {
				if want := "account prod-1 " + acct(0); v.ConfirmationText != want {
					t.Errorf("ConfirmationText = %q, want %q", v.ConfirmationText, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tokyoConfig()
			if tt.cfg != nil {
				tt.cfg(&c)
			}
			g := mustCompile(t, c)
			in := tt.in()
			v, err := g.Evaluate(in)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if d := cmp.Diff(summarize(v), tt.want); d != "" {
				t.Errorf("Evaluate (-got +want):\n%s\nmessages:\n%s", d, messages(v))
			}
			for _, r := range v.Reasons {
				if strings.TrimSpace(r.Message) == "" {
					t.Errorf("reason %s has no message", r.Rule)
				}
			}
			if tt.checks != nil {
				tt.checks(t, v)
			}
			again, _ := g.Evaluate(in)
			if d := cmp.Diff(v, again); d != "" {
				t.Errorf("Evaluate is not deterministic (-first +second):\n%s", d)
			}
		})
	}
}

func hasMessage(v Verdict, rule Rule, sub string) bool {
	for _, r := range v.Reasons {
		if r.Rule == rule && strings.Contains(r.Message, sub) {
			return true
		}
	}
	return false
}

func messages(v Verdict) string {
	var b strings.Builder
	for _, r := range v.Reasons {
		fmt.Fprintf(&b, "  %s %s: %s\n", r.Rule, r.Effect, r.Message)
	}
	return b.String()
}

func TestIntentListsDifferencesSortedAndTruncated(t *testing.T) {
	now := mustTime(t, "2023-06-02T17:15:00+09:00")
	g := mustCompile(t, tokyoConfig())
	declared := []string{acct(2), acct(1), "999999999999", acct(0)}
	in := accidentInput(now, 1000)
	in.Intent = &Intent{Accounts: declared}
	v, err := g.Evaluate(in)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	var got *Reason
	for i := range v.Reasons {
		if v.Reasons[i].Rule == RuleIntent {
			got = &v.Reasons[i]
		}
	}
	if got == nil {
		t.Fatalf("no intent reason in %s", messages(v))
	}
	if d := cmp.Diff(got.Missing, []string{"999999999999"}); d != "" {
		t.Errorf("Missing (-got +want):\n%s", d)
	}
	if len(got.Unexpected) != 997 || got.Unexpected[0] != acct(3) || got.Unexpected[996] != acct(999) {
		t.Errorf("Unexpected has %d ids from %v, want 997 sorted from %s to %s", len(got.Unexpected), got.Unexpected[:1], acct(3), acct(999))
	}
	want := "the declared intent names 4 accounts, but the change affects 1,000 accounts: 1 account declared but not affected: 999999999999; " +
		"997 accounts affected but not declared: " + strings.Join([]string{acct(3), acct(4), acct(5), acct(6), acct(7), acct(8), acct(9), acct(10), acct(11), acct(12)}, ", ") + " and 987 more"
	if got.Message != want {
		t.Errorf("intent message =\n%q\nwant\n%q", got.Message, want)
	}
	if got.Overridable {
		t.Errorf("intent reason is overridable, want never")
	}
}

func TestCheckApply(t *testing.T) {
	friday1715 := mustTime(t, "2023-06-02T17:15:00+09:00")
	saturday := mustTime(t, "2023-06-03T10:00:00+09:00")
	g := mustCompile(t, tokyoConfig())
	high := Input{Now: friday1715, Targets: []Target{{ID: "ou-ab12-dev", Name: "Dev", Kind: KindOU, AccountsUnder: 30}},
		Impact: Impact{AccountsTotal: 1000, CatalogActions: catalogSize, Accounts: affectedAccounts(30, 10)}}
	plan, err := g.Evaluate(high)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	overridden := high
	overridden.Overrides = []Override{{Rule: RuleWindow, Reason: "incident INC-7"}}
	planOverridden, _ := g.Evaluate(overridden)
	refusedPlan, _ := g.Evaluate(accidentInput(friday1715, 1000))
	const text = "OU Dev ou-ab12-dev (30 accounts)"

	tests := []struct {
		name    string
		v       Verdict
		now     time.Time
		typed   string
		wantOK  bool
		wantMsg string
	}{
		{"inside a window with the exact text it may run", plan, saturday, text, true, ""},
		{"surrounding spaces in the typed text are ignored", plan, saturday, "  " + text + "\n", true, ""},
		{"outside a window it is refused with the next opening", plan, friday1715, text, false, "the next allowed time is Sat 2023-06-03 00:00 JST"},
		{"typing yes is not a confirmation", plan, saturday, "yes", false, `the typed confirmation "yes" does not match; type exactly "OU Dev ou-ab12-dev (30 accounts)"`},
		{"a missing confirmation is refused", plan, saturday, "", false, `type exactly "OU Dev ou-ab12-dev (30 accounts)" to confirm`},
		{"a case difference is not the same text", plan, saturday, strings.ToLower(text), false, "does not match"},
		{"a window override recorded in the plan lets it run outside a window", planOverridden, friday1715, text, true, ""},
		{"a refused plan can never be applied", refusedPlan, saturday, "Root r-ab12 (1,000 accounts)", false, "a refused plan can never be applied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := g.CheckApply(tt.v, tt.now, tt.typed)
			if got.OK != tt.wantOK {
				t.Errorf("CheckApply(%v, %q).OK = %v, want %v; reasons:\n%s", tt.now, tt.typed, got.OK, tt.wantOK, messages(Verdict{Reasons: got.Reasons}))
			}
			if tt.wantMsg != "" && !strings.Contains(messages(Verdict{Reasons: got.Reasons}), tt.wantMsg) {
				t.Errorf("CheckApply reasons lack %q:\n%s", tt.wantMsg, messages(Verdict{Reasons: got.Reasons}))
			}
		})
	}
}

func TestEvaluateRejectsMalformedInput(t *testing.T) {
	now := mustTime(t, "2023-06-02T17:15:00+09:00")
	g := mustCompile(t, Default())
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"a missing clock", Input{}, "now: the clock is required"},
		{"an unknown target kind", Input{Now: now, Targets: []Target{{ID: "x", Kind: "folder"}}}, `targets[0].kind: "folder" is not root, ou or account`},
		{"more affected accounts than the org has", Input{Now: now, Impact: Impact{AccountsTotal: 1, CatalogActions: 5, Accounts: affectedAccounts(2, 1)}}, "impact.accounts: 2 affected but the organization has 1 account"},
		{"an account listed twice", Input{Now: now, Impact: Impact{AccountsTotal: 5, CatalogActions: 5, Accounts: []AccountImpact{{ID: "a"}, {ID: "a"}}}}, "impact.accounts[1].id: account a is listed twice"},
		{"more changed actions than the catalog", Input{Now: now, Impact: Impact{AccountsTotal: 5, CatalogActions: 5, Accounts: []AccountImpact{{ID: "a", NewlyDenied: 6}}}}, "impact.accounts[0]: 6 actions changed but the catalog has 5 actions"},
		{"an unknown override rule", Input{Now: now, Overrides: []Override{{Rule: "windw", Reason: "x"}}}, `overrides[0].rule: unknown rule "windw"`},
		{"a negative intent count", Input{Now: now, Intent: &Intent{Count: intp(-1)}}, "intent.count: negative"},
		{"a quarantine without accounts", Input{Now: now, Quarantine: &Quarantine{OU: "ou-q"}}, "quarantine.accounts: a quarantine names at least one account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := g.Evaluate(tt.in)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Evaluate() error = %v, want ErrInvalidInput containing %q", err, tt.want)
			}
		})
	}
}

func TestVerdictJSONUsesCamelCase(t *testing.T) {
	g := mustCompile(t, tokyoConfig())
	v, err := g.Evaluate(accidentInput(mustTime(t, "2023-06-02T17:15:00+09:00"), 1000))
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	for _, key := range []string{`"decision":"refused"`, `"requiredApprovals":2`, `"risk":"critical"`, `"reasons":[`, `"rule":"protected-target"`,
		`"effect":"refuse"`, `"overridable":true`, `"requireWindow":true`, `"inWindow":false`, `"nextWindowStart":"2023-06-03T00:00:00+09:00"`,
		`"requiresConfirmation":true`, `"confirmationText":"Root r-ab12 (1,000 accounts)"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("verdict JSON lacks %s:\n%s", key, b)
		}
	}
	var back Verdict
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if back.Risk != v.Risk || back.Decision != v.Decision || len(back.Reasons) != len(v.Reasons) {
		t.Errorf("round trip changed the verdict: %+v", back)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	g := mustCompile(b, tokyoConfig())
	in := accidentInput(mustTime(b, "2023-06-02T17:15:00+09:00"), 10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Evaluate(in); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReasonIDListsAreCapped(t *testing.T) {
	g := mustCompile(t, tokyoConfig())
	in := accidentInput(mustTime(t, "2023-06-02T17:15:00+09:00"), 10000)
	in.Intent = &Intent{Count: intp(3)}
	in.Quarantine = &Quarantine{OU: "ou-ab12-quar", Accounts: []string{"123456789012"}}
	v, err := g.Evaluate(in)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	var sawNear, sawIntent bool
	for _, r := range v.Reasons {
		switch {
		case r.Rule == RuleNearDenyAll:
			sawNear = true
			if len(r.IDs) != MaxListedIDs || r.MoreIDs != 10000-MaxListedIDs {
				t.Errorf("near-deny-all lists %d ids and %d more, want %d and %d", len(r.IDs), r.MoreIDs, MaxListedIDs, 10000-MaxListedIDs)
			}
		case r.Rule == RuleIntent && r.Unexpected != nil:
			sawIntent = true
			if len(r.Unexpected) != MaxListedIDs || r.MoreUnexpected != 10000-MaxListedIDs || len(r.Missing) != 1 {
				t.Errorf("intent lists %d unexpected (+%d) and %d missing, want %d (+%d) and 1", len(r.Unexpected), r.MoreUnexpected, len(r.Missing), MaxListedIDs, 10000-MaxListedIDs)
			}
		}
	}
	if !sawNear || !sawIntent {
		t.Errorf("missing reasons (near-deny-all %v, intent %v):\n%s", sawNear, sawIntent, messages(v))
	}
	if !hasMessage(v, RuleIntent, "the declared intent is 3 accounts, but the change affects 10,000 accounts") {
		t.Errorf("no count intent reason:\n%s", messages(v))
	}
}

func TestGuardIsSafeForConcurrentUse(t *testing.T) {
	g := mustCompile(t, tokyoConfig())
	now := mustTime(t, "2023-06-02T17:15:00+09:00")
	want, err := g.Evaluate(accidentInput(now, 200))
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	done := make(chan Verdict)
	for range 4 {
		go func() {
			v, _ := g.Evaluate(accidentInput(now, 200))
			g.CheckApply(v, now, "x")
			done <- v
		}()
	}
	for range 4 {
		if d := cmp.Diff(<-done, want); d != "" {
			t.Errorf("concurrent Evaluate differs (-got +want):\n%s", d)
		}
	}
}

func TestZeroVerdictEncodes(t *testing.T) {
	b, err := json.Marshal(Verdict{})
	if err != nil {
		t.Fatalf("json.Marshal(Verdict{}) = %v, want no error (a plan may carry no verdict yet)", err)
	}
	var v Verdict
	if err := json.Unmarshal(b, &v); err != nil || v.Risk != 0 {
		t.Errorf("json.Unmarshal(%s) = %v, risk %v; want the zero verdict back", b, err, v.Risk)
	}
}
