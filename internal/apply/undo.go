package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// undo runs the inverses of steps (in execution order; order holds their
// plan indices), last step first, each inverse only when its effect does
// not already hold in the live organization: so undo may be run on steps
// that did not run, ran partly, or were already undone — which is what
// recovery after a crash needs. Then it verifies that the organization is
// back at the plan's base fingerprint (modulo the IDs of objects the
// rollback re-created). base, when known, is used to describe differences.
//
// all is every step of the change in execution order (steps is a prefix):
// undo looks there for the step that creates an object a reference names.
func (e *Engine) undo(ctx context.Context, changeID string, f *plan.File, all []change.Planned, steps []change.Planned, order []int, bind change.Bindings, base *org.Snapshot) (*Rollback, error) {
	rb := &Rollback{Undone: []string{}}
	for k := len(steps) - 1; k >= 0; k-- {
		n := order[k] + 1
		// A step that deleted an object is undone by re-creating it under
		// a new ID: every binding to the old ID then moves to the new one.
		deleted := ""
		if fr, err := steps[k].Resolve(bind); err == nil {
			switch fr.Kind {
			case change.DeletePolicy:
				deleted = fr.PolicyID
			case change.DeleteOU:
				deleted = fr.OUID
			}
		}
		rebind := func(created string) {
			if deleted == "" || created == "" || created == deleted {
				return
			}
			for key, v := range bind {
				if v == deleted {
					bind[key] = created
				}
			}
			bind["id:"+deleted] = created
		}
		for j, inv := range steps[k].Inverse {
			live, err := e.o.Backend.Snapshot(ctx)
			if err != nil {
				return rb, fmt.Errorf("reading the organization before undoing step %d: %w", n, err)
			}
			x, err := org.NewIndex(live)
			if err != nil {
				return rb, err
			}
			done, note, err := inEffect(x, all, inv, bind)
			if err != nil {
				return rb, fmt.Errorf("inspecting the organization before undoing step %d (%s): %w", n, inv.Summary, err)
			}
			entry := store.JournalEntry{ChangeID: changeID, Step: n}
			if done {
				if inv.Kind == change.CreatePolicy || inv.Kind == change.CreateOU {
					if id, ok := bind[change.RefPrefix+inv.Ref]; ok {
						rebind(id)
					}
				}
				rb.Skipped = append(rb.Skipped, fmt.Sprintf("%s (%s)", inv.Summary, note))
				entry.Phase, entry.Detail = store.PhaseRolledBack, mustJSON(journalDetail{Op: "undo", Summary: inv.Summary, Inverse: j + 1, Note: note, Bindings: bind})
				if _, err := e.o.Store.AppendJournal(ctx, entry); err != nil {
					return rb, fmt.Errorf("journaling the undo of step %d: %w", n, err)
				}
				continue
			}
			entry.Phase, entry.Detail = store.PhaseIntent, mustJSON(journalDetail{Op: "undo", Summary: inv.Summary, Inverse: j + 1, Bindings: bind})
			if _, err := e.o.Store.AppendJournal(ctx, entry); err != nil {
				return rb, fmt.Errorf("journaling the undo of step %d: %w", n, err)
			}
			if err := e.point(fmt.Sprintf("undo step %d.%d: intent journaled", n, j+1)); err != nil {
				return rb, err
			}
			e.logf("  undo step %d: %s", n, inv.Summary)
			ids := &requestIDs{}
			created, runErr := change.Run(ids.context(ctx), e.o.Backend, inv, bind)
			if err := e.point(fmt.Sprintf("undo step %d.%d: ran", n, j+1)); err != nil {
				return rb, err
			}
			d := journalDetail{Op: "undo", Summary: inv.Summary, Inverse: j + 1, Created: created, Bindings: bind}
			entry.Phase, entry.RequestID = store.PhaseRolledBack, ids.entry(runErr)
			if runErr != nil {
				d.Error = runErr.Error()
				entry.Phase = store.PhaseFailed
			}
			entry.Detail = mustJSON(d)
			if _, err := e.o.Store.AppendJournal(ctx, entry); err != nil {
				return rb, fmt.Errorf("journaling the undo of step %d: %w", n, err)
			}
			if runErr != nil {
				return rb, fmt.Errorf("undoing step %d (%s): %w", n, inv.Summary, runErr)
			}
			rebind(created)
			rb.Undone = append(rb.Undone, inv.Summary)
		}
	}
	ok, detail, err := e.verifyBase(ctx, f, bind, base)
	if err != nil {
		return rb, err
	}
	rb.Verified, rb.Detail = ok, detail
	if ok {
		e.logf("  rollback verified: the organization matches the plan's base fingerprint %s", digest.Short(f.BaseFingerprint))
	} else {
		e.logf("  ROLLBACK NOT VERIFIED: %s", strings.Join(detail, "; "))
	}
	return rb, nil
}

// restoreMap maps the IDs of objects a rollback re-created to the IDs they
// had before ("id:<old>" bindings), reversed: new -> old.
func restoreMap(b change.Bindings) map[string]string {
	m := map[string]string{}
	for k, v := range b {
		if old, ok := strings.CutPrefix(k, "id:"); ok {
			m[v] = old
		}
	}
	return m
}

