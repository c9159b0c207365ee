package guard

import (
	"fmt"
	"slices"
	"strings"
)

// intentReasons compares the declared intent (and a quarantine's implicit
// intent) with the affected accounts. Any difference refuses, and can never
// be overridden: the operator must fix the change or the declaration.
func intentReasons(in Input) []Reason {
	affected := make([]string, len(in.Impact.Accounts))
	for i, a := range in.Impact.Accounts {
		affected[i] = a.ID
	}
	var out []Reason
	if q := in.Quarantine; q != nil {
		if r, ok := compareAccounts("the quarantine names", q.Accounts, affected); !ok {
			out = append(out, r)
		}
	}
	if it := in.Intent; it != nil {
		if it.Accounts != nil {
			if r, ok := compareAccounts("the declared intent names", it.Accounts, affected); !ok {
				out = append(out, r)
			}
		}
		if it.Count != nil && *it.Count != len(affected) {
			out = append(out, Reason{Rule: RuleIntent, Effect: EffectRefuse,
				Message: fmt.Sprintf("the declared intent is %s, but the change affects %s", plural(*it.Count, "account"), plural(len(affected), "account"))})
		}
	}
	return out
}

// compareAccounts returns a refusing reason listing the declared accounts
// that are not affected and the affected accounts that were not declared.
func compareAccounts(who string, declared, affected []string) (Reason, bool) {
	want := map[string]bool{}
	for _, id := range declared {
		want[strings.TrimSpace(id)] = true
	}
	got := map[string]bool{}
	var unexpected []string
	for _, id := range affected {
		got[id] = true
		if !want[id] {
			unexpected = append(unexpected, id)
		}
	}
	var missing []string
	for id := range want {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 && len(unexpected) == 0 {
		return Reason{}, true
	}
	slices.Sort(missing)
	slices.Sort(unexpected)
	var parts []string
	if n := len(missing); n > 0 {
		parts = append(parts, fmt.Sprintf("%s declared but not affected: %s", plural(n, "account"), listIDs(missing, idListLimit)))
	}
	if n := len(unexpected); n > 0 {
		parts = append(parts, fmt.Sprintf("%s affected but not declared: %s", plural(n, "account"), listIDs(unexpected, idListLimit)))
	}
	msg := fmt.Sprintf("%s %s, but the change affects %s: %s",
		who, plural(len(want), "account"), plural(len(affected), "account"), strings.Join(parts, "; "))
	r := Reason{Rule: RuleIntent, Effect: EffectRefuse, Message: msg}
	r.Missing, r.MoreMissing = capIDs(missing)
	r.Unexpected, r.MoreUnexpected = capIDs(unexpected)
	return r, false
}
