package watch

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/store"
)

// Condition is what a rule looks for in a drift.
type Condition string

// The conditions.
const (
	// WhenDenyAll: a deny-all or near-deny-all (more than Share of the
	// catalog newly denied) reaching more than Accounts accounts.
	WhenDenyAll Condition = "deny-all"
	// WhenProtected: any change on the root or a protected target (an
	// attachment to or from it, its policy types, the content of a policy
	// attached to it, the OU itself renamed, moved or deleted).
	WhenProtected Condition = "protected-target"
	// WhenCriticalLoss: critical actions newly denied in more than
	// Accounts accounts.
	WhenCriticalLoss Condition = "critical-loss"
	// WhenAnyChange: any drift at all.
	WhenAnyChange Condition = "any-change"
)

// Rule classifies drift.
type Rule struct {
	Name     string         `yaml:"name" json:"name"`
	When     Condition      `yaml:"when" json:"when"`
	Accounts int            `yaml:"accounts" json:"accounts,omitempty"` // "more than" threshold
	Share    float64        `yaml:"share" json:"share,omitempty"`       // deny-all: near-deny-all share (default 0.9)
	Severity store.Severity `yaml:"severity" json:"severity"`
	// Targets are protected targets besides the root and the guardrails'
	// protected targets (IDs, names or paths), for protected-target.
	Targets []string `yaml:"targets" json:"targets,omitempty"`
	// Remediate undoes the drift automatically when this rule matches.
	Remediate bool `yaml:"remediate" json:"remediate,omitempty"`
}

// DefaultRules are the rules used when none are configured.
func DefaultRules() []Rule {
	return []Rule{
		{Name: "deny-all", When: WhenDenyAll, Accounts: 3, Share: 0.9, Severity: store.SevCritical},
		{Name: "root-or-protected", When: WhenProtected, Severity: store.SevCritical},
		{Name: "critical-actions-lost", When: WhenCriticalLoss, Accounts: 5, Severity: store.SevCritical},
		{Name: "any-change", When: WhenAnyChange, Severity: store.SevMinor},
	}
}

// Validate checks one rule.
func (r Rule) Validate() error {
	switch {
	case strings.TrimSpace(r.Name) == "":
		return fmt.Errorf("name: required")
	case !r.Severity.Valid():
		return fmt.Errorf("severity: %q is not critical, major or minor", r.Severity)
	case r.Accounts < 0:
		return fmt.Errorf("accounts: %d is negative", r.Accounts)
	case r.Share < 0 || r.Share > 1:
		return fmt.Errorf("share: %v is outside 0..1", r.Share)
	}
	switch r.When {
	case WhenDenyAll, WhenProtected, WhenCriticalLoss, WhenAnyChange:
	default:
		return fmt.Errorf("when: %q is not one of %s, %s, %s, %s", r.When, WhenDenyAll, WhenProtected, WhenCriticalLoss, WhenAnyChange)
	}
	return nil
}

// Finding is one rule matching one drift.
type Finding struct {
	Rule      string         `json:"rule"`
	Severity  store.Severity `json:"severity"`
	Summary   string         `json:"summary"`
	Accounts  []string       `json:"accounts,omitempty"` // the accounts the rule counted
	Remediate bool           `json:"remediate,omitempty"`
}

// Judgement is a drift judged: the changes, their blast radius and the
// findings, most severe first.
type Judgement struct {
	Changes  []org.Change  `json:"changes"`
	Impact   impact.Report `json:"impact"`
	Findings []Finding     `json:"findings"`
}

// Severity is the highest severity among the findings, or "".
func (j *Judgement) Severity() store.Severity {
	best := store.Severity("")
	for _, f := range j.Findings {
		if rank(f.Severity) > rank(best) {
			best = f.Severity
		}
	}
	return best
}

func rank(s store.Severity) int {
	switch s {
	case store.SevCritical:
		return 3
	case store.SevMajor:
		return 2
	case store.SevMinor:
		return 1
	}
	return 0
}

// AtLeast reports whether s is at least as severe as min.
func AtLeast(s, min store.Severity) bool { return rank(s) >= rank(min) && rank(s) > 0 }

// judge applies rules to a drift from before to after.
func judge(rules []Rule, protected []string, before, after *org.Index, changes []org.Change, im *impact.Report) []Finding {
	var out []Finding
	for _, r := range rules {
		var f *Finding
		switch r.When {
		case WhenDenyAll:
			share := r.Share
			if share == 0 {
				share = 0.9
			}
			var ids []string
			for _, a := range im.Accounts {
				if a.DeniedEverything || a.NewlyDeniedShare > share {
					ids = append(ids, a.ID)
				}
			}
			if len(ids) > r.Accounts {
				f = &Finding{Summary: fmt.Sprintf("deny-all or near-deny-all reaching %d accounts (more than %d)", len(ids), r.Accounts), Accounts: ids}
			}
		case WhenCriticalLoss:
			var ids []string
			for _, a := range im.Accounts {
				if len(a.CriticalLost) > 0 {
					ids = append(ids, a.ID)
				}
			}
			if len(ids) > r.Accounts {
				f = &Finding{Summary: fmt.Sprintf("critical actions lost in %d accounts (more than %d)", len(ids), r.Accounts), Accounts: ids}
			}
		case WhenProtected:
			if hits := protectedChanges(append(slices.Clone(protected), r.Targets...), before, after, changes); len(hits) > 0 {
				f = &Finding{Summary: "change on the root or a protected target: " + strings.Join(hits, "; "), Accounts: affectedIDs(im)}
			}
		case WhenAnyChange:
			if len(changes) > 0 {
				f = &Finding{Summary: fmt.Sprintf("%d change(s) made outside orgguard", len(changes)), Accounts: affectedIDs(im)}
			}
		}
		if f != nil {
			f.Rule, f.Severity, f.Remediate = r.Name, r.Severity, r.Remediate
			out = append(out, *f)
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return rank(b.Severity) - rank(a.Severity) })
	return out
}

func affectedIDs(im *impact.Report) []string {
	ids := make([]string, 0, len(im.Accounts))
	for _, a := range im.Accounts {
		ids = append(ids, a.ID)
	}
	return ids
}

// protectedChanges lists the changes touching the root or a protected target.
func protectedChanges(entries []string, before, after *org.Index, changes []org.Change) []string {
	set := map[string]bool{before.Root().ID: true, after.Root().ID: true}
	for _, e := range entries {
		for _, x := range []*org.Index{before, after} {
			if n, err := x.Resolve(e); err == nil {
				set[n.ID] = true
			}
		}
	}
	attachedToProtected := func(policyID string) bool {
		for _, t := range before.TargetsOf(policyID) {
			if set[t] {
				return true
			}
		}
		return false
	}
	var hits []string
	for _, c := range changes {
		hit := false
		switch c.Kind {
		case org.PolicyTypeEnabledChange, org.PolicyTypeDisabledChange:
			hit = true
		case org.AttachmentAdded, org.AttachmentRemoved:
			hit = set[c.Target]
		case org.OURemoved, org.OURenamed, org.OUMoved:
			hit = set[c.ID]
		case org.PolicyContentChanged, org.PolicyRemoved:
			hit = attachedToProtected(c.ID)
		}
		if hit {
			hits = append(hits, c.String())
		}
	}
	return hits
}
