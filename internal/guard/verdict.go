package guard

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/display"
)

// Rule names a guardrail. Rule names appear in reasons, in overrides and in
// the overrides.allow configuration.
type Rule string

// The rules.
const (
	RuleProtectedTarget Rule = "protected-target" // a protected node is targeted or affected
	RuleNearDenyAll     Rule = "near-deny-all"    // nearly every action denied on a broad scope
	RuleThreshold       Rule = "threshold"        // accounts affected above a tier
	RuleWindow          Rule = "window"           // outside a maintenance window
	RuleFreeze          Rule = "freeze"           // inside a change freeze
	RuleRecoveryPath    Rule = "recovery-path"    // the management account could no longer undo it
	RuleIntent          Rule = "intent"           // blast radius differs from the declared intent
	RuleApprovals       Rule = "approvals"        // the base approval for any change of access
	RuleConfirmation    Rule = "confirmation"     // typed confirmation needed at apply
	RuleOverride        Rule = "override"         // overrides applied, or ignored and why
	RuleVerdict         Rule = "verdict"          // apply of a plan whose verdict was refused
)

var allRules = []Rule{RuleProtectedTarget, RuleNearDenyAll, RuleThreshold, RuleWindow, RuleFreeze,
	RuleRecoveryPath, RuleIntent, RuleApprovals, RuleConfirmation, RuleOverride}

// overridableRules may appear in overrides.allow; the others never can.
var overridableRules = []Rule{RuleProtectedTarget, RuleNearDenyAll, RuleThreshold, RuleWindow, RuleFreeze}

func (r Rule) known() bool { return slices.Contains(allRules, r) }

func ruleNames(rs []Rule) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// Effect says what a reason does to the verdict.
type Effect string

// Effects.
const (
	// EffectRefuse refuses the change unless the reason is overridden.
	EffectRefuse Effect = "refuse"
	// EffectApprovals raises the number of approvals required.
	EffectApprovals Effect = "approvals"
	// EffectSchedule, at plan time, restricts when apply may run (a window
	// is required, or a freeze is active now); apply refuses outside it.
	EffectSchedule Effect = "schedule"
	// EffectNotice informs without changing the decision.
	EffectNotice Effect = "notice"
)

// Decision is the outcome of a verdict.
type Decision string

// Decisions.
const (
	Allowed        Decision = "allowed"
	NeedsApprovals Decision = "needs-approvals"
	Refused        Decision = "refused"
)

// TargetKind is the kind of an organization node.
type TargetKind string

// Target kinds.
const (
	KindRoot    TargetKind = "root"
	KindOU      TargetKind = "ou"
	KindAccount TargetKind = "account"
)

// Target is a node a step of the change acts on: where a policy is attached
// or detached, the OU an account moves into, the account moved, the nodes a
// changed policy is attached to.
type Target struct {
	ID            string     `json:"id"`
	Name          string     `json:"name,omitempty"`
	Kind          TargetKind `json:"kind"`
	AccountsUnder int        `json:"accountsUnder"` // member accounts in the subtree (1 for an account)
}

// AccountImpact is the blast radius in one affected member account: an
// account is affected when any catalog action changes class.
type AccountImpact struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// OUs are the ids of the OUs containing the account, outermost first,
	// Root excluded; protection of an OU covers the accounts below it.
	OUs              []string `json:"ous,omitempty"`
	NewlyDenied      int      `json:"newlyDenied"`
	NewlyConditional int      `json:"newlyConditional"`
	NewlyAllowed     int      `json:"newlyAllowed"`
	// ConditionalFromDenied is the part of NewlyConditional that was
	// denied before (access partly restored): not a loss.
	ConditionalFromDenied int      `json:"conditionalFromDenied,omitempty"`
	CriticalLost          []string `json:"criticalLost,omitempty"`
}

// lostConditional is the number of actions that were allowed and became
// conditional.
func (a AccountImpact) lostConditional() int { return a.NewlyConditional - a.ConditionalFromDenied }