// verifyBase checks that the live organization has the plan's base
// fingerprint once re-created objects are given back their old IDs.
func (e *Engine) verifyBase(ctx context.Context, f *plan.File, bind change.Bindings, base *org.Snapshot) (bool, []string, error) {
	live, err := e.o.Backend.Snapshot(ctx)
	if err != nil {
		return false, nil, fmt.Errorf("reading the organization to verify the rollback: %w", err)
	}
	t := translate(live, restoreMap(bind))
	fp := org.ComputeFingerprint(t)
	if fp == f.BaseFingerprint {
		return true, nil, nil
	}
	detail := []string{fmt.Sprintf("the organization's fingerprint is %s, the plan's base is %s", digest.Short(fp), digest.Short(f.BaseFingerprint))}
	if base == nil {
		base, _ = review.Base(ctx, e.o.Store, f.BaseFingerprint)
	}
	if base != nil {
		bx, err1 := org.NewIndex(base)
		tx, err2 := org.NewIndex(t)
		if err1 == nil && err2 == nil {
			for _, c := range org.Diff(bx, tx) {
				detail = append(detail, "base → now: "+c.String())
			}
		}
	}
	return false, detail, nil
}

// creator returns the plan step that creates the object named by ref.
func creator(steps []change.Planned, ref string) (change.Step, bool) {
	name, ok := strings.CutPrefix(ref, change.RefPrefix)
	if !ok {
		return change.Step{}, false
	}
	for _, s := range steps {
		if s.Ref == name {
			return s.Step, true
		}
	}
	return change.Step{}, false
}

// bindByName finds, in x, the object the plan step c creates (a policy by
// name and type, an OU by name under its parent) and binds ref to it.
func bindByName(x *org.Index, c change.Step, ref string, b change.Bindings) bool {
	switch c.Kind {
	case change.CreatePolicy:
		for _, p := range x.Snapshot().Policies {
			if p.Name == c.Name && p.Type == c.PolicyType {
				b[ref] = p.ID
				return true
			}
		}
	case change.CreateOU:
		parent, err := c.Resolve(b)
		if err != nil {
			return false
		}
		for _, ch := range x.Children(parent.ParentID) {
			if ch.Kind == org.KindOU && ch.Name == c.Name {
				b[ref] = ch.ID
				return true
			}
		}
	}
	return false
}

// inEffect reports whether the effect of step s already holds in the
// organization x — so running it again is unnecessary (or impossible). It
// binds references to created objects it finds by name. planSteps are the
// plan's steps, to find what a reference names.
func inEffect(x *org.Index, planSteps []change.Planned, s change.Step, b change.Bindings) (bool, string, error) {
	// Bind what s refers to but the journal never bound (a create whose
	// result was lost in a crash).
	for _, f := range []string{s.PolicyID, s.TargetID, s.AccountID, s.SourceParentID, s.DestinationParentID, s.ParentID, s.OUID} {
		if !strings.HasPrefix(f, change.RefPrefix) {
			continue
		}
		if _, ok := b[f]; ok {
			continue
		}
		c, ok := creator(planSteps, f)
		if !ok || !bindByName(x, c, f, b) {
			// Never created: whatever s does to it is moot.
			switch s.Kind {
			case change.DeletePolicy, change.DeleteOU, change.DetachPolicy:
				return true, "never created", nil
			}
			return false, "", fmt.Errorf("%s: %w", f, change.ErrUnboundRef)
		}
	}
	r, err := s.Resolve(b)
	if err != nil {
		return false, "", err
	}
	switch r.Kind {
	case change.AttachPolicy:
		if slices.Contains(x.TargetsOf(r.PolicyID), r.TargetID) {
			return true, "already attached", nil
		}
	case change.DetachPolicy:
		if _, ok := x.Policy(r.PolicyID); !ok {
			return true, "policy does not exist", nil
		}
		if !slices.Contains(x.TargetsOf(r.PolicyID), r.TargetID) {
			return true, "not attached", nil
		}
	case change.MoveAccount:
		if a, ok := x.Account(r.AccountID); ok && a.ParentID == r.DestinationParentID {
			return true, "already there", nil
		}
	case change.UpdatePolicy:
		if p, ok := x.Policy(r.PolicyID); ok && p.Content == r.Content && (r.Name == "" || p.Name == r.Name) && p.Description == r.Description {
			return true, "content already as wanted", nil
		}
	case change.DeletePolicy:
		if _, ok := x.Policy(r.PolicyID); !ok {
			return true, "already deleted", nil
		}
	case change.CreatePolicy:
		for _, p := range x.Snapshot().Policies {
			if p.Name == r.Name && p.Type == r.PolicyType {
				if s.Ref != "" {
					b[change.RefPrefix+s.Ref] = p.ID
					if old, ok := strings.CutPrefix(s.Ref, "restore-"); ok {
						b["id:"+old] = p.ID
					}
				}
				return true, "already exists as " + p.ID, nil
			}
		}
	case change.CreateOU:
		for _, ch := range x.Children(r.ParentID) {
			if ch.Kind == org.KindOU && ch.Name == r.Name {
				if s.Ref != "" {
					b[change.RefPrefix+s.Ref] = ch.ID
					if old, ok := strings.CutPrefix(s.Ref, "restore-"); ok {
						b["id:"+old] = ch.ID
					}
				}
				return true, "already exists as " + ch.ID, nil
			}
		}
	case change.DeleteOU:
		if _, ok := x.OU(r.OUID); !ok {
			return true, "already deleted", nil
		}
	case change.EnablePolicyType:
		if x.Snapshot().Root.PolicyTypeEnabled(r.PolicyType) {
			return true, "already enabled", nil
		}
	case change.DisablePolicyType:
		if !x.Snapshot().Root.PolicyTypeEnabled(r.PolicyType) {
			return true, "already disabled", nil
		}
	}
	return false, "", nil
}
