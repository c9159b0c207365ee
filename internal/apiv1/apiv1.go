// Package apiv1 holds the wire types of orgguard's JSON API under /api/v1:
// the server (internal/web) encodes them and the client (internal/client)
// decodes them, so both sides agree by construction. It has no behaviour
// beyond naming; docs/api.md describes the endpoints.
package apiv1

import (
	"encoding/json"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/store"
)

// Prefix is the path every endpoint of the API starts with.
const Prefix = "/api/v1"

// MaxBodyBytes bounds a request body: larger ones are answered 413
// (CodeTooLarge).
const MaxBodyBytes = 64 << 10

// Error codes: the "code" of an error body. Clients branch on the code;
// the message is for people.
const (
	CodeBadInput        = "bad_input"       // 400: the request is malformed or names something invalid
	CodeUnauthenticated = "unauthenticated" // 401: no valid token or session
	CodeForbidden       = "forbidden"       // 403: the user's role does not allow the action
	CodeOwnPlan         = "own_plan"        // 403: the author of a plan cannot approve it
	CodeCrossOrigin     = "cross_origin"    // 403: a browser's cross-origin request with a cookie
	CodeNotFound        = "not_found"       // 404: no such plan, change or endpoint
	CodeMethod          = "method"          // 405: the method is not allowed on the path
	CodeRefused         = "refused"         // 409: a guardrail or the review chain refused
	CodeConflict        = "conflict"        // 409: the state moved under the request
	CodeLocked          = "locked"          // 409: another apply holds the organization lock
	CodeTooLarge        = "too_large"       // 413: the body exceeds MaxBodyBytes
	CodeMediaType       = "media_type"      // 415: a body that is not application/json
	CodeUnconfirmed     = "unconfirmed"     // 422: a risky plan's typed confirmation is missing or wrong
	CodeRateLimited     = "rate_limited"    // 429: too many failed sign-ins
	CodeInternal        = "internal"        // 500: the server failed; details are in its log
	CodeUnavailable     = "unavailable"     // 503: the server cannot serve now
)

// ErrorBody is every error response: {"error":{"code":"...","message":"..."}}.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error is an error response's code and message.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Whoami is GET /api/v1/whoami: who the credentials act as.
type Whoami struct {
	Name string `json:"name"`
	// Role is the effective role (a token's is the lower of its own and
	// its owner's); Roles every role it includes.
	Role  string   `json:"role,omitempty"`
	Roles []string `json:"roles"`
	// Method is how the request was signed in: "token" or "session".
	Method string `json:"method,omitempty"`
}

// PlanSummary is one stored plan in a list.
type PlanSummary struct {
	ID                string          `json:"id"`
	Kind              store.PlanKind  `json:"kind"`
	State             store.PlanState `json:"state"`
	Verdict           string          `json:"verdict"`
	Approvals         int             `json:"approvals"`
	RequiredApprovals int             `json:"requiredApprovals"`
	Approvers         []string        `json:"approvers"`
	Author            string          `json:"author"`
	CreatedAt         time.Time       `json:"createdAt"`
	Hash              string          `json:"hash"`
}

// PlanList is GET /api/v1/plans.
type PlanList struct {
	Plans []PlanSummary `json:"plans"`
}

// Plan is GET /api/v1/plans/{id} and the answer to POST /api/v1/plans: the
// stored plan, who counts as its approvers, its changes, and the plan file
// as stored (the compact, hashed encoding; internal/plan.Parse verifies
// it). File is absent for a guardrails plan.
type Plan struct {
	PlanSummary
	Description string `json:"description,omitempty"`
	// RequiresConfirmation says an apply needs ConfirmationText typed
	// exactly (ApplyRequest.Confirm).
	RequiresConfirmation bool            `json:"requiresConfirmation"`
	ConfirmationText     string          `json:"confirmationText,omitempty"`
	Changes              []ChangeSummary `json:"changes"`
	File                 json.RawMessage `json:"file,omitempty"`
}

