package auth

import (
	"fmt"
	"strings"
)

// Role is what a user may do. The roles are ordered and each includes
// every role below it:
//
//	viewer < operator < approver < admin
//
// so an approver may also plan and apply, and an admin may do everything.
// The order is a deliberate choice over separate, combinable roles: who
// may approve is trusted at least as far as who may apply, a user has one
// role to read and to audit, and the separation that matters — nobody
// approves their own plan, a plan needs approvals from people other than
// its author — is enforced on every plan by the review chain, whatever
// the roles.
//
// The permission matrix (Can, MinRole):
//
//	action             viewer  operator  approver  admin
//	view                 ✓        ✓         ✓        ✓
//	plan                          ✓         ✓        ✓
//	apply                         ✓         ✓        ✓
//	respond                       ✓         ✓        ✓
//	approve                                 ✓        ✓
//	manage-guardrails                                ✓
//	manage-users                                     ✓
//	manage-tokens                                    ✓
type Role string

// The roles, least first.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleApprover Role = "approver"
	RoleAdmin    Role = "admin"
)

// Roles lists every role, least first, in a new slice.
func Roles() []Role { return []Role{RoleViewer, RoleOperator, RoleApprover, RoleAdmin} }

// rank orders the roles; 0 is not a role.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleApprover:
		return 3
	case RoleAdmin:
		return 4
	}
	return 0
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r includes other: both must be roles.
func (r Role) AtLeast(other Role) bool { return r.Valid() && other.Valid() && r.rank() >= other.rank() }

// Min returns the lesser of r and other: the role in force for an API
// token is the lower of its scope and its owner's role.
func (r Role) Min(other Role) Role {
	if !r.Valid() || !other.Valid() {
		return ""
	}
	if other.rank() < r.rank() {
		return other
	}
	return r
}

// Implied returns the roles r includes, least first and r last (nil for
// an unknown role): what a check by role name, rather than by rank, needs
// to hold.
func (r Role) Implied() []Role {
	if !r.Valid() {
		return nil
	}
	return Roles()[:r.rank()]
}

// ParseRole reads a role name, ignoring case and surrounding spaces.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		names := make([]string, 0, 4)
		for _, r := range Roles() {
			names = append(names, string(r))
		}
		return "", fmt.Errorf("%w %q: want %s", ErrInvalidRole, s, strings.Join(names, ", "))
	}
	return r, nil
}

// Action is something a role may be allowed to do. The actions form a
// closed set; see Role for the matrix.
type Action string

// The actions.
const (
	// ActionView: read plans, approvals, changes, incidents, notices, the
	// audit log and the status.
	ActionView Action = "view"
	// ActionPlan: make and save plans, rollback plans included.
	ActionPlan Action = "plan"
	// ActionApply: apply approved plans; recover an interrupted apply.
	ActionApply Action = "apply"
	// ActionRespond: work incidents (acknowledge, note, change state),
	// edit and publish notices, write postmortems, retry outgoing
	// messages.
	ActionRespond Action = "respond"
	// ActionApprove: approve plans made by others.
	ActionApprove Action = "approve"
	// ActionManageGuardrails: plan a change of the pinned guardrails
	// (which someone else still approves).
	ActionManageGuardrails Action = "manage-guardrails"
	// ActionManageUsers: add users, set their role and password, disable
	// and enable them.
	ActionManageUsers Action = "manage-users"
	// ActionManageTokens: create, list and revoke API tokens.
	ActionManageTokens Action = "manage-tokens"
)

// Actions lists every action in the matrix's order, in a new slice.
func Actions() []Action {
	return []Action{ActionView, ActionPlan, ActionApply, ActionRespond, ActionApprove,
		ActionManageGuardrails, ActionManageUsers, ActionManageTokens}
}

// MinRole returns the least role allowed a; false for an unknown action.
func MinRole(a Action) (Role, bool) {
	switch a {
	case ActionView:
		return RoleViewer, true
	case ActionPlan, ActionApply, ActionRespond:
		return RoleOperator, true
	case ActionApprove:
		return RoleApprover, true
	case ActionManageGuardrails, ActionManageUsers, ActionManageTokens:
		return RoleAdmin, true
	}
	return "", false
}

// Can reports whether r allows a. An unknown role or action allows
// nothing.
func (r Role) Can(a Action) bool {
	need, ok := MinRole(a)
	return ok && r.AtLeast(need)
}
