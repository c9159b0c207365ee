package store

import (
	"context"
	"encoding/json"
	"time"
)

// Notices keeps the public notices of incidents: one editable draft per
// incident and language, and the published notices, append-only, which the
// status page shows.
type Notices interface {
	// SaveNoticeDraft inserts or replaces the draft for (IncidentID, Lang);
	// UpdatedAt is set by the store when zero. The incident must exist
	// (ErrNotFound).
	SaveNoticeDraft(ctx context.Context, d NoticeDraft) (NoticeDraft, error)
	// NoticeDrafts returns an incident's drafts ordered by language.
	NoticeDrafts(ctx context.Context, incidentID string) ([]NoticeDraft, error)
	// PublishNotice appends n to the published notices with the incident's
	// next sequence number and sets the incident's FirstNoticeAt the first
	// time. PublishedAt is set by the store when zero.
	PublishNotice(ctx context.Context, n Notice) (Notice, error)
	// ListNotices returns published notices, newest first.
	ListNotices(ctx context.Context, f NoticeFilter) ([]Notice, error)
}

// Draft origins.
const (
	DraftTemplate = "template" // written from the templates; rewritten while nobody edits it
	DraftEdited   = "edited"   // edited by a person; never rewritten
)

// NoticeDraft is the draft of an incident's public notice in one language.
type NoticeDraft struct {
	IncidentID string    `json:"incident_id"`
	Lang       string    `json:"lang"`
	Title      string    `json:"title"`
	Body       string    `json:"body"`
	Origin     string    `json:"origin"` // DraftTemplate or DraftEdited
	UpdatedAt  time.Time `json:"updated_at"`
	UpdatedBy  string    `json:"updated_by"`
}

// Notice is a published notice.
type Notice struct {
	IncidentID  string        `json:"incident_id"`
	Seq         int64         `json:"seq"`
	Lang        string        `json:"lang"`
	Title       string        `json:"title"`
	Body        string        `json:"body"`
	State       IncidentState `json:"state"` // the incident's state when it was published
	PublishedAt time.Time     `json:"published_at"`
	PublishedBy string        `json:"published_by"`
}

// NoticeFilter narrows ListNotices. Zero values match everything.
type NoticeFilter struct {
	IncidentID string
	Since      time.Time // published at or after
	Limit      int
}

// Outbox is the durable queue of every outgoing message (webhooks, Slack,
// e-mail, PagerDuty). A message is enqueued in the transaction that
// decides it, claimed by a sender under a lease, and marked sent or failed.
// Its Key is unique: enqueueing the same key twice keeps the first message,
// so the decision can be retried, on any replica, without sending twice;
// the key also travels with the message so receivers can drop repeats.
type Outbox interface {
	// EnqueueMessage adds m (State OutboxPending, NextAt = CreatedAt unless
	// given) and returns it with created true, or returns the message
	// already stored under m.Key with created false.
	EnqueueMessage(ctx context.Context, m OutboxMessage) (OutboxMessage, bool, error)
	// ClaimMessages leases up to r.Limit due pending messages of r.Channel
	// (oldest first) to r.Owner until r.Until, counting an attempt on each.
	// A message whose lease has not ended is not claimed, not even by its
	// owner: it may be in flight.
	ClaimMessages(ctx context.Context, r ClaimRequest) ([]OutboxMessage, error)
	// MarkSent records that message id was delivered (whoever holds its
	// lease: delivery is a fact). A message no longer pending is left as it
	// is.
	MarkSent(ctx context.Context, id int64, at time.Time) error
	// MarkFailed records a failed attempt by owner: the message is due
	// again at next, or dead (never retried) when dead is true. It does
	// nothing when owner no longer holds the lease.
	MarkFailed(ctx context.Context, id int64, owner string, next time.Time, errText string, dead bool) error
	// ListMessages returns messages, oldest first.
	ListMessages(ctx context.Context, f OutboxFilter) ([]OutboxMessage, error)
	// RetryMessage makes a dead or pending message due now (an operator's
	// retry); ErrNotFound when there is no such message.
	RetryMessage(ctx context.Context, id int64) error
}

// OutboxState is where a message is.
type OutboxState string

// The outbox states.
const (
	OutboxPending OutboxState = "pending"
	OutboxSent    OutboxState = "sent"
	OutboxDead    OutboxState = "dead"
)

// OutboxMessage is one outgoing message.
type OutboxMessage struct {
	ID         int64           `json:"id"`
	Key        string          `json:"key"`     // the idempotency key, unique
	Channel    string          `json:"channel"` // a configured channel's name
	Kind       string          `json:"kind"`    // what it says: incident.opened, notice.reminder, ...
	IncidentID string          `json:"incident_id,omitempty"`
	Payload    json.RawMessage `json:"payload"`
	State      OutboxState     `json:"state"`
	Attempts   int             `json:"attempts"`
	CreatedAt  time.Time       `json:"created_at"`
	NextAt     time.Time       `json:"next_at"`
	SentAt     time.Time       `json:"sent_at,omitzero"`
	LastError  string          `json:"last_error,omitempty"`
	LeaseOwner string          `json:"lease_owner,omitempty"`
	LeaseUntil time.Time       `json:"lease_until,omitzero"`
}

// ClaimRequest asks for due messages of one channel.
type ClaimRequest struct {
	Channel string
	Owner   string
	Now     time.Time // the store's clock when zero
	Until   time.Time // the lease's end
	Limit   int
}

// OutboxFilter narrows ListMessages. Zero values match everything.
type OutboxFilter struct {
	State      OutboxState
	Channel    string
	IncidentID string
	Limit      int
}

// Postmortems keeps the editable part of each incident's postmortem (root
// cause, action items, lessons learned ...); the rest is rendered from the
// record.
type Postmortems interface {
	// SavePostmortem inserts or replaces p; CreatedAt is kept from the
	// first save, UpdatedAt is set by the store when zero.
	SavePostmortem(ctx context.Context, p Postmortem) (Postmortem, error)
	// Postmortem returns an incident's postmortem or ErrNotFound.
	Postmortem(ctx context.Context, incidentID string) (Postmortem, error)
}

// Postmortem states.
const (
	PostmortemDraft = "draft"
	PostmortemFinal = "final"
)

// Postmortem is the stored part of a postmortem.
type Postmortem struct {
	IncidentID string            `json:"incident_id"`
	State      string            `json:"state"` // PostmortemDraft or PostmortemFinal
	Fields     map[string]string `json:"fields"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	UpdatedBy  string            `json:"updated_by"`
}
