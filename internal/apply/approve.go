package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
)

// ErrPlanChanged: a plan file carries the ID of a stored plan but not its
// hash — it was changed (and re-sealed) after it was saved.
var ErrPlanChanged = errors.New("plan changed since it was saved")

// SavePlan stores the plan file f (verifying its hash first) with an audit
// entry, and returns the stored record. Saving the same plan again returns
// the stored record unchanged; a file with a stored plan's ID but another
// hash is ErrPlanChanged.
func SavePlan(ctx context.Context, st store.Store, f *plan.File, actor string) (store.Plan, error) {
	if err := f.Verify(); err != nil {
		return store.Plan{}, fmt.Errorf("saving plan %s: %w", f.ID, err)
	}
	if p, err := st.Plan(ctx, f.ID); err == nil {
		if p.Hash != f.PlanHash {
			return store.Plan{}, fmt.Errorf("saving plan %s: %w: the store holds hash %s, this file has %s; approvals bind to the stored one — make a new plan", f.ID, ErrPlanChanged, p.Hash, f.PlanHash)
		}
		return p, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, err
	}
	body, err := f.MarshalCompact()
	if err != nil {
		return store.Plan{}, err
	}
	var saved store.Plan
	err = st.WithTx(ctx, func(tx store.Tx) error {
		saved, err = tx.SavePlan(ctx, store.Plan{ID: f.ID, Author: f.Author, Hash: f.PlanHash, BaseFingerprint: f.BaseFingerprint,
			Verdict: string(f.Verdict), RequiredApprovals: f.RequiredApprovals, Body: body})
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "plan.saved", f.ID, map[string]any{"hash": f.PlanHash, "verdict": f.Verdict,
			"requiredApprovals": f.RequiredApprovals, "author": f.Author, "steps": len(f.Steps)})
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return SavePlan(ctx, st, f, actor) // saved concurrently: compare hashes
	}
	if err != nil {
		return store.Plan{}, fmt.Errorf("saving plan %s: %w", f.ID, err)
	}
	return saved, nil
}

// LoadPlan returns the stored plan id, parsed and verified.
func LoadPlan(ctx context.Context, st store.Store, id string) (*plan.File, store.Plan, error) {
	p, err := st.Plan(ctx, id)
	if err != nil {
		return nil, store.Plan{}, err
	}
	f, err := plan.Parse(p.Body, "stored plan "+id)
	if err != nil {
		return nil, p, err
	}
	if f.PlanHash != p.Hash {
		return nil, p, fmt.Errorf("stored plan %s: its body has hash %s but the record says %s: %w", id, f.PlanHash, p.Hash, plan.ErrTampered)
	}
	return f, p, nil
}

// ValidApprovals returns the approvals that count for f: bound to its hash,
// by someone other than the author, one per person.
func ValidApprovals(as []store.Approval, f *plan.File) []store.Approval {
	var out []store.Approval
	seen := map[string]bool{}
	for _, a := range as {
		who := strings.ToLower(strings.TrimSpace(a.Approver))
		if a.PlanHash != f.PlanHash || who == strings.ToLower(strings.TrimSpace(f.Author)) || seen[who] {
			continue
		}
		seen[who] = true
		out = append(out, a)
	}
	return out
}

// Approval is the outcome of Approve.
type Approval struct {
	Approval store.Approval  `json:"approval"`
	Have     int             `json:"have"`
	Need     int             `json:"need"`
	State    store.PlanState `json:"state"`
}

// Approve records approver's approval of plan f (saving f first when the
// store does not hold it). The author cannot approve; each person approves
// once; a refused plan, or one that is no longer waiting, cannot be
// approved. When the approvals reach the required number the plan moves to
// approved.
func Approve(ctx context.Context, st store.Store, f *plan.File, approver, comment string) (Approval, error) {
	approver = strings.TrimSpace(approver)
	if approver == "" {
		return Approval{}, refused("no approver named (give --by NAME or set identity.user)")
	}
	if _, err := SavePlan(ctx, st, f, approver); err != nil {
		return Approval{}, err
	}
	if f.Verdict == guard.Refused {
		return Approval{}, refused(fmt.Sprintf("plan %s was refused by the guardrails; a refused plan can never be approved or applied (make a new plan)", f.ID))
	}
	if strings.EqualFold(approver, strings.TrimSpace(f.Author)) {
		return Approval{}, refused(fmt.Sprintf("%s is the author of plan %s and cannot approve it; a second person must", approver, f.ID))
	}
	var out Approval
	err := st.WithTx(ctx, func(tx store.Tx) error {
		p, err := tx.Plan(ctx, f.ID)
		if err != nil {
			return err
		}
		if p.State != store.PlanPending && p.State != store.PlanApproved {
			return refused(fmt.Sprintf("plan %s is %s; only a pending or approved plan can be approved", f.ID, p.State))
		}
		existing, err := tx.ListApprovals(ctx, f.ID)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(existing, func(a store.Approval) bool { return strings.EqualFold(a.Approver, approver) }) {
			return refused(fmt.Sprintf("%s has already approved plan %s; approvals must come from distinct people", approver, f.ID))
		}
		a, err := tx.AddApproval(ctx, store.Approval{PlanID: f.ID, Approver: approver, PlanHash: f.PlanHash, Comment: comment})
		if errors.Is(err, store.ErrAlreadyExists) {
			return refused(fmt.Sprintf("%s has already approved plan %s; approvals must come from distinct people", approver, f.ID))
		}
		if err != nil {
			return err
		}
		valid := ValidApprovals(append(existing, a), f)
		out = Approval{Approval: a, Have: len(valid), Need: f.RequiredApprovals, State: p.State}
		if p.State == store.PlanPending && len(valid) >= f.RequiredApprovals {
			p, err = tx.SetPlanState(ctx, f.ID, store.PlanPending, store.PlanApproved)
			if err != nil {
				return err
			}
			out.State = p.State
		}
		return audit(ctx, tx, approver, "plan.approved", f.ID, map[string]any{"hash": f.PlanHash, "comment": comment,
			"have": out.Have, "need": out.Need, "state": out.State})
	})
	if err != nil {
		return Approval{}, err
	}
	return out, nil
}
