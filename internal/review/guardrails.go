package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/store"
)

// Pinned is the version of the rules in force.
type Pinned struct {
	Rules   Rules
	Version store.GuardrailsVersion
}

// Hash is the pinned rules' hash.
func (p Pinned) Hash() string { return p.Version.Hash }

// MismatchError: the local configuration's rules are not the pinned ones.
type MismatchError struct {
	Local, Pinned string // hashes
	Source        string // where the local rules came from
}

func (e *MismatchError) Error() string {
	src := e.Source
	if src == "" {
		src = "the built-in defaults"
	}
	return fmt.Sprintf("the guardrails of %s (%s) differ from those pinned in the store (%s); the pinned guardrails decide every verdict. "+
		"Use the pinned ones (orgguard guardrails show --yaml) or change them through review: orgguard guardrails plan --config FILE, approved by someone else",
		src, digest.Short(e.Local), digest.Short(e.Pinned))
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *MismatchError) Is(target error) bool { return target == ErrRefused }

// Current returns the pinned rules, or store.ErrNotFound when none are
// pinned yet.
func Current(ctx context.Context, st store.Store) (Pinned, error) {
	v, err := st.PinnedGuardrails(ctx)
	if err != nil {
		return Pinned{}, err
	}
	r, err := DecodeRules(v.Body)
	if err != nil {
		return Pinned{}, fmt.Errorf("pinned guardrails version %d: %w", v.Seq, err)
	}
	if h, err := r.Hash(); err != nil || h != v.Hash {
		return Pinned{}, fmt.Errorf("pinned guardrails version %d: the stored body does not match its hash %s (edited in the database?)", v.Seq, v.Hash)
	}
	return Pinned{Rules: r, Version: v}, nil
}

// Check returns the pinned rules when local is the same, or a
// *MismatchError. With pinFirst and nothing pinned yet, local is pinned
// first (trust on first use, audited as guardrails.pinned with
// "firstUse"); without it, nothing pinned returns local unpinned (a plan
// that is not saved anywhere).
func Check(ctx context.Context, st store.Store, local Rules, source, actor string, pinFirst bool) (Pinned, error) {
	body, h, err := local.Encode()
	if err != nil {
		return Pinned{}, err
	}
	p, err := Current(ctx, st)
	switch {
	case errors.Is(err, store.ErrNotFound) && !pinFirst:
		return Pinned{Rules: local, Version: store.GuardrailsVersion{Hash: h, Body: body}}, nil
	case errors.Is(err, store.ErrNotFound):
		return pin(ctx, st, local, actor, "", 0, map[string]any{"firstUse": true, "source": source})
	case err != nil:
		return Pinned{}, err
	}
	if p.Hash() != h {
		return Pinned{}, &MismatchError{Local: h, Pinned: p.Hash(), Source: source}
	}
	return p, nil
}

// pin appends rules as the version in force, expecting version expect to
// be the newest, with its audit entry.
func pin(ctx context.Context, st store.Store, r Rules, actor, planID string, expect int64, detail map[string]any) (Pinned, error) {
	body, h, err := r.Encode()
	if err != nil {
		return Pinned{}, err
	}
	var v store.GuardrailsVersion
	err = st.WithTx(ctx, func(tx store.Tx) error {
		v, err = pinTx(ctx, tx, r, body, h, actor, planID, expect, detail)
		return err
	})
	if errors.Is(err, store.ErrConflict) && planID == "" {
		// Pinned concurrently on first use: compare with the winner.
		p, cerr := Current(ctx, st)
		if cerr != nil {
			return Pinned{}, cerr
		}
		if p.Hash() != h {
			return Pinned{}, &MismatchError{Local: h, Pinned: p.Hash()}
		}
		return p, nil
	}
	if err != nil {
		return Pinned{}, err
	}
	return Pinned{Rules: r, Version: v}, nil
}

