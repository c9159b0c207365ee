package apply

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/plan"
)

// executionOrder returns the order in which to run the plan's steps (plan
// indices) and the position after which the canary stage ends (-1 without
// a canary), with the resolved canary target IDs.
//
// With canary targets, every attach-policy step whose target is not a
// canary target, of a policy the plan also attaches to a canary target, is
// held back: the other steps run first in plan order (so the canary
// targets get the policy), then — after the canary checks and the wait —
// the held-back attachments, in plan order. The order is checked by
// replaying it on a simulated copy before anything runs.
func executionOrder(x *org.Index, f *plan.File, canary []string) ([]int, int, []string, error) {
	order := make([]int, len(f.Steps))
	for i := range order {
		order[i] = i
	}
	if len(canary) == 0 {
		return order, -1, nil, nil
	}
	var ids []string
	for _, c := range canary {
		for _, part := range strings.Split(c, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, err := x.Resolve(part)
			if err != nil {
				return nil, -1, nil, refused(fmt.Sprintf("canary target %q: %v", part, err))
			}
			ids = append(ids, n.ID)
		}
	}
	if slices.ContainsFunc(f.Steps, func(s change.Planned) bool { return s.Kind == change.UpdatePolicy }) {
		return nil, -1, nil, refused("a canary is not offered for plans that update a policy's content in place: plan the new content as a new policy attached to the canary targets first (docs/apply.md, \"Canary\")")
	}
	canaryPolicies := map[string]bool{}
	for _, s := range f.Steps {
		if s.Kind == change.AttachPolicy && slices.Contains(ids, s.TargetID) {
			canaryPolicies[s.PolicyID] = true
		}
	}
	if len(canaryPolicies) == 0 {
		return nil, -1, nil, refused(fmt.Sprintf("no attach-policy step of the plan targets the canary targets %s; a canary needs a policy attached to many targets, the canaries among them", strings.Join(ids, ", ")))
	}
	var first, later []int
	for i, s := range f.Steps {
		if s.Kind == change.AttachPolicy && canaryPolicies[s.PolicyID] && !slices.Contains(ids, s.TargetID) {
			later = append(later, i)
		} else {
			first = append(first, i)
		}
	}
	if len(later) == 0 {
		return order, -1, ids, nil
	}
	return append(first, later...), len(first) - 1, ids, nil
}
