package app

import (
	"context"
	"errors"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// GuardrailsStatus is the pinned rules and how the local configuration
// compares with them.
type GuardrailsStatus struct {
	// Pinned is nil when nothing is pinned yet.
	Pinned   *review.Pinned            `json:"pinned,omitempty"`
	Versions []store.GuardrailsVersion `json:"versions"`
	// Local is the hash of the configuration's rules; Matches says whether
	// it is the pinned one.
	Local   string `json:"local"`
	Source  string `json:"source"`
	Matches bool   `json:"matches"`
}

// Guardrails reports the pinned rules.
func (a *App) Guardrails(ctx context.Context) (GuardrailsStatus, error) {
	local, err := a.localRules().Hash()
	if err != nil {
		return GuardrailsStatus{}, err
	}
	out := GuardrailsStatus{Local: local, Source: a.rulesSource(), Versions: []store.GuardrailsVersion{}}
	if out.Source == "" {
		out.Source = "built-in defaults"
	}
	st, err := a.existingStore(ctx)
	if err != nil || st == nil {
		return out, err
	}
	p, err := review.Current(ctx, st)
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	out.Pinned, out.Matches = &p, p.Hash() == local
	vs, err := st.ListGuardrails(ctx)
	if err != nil {
		return out, err
	}
	out.Versions = vs
	return out, nil
}

// PinGuardrails pins the local rules when nothing is pinned yet (the first
// plan saved does the same); when rules are pinned it only checks that the
// local ones are the same.
func (a *App) PinGuardrails(ctx context.Context) (review.Pinned, error) {
	if err := a.authorize(auth.ActionManageGuardrails); err != nil {
		return review.Pinned{}, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return review.Pinned{}, err
	}
	return a.pinned(ctx, st, true)
}

// PlanGuardrails stores a plan to replace the pinned rules with the local
// configuration's; someone other than the actor approves it and apply pins
// them.
func (a *App) PlanGuardrails(ctx context.Context, description string) (review.GuardrailsPlan, error) {
	if err := a.authorize(auth.ActionManageGuardrails); err != nil {
		return review.GuardrailsPlan{}, err
	}
	if err := checkText("--description", description, 4096); err != nil {
		return review.GuardrailsPlan{}, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return review.GuardrailsPlan{}, err
	}
	if _, err := a.planner(a.localRules()); err != nil {
		return review.GuardrailsPlan{}, err
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return review.GuardrailsPlan{}, err
	}
	gp, err := review.PlanGuardrails(ctx, st, a.localRules(), actor, description, a.o.Now())
	return gp, classify(err)
}