func pinTx(ctx context.Context, tx store.Tx, r Rules, body []byte, h, actor, planID string, expect int64, detail map[string]any) (store.GuardrailsVersion, error) {
	v, err := tx.PinGuardrails(ctx, store.GuardrailsVersion{Hash: h, Body: body, PinnedBy: actor, PlanID: planID}, expect)
	if err != nil {
		return v, err
	}
	if detail == nil {
		detail = map[string]any{}
	}
	detail["guardrails"] = h
	detail["version"] = v.Seq
	if planID != "" {
		detail["plan"] = planID
	}
	return v, auditEntry(ctx, tx, actor, "guardrails.pinned", fmt.Sprintf("guardrails v%d", v.Seq), detail)
}

// GuardrailsPlan is the body of a plan that changes the pinned rules.
type GuardrailsPlan struct {
	FormatVersion int       `json:"formatVersion"`
	Kind          string    `json:"kind"` // "guardrails"
	ID            string    `json:"id"`
	CreatedAt     time.Time `json:"createdAt"`
	Author        string    `json:"author"`
	Description   string    `json:"description,omitempty"`
	// From is the version and hash in force when the plan was made: the
	// plan applies only while they still are.
	FromVersion int64  `json:"fromVersion"`
	From        string `json:"from"`
	To          string `json:"to"`
	Rules       Rules  `json:"rules"`
	// RequiredApprovals is at least 1 and at least the pinned rules'
	// minimum approvals: a change of the guardrails is never self-approved.
	RequiredApprovals int `json:"requiredApprovals"`
}

// guardrailsApprovals is how many approvals a change of the rules needs
// under the pinned rules p.
func guardrailsApprovals(p Pinned) int {
	return max(1, p.Rules.Guardrails.Approvals.Minimum)
}

// PlanGuardrails stores a plan to replace the pinned rules with next.
func PlanGuardrails(ctx context.Context, st store.Store, next Rules, author, description string, now time.Time) (GuardrailsPlan, error) {
	p, err := Current(ctx, st)
	if errors.Is(err, store.ErrNotFound) {
		return GuardrailsPlan{}, refused("no guardrails are pinned yet: they are pinned by the first plan saved (orgguard plan ... --out FILE) or by orgguard guardrails pin")
	}
	if err != nil {
		return GuardrailsPlan{}, err
	}
	_, to, err := next.Encode()
	if err != nil {
		return GuardrailsPlan{}, err
	}
	if to == p.Hash() {
		return GuardrailsPlan{}, refused("these guardrails are the pinned ones (%s): nothing to change", digest.Short(to))
	}
	gp := GuardrailsPlan{FormatVersion: 1, Kind: string(store.PlanGuardrails), CreatedAt: now.UTC().Truncate(time.Second),
		Author: author, Description: description, FromVersion: p.Version.Seq, From: p.Hash(), To: to, Rules: next,
		RequiredApprovals: guardrailsApprovals(p)}
	gp.ID = "guardrails-" + gp.CreatedAt.Format("20060102-150405") + "-" + to[len("sha256:"):len("sha256:")+8]
	body, err := json.Marshal(gp)
	if err != nil {
		return GuardrailsPlan{}, fmt.Errorf("encoding the guardrails plan: %w", err)
	}
	err = st.WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.SavePlan(ctx, store.Plan{ID: gp.ID, Kind: store.PlanGuardrails, CreatedAt: gp.CreatedAt, Author: author,
			Hash: hashOf(body), BaseFingerprint: gp.From, Verdict: "needs-approvals", RequiredApprovals: gp.RequiredApprovals,
			Body: body, Guardrails: gp.From}); err != nil {
			return err
		}
		return auditEntry(ctx, tx, author, "guardrails.planned", gp.ID, map[string]any{"from": gp.From, "to": gp.To,
			"fromVersion": gp.FromVersion, "requiredApprovals": gp.RequiredApprovals, "guardrails": gp.From})
	})
	if err != nil {
		return GuardrailsPlan{}, fmt.Errorf("saving guardrails plan %s: %w", gp.ID, err)
	}
	return gp, nil
}

