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
