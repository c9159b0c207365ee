package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
)

// DerivationError: a plan does not say what orgguard derives from its
// operations, its base snapshot and the pinned guardrails — it was edited
// and re-sealed, or the guardrails changed since it was made.
type DerivationError struct {
	PlanID string
	// Fields lists what differs: "verdict (plan: allowed, derived: refused)".
	Fields []string
}

func (e *DerivationError) Error() string {
	return fmt.Sprintf("plan %s does not match what orgguard derives from its operations, its base snapshot and the pinned guardrails — edited after planning, or planned under other guardrails; make a new plan. Differences: %s",
		e.PlanID, strings.Join(e.Fields, "; "))
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *DerivationError) Is(target error) bool { return target == ErrRefused }

// Verify re-derives plan f with planner (built from the pinned rules p)
// from its operations (or steps) against its stored base snapshot, and
// returns a *DerivationError naming every field that differs. The verdict,
// the required approvals, the window and confirmation settings an apply
// relies on are thus never taken from the plan's own say-so.
func Verify(ctx context.Context, st store.Store, planner *plan.Planner, p Pinned, f *plan.File) error {
	if f.Guardrails != p.Hash() {
		plan := f.Guardrails
		if plan == "" {
			plan = "none recorded"
		}
		return &DerivationError{PlanID: f.ID, Fields: []string{fmt.Sprintf("guardrails (plan: %s, pinned now: %s)", digest.Short(plan), digest.Short(p.Hash()))}}
	}
	base, err := Base(ctx, st, f.BaseFingerprint)
	if errors.Is(err, store.ErrNotFound) {
		return &RefusedError{Reason: fmt.Sprintf("the base snapshot %s of plan %s is not in the store, so its verdict cannot be derived again; make a new plan", digest.Short(f.BaseFingerprint), f.ID)}
	}
	if err != nil {
		return fmt.Errorf("verifying plan %s: %w", f.ID, err)
	}
	base.Source = f.Backend
	req := plan.Request{Operations: f.Operations, Description: f.Description, Intent: f.Intent, Overrides: f.Overrides,
		Author: f.Author, Source: f.Source, Now: f.CreatedAt, Guardrails: f.Guardrails}
	if len(f.Operations) == 0 {
		for _, s := range f.Steps {
			req.Steps = append(req.Steps, s.Step)
		}
	}
	res, err := planner.Make(ctx, base, req)
	if err != nil {
		var in *change.InputError
		var rej *change.RejectedError
		if errors.As(err, &in) || errors.As(err, &rej) {
			return &DerivationError{PlanID: f.ID, Fields: []string{"the plan's operations do not plan on its base snapshot: " + err.Error()}}
		}
		return fmt.Errorf("verifying plan %s: %w", f.ID, err)
	}
	// The ID is derived too (from the base, the result, the author, the
	// time and the operations): a plan whose ID or author was changed
	// differs here.
	d := res.File
	if d.PlanHash == f.PlanHash {
		return nil
	}
	return &DerivationError{PlanID: f.ID, Fields: diffFields(f, d)}
}

// diffFields names the top-level fields of the plan that differ from the
// derived one, with both values for the short ones.
func diffFields(got, want *plan.File) []string {
	var out []string
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	t := gv.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "" || name == "-" || name == "planHash" {
			continue
		}
		a, _ := json.Marshal(gv.Field(i).Interface())
		b, _ := json.Marshal(wv.Field(i).Interface())
		if bytes.Equal(a, b) {
			continue
		}
		if len(a) <= 80 && len(b) <= 80 {
			out = append(out, fmt.Sprintf("%s (plan: %s, derived: %s)", name, a, b))
		} else {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		out = append(out, "planHash")
	}
	return out
}
