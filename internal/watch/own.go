package watch

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
)

// ownChanges returns the signatures of the organization changes orgguard's
// own applies, rollbacks and recoveries made recently (running, or
// started or finished after since), read from the change journal: each
// plan step, and its inverses when the change was (or may have been)
// undone. A drift whose signature is among them is not drift.
//
// The changes are read oldest first and, within one, the steps before the
// inverses that undid them, so that a later action on the same attachment,
// policy, OU or policy type supersedes an earlier opposite one: once
// orgguard has detached a policy from a target, an attach of it there
// seen afterwards is not orgguard's, even if an earlier rollback of
// orgguard's attached it there (a remediation interrupted, rolled back by
// recovery, then done again). Inverses only possibly run (a failed change
// with no undo journaled) supersede nothing.
func ownChanges(ctx context.Context, st store.Store, since time.Time) (map[string]bool, error) {
	sigs := map[string]bool{}
	chs, err := st.ListChanges(ctx, store.ChangeFilter{Limit: 100})
	if err != nil {
		return nil, err
	}
	plans := map[string]*plan.File{}
	slices.Reverse(chs) // oldest first
	for _, ch := range chs {
		if ch.State != store.ChangeRunning && ch.StartedAt.Before(since) && (ch.FinishedAt.IsZero() || ch.FinishedAt.Before(since)) {
			continue
		}
		f, ok := plans[ch.PlanID]
		if !ok {
			p, err := st.Plan(ctx, ch.PlanID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if f, err = plan.Parse(p.Body, ch.PlanID); err != nil {
				continue // unreadable plan: its changes count as drift
			}
			plans[ch.PlanID] = f
		}
		journal, err := st.Journal(ctx, ch.ID)
		if err != nil {
			return nil, err
		}
		bind := change.Bindings{}
		maybeUndone := ch.Kind != store.ChangeApply || ch.State == store.ChangeRolledBack || ch.State == store.ChangeFailed
		undone := false
		for _, e := range journal {
			var d struct {
				Op       string          `json:"op"`
				Bindings change.Bindings `json:"bindings"`
			}
			if json.Unmarshal(e.Detail, &d) == nil {
				for k, v := range d.Bindings {
					bind[k] = v
				}
				if d.Op == "undo" {
					undone = true
				}
			}
		}
		for _, s := range f.Steps {
			addSignatures(sigs, s.Step, bind, true)
		}
		if undone || maybeUndone {
			// Undone last step first.
			for i := len(f.Steps) - 1; i >= 0; i-- {
				for _, inv := range f.Steps[i].Inverse {
					addSignatures(sigs, inv, bind, undone)
				}
			}
		}
	}
	return sigs, nil
}

func resolve(id string, bind change.Bindings) string {
	if strings.HasPrefix(id, change.RefPrefix) {
		if v, ok := bind[id]; ok {
			return v
		}
		return "*"
	}
	if v, ok := bind["id:"+id]; ok {
		return v
	}
	return id
}

func sig(kind org.ChangeKind, id, target string) string {
	return string(kind) + "|" + id + "|" + target
}

// addSignatures adds the signatures of step s to sigs; with supersede it
// first removes those of the opposite action on the same thing (an attach
// after a detach of one policy on one target, a create after a delete).
func addSignatures(sigs map[string]bool, s change.Step, bind change.Bindings, supersede bool) {
	add := func(kind, opposite org.ChangeKind, id, target string) {
		if supersede && opposite != "" {
			delete(sigs, sig(opposite, id, target))
		}
		sigs[sig(kind, id, target)] = true
	}
	p, t := resolve(s.PolicyID, bind), resolve(s.TargetID, bind)
	switch s.Kind {
	case change.AttachPolicy:
		add(org.AttachmentAdded, org.AttachmentRemoved, p, t)
	case change.DetachPolicy:
		add(org.AttachmentRemoved, org.AttachmentAdded, p, t)
	case change.MoveAccount:
		add(org.AccountMoved, "", resolve(s.AccountID, bind), "")
	case change.CreatePolicy:
		id := "*"
		if s.Ref != "" {
			id = resolve(change.RefPrefix+s.Ref, bind)
		}
		add(org.PolicyAdded, org.PolicyRemoved, id, "")
	case change.UpdatePolicy:
		add(org.PolicyContentChanged, "", p, "")
		add(org.PolicyRenamed, "", p, "")
	case change.DeletePolicy:
		add(org.PolicyRemoved, org.PolicyAdded, p, "")
		add(org.AttachmentRemoved, "", p, "*")
	case change.CreateOU:
		id := "*"
		if s.Ref != "" {
			id = resolve(change.RefPrefix+s.Ref, bind)
		}
		add(org.OUAdded, org.OURemoved, id, "")
	case change.DeleteOU:
		add(org.OURemoved, org.OUAdded, resolve(s.OUID, bind), "")
	case change.EnablePolicyType:
		add(org.PolicyTypeEnabledChange, org.PolicyTypeDisabledChange, string(s.PolicyType), "")
	case change.DisablePolicyType:
		add(org.PolicyTypeDisabledChange, org.PolicyTypeEnabledChange, string(s.PolicyType), "")
		// Disabling a type detaches its policies everywhere.
		sigs[sig(org.AttachmentRemoved, "*", "*")+"|"+string(s.PolicyType)] = true
	}
}

// isOwn reports whether c is among sigs.
func isOwn(sigs map[string]bool, c org.Change) bool {
	for _, k := range []string{sig(c.Kind, c.ID, c.Target), sig(c.Kind, "*", c.Target), sig(c.Kind, c.ID, "*")} {
		if sigs[k] {
			return true
		}
	}
	switch c.Kind {
	case org.AccountMoved, org.PolicyAdded, org.OUAdded, org.OURemoved, org.PolicyRemoved, org.PolicyContentChanged, org.PolicyRenamed:
		return sigs[sig(c.Kind, c.ID, "")] || sigs[sig(c.Kind, "*", "")]
	}
	return false
}