// Impact is the blast radius of the whole change.
type Impact struct {
	AccountsTotal  int             `json:"accountsTotal"`  // member accounts in the organization
	CatalogActions int             `json:"catalogActions"` // actions in the catalog evaluated per account
	Accounts       []AccountImpact `json:"accounts"`       // the affected accounts only
	// ManagementAccountAffected: the change would affect the management
	// account (SCPs and RCPs never should; if it does, something is wrong).
	ManagementAccountAffected bool `json:"managementAccountAffected,omitempty"`
	// RecoveryPathLost: after the change, the principal that must undo it
	// (the management account, or the delegated administrator orgguard
	// runs as) could no longer do so. RecoveryPathDetail says why.
	RecoveryPathLost   bool   `json:"recoveryPathLost,omitempty"`
	RecoveryPathDetail string `json:"recoveryPathDetail,omitempty"`
}

// Intent is what the operator declared the change would affect.
type Intent struct {
	Accounts []string `json:"accounts,omitempty"` // exactly these accounts
	Count    *int     `json:"count,omitempty"`    // exactly this many accounts
}

// Quarantine marks the standard quarantine operation: the quarantine deny-all
// SCP on the quarantine OU, and the named accounts moved into it. It declares
// its own intent (exactly Accounts) and is exempt from the near-deny-all rule
// when every target is the OU or one of the accounts.
type Quarantine struct {
	OU       string   `json:"ou"`
	Accounts []string `json:"accounts"`
}

// Override is an operator's request to override a refusing rule.
type Override struct {
	Rule   Rule   `json:"rule"`
	Reason string `json:"reason"`
}

// Stage says when the verdict is computed.
type Stage int

// Stages.
const (
	// StagePlan: window and freeze findings restrict apply (EffectSchedule)
	// but do not refuse the plan, which is reviewed before it runs.
	StagePlan Stage = iota
	// StageApply: outside a window or inside a freeze refuses.
	StageApply
)

// Input is everything Evaluate needs about a change.
type Input struct {
	Now       time.Time // the clock; never read from the system
	Stage     Stage
	Operation string   // "attach-policy", "quarantine", ... for messages
	Targets   []Target // the nodes the steps act on
	Impact    Impact
	// ProtectedIDs are the resolved ids of the configured protected
	// targets (Config.Protected.Resolve); Root needs no entry.
	ProtectedIDs []string
	Intent       *Intent
	Quarantine   *Quarantine
	Overrides    []Override
	// ConfirmationText is what the operator must type for a risky change,
	// e.g. "Root r-ab12 (1,000 accounts)"; when empty it is derived from
	// the broadest target.
	ConfirmationText string
}

// Reason is one finding, with a sentence for the operator.
type Reason struct {
	Rule           Rule   `json:"rule"`
	Effect         Effect `json:"effect"`
	Message        string `json:"message"`
	Approvals      int    `json:"approvals,omitempty"` // required by this tier, or added by this override
	Overridable    bool   `json:"overridable"`
	Overridden     bool   `json:"overridden,omitempty"`
	OverrideReason string `json:"overrideReason,omitempty"`
	// The lists below are sorted and hold at most MaxListedIDs ids; the
	// More* counts say how many were left out.
	IDs            []string `json:"ids,omitempty"`            // the targets or accounts concerned
	MoreIDs        int      `json:"moreIds,omitempty"`        //
	Missing        []string `json:"missing,omitempty"`        // intent: declared but not affected
	MoreMissing    int      `json:"moreMissing,omitempty"`    //
	Unexpected     []string `json:"unexpected,omitempty"`     // intent: affected but not declared
	MoreUnexpected int      `json:"moreUnexpected,omitempty"` //
}

// MaxListedIDs bounds the id lists in a Reason; messages name at most ten.
const MaxListedIDs = 1000

func capIDs(ids []string) ([]string, int) {
	if len(ids) <= MaxListedIDs {
		return ids, 0
	}
	return ids[:MaxListedIDs:MaxListedIDs], len(ids) - MaxListedIDs
}

