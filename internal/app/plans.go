package app

import (
	"context"
	"time"

	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// PlanRow is one stored plan with its approvals.
type PlanRow struct {
	ID        string          `json:"id"`
	Kind      store.PlanKind  `json:"kind"`
	State     store.PlanState `json:"state"`
	Verdict   string          `json:"verdict"`
	Have      int             `json:"approvals"`
	Need      int             `json:"requiredApprovals"`
	Approvers []string        `json:"approvers"`
	Author    string          `json:"author"`
	CreatedAt time.Time       `json:"createdAt"`
	Hash      string          `json:"hash"`
}

// Plans lists stored plans, newest first, with the approvals that count.
// A store that does not exist yet is ErrBadInput.
func (a *App) Plans(ctx context.Context, f store.PlanFilter) ([]PlanRow, error) {
	st, err := OpenStore(ctx, a.storeDSN(), true)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	plans, err := st.ListPlans(ctx, f)
	if err != nil {
		return nil, err
	}
	rows := []PlanRow{}
	for _, p := range plans {
		as, err := st.ListApprovals(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		r := PlanRow{ID: p.ID, Kind: p.Kind, State: p.State, Verdict: p.Verdict, Need: p.RequiredApprovals, Author: p.Author,
			CreatedAt: p.CreatedAt, Hash: p.Hash, Approvers: []string{}}
		for _, a := range review.CountingApprovals(as, p.Hash, p.Author) {
			r.Have++
			r.Approvers = append(r.Approvers, a.Approver)
		}
		rows = append(rows, r)
	}
	return rows, nil
}
