package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

const planColumns = `id, created_at, updated_at, author, hash, base_fingerprint, verdict, required_approvals, state, body, kind, guardrails`

func scanPlan(row interface{ Scan(...any) error }) (store.Plan, error) {
	var p store.Plan
	err := row.Scan(&p.ID, timeScan{&p.CreatedAt}, timeScan{&p.UpdatedAt}, &p.Author, &p.Hash, &p.BaseFingerprint,
		&p.Verdict, &p.RequiredApprovals, &p.State, bytesScan{(*[]byte)(&p.Body)}, &p.Kind, &p.Guardrails)
	return p, err
}

// SavePlan implements store.Plans.
func (o ops) SavePlan(ctx context.Context, p store.Plan) (store.Plan, error) {
	if p.ID == "" {
		p.ID = newID("plan")
	}
	if p.State == "" {
		p.State = store.PlanPending
	}
	if p.Kind == "" {
		p.Kind = store.PlanOrg
	}
	switch {
	case !p.Kind.Valid():
		return store.Plan{}, fmt.Errorf("saving plan %s: %w: unknown kind %q", p.ID, store.ErrInvalid, p.Kind)
	case !p.State.Valid():
		return store.Plan{}, fmt.Errorf("saving plan %s: %w: unknown state %q", p.ID, store.ErrInvalid, p.State)
	case p.RequiredApprovals < 0:
		return store.Plan{}, fmt.Errorf("saving plan %s: %w: required approvals %d is negative", p.ID, store.ErrInvalid, p.RequiredApprovals)
	case p.Hash == "":
		return store.Plan{}, fmt.Errorf("saving plan %s: %w: the plan hash is empty", p.ID, store.ErrInvalid)
	}
	if err := errors.Join(checkText(p.ID, p.Author, p.Hash, p.BaseFingerprint, p.Verdict, p.Guardrails), checkJSON("the plan body", p.Body)); err != nil {
		return store.Plan{}, fmt.Errorf("saving plan %s: %w", p.ID, err)
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = o.now()
	}
	p.CreatedAt = p.CreatedAt.UTC().Truncate(time.Microsecond)
	p.UpdatedAt = p.CreatedAt
	if p.Body == nil {
		p.Body = []byte{}
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO plans (`+planColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			p.ID, o.s.d.timeArg(p.CreatedAt), o.s.d.timeArg(p.UpdatedAt), p.Author, p.Hash, p.BaseFingerprint,
			p.Verdict, p.RequiredApprovals, string(p.State), []byte(p.Body), string(p.Kind), p.Guardrails)
		return err
	})
	switch {
	case isUnique(err):
		return store.Plan{}, fmt.Errorf("saving plan %s: %w", p.ID, store.ErrAlreadyExists)
	case err != nil:
		return store.Plan{}, fmt.Errorf("saving plan %s: %w", p.ID, err)
	}
	return p, nil
}

// Plan implements store.Plans.
func (o ops) Plan(ctx context.Context, id string) (store.Plan, error) {
	p, err := scanPlan(o.reader().QueryRowContext(ctx, o.q(`SELECT `+planColumns+` FROM plans WHERE id = ?`), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Plan{}, fmt.Errorf("reading plan %s: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Plan{}, fmt.Errorf("reading plan %s: %w", id, err)
	}
	return p, nil
}

// ListPlans implements store.Plans.
func (o ops) ListPlans(ctx context.Context, f store.PlanFilter) ([]store.Plan, error) {
	query := `SELECT ` + planColumns + ` FROM plans`
	var args []any
	if f.State != "" {
		query += ` WHERE state = ?`
		args = append(args, string(f.State))
	}
	query += ` ORDER BY created_at DESC, id DESC` + limitClause(f.Limit)
	return queryAll(ctx, o.reader(), "listing plans", o.q(query), args, scanPlan)
}

// SetPlanState implements store.Plans.
func (o ops) SetPlanState(ctx context.Context, id string, from, to store.PlanState) (store.Plan, error) {
	if !store.CanTransition(from, to) {
		return store.Plan{}, fmt.Errorf("moving plan %s from %s to %s: %w: not an allowed transition", id, from, to, store.ErrInvalid)
	}
	var p store.Plan
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(`UPDATE plans SET state = ?, updated_at = ? WHERE id = ? AND state = ?`),
			string(to), o.s.d.timeArg(o.now()), id, string(from))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		p, err = scanPlan(q.QueryRowContext(ctx, o.q(`SELECT `+planColumns+` FROM plans WHERE id = ?`), id))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return store.ErrNotFound
		case err != nil:
			return err
		case n == 0:
			return &store.StateConflictError{Kind: "plan", ID: id, Want: string(from), Current: string(p.State)}
		}
		return nil
	})
	if err != nil {
		return store.Plan{}, fmt.Errorf("moving plan %s from %s to %s: %w", id, from, to, err)
	}
	return p, nil
}

// AddApproval implements store.Approvals.
func (o ops) AddApproval(ctx context.Context, a store.Approval) (store.Approval, error) {
	switch {
	case a.PlanID == "":
		return store.Approval{}, fmt.Errorf("recording an approval: %w: no plan ID", store.ErrInvalid)
	case a.Approver == "":
		return store.Approval{}, fmt.Errorf("recording an approval of plan %s: %w: no approver", a.PlanID, store.ErrInvalid)
	case a.PlanHash == "":
		return store.Approval{}, fmt.Errorf("recording %s's approval of plan %s: %w: no plan hash", a.Approver, a.PlanID, store.ErrInvalid)
	}
	if err := checkText(a.PlanID, a.Approver, a.PlanHash, a.Comment, a.Guardrails); err != nil {
		return store.Approval{}, fmt.Errorf("recording an approval of plan %s: %w", a.PlanID, err)
	}
	if a.At.IsZero() {
		a.At = o.now()
	}
	a.At = a.At.UTC().Truncate(time.Microsecond)
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO approvals (plan_id, approver, plan_hash, comment, at, guardrails) VALUES (?, ?, ?, ?, ?, ?)`),
			a.PlanID, a.Approver, a.PlanHash, a.Comment, o.s.d.timeArg(a.At), a.Guardrails)
		return err
	})
	switch {
	case isUnique(err):
		return store.Approval{}, fmt.Errorf("recording %s's approval of plan %s: %w: %s has already approved it", a.Approver, a.PlanID, store.ErrAlreadyExists, a.Approver)
	case isForeignKey(err):
		return store.Approval{}, fmt.Errorf("recording %s's approval of plan %s: plan %w", a.Approver, a.PlanID, store.ErrNotFound)
	case err != nil:
		return store.Approval{}, fmt.Errorf("recording %s's approval of plan %s: %w", a.Approver, a.PlanID, err)
	}
	return a, nil
}

// ListApprovals implements store.Approvals.
func (o ops) ListApprovals(ctx context.Context, planID string) ([]store.Approval, error) {
	rows, err := o.reader().QueryContext(ctx, o.q(`SELECT plan_id, approver, plan_hash, comment, at, guardrails FROM approvals WHERE plan_id = ? ORDER BY at, approver`), planID)
	if err != nil {
		return nil, fmt.Errorf("listing approvals of plan %s: %w", planID, err)
	}
	defer rows.Close()
	var out []store.Approval
	for rows.Next() {
		var a store.Approval
		if err := rows.Scan(&a.PlanID, &a.Approver, &a.PlanHash, &a.Comment, timeScan{&a.At}, &a.Guardrails); err != nil {
			return nil, fmt.Errorf("listing approvals of plan %s: %w", planID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing approvals of plan %s: %w", planID, err)
	}
	return out, nil
}
