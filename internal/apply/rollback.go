package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// RollbackSteps returns the steps that undo an applied change: the
// recorded inverses of its steps, last step first, with the IDs of the
// objects the change created filled in from its journal. They are planned
// as a new plan (plan.Request.Steps) that goes through the guardrails and
// its approvals like any other. The plan of the change is returned too.
func RollbackSteps(ctx context.Context, st store.Store, changeID string) ([]change.Step, *plan.File, error) {
	ch, err := st.Change(ctx, changeID)
	if err != nil {
		return nil, nil, err
	}
	if ch.Kind != store.ChangeApply {
		return nil, nil, refused(fmt.Sprintf("change %s is a %s, not an apply", changeID, ch.Kind))
	}
	if ch.State != store.ChangeApplied {
		return nil, nil, refused(fmt.Sprintf("change %s is %s: only an applied change is rolled back this way (a running one is settled by orgguard recover; a rolled-back one needs nothing)", changeID, ch.State))
	}
	f, p, err := review.Load(ctx, st, ch.PlanID)
	if err != nil {
		return nil, nil, err
	}
	if p.State != store.PlanApplied {
		return nil, nil, refused(fmt.Sprintf("plan %s of change %s is %s, not applied", p.ID, changeID, p.State))
	}
	// The finished change's detail is its report: the IDs planning gave
	// created objects, which the step summaries name.
	var rep Report
	if len(ch.Detail) > 0 {
		_ = json.Unmarshal(ch.Detail, &rep)
	}
	entries, err := st.Journal(ctx, changeID)
	if err != nil {
		return nil, nil, err
	}
	bind := change.Bindings{}
	var order []int
	for _, en := range entries {
		var jd journalDetail
		if err := json.Unmarshal(en.Detail, &jd); err != nil {
			return nil, nil, fmt.Errorf("reading journal entry %d of change %s: %w", en.Seq, changeID, err)
		}
		for k, v := range jd.Bindings {
			bind[k] = v
		}
		if jd.Op == "do" && en.Phase == store.PhaseDone {
			order = append(order, en.Step-1)
		}
	}
	if rep.Staged {
		// A staged update ends exactly as the plan's update step: its
		// inverse restores the previous content.
		order = []int{0}
	}
	if len(order) != len(f.Steps) {
		return nil, nil, fmt.Errorf("change %s: the journal records %d of %d steps done", changeID, len(order), len(f.Steps))
	}
	var out []change.Step
	for k := len(order) - 1; k >= 0; k-- {
		for _, inv := range f.Steps[order[k]].Inverse {
			r, err := inv.Resolve(bind)
			if err != nil {
				return nil, nil, fmt.Errorf("change %s: step %d: %w", changeID, order[k]+1, err)
			}
			for ref, planned := range rep.PlanBindings {
				if live, ok := bind[ref]; ok && live != planned {
					r.Summary = strings.ReplaceAll(r.Summary, planned, live)
				}
			}
			r.Summary = strings.ReplaceAll(r.Summary, " (created by this plan)", "")
			out = append(out, r)
		}
	}
	return out, f, nil
}
