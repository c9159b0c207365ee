package review

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/identity"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
)

// ValidApprovals returns the approvals that count for f: bound to its hash,
// by someone other than the author, one per person (identities compared by
// identity.Key, so "Alice", "alice" and a look-alike "аlice" are one).
func ValidApprovals(as []store.Approval, f *plan.File) []store.Approval {
	return validApprovals(as, f.PlanHash, f.Author)
}

// CountingApprovals returns the approvals that count for a stored plan
// with the given hash and author (see ValidApprovals).
func CountingApprovals(as []store.Approval, hash, author string) []store.Approval {
	return validApprovals(as, hash, author)
}

func validApprovals(as []store.Approval, hash, author string) []store.Approval {
	var out []store.Approval
	seen := map[string]bool{identity.Key(author): true}
	for _, a := range as {
		k := identity.Key(a.Approver)
		if a.PlanHash != hash || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, a)
	}
	return out
}

// Approval is the outcome of Approve.
type Approval struct {
	Approval store.Approval  `json:"approval"`
	PlanID   string          `json:"planId"`
	Hash     string          `json:"hash"`
	Author   string          `json:"author"`
	Have     int             `json:"have"`
	Need     int             `json:"need"`
	State    store.PlanState `json:"state"`
}

// Approver is what Approve needs to check an organization plan: a planner
// built from the pinned rules.
type Approver struct {
	Store   store.Store
	Planner *plan.Planner
	Pinned  Pinned
}

// Approve records approver's approval of the stored plan id. The plan must
// be in the store; an organization plan's verdict is derived again (Verify)
// and a guardrails plan is checked against the pinned rules; the author
// cannot approve (identity.Same); each person approves once; a refused
// plan, or one no longer waiting, cannot be approved. When the approvals
// reach the number required the plan moves to approved.
func (ap *Approver) Approve(ctx context.Context, id, approver, comment string) (Approval, error) {
	name, err := identity.Parse(approver)
	if err != nil {
		return Approval{}, err
	}
	sp, err := ap.Store.Plan(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Approval{}, refused("plan %s is not in the store: only plans saved by orgguard plan (--out) can be approved (%v)", id, ErrNotSaved)
	}
	if err != nil {
		return Approval{}, err
	}
	// The number required is derived again, never read from the record.
	author, need := sp.Author, 0
	switch sp.Kind {
	case store.PlanGuardrails:
		gp, err := loadGuardrailsPlan(sp, ap.Pinned)
		if err != nil {
			return Approval{}, err
		}
		need = gp.RequiredApprovals
	default:
		f, _, err := Load(ctx, ap.Store, id)
		if err != nil {
			if errors.Is(err, plan.ErrTampered) {
				return Approval{}, refused("%v", err)
			}
			return Approval{}, err
		}
		if f.Verdict == guard.Refused {
			return Approval{}, refused("plan %s was refused by the guardrails; a refused plan can never be approved or applied (make a new plan)", id)
		}
		if err := Verify(ctx, ap.Store, ap.Planner, ap.Pinned, f); err != nil {
			return Approval{}, err
		}
		need = f.RequiredApprovals
	}
	if identity.Same(name, author) {
		return Approval{}, &RefusedError{Kind: ErrOwnPlan, Reason: fmt.Sprintf("%s is the author of plan %s (or looks like it: identities compare case-folded and by look-alike letters) and cannot approve it; a second person must", name, id)}
	}
	out := Approval{PlanID: id, Hash: sp.Hash, Author: author, Need: need}
	err = ap.Store.WithTx(ctx, func(tx store.Tx) error {
		p, err := tx.Plan(ctx, id)
		if err != nil {
			return err
		}
		if p.State != store.PlanPending && p.State != store.PlanApproved {
			return refused("plan %s is %s; only a pending or approved plan can be approved", id, p.State)
		}
		existing, err := tx.ListApprovals(ctx, id)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(existing, func(a store.Approval) bool { return identity.Same(a.Approver, name) }) {
			return refused("%s has already approved plan %s; approvals must come from distinct people", name, id)
		}
		a, err := tx.AddApproval(ctx, store.Approval{PlanID: id, Approver: name, PlanHash: sp.Hash, Comment: comment, Guardrails: ap.Pinned.Hash()})
		if errors.Is(err, store.ErrAlreadyExists) {
			return refused("%s has already approved plan %s; approvals must come from distinct people", name, id)
		}
		if err != nil {
			return err
		}
		valid := validApprovals(append(existing, a), sp.Hash, author)
		out.Approval, out.Have, out.State = a, len(valid), p.State
		if p.State == store.PlanPending && len(valid) >= need {
			if p, err = tx.SetPlanState(ctx, id, store.PlanPending, store.PlanApproved); err != nil {
				return err
			}
			out.State = p.State
		}
		return auditEntry(ctx, tx, name, "plan.approved", id, map[string]any{"hash": sp.Hash, "comment": comment,
			"have": out.Have, "need": out.Need, "state": out.State, "guardrails": ap.Pinned.Hash()})
	})
	if err != nil {
		return Approval{}, err
	}
	return out, nil
}

// RecordRollbackPlan writes the audit entry linking a rollback plan to the
// change it undoes.
func RecordRollbackPlan(ctx context.Context, st store.Store, actor, changeID, planID string) error {
	return st.WithTx(ctx, func(tx store.Tx) error {
		return auditEntry(ctx, tx, actor, "rollback.planned", changeID, map[string]any{"plan": planID})
	})
}
