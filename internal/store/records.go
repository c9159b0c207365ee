package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// PlanState is where a plan is in its life. The states form a closed set;
// CanTransition says which moves are allowed.
type PlanState string

// The plan states.
const (
	PlanPending    PlanState = "pending"     // saved, waiting for approvals
	PlanApproved   PlanState = "approved"    // has the approvals its verdict requires
	PlanApplying   PlanState = "applying"    // an apply is running
	PlanApplied    PlanState = "applied"     // every step ran and the checks passed
	PlanRolledBack PlanState = "rolled-back" // applied (partly or fully), then undone
	PlanFailed     PlanState = "failed"      // the apply stopped and could not be undone cleanly
	PlanSuperseded PlanState = "superseded"  // replaced by a newer plan before it was applied
)

// PlanStates lists every plan state in life order, in a new slice the
// caller may keep or change.
func PlanStates() []PlanState {
	return []PlanState{PlanPending, PlanApproved, PlanApplying, PlanApplied, PlanRolledBack, PlanFailed, PlanSuperseded}
}

// planTransitions is the plan state machine: from -> allowed targets.
var planTransitions = map[PlanState][]PlanState{
	PlanPending:    {PlanApproved, PlanSuperseded, PlanFailed},
	PlanApproved:   {PlanApplying, PlanSuperseded, PlanPending},
	PlanApplying:   {PlanApplied, PlanRolledBack, PlanFailed},
	PlanApplied:    {PlanRolledBack},
	PlanFailed:     {PlanRolledBack, PlanApplied},
	PlanRolledBack: {},
	PlanSuperseded: {},
}

// Valid reports whether s is one of the plan states.
func (s PlanState) Valid() bool {
	_, ok := planTransitions[s]
	return ok
}

// CanTransition reports whether a plan may move from state from to state to.
// approved -> pending is allowed so that an approval can be withdrawn;
// failed -> applied and failed -> rolled-back let recovery settle a change
// that ended in between.
func CanTransition(from, to PlanState) bool {
	for _, s := range planTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Plan is a reviewed plan as stored. Body is the plan file's bytes exactly
// (it must be JSON; SavePlan refuses anything else);
// Hash is the plan hash the change package computed over it, and the hash
// approvals bind to.
type Plan struct {
	ID string `json:"id"`
	// Kind is PlanOrg (a change to the organization; Body is a plan file)
	// or PlanGuardrails (a change of the pinned guardrails). Empty means
	// PlanOrg.
	Kind              PlanKind        `json:"kind"`
	CreatedAt         time.Time       `json:"createdAt"`
	Author            string          `json:"author"`
	Hash              string          `json:"hash"`
	BaseFingerprint   string          `json:"baseFingerprint"`
	Verdict           string          `json:"verdict"`
	RequiredApprovals int             `json:"requiredApprovals"`
	State             PlanState       `json:"state"`
	UpdatedAt         time.Time       `json:"updatedAt"`
	Body              json.RawMessage `json:"body,omitempty"`
	// Guardrails is the hash of the pinned guardrails the plan's verdict
	// was computed with.
	Guardrails string `json:"guardrails,omitempty"`
}

// PlanKind says what a plan changes.
type PlanKind string

// The plan kinds.
const (
	PlanOrg        PlanKind = "org"        // a change to the organization
	PlanGuardrails PlanKind = "guardrails" // a change of the pinned guardrails
)

// Valid reports whether k is one of the plan kinds.
func (k PlanKind) Valid() bool { return k == PlanOrg || k == PlanGuardrails }

// PlanFilter narrows ListPlans. Zero values match everything; Limit 0 means
// no limit.
type PlanFilter struct {
	State PlanState
	Limit int
}

// Approval is one approver's approval of one plan, bound to the plan hash
// they approved.
type Approval struct {
	PlanID   string    `json:"planId"`
	Approver string    `json:"approver"`
	PlanHash string    `json:"planHash"`
	Comment  string    `json:"comment,omitempty"`
	At       time.Time `json:"at"`
	// Guardrails is the hash of the pinned guardrails in force when the
	// approval was given.
	Guardrails string `json:"guardrails,omitempty"`
}

// GuardrailsVersion is one pinned version of the guardrails (with the
// quarantine and impact settings that also decide verdicts). The newest
// version is in force; versions are never changed or deleted.
type GuardrailsVersion struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	// Body is the canonical JSON the hash covers.
	Body     json.RawMessage `json:"body"`
	PinnedAt time.Time       `json:"pinnedAt"`
	PinnedBy string          `json:"pinnedBy"`
	// PlanID is the approved guardrails plan that pinned this version;
	// empty for the first version, pinned on first use.
	PlanID string `json:"planId,omitempty"`
}

// ChangeKind says what a change does to the organization.
type ChangeKind string

// The change kinds.
const (
	ChangeApply    ChangeKind = "apply"    // runs a plan's steps
	ChangeRollback ChangeKind = "rollback" // runs a plan's recorded inverses
	ChangeRecover  ChangeKind = "recover"  // settles an unfinished change after a crash
)

