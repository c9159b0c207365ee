package watch

import (
	"context"
	"fmt"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/store"
)

// Remediation asks to undo a drift: the drift's inverse as operations,
// planned and applied through the same journaled, health-checked apply
// path as any change.
type Remediation struct {
	Incident   store.Incident
	Rule       string // the rule that allowed it
	Operations []change.Operation
	// NotUndone lists the drift's changes that have no automatic inverse
	// (an account created or closed, an OU created, a policy deleted).
	NotUndone   []string
	Description string
	// Resumed is set when the remediation was pending when the watcher
	// stopped (killed, crashed) and is resumed at its restart: an apply
	// of it may have been interrupted, and the drift may be undone
	// already. The remediator settles interrupted applies first and
	// applies only what is still Outstanding.
	Resumed bool
}

// The states of a remediation, in the detail of its timeline entries
// (kind incident.KindRemediation). A remediation whose last entry is
// pending or started, on an incident not mitigated or resolved, was
// interrupted and is resumed when the watcher starts.
const (
	RemPending    = "pending"    // written with the incident, in its transaction
	RemStarted    = "started"    // the remediator is running
	RemFailed     = "failed"     // refused, not planned, or the apply failed
	RemImpossible = "impossible" // nothing in the drift has an automatic inverse
	RemAbandoned  = "abandoned"  // pending at a restart, but its rule no longer remediates
)

// remRecord is the detail of a remediation timeline entry.
type remRecord struct {
	State       string             `json:"state"`
	Rule        string             `json:"rule"`
	Operations  []change.Operation `json:"operations,omitempty"`
	NotUndone   []string           `json:"notUndone,omitempty"`
	Description string             `json:"description,omitempty"`
	Result      *RemediationResult `json:"result,omitempty"`
}

// OutcomeUndone is the RemediationResult.Outcome of a resumed remediation
// whose operations were all done already (by the interrupted apply, or by
// someone else): the drift is undone, nothing is applied.
const OutcomeUndone = "already-undone"

// Outstanding returns the operations of ops that x does not satisfy yet:
// a detach of a policy still attached, an attach of one not attached, a
// move of an account not at its destination, a policy content not yet
// restored, a policy type not enabled. Other operations are kept.
func Outstanding(x *org.Index, ops []change.Operation) []change.Operation {
	s := x.Snapshot()
	isAttached := func(p, t string) bool {
		for _, a := range s.Attachments {
			if a.PolicyID == p && a.TargetID == t {
				return true
			}
		}
		return false
	}
	var out []change.Operation
	for _, op := range ops {
		done := false
		switch op.Op {
		case change.OpDetachPolicy:
			done = !isAttached(op.Policy, op.Target)
		case change.OpAttachPolicy:
			done = isAttached(op.Policy, op.Target)
		case change.OpMoveAccount:
			done = true
			for _, id := range op.Accounts {
				if a, ok := x.Account(id); !ok || a.ParentID != op.To {
					done = false
				}
			}
		case change.OpUpdatePolicy:
			p, ok := x.Policy(op.Policy)
			done = ok && p.Content == op.Content
		case change.OpEnablePolicyType:
			t, ok := org.ParsePolicyType(op.Type)
			done = ok && s.Root.PolicyTypeEnabled(t)
		}
		if !done {
			out = append(out, op)
		}
	}
	return out
}

// RemediationResult is how a remediation went.
type RemediationResult struct {
	PlanID   string `json:"planId,omitempty"`
	ChangeID string `json:"changeId,omitempty"`
	Outcome  string `json:"outcome"` // e.g. "applied", "rolled-back", "refused"
	Detail   string `json:"detail,omitempty"`
}

// Remediator runs remediations. The application layer implements it with
// the planner and the apply engine.
type Remediator interface {
	Remediate(ctx context.Context, r Remediation) (RemediationResult, error)
}

// inverse returns the operations undoing changes (from before to after),
// with IDs, and the changes it cannot undo.
func inverse(before, after *org.Index, changes []org.Change) ([]change.Operation, []string) {
	var ops []change.Operation
	var not []string
	for _, c := range changes {
		switch c.Kind {
		case org.AttachmentAdded:
			ops = append(ops, change.Operation{Op: change.OpDetachPolicy, Policy: c.ID, Target: c.Target})
		case org.AttachmentRemoved:
			if _, ok := after.Policy(c.ID); ok {
				if _, ok := after.Node(c.Target); ok {
					ops = append(ops, change.Operation{Op: change.OpAttachPolicy, Policy: c.ID, Target: c.Target})
					continue
				}
			}
			not = append(not, c.String())
		case org.AccountMoved:
			a, ok := before.Account(c.ID)
			if !ok {
				not = append(not, c.String())
				continue
			}
			ops = append(ops, change.Operation{Op: change.OpMoveAccount, Accounts: []string{c.ID}, To: a.ParentID})
		case org.PolicyContentChanged:
			p, ok := before.Policy(c.ID)
			if !ok {
				not = append(not, c.String())
				continue
			}
			ops = append(ops, change.Operation{Op: change.OpUpdatePolicy, Policy: c.ID, Content: p.Content})
		case org.PolicyTypeDisabledChange:
			ops = append(ops, change.Operation{Op: change.OpEnablePolicyType, Type: org.PolicyType(c.ID).Short()})
		case org.PolicyAdded, org.PolicyRenamed:
			// Harmless until attached (attachments are undone above); a
			// rename changes no access.
		default:
			not = append(not, c.String())
		}
	}
	return ops, not
}

func (r Remediation) String() string {
	return fmt.Sprintf("remediation of incident %s (rule %s): %d operation(s)", r.Incident.ID, r.Rule, len(r.Operations))
}