// Verdict is the guardrails' decision about a change.
type Verdict struct {
	Decision          Decision `json:"decision"`
	RequiredApprovals int      `json:"requiredApprovals"`
	Risk              Risk     `json:"risk"`
	Reasons           []Reason `json:"reasons"`
	// Overrides are the overrides that took effect, as recorded for apply
	// and the audit log.
	Overrides     []Override `json:"overrides,omitempty"`
	RequireWindow bool       `json:"requireWindow"`
	InWindow      bool       `json:"inWindow"`
	ActiveFreeze  *Freeze    `json:"activeFreeze,omitempty"`
	// NextWindowStart is the earliest instant at or after EvaluatedAt when
	// the schedule lets the change be applied (a window open and no
	// freeze), zero when none is known (no windows configured).
	NextWindowStart      time.Time `json:"nextWindowStart,omitzero"`
	RequiresConfirmation bool      `json:"requiresConfirmation"`
	ConfirmationText     string    `json:"confirmationText,omitempty"`
	EvaluatedAt          time.Time `json:"evaluatedAt"`
}

// Refusals returns the reasons that refuse the change (not overridden).
func (v Verdict) Refusals() []Reason {
	var out []Reason
	for _, r := range v.Reasons {
		if r.Effect == EffectRefuse && !r.Overridden {
			out = append(out, r)
		}
	}
	return out
}

// overridden reports whether the verdict records an override of rule.
func (v Verdict) overridden(rule Rule) (Override, bool) {
	for _, o := range v.Overrides {
		if o.Rule == rule {
			return o, true
		}
	}
	return Override{}, false
}

// confirmationFor derives the text to type from the broadest target.
func confirmationFor(ts []Target) string {
	if len(ts) == 0 {
		return ""
	}
	best := ts[0]
	for _, t := range ts[1:] {
		if kindRank(t.Kind) > kindRank(best.Kind) || (kindRank(t.Kind) == kindRank(best.Kind) && t.AccountsUnder > best.AccountsUnder) {
			best = t
		}
	}
	s := describeTarget(best)
	if best.Kind != KindAccount {
		s += " (" + plural(best.AccountsUnder, "account") + ")"
	}
	if n := len(ts) - 1; n > 0 {
		s += " and " + plural(n, "more target")
	}
	return s
}

func kindRank(k TargetKind) int {
	switch k {
	case KindRoot:
		return 3
	case KindOU:
		return 2
	case KindAccount:
		return 1
	}
	return 0
}

// describeTarget: "Root r-ab12", "OU Security ou-ab12-11111111", "account Prod 111122223333".
func describeTarget(t Target) string {
	var kind string
	switch t.Kind {
	case KindRoot:
		if t.Name == "" || t.Name == "Root" {
			return "Root " + t.ID
		}
		kind = "Root"
	case KindOU:
		kind = "OU"
	default:
		kind = "account"
	}
	if t.Name == "" || t.Name == t.ID {
		return kind + " " + t.ID
	}
	return kind + " " + t.Name + " " + t.ID
}

// ConfirmationMatches reports whether typed is the confirmation text, ignoring
// surrounding white space only.
func (v Verdict) ConfirmationMatches(typed string) bool {
	return strings.TrimSpace(typed) == strings.TrimSpace(v.ConfirmationText)
}

// plural renders "1 account", "1,000 accounts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return display.Thousands(n) + " " + noun + "s"
}

// pct renders a share: 0.05 → "5%", 0.125 → "12.5%".
func pct(f float64) string {
	s := fmt.Sprintf("%.1f", f*100)
	s = strings.TrimSuffix(s, ".0")
	return s + "%"
}

// listIDs renders at most limit ids, then "and N more".
func listIDs(ids []string, limit int) string {
	if len(ids) <= limit {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:limit], ", ") + fmt.Sprintf(" and %s more", display.Thousands(len(ids)-limit))
}

// idListLimit is how many ids a message names before summarising.
const idListLimit = 10