// Valid reports whether k is one of the change kinds.
func (k ChangeKind) Valid() bool {
	switch k {
	case ChangeApply, ChangeRollback, ChangeRecover:
		return true
	}
	return false
}

// ChangeState is where a change is.
type ChangeState string

// The change states. Only ChangeRunning is unfinished.
const (
	ChangeRunning    ChangeState = "running"
	ChangeApplied    ChangeState = "applied"
	ChangeRolledBack ChangeState = "rolled-back"
	ChangeFailed     ChangeState = "failed"
)

// Valid reports whether s is one of the change states.
func (s ChangeState) Valid() bool {
	switch s {
	case ChangeRunning, ChangeApplied, ChangeRolledBack, ChangeFailed:
		return true
	}
	return false
}

// Final reports whether s ends a change.
func (s ChangeState) Final() bool { return s.Valid() && s != ChangeRunning }

// Change is one apply (or rollback, or recovery) of a plan.
type Change struct {
	ID         string          `json:"id"`
	PlanID     string          `json:"planId"`
	Kind       ChangeKind      `json:"kind"`
	StartedBy  string          `json:"startedBy"`
	StartedAt  time.Time       `json:"startedAt"`
	FinishedAt time.Time       `json:"finishedAt,omitzero"`
	State      ChangeState     `json:"state"`
	Detail     json.RawMessage `json:"detail,omitempty"`
}

// ChangeFilter narrows ListChanges. Zero values match everything.
type ChangeFilter struct {
	PlanID string
	State  ChangeState
	Limit  int
}

// Phase is where a journal entry puts a step.
type Phase string

// The journal phases. A step's Intent is written before it is sent to the
// organization; Done, Failed or RolledBack after.
const (
	PhaseIntent     Phase = "intent"
	PhaseDone       Phase = "done"
	PhaseFailed     Phase = "failed"
	PhaseRolledBack Phase = "rolled-back"
)

// Valid reports whether p is one of the journal phases.
func (p Phase) Valid() bool {
	switch p {
	case PhaseIntent, PhaseDone, PhaseFailed, PhaseRolledBack:
		return true
	}
	return false
}

// JournalEntry is one line of a change's journal.
type JournalEntry struct {
	ChangeID  string          `json:"changeId"`
	Seq       int64           `json:"seq"`
	Step      int             `json:"step"`
	Phase     Phase           `json:"phase"`
	RequestID string          `json:"requestId,omitempty"`
	Detail    json.RawMessage `json:"detail,omitempty"`
	At        time.Time       `json:"at"`
}

// LockRequest asks for a named lock.
type LockRequest struct {
	Name   string        // e.g. "organization"
	Holder string        // who asks, shown to others: "alice (pid 4242 on host-1)"
	TTL    time.Duration // how long the lock lasts without a heartbeat
}

