package watch

import (
	"context"
	"encoding/json"
	"errors"
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
func ownChanges(ctx context.Context, st store.Store, since time.Time) (map[string]bool, error) {
	sigs := map[string]bool{}
	chs, err := st.ListChanges(ctx, store.ChangeFilter{Limit: 100})
	if err != nil {
		return nil, err
	}
	plans := map[string]*plan.File{}
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
		undone := ch.Kind != store.ChangeApply || ch.State == store.ChangeRolledBack || ch.State == store.ChangeFailed
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
			addSignatures(sigs, s.Step, bind)
			if undone {
				for _, inv := range s.Inverse {
					addSignatures(sigs, inv, bind)
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

func addSignatures(sigs map[string]bool, s change.Step, bind change.Bindings) {
	p, t := resolve(s.PolicyID, bind), resolve(s.TargetID, bind)
	switch s.Kind {
	case change.AttachPolicy:
		sigs[sig(org.AttachmentAdded, p, t)] = true
	case change.DetachPolicy:
		sigs[sig(org.AttachmentRemoved, p, t)] = true
	case change.MoveAccount:
		sigs[sig(org.AccountMoved, resolve(s.AccountID, bind), "")] = true
	case change.CreatePolicy:
		id := "*"
		if s.Ref != "" {
			id = resolve(change.RefPrefix+s.Ref, bind)
		}
		sigs[sig(org.PolicyAdded, id, "")] = true
	case change.UpdatePolicy:
		sigs[sig(org.PolicyContentChanged, p, "")] = true
		sigs[sig(org.PolicyRenamed, p, "")] = true
	case change.DeletePolicy:
		sigs[sig(org.PolicyRemoved, p, "")] = true
		sigs[sig(org.AttachmentRemoved, p, "*")] = true
	case change.CreateOU:
		id := "*"
		if s.Ref != "" {
			id = resolve(change.RefPrefix+s.Ref, bind)
		}
		sigs[sig(org.OUAdded, id, "")] = true
	case change.DeleteOU:
		sigs[sig(org.OURemoved, resolve(s.OUID, bind), "")] = true
	case change.EnablePolicyType:
		sigs[sig(org.PolicyTypeEnabledChange, string(s.PolicyType), "")] = true
	case change.DisablePolicyType:
		sigs[sig(org.PolicyTypeDisabledChange, string(s.PolicyType), "")] = true
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
