package apply

import (
	"context"
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
//
// A plan that is one update-policy step is staged instead (see
// stagedUpdate): the returned staged steps are run, and order indexes them.
func (e *Engine) executionOrder(ctx context.Context, x *org.Index, f *plan.File, canary []string) ([]int, int, []string, []change.Planned, error) {
	order := make([]int, len(f.Steps))
	for i := range order {
		order[i] = i
	}
	if len(canary) == 0 {
		return order, -1, nil, nil, nil
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
				return nil, -1, nil, nil, refused(fmt.Sprintf("canary target %q: %v", part, err))
			}
			ids = append(ids, n.ID)
		}
	}
	if slices.ContainsFunc(f.Steps, func(s change.Planned) bool { return s.Kind == change.UpdatePolicy }) {
		if len(f.Steps) != 1 {
			return nil, -1, nil, nil, refused("a canary of a policy update is offered for a plan of that one update only (make the other changes a separate plan)")
		}
		staged, at, err := stagedUpdate(ctx, x, f.Steps[0].Step, ids)
		if err != nil {
			return nil, -1, nil, nil, err
		}
		order := make([]int, len(staged))
		for i := range order {
			order[i] = i
		}
		return order, at, ids, staged, nil
	}
	canaryPolicies := map[string]bool{}
	for _, s := range f.Steps {
		if s.Kind == change.AttachPolicy && slices.Contains(ids, s.TargetID) {
			canaryPolicies[s.PolicyID] = true
		}
	}
	if len(canaryPolicies) == 0 {
		return nil, -1, nil, nil, refused(fmt.Sprintf("no attach-policy step of the plan targets the canary targets %s; a canary needs a policy attached to many targets, the canaries among them", strings.Join(ids, ", ")))
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
		return order, -1, ids, nil, nil
	}
	return append(first, later...), len(first) - 1, ids, nil, nil
}

// canaryCopyRef names the temporary copy of a staged policy update.
const canaryCopyRef = "canary-copy"

// stagedUpdate turns the update of policy P to new content into steps that
// try the new content on the canary targets first, through a temporary
// copy, and end exactly as the plain update would:
//
//	canary stage
//	  1. create P' = "<P>-orgguard-canary" with the new content
//	  2. attach P' to each canary target
//	  3. detach P from each canary target
//	widening (after the canary checks and the wait)
//	  4. update P to the new content (the plan's step)
//	  5. attach P to each canary target again
//	  6. detach P' from each canary target
//	  7. delete P'
//
// Each canary target must have P attached directly. The steps and their
// inverses are planned on a simulated copy with AWS's rules (at most five
// policies of a type per target, at least one), so a stage AWS would
// reject is refused before anything runs. It returns the steps and the
// index of the last canary step.
func stagedUpdate(ctx context.Context, x *org.Index, upd change.Step, canary []string) ([]change.Planned, int, error) {
	p, ok := x.Policy(upd.PolicyID)
	if !ok {
		return nil, -1, refused(fmt.Sprintf("policy %s of the update is not in the organization", upd.PolicyID))
	}
	targets := x.TargetsOf(p.ID)
	for _, id := range canary {
		if !slices.Contains(targets, id) {
			return nil, -1, refused(fmt.Sprintf("canary target %s does not have policy %s attached directly; a staged update uses targets the policy is attached to (%d of them)", x.Describe(id), p.Name, len(targets)))
		}
	}
	if len(canary) >= len(targets) {
		return nil, -1, refused(fmt.Sprintf("the canary targets are every target of policy %s; a canary must leave some targets for later", p.Name))
	}
	ref := change.RefPrefix + canaryCopyRef
	copyName := p.Name + "-orgguard-canary"
	if len(copyName) > 128 {
		copyName = copyName[len(copyName)-128:]
	}
	steps := []change.Step{{Kind: change.CreatePolicy, Ref: canaryCopyRef, Name: copyName, PolicyType: p.Type,
		Description: "temporary canary copy of " + p.Name + " with its new content (orgguard)", Content: upd.Content,
		Summary: "canary: create " + copyName + ", a copy of " + p.Name + " with the new content"}}
	for _, id := range canary {
		steps = append(steps, change.Step{Kind: change.AttachPolicy, PolicyID: ref, TargetID: id,
			Summary: "canary: attach " + copyName + " to " + x.Describe(id)})
	}
	for _, id := range canary {
		steps = append(steps, change.Step{Kind: change.DetachPolicy, PolicyID: p.ID, TargetID: id,
			Summary: "canary: detach " + p.Name + " (old content) from " + x.Describe(id)})
	}
	at := len(steps) - 1
	steps = append(steps, upd)
	for _, id := range canary {
		steps = append(steps, change.Step{Kind: change.AttachPolicy, PolicyID: p.ID, TargetID: id,
			Summary: "attach " + p.Name + " (new content) to " + x.Describe(id) + " again"})
	}
	for _, id := range canary {
		steps = append(steps, change.Step{Kind: change.DetachPolicy, PolicyID: ref, TargetID: id,
			Summary: "detach the canary copy " + copyName + " from " + x.Describe(id)})
	}
	steps = append(steps, change.Step{Kind: change.DeletePolicy, PolicyID: ref, Summary: "delete the canary copy " + copyName})
	cp := &change.Planner{}
	planned, err := cp.PlanSteps(ctx, x.Snapshot(), steps)
	if err != nil {
		return nil, -1, refused(fmt.Sprintf("the staged canary of the update cannot run: %v", err))
	}
	return planned.Steps, at, nil
}