// Lock is a held (or expired) named lock.
type Lock struct {
	Name        string    `json:"name"`
	Holder      string    `json:"holder"`
	Token       string    `json:"-"`
	AcquiredAt  time.Time `json:"acquiredAt"`
	HeartbeatAt time.Time `json:"heartbeatAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
	// TakenOverFrom names the previous holder when AcquireLock took over an
	// expired lock, so that the taker can record it.
	TakenOverFrom string `json:"takenOverFrom,omitempty"`
}

// AuditRecord is what a caller appends to the audit log. Detail, when set,
// must be a JSON value; it is stored in canonical form (compact, object keys
// sorted) so that its hash does not depend on formatting.
type AuditRecord struct {
	Actor   string
	Action  string
	Subject string
	Detail  json.RawMessage
}

// AuditEntry is one stored entry of the audit log. Hash is the hex SHA-256
// of the entry's canonical encoding, which includes PrevHash (the Hash of
// entry Seq-1, or "" for the first), so each entry seals all before it.
type AuditEntry struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Subject  string          `json:"subject"`
	Detail   json.RawMessage `json:"detail,omitempty"`
	PrevHash string          `json:"prevHash"`
	Hash     string          `json:"hash"`
	// Unreadable says why a stored column could not be decoded (a time
	// edited into something that is not one); the entry is returned with
	// that column's zero value so that verification reports it as altered
	// instead of failing to read the log.
	Unreadable string `json:"unreadable,omitempty"`
}

// AuditQuery selects audit entries. In sequence order, AfterSeq skips the
// entries up to and including it (for paging forward). With Newest the
// entries come from the end backwards and AfterSeq, when set, keeps only
// those before it (for paging back).
type AuditQuery struct {
	AfterSeq int64
	Limit    int
	Newest   bool
}

// AuditHead is the checkpoint of the audit log's last entry.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Severity ranks an incident.
type Severity string

// The incident severities, most severe first.
const (
	SevCritical Severity = "critical"
	SevMajor    Severity = "major"
	SevMinor    Severity = "minor"
)

// Valid reports whether s is one of the severities.
func (s Severity) Valid() bool {
	switch s {
	case SevCritical, SevMajor, SevMinor:
		return true
	}
	return false
}

// IncidentState is where an incident is. The life of an incident is
// investigating → identified → monitoring → resolved; any state may be set
// from any other (a resolved incident may be reopened), and the store keeps
// the milestones (MitigatedAt, ResolvedAt) in step.
type IncidentState string

// The incident states.
const (
	IncidentInvestigating IncidentState = "investigating" // detected, cause being looked for
	IncidentIdentified    IncidentState = "identified"    // the cause is known, the fix is not in place
	IncidentMonitoring    IncidentState = "monitoring"    // mitigated, watching that it holds
	IncidentResolved      IncidentState = "resolved"      // over

	// The names of the first incident model (migration 0003 renamed the
	// stored values): open is investigating, mitigated is monitoring and
	// closed is resolved.
	IncidentOpen      = IncidentInvestigating
	IncidentMitigated = IncidentMonitoring
	IncidentClosed    = IncidentResolved
)

// IncidentStates lists every incident state in life order.
var IncidentStates = []IncidentState{IncidentInvestigating, IncidentIdentified, IncidentMonitoring, IncidentResolved}

// Valid reports whether s is one of the incident states.
func (s IncidentState) Valid() bool {
	switch s {
	case IncidentInvestigating, IncidentIdentified, IncidentMonitoring, IncidentResolved:
		return true
	}
	return false
}

// Active reports whether an incident in state s is not resolved.
func (s IncidentState) Active() bool { return s.Valid() && s != IncidentResolved }

// Where an incident came from.
const (
	SourceDrift  = "drift"  // a change made outside orgguard, found by the watcher
	SourceApply  = "apply"  // a failed apply, rollback or recovery
	SourceManual = "manual" // opened by hand
)

// Incident is an incident as stored; its timeline is read separately.
//
// The milestones make the incident's clock: ImpactStartedAt (when the
// change happened, from the event or the poll window), DetectedAt (when
// orgguard noticed; OpenedAt when not given), AcknowledgedAt (a person took
// it), MitigatedAt (the harm stopped: set when the incident first reaches
// monitoring) and ResolvedAt (set while the incident is resolved). The
// store sets each only once, except ResolvedAt, which a reopening clears.
type Incident struct {
	ID         string          `json:"id"`
	OpenedAt   time.Time       `json:"openedAt"`
	ResolvedAt time.Time       `json:"resolvedAt,omitzero"`
	Severity   Severity        `json:"severity"`
	Title      string          `json:"title"`
	State      IncidentState   `json:"state"`
	ChangeID   string          `json:"changeId,omitempty"`
	Impact     json.RawMessage `json:"impact,omitempty"`

	Source   string `json:"source,omitempty"`   // SourceDrift, SourceApply, SourceManual
	OpenedBy string `json:"openedBy,omitempty"` // who or what opened it
	Rule     string `json:"rule,omitempty"`     // the watch rule that classified the drift
	// DedupKey, when set, is unique among incidents: opening a second
	// incident with the same key is ErrAlreadyExists (see IncidentByKey).
	DedupKey string `json:"dedupKey,omitempty"`

	ImpactStartedAt time.Time `json:"impactStartedAt,omitzero"`
	DetectedAt      time.Time `json:"detectedAt,omitzero"`
	AcknowledgedAt  time.Time `json:"acknowledgedAt,omitzero"`
	MitigatedAt     time.Time `json:"mitigatedAt,omitzero"`
	// FirstNoticeAt is when the first public notice was published (set
	// once, by PublishNotice): the end of the time to notify.
	FirstNoticeAt time.Time `json:"firstNoticeAt,omitzero"`

	Accounts  []string `json:"accounts,omitempty"`  // affected account IDs
	Customers []string `json:"customers,omitempty"` // affected customers, through the configured mapping
}

// IncidentFilter narrows ListIncidents. Zero values match everything.
type IncidentFilter struct {
	State  IncidentState
	Active bool      // only incidents that are not resolved
	Since  time.Time // only incidents opened at or after Since
	Limit  int
}

// IncidentMark is a milestone set by MarkIncident.
type IncidentMark string

// The milestones MarkIncident sets.
const (
	MarkAcknowledged IncidentMark = "acknowledged"
	MarkMitigated    IncidentMark = "mitigated"
)

// WatchState is what the watcher keeps between runs: the last known
// organization (Body: a compressed snapshot) and its fingerprint.
type WatchState struct {
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"`
	UpdatedAt   time.Time `json:"updated_at"`
	Body        []byte    `json:"-"`
}

// IncidentEvent is one entry of an incident's timeline.
type IncidentEvent struct {
	IncidentID string          `json:"incidentId"`
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	Kind       string          `json:"kind"` // e.g. "detected", "note", "mitigation", "notice"
	Actor      string          `json:"actor,omitempty"`
	Message    string          `json:"message"`
	Detail     json.RawMessage `json:"detail,omitempty"`
}

// String returns the lock's holder and since when, for messages.
func (l Lock) String() string {
	return fmt.Sprintf("%s held by %s since %s (expires %s)", l.Name, l.Holder,
		l.AcquiredAt.UTC().Format(time.RFC3339), l.ExpiresAt.UTC().Format(time.RFC3339))
}