// PlanRequest is POST /api/v1/plans: a change described as operations
// (what `orgguard plan` takes as a subcommand, a change file or a
// Terraform plan). The server plans it itself against the organization
// under the pinned guardrails and stores it with the signed-in user as its
// author; a plan file is never accepted.
type PlanRequest struct {
	Operations  []change.Operation `json:"operations"`
	Description string             `json:"description,omitempty"`
	// Expect is the declared intent: the accounts (or their number)
	// affected.
	Expect    *change.Intent    `json:"expect,omitempty"`
	Overrides []change.Override `json:"overrides,omitempty"`
	// Source says where the operations came from ("cli", "file:change.yaml",
	// "terraform:tfplan.json"); the server records it prefixed with "api:".
	Source string `json:"source,omitempty"`
	// Refresh, on AWS, reads the whole organization instead of starting
	// from the latest stored read.
	Refresh bool `json:"refresh,omitempty"`
}

// ApproveRequest is POST /api/v1/plans/{id}/approve.
type ApproveRequest struct {
	Comment string `json:"comment,omitempty"`
}

// Approval is the answer to an approval.
type Approval struct {
	PlanID   string          `json:"planId"`
	Approver string          `json:"approver"`
	Hash     string          `json:"hash"`
	Author   string          `json:"author"`
	Have     int             `json:"approvals"`
	Need     int             `json:"requiredApprovals"`
	State    store.PlanState `json:"state"`
}

// ApplyRequest is POST /api/v1/plans/{id}/apply.
type ApplyRequest struct {
	// Confirm is the typed confirmation of a risky plan
	// (Plan.ConfirmationText).
	Confirm        string   `json:"confirm,omitempty"`
	OverrideWindow string   `json:"overrideWindow,omitempty"`
	Canary         []string `json:"canary,omitempty"`
	// CanaryWaitSeconds, when set, is the wait after the canary (default:
	// the server's probes.canaryWaitSeconds).
	CanaryWaitSeconds *int `json:"canaryWaitSeconds,omitempty"`
}

// ApplyStarted is the 202 answer to an apply: the change recording it.
// Follow it with GET /api/v1/changes/{changeId}. A guardrails plan is
// pinned at once: the answer is 200 with Pinned set and no change.
type ApplyStarted struct {
	PlanID   string `json:"planId"`
	ChangeID string `json:"changeId,omitempty"`
	// Location is the change's path on the API.
	Location string `json:"location,omitempty"`
	// Pinned is the version of the guardrails a guardrails plan pinned.
	Pinned int64 `json:"pinnedGuardrails,omitempty"`
}

// ChangeSummary is a change in a plan's list.
type ChangeSummary struct {
	ID         string            `json:"id"`
	Kind       store.ChangeKind  `json:"kind"`
	State      store.ChangeState `json:"state"`
	StartedBy  string            `json:"startedBy"`
	StartedAt  time.Time         `json:"startedAt"`
	FinishedAt time.Time         `json:"finishedAt,omitzero"`
}

// Change is GET /api/v1/changes/{id}: a change's state, its journal so
// far and, once it has finished, the apply's report.
type Change struct {
	ChangeSummary
	PlanID string `json:"planId"`
	// Done says the change has finished (State is final).
	Done    bool          `json:"done"`
	Journal []JournalLine `json:"journal"`
	// Steps are the plan's step summaries (step N is Steps[N-1]).
	Steps  []string      `json:"steps,omitempty"`
	Report *apply.Report `json:"report,omitempty"`
}

// JournalLine is one journal entry.
type JournalLine struct {
	Seq     int64       `json:"seq"`
	Step    int         `json:"step"`
	Phase   store.Phase `json:"phase"`
	At      time.Time   `json:"at"`
	Op      string      `json:"op,omitempty"`
	Summary string      `json:"summary,omitempty"`
	Error   string      `json:"error,omitempty"`
	Note    string      `json:"note,omitempty"`
}
