// Package store defines orgguard's durable state: plans, approvals, changes
// and their journal, named locks, the hash-chained audit log, incidents,
// and the users, API tokens, sessions and login throttling of server mode.
//
// The package holds the interfaces and the domain records only; the SQL
// implementation for SQLite and PostgreSQL lives in package sqlstore, and
// package storetest holds the test suite every implementation must pass.
//
// Every method takes a context first. Methods called on a Store run in their
// own transaction; Store.WithTx runs several of them atomically, so that, for
// example, a plan's state change and the audit entry recording it commit
// together or not at all.
package store

import (
	"context"
	"time"
)

// DefaultDSN is where the store lives when nothing else is configured: an
// SQLite database under ./.orgguard/.
const DefaultDSN = ".orgguard/orgguard.db"

// Store is a handle on the state store. It is safe for concurrent use.
//
// Inside a WithTx callback use only the Tx passed in: calling the Store
// itself from the callback would need a second writer and, on SQLite where
// there is exactly one, waits until the context ends. Keep slow I/O (AWS
// calls) out of the callback: other writers wait while it runs.
type Store interface {
	Tx
	// WithTx runs fn in one transaction. It commits when fn returns nil and
	// rolls back when fn returns an error or panics; fn's error is returned
	// unchanged (errors.Is works on it).
	WithTx(ctx context.Context, fn func(tx Tx) error) error
	// Fenced returns a view of the store whose every write transaction
	// (each write method, and each WithTx) first checks, in that
	// transaction, that f's tenure is current and unexpired by the
	// database's clock, and fails with a *FencedError (errors.Is
	// ErrFenced), writing nothing, when it is not. On PostgreSQL the check
	// also locks the lease row against a take-over until the transaction
	// ends, so no write under a tenure commits after the next one began.
	// Reads are not checked. Closing the view closes nothing: it shares
	// the store's connections.
	Fenced(f Fence) Store
	// Close releases the store's connections.
	Close() error
}

// Tx is every operation of the store. A Store runs each call in its own
// transaction; a Tx obtained from WithTx runs them in the enclosing one.
type Tx interface {
	Plans
	Approvals
	Changes
	Locks
	Audit
	Incidents
	Snapshots
	Guardrails
	Watches
	Notices
	Outbox
	Postmortems
	Users
	Tokens
	Sessions
	Logins
	Leases
	Tallies
}

// Snapshots keeps the organization snapshots plans were made against,
// content-addressed by fingerprint, so that any machine sharing the store
// can re-derive a plan's verdict and show what changed since its base.
type Snapshots interface {
	// PutSnapshot stores body (a snapshot's JSON) under fingerprint. Putting
	// a fingerprint that is already stored keeps the stored body and is not
	// an error: the fingerprint names the content.
	PutSnapshot(ctx context.Context, fingerprint string, body []byte) error
	// Snapshot returns the body stored under fingerprint, or ErrNotFound.
	Snapshot(ctx context.Context, fingerprint string) ([]byte, error)
	// SetLatestSnapshot records the stored snapshot fingerprint as the
	// latest whole read of the organization source names (a backend's
	// Source), taken at takenAt. A fingerprint not stored is ErrNotFound;
	// a read older than the one recorded leaves the record unchanged.
	SetLatestSnapshot(ctx context.Context, source, fingerprint string, takenAt time.Time) error
	// LatestSnapshot returns the fingerprint and time of the latest whole
	// read of source, or ErrNotFound.
	LatestSnapshot(ctx context.Context, source string) (fingerprint string, takenAt time.Time, err error)
}

// Guardrails keeps the pinned guardrails: an append-only list of versions,
// the newest in force.
type Guardrails interface {
	// PinGuardrails appends v as the version in force and returns it with
	// its sequence number and time. When expectSeq >= 0 the newest stored
	// version must have that sequence number (0: none stored yet), else the
	// result is a *StateConflictError: two changes of the guardrails made
	// against the same version cannot both win.
	PinGuardrails(ctx context.Context, v GuardrailsVersion, expectSeq int64) (GuardrailsVersion, error)
	// PinnedGuardrails returns the version in force, or ErrNotFound when
	// none was pinned yet.
	PinnedGuardrails(ctx context.Context) (GuardrailsVersion, error)
	// ListGuardrails returns every version, oldest first.
	ListGuardrails(ctx context.Context) ([]GuardrailsVersion, error)
}

// Plans stores reviewed plans. A plan's content is immutable once saved;
// only its state moves, along the transitions CanTransition allows.
type Plans interface {
	// SavePlan inserts p and returns it as stored: an empty ID is replaced by
	// a fresh one, an empty State becomes PlanPending and CreatedAt is set by
	// the store when zero. A plan with the same ID is ErrAlreadyExists.
	SavePlan(ctx context.Context, p Plan) (Plan, error)
	// Plan returns the plan with the given ID or ErrNotFound.
	Plan(ctx context.Context, id string) (Plan, error)
	// ListPlans returns plans newest first.
	ListPlans(ctx context.Context, f PlanFilter) ([]Plan, error)
	// SetPlanState moves plan id from state from to state to, atomically:
	// when the plan is no longer in state from the result is a
	// *StateConflictError (errors.Is ErrConflict); a transition outside
	// CanTransition is ErrInvalid.
	SetPlanState(ctx context.Context, id string, from, to PlanState) (Plan, error)
}