// loadGuardrailsPlan reads a stored guardrails plan and checks it against
// its hash and the pinned rules: it is derived again from its own rules.
func loadGuardrailsPlan(sp store.Plan, p Pinned) (GuardrailsPlan, error) {
	var gp GuardrailsPlan
	if hashOf(sp.Body) != sp.Hash {
		return gp, refused("stored plan %s does not match its hash (edited in the database?)", sp.ID)
	}
	if err := json.Unmarshal(sp.Body, &gp); err != nil {
		return gp, fmt.Errorf("reading guardrails plan %s: %w", sp.ID, err)
	}
	if _, to, err := gp.Rules.Encode(); err != nil || to != gp.To {
		return gp, refused("guardrails plan %s: its rules do not hash to %s", sp.ID, digest.Short(gp.To))
	}
	if gp.From != p.Hash() || gp.FromVersion != p.Version.Seq {
		return gp, refused("guardrails plan %s was made against guardrails v%d (%s) but v%d (%s) is pinned now: make a new plan",
			sp.ID, gp.FromVersion, digest.Short(gp.From), p.Version.Seq, digest.Short(p.Hash()))
	}
	need := guardrailsApprovals(p)
	if gp.RequiredApprovals != need || sp.RequiredApprovals != need || gp.Author != sp.Author || gp.ID != sp.ID {
		return gp, refused("guardrails plan %s does not match what orgguard derives from it (required approvals %d, derived %d)", sp.ID, sp.RequiredApprovals, need)
	}
	return gp, nil
}

// ApplyGuardrails pins the rules of an approved guardrails plan.
func ApplyGuardrails(ctx context.Context, st store.Store, planID, actor string) (Pinned, error) {
	p, err := Current(ctx, st)
	if err != nil {
		return Pinned{}, err
	}
	sp, err := st.Plan(ctx, planID)
	if err != nil {
		return Pinned{}, err
	}
	gp, err := loadGuardrailsPlan(sp, p)
	if err != nil {
		return Pinned{}, err
	}
	if sp.State != store.PlanPending && sp.State != store.PlanApproved {
		return Pinned{}, refused("plan %s is %s; a plan is applied at most once", planID, sp.State)
	}
	as, err := st.ListApprovals(ctx, planID)
	if err != nil {
		return Pinned{}, err
	}
	valid := validApprovals(as, sp.Hash, sp.Author)
	if len(valid) < gp.RequiredApprovals {
		return Pinned{}, refused("guardrails plan %s needs %d approval(s) from people other than its author %s; it has %d — run: orgguard approve %s --by NAME",
			planID, gp.RequiredApprovals, sp.Author, len(valid), planID)
	}
	body, h, err := gp.Rules.Encode()
	if err != nil {
		return Pinned{}, err
	}
	var v store.GuardrailsVersion
	err = st.WithTx(ctx, func(tx store.Tx) error {
		if sp.State == store.PlanPending {
			if _, err := tx.SetPlanState(ctx, planID, store.PlanPending, store.PlanApproved); err != nil {
				return err
			}
		}
		if _, err := tx.SetPlanState(ctx, planID, store.PlanApproved, store.PlanApplying); err != nil {
			return err
		}
		v, err = pinTx(ctx, tx, gp.Rules, body, h, actor, planID, gp.FromVersion, map[string]any{"from": gp.From, "approvers": names(valid)})
		if err != nil {
			return err
		}
		_, err = tx.SetPlanState(ctx, planID, store.PlanApplying, store.PlanApplied)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return Pinned{}, refused("the pinned guardrails changed while applying %s: make a new plan", planID)
	}
	if err != nil {
		return Pinned{}, fmt.Errorf("pinning the guardrails of plan %s: %w", planID, err)
	}
	return Pinned{Rules: gp.Rules, Version: v}, nil
}

func names(as []store.Approval) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Approver
	}
	return out
}
