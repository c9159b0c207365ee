// Package notify tells people: it delivers messages about incidents
// (opened, the notice clock's reminder and escalation, notices published,
// customer messages, resolution, postmortem drafts) to channels — a generic
// JSON webhook signed with HMAC-SHA256, Slack incoming webhooks (Block Kit),
// e-mail over SMTP with STARTTLS, and the PagerDuty Events API v2.
//
// Every message goes through the durable outbox in the store: Enqueue
// writes it, routed to its channels, in the caller's transaction; a Sender
// claims due messages per channel under a lease, sends them, and marks them
// sent, or due again after an exponential backoff with jitter. A channel
// that is down delays only its own messages. Each message carries an
// idempotency key, unique in the store, that travels with it (a header, the
// e-mail Message-ID, PagerDuty's dedup key per incident), so a sender
// killed between sending and recording sends the message again with the
// same key and receivers drop the repeat.
//
// Secrets (webhook URLs of Slack, HMAC keys, routing keys, SMTP passwords)
// are read from the environment or files, never from the configuration
// text, and never appear in logs, errors or the audit log.
package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Message kinds.
const (
	KindIncidentOpened       = "incident.opened"
	KindIncidentAcknowledged = "incident.acknowledged"
	KindIncidentResolved     = "incident.resolved"
	KindNoticeReminder       = "notice.reminder"   // half the time to the first-notice deadline has passed
	KindNoticeEscalation     = "notice.escalation" // the deadline passed without a published notice
	KindNoticePublished      = "notice.published"
	KindCustomerNotice       = "customer.notice" // a targeted message to one customer
	KindPostmortemDraft      = "postmortem.draft"
)

// Kinds lists every message kind.
var Kinds = []string{KindIncidentOpened, KindIncidentAcknowledged, KindIncidentResolved, KindNoticeReminder,
	KindNoticeEscalation, KindNoticePublished, KindCustomerNotice, KindPostmortemDraft}

// Message is what a channel delivers; it is the outbox payload.
type Message struct {
	Kind       string    `json:"kind"`
	IncidentID string    `json:"incident_id,omitempty"`
	Severity   string    `json:"severity,omitempty"`
	State      string    `json:"state,omitempty"`
	Title      string    `json:"title"`
	Text       string    `json:"text"`
	Lang       string    `json:"lang,omitempty"`
	At         time.Time `json:"at"`
	// To are the e-mail recipients of a customer message; empty means the
	// channel's configured recipients.
	To []string `json:"to,omitempty"`
	// Customer names the customer of a customer message.
	Customer string `json:"customer,omitempty"`
	// Fields are extra facts shown as a list (deadline, counts ...).
	Fields []Field `json:"fields,omitempty"`
}

// Field is a named fact of a message.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Delivery is one message on its way to one channel.
type Delivery struct {
	Key     string // the idempotency key
	Attempt int
	Message Message
}

// DecodeDelivery reads an outbox payload.
func DecodeDelivery(key string, attempt int, payload []byte) (Delivery, error) {
	var m Message
	if err := json.Unmarshal(payload, &m); err != nil {
		return Delivery{}, fmt.Errorf("decoding message %s: %w", key, err)
	}
	return Delivery{Key: key, Attempt: attempt, Message: m}, nil
}

// ErrPermanent marks a failure that retrying cannot fix (a 4xx answer, a
// refused recipient): the message is dead at once.
var ErrPermanent = errors.New("permanent failure")

// permanent marks err as ErrPermanent.
func permanent(err error) error { return &permError{err} }

type permError struct{ err error }

func (e *permError) Error() string        { return e.err.Error() }
func (e *permError) Unwrap() error        { return e.err }
func (e *permError) Is(target error) bool { return target == ErrPermanent }