// Approvals stores who approved which plan, bound to the plan hash they saw.
type Approvals interface {
	// AddApproval records a. The plan must exist (ErrNotFound otherwise);
	// a second approval of the same plan by the same approver is
	// ErrAlreadyExists. At is set by the store when zero.
	AddApproval(ctx context.Context, a Approval) (Approval, error)
	// ListApprovals returns a plan's approvals in the order they were given.
	ListApprovals(ctx context.Context, planID string) ([]Approval, error)
}

// Changes stores applies of plans and their step journal. The journal is
// written before and after every step so that after a crash
// UnfinishedChanges and Journal tell recovery exactly how far a change got.
type Changes interface {
	// StartChange records the start of an apply (or rollback, or recovery)
	// of a plan; the change is ChangeRunning until FinishChange.
	StartChange(ctx context.Context, c Change) (Change, error)
	// Change returns a change by ID or ErrNotFound.
	Change(ctx context.Context, id string) (Change, error)
	// ListChanges returns changes newest first.
	ListChanges(ctx context.Context, f ChangeFilter) ([]Change, error)
	// FinishChange moves a running change to a final state. A change that is
	// not running is a *StateConflictError.
	FinishChange(ctx context.Context, id string, state ChangeState, detail []byte) (Change, error)
	// UnfinishedChanges returns the changes still running, oldest first:
	// after a crash these are the ones recovery must bring to an end.
	UnfinishedChanges(ctx context.Context) ([]Change, error)
	// AppendJournal appends an entry to a running change's journal and
	// returns it with its sequence number (1, 2, ... per change) and time.
	// Appending to a finished change is a *StateConflictError.
	AppendJournal(ctx context.Context, e JournalEntry) (JournalEntry, error)
	// Journal returns a change's journal in sequence order.
	Journal(ctx context.Context, changeID string) ([]JournalEntry, error)
}

// Locks are named, expiring locks, such as the organization lock an apply
// holds. A holder keeps a lock alive with HeartbeatLock; a lock whose
// ExpiresAt has passed may be taken over by anyone.
type Locks interface {
	// AcquireLock takes the named lock for r.Holder for r.TTL. When another
	// holder has it and it has not expired the result is a *LockHeldError
	// (errors.Is ErrLockHeld) saying who holds it and since when. The
	// returned Lock carries the Token needed to heartbeat and release it.
	AcquireLock(ctx context.Context, r LockRequest) (Lock, error)
	// HeartbeatLock extends a held lock by ttl from now. When the token no
	// longer matches (the lock expired and was taken over, or was released)
	// the result is ErrLockLost.
	HeartbeatLock(ctx context.Context, name, token string, ttl time.Duration) (Lock, error)
	// ReleaseLock releases a held lock; ErrLockLost when token no longer
	// holds it.
	ReleaseLock(ctx context.Context, name, token string) error
	// Lock returns the named lock's current record, expired or not, or
	// ErrNotFound when nobody holds it. Its Token is empty: only
	// AcquireLock hands out the token.
	Lock(ctx context.Context, name string) (Lock, error)
}

// Audit is the append-only, hash-chained audit log.
type Audit interface {
	// AppendAudit appends r to the log and returns the stored entry with its
	// sequence number, time, previous hash and hash. In a WithTx the entry
	// commits or rolls back with the operation it records.
	AppendAudit(ctx context.Context, r AuditRecord) (AuditEntry, error)
	// ListAudit returns entries in sequence order (or reverse, q.Newest).
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// AuditHead returns the checkpoint of the last appended entry: its
	// sequence number and hash (zero values for an empty log). Verification
	// compares the chain's end with it, which detects a deleted tail.
	AuditHead(ctx context.Context) (AuditHead, error)
}

// Incidents stores incidents and their timelines.
type Incidents interface {
	// OpenIncident records a new incident (State IncidentInvestigating
	// unless given; DetectedAt is OpenedAt unless given; MitigatedAt and
	// ResolvedAt are set when it opens in those states). A DedupKey already
	// used by another incident is ErrAlreadyExists.
	OpenIncident(ctx context.Context, in Incident) (Incident, error)
	// Incident returns an incident by ID or ErrNotFound.
	Incident(ctx context.Context, id string) (Incident, error)
	// IncidentByKey returns the incident with the given DedupKey or
	// ErrNotFound.
	IncidentByKey(ctx context.Context, key string) (Incident, error)
	// ListIncidents returns incidents newest first.
	ListIncidents(ctx context.Context, f IncidentFilter) ([]Incident, error)
	// SetIncidentState changes an incident's state. Reaching monitoring or
	// resolved sets MitigatedAt once; reaching resolved sets ResolvedAt
	// (keeping the first time when already resolved); moving away from
	// resolved clears it.
	SetIncidentState(ctx context.Context, id string, state IncidentState) (Incident, error)
	// MarkIncident sets a milestone at at (the store's clock when zero)
	// unless it is already set, and returns the incident.
	MarkIncident(ctx context.Context, id string, mark IncidentMark, at time.Time) (Incident, error)
	// AddIncidentEvent appends an entry to an incident's timeline.
	AddIncidentEvent(ctx context.Context, ev IncidentEvent) (IncidentEvent, error)
	// IncidentTimeline returns an incident's timeline in sequence order.
	IncidentTimeline(ctx context.Context, incidentID string) ([]IncidentEvent, error)
}

// Watches keeps the watcher's last known state between runs.
type Watches interface {
	// SaveWatchState inserts or replaces the state named w.Name; UpdatedAt
	// is set by the store when zero.
	SaveWatchState(ctx context.Context, w WatchState) error
	// WatchState returns the named state or ErrNotFound.
	WatchState(ctx context.Context, name string) (WatchState, error)
}
