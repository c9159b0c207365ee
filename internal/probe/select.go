package probe

import (
	"fmt"
	"slices"

	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
)

// Sample is the accounts probed around a change.
type Sample struct {
	Affected   []string `json:"affected"`
	Unaffected []string `json:"unaffected"`
	// Denials are, per affected account, the actions the plan means to
	// deny there (configured denials and the critical actions the blast
	// radius names as lost).
	Denials map[string][]string `json:"denials,omitempty"`
}

// maxCriticalDenials bounds the critical-action denials probed per account.
const maxCriticalDenials = 3

// Select picks the accounts to probe: up to cfg.Affected accounts of the
// plan's blast radius and up to cfg.Unaffected member accounts outside it,
// spread evenly over each list (in tree order) so that different parts of
// the organization are covered; extra names accounts always probed as
// affected when the plan affects them, unaffected otherwise (canary
// accounts). x is the organization before the change.
func Select(cfg Config, r *impact.Report, x *org.Index, extra []string) Sample {
	affectedSet := map[string]bool{}
	var affected []string
	critical := map[string][]string{}
	for _, a := range r.Accounts {
		if x.IsManagementAccount(a.ID) {
			continue
		}
		affectedSet[a.ID] = true
		affected = append(affected, a.ID)
		for _, c := range a.CriticalLost {
			for _, act := range c.Actions {
				if len(critical[a.ID]) < maxCriticalDenials && !slices.Contains(critical[a.ID], act) {
					critical[a.ID] = append(critical[a.ID], act)
				}
			}
		}
	}
	var unaffected []string
	s := x.Snapshot()
	members := make([]string, 0, len(s.Accounts))
	for _, a := range s.Accounts {
		if !x.IsManagementAccount(a.ID) && a.Status == org.AccountActive {
			members = append(members, a.ID)
		}
	}
	slices.SortFunc(members, func(a, b string) int {
		if pa, pb := x.PathString(a), x.PathString(b); pa != pb {
			if pa < pb {
				return -1
			}
			return 1
		}
		if a < b {
			return -1
		}
		return 1
	})
	for _, id := range members {
		if !affectedSet[id] {
			unaffected = append(unaffected, id)
		}
	}
	out := Sample{Affected: spread(affected, cfg.Affected), Unaffected: spread(unaffected, cfg.Unaffected), Denials: map[string][]string{}}
	for _, id := range extra {
		if _, ok := x.Account(id); !ok || x.IsManagementAccount(id) {
			continue
		}
		if affectedSet[id] && !slices.Contains(out.Affected, id) {
			out.Affected = append(out.Affected, id)
		} else if !affectedSet[id] && !slices.Contains(out.Unaffected, id) {
			out.Unaffected = append(out.Unaffected, id)
		}
	}
	for _, id := range out.Affected {
		d := append(append([]string(nil), cfg.Denials...), critical[id]...)
		if len(d) > 0 {
			out.Denials[id] = slices.Compact(d)
		}
	}
	return out
}

// spread returns n items of ids evenly spaced, first and last included.
func spread(ids []string, n int) []string {
	if n <= 0 || len(ids) == 0 {
		return nil
	}
	if len(ids) <= n {
		return slices.Clone(ids)
	}
	out := make([]string, 0, n)
	for i := range n {
		j := 0
		if n > 1 {
			j = i * (len(ids) - 1) / (n - 1)
		}
		out = append(out, ids[j])
	}
	return slices.Compact(out)
}

// Checks builds the checks for sample s with their expectations taken from
// expected, the organization as it should be at this point of the change:
// each configured action in every sampled account, and the intended
// denials in the affected ones, each expected to come out as the policy
// engine says it does on the expected state.
func Checks(ev *Evaluator, expected *org.Index, cfg Config, s Sample) ([]Check, error) {
	actions := cfg.Actions
	if len(actions) == 0 {
		actions = DefaultActions()
	}
	var out []Check
	add := func(acct, action string, affected bool) error {
		c := Check{AccountID: acct, Principal: cfg.PrincipalARN(acct), Action: action, Resource: "*"}
		got, _, err := ev.Evaluate(expected, c)
		if err != nil {
			return fmt.Errorf("computing the expectation of %s in %s: %w", action, acct, err)
		}
		c.Expect = got
		switch {
		case affected && got == Denied:
			c.Why = "intended denial of the plan"
		case affected:
			c.Why = "must keep working (affected account, the plan does not deny it)"
		case got == Denied:
			c.Why = "unaffected account, denied before the change too"
		default:
			c.Why = "must keep working (unaffected account)"
		}
		out = append(out, c)
		return nil
	}
	for _, acct := range s.Affected {
		if _, ok := expected.Account(acct); !ok {
			continue
		}
		for _, a := range actions {
			if err := add(acct, a, true); err != nil {
				return nil, err
			}
		}
		for _, a := range s.Denials[acct] {
			if !slices.Contains(actions, a) {
				if err := add(acct, a, true); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, acct := range s.Unaffected {
		if _, ok := expected.Account(acct); !ok {
			continue
		}
		for _, a := range actions {
			if err := add(acct, a, false); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
