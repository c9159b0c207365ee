package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel delivers messages to one destination.
type Channel interface {
	// Name is the channel's configured name.
	Name() string
	// Parallel is how many deliveries may be in flight at once; 1 keeps
	// the order of the outbox.
	Parallel() int
	// Send delivers d once. An error matching ErrPermanent is not retried.
	Send(ctx context.Context, d Delivery) error
}

// Headers of webhook deliveries.
const (
	HeaderSignature   = "X-Orgguard-Signature"
	HeaderIdempotency = "Idempotency-Key"
	HeaderKind        = "X-Orgguard-Kind"
)

// Webhook posts each message as JSON. With a secret, the
// X-Orgguard-Signature header is "t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" keyed with the secret>", so receivers can check both origin
// and freshness. The Idempotency-Key header carries the message's key.
type Webhook struct {
	ChannelName string
	URL         string
	Secret      []byte
	Client      *http.Client
	InFlight    int
	Now         func() time.Time // nil: time.Now
}

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	ID      string `json:"id"` // the idempotency key
	Attempt int    `json:"attempt"`
	Message
}

// Name implements Channel.
func (w *Webhook) Name() string { return w.ChannelName }

// Parallel implements Channel.
func (w *Webhook) Parallel() int { return max(w.InFlight, 1) }

// Send implements Channel.
func (w *Webhook) Send(ctx context.Context, d Delivery) error {
	body, err := json.Marshal(WebhookBody{ID: d.Key, Attempt: d.Attempt, Message: d.Message})
	if err != nil {
		return permanent(fmt.Errorf("channel %s: encoding message %s: %w", w.ChannelName, d.Key, err))
	}
	h := http.Header{}
	h.Set(HeaderIdempotency, d.Key)
	h.Set(HeaderKind, d.Message.Kind)
	if len(w.Secret) > 0 {
		now := time.Now
		if w.Now != nil {
			now = w.Now
		}
		h.Set(HeaderSignature, Sign(w.Secret, now(), body))
	}
	return post(ctx, w.Client, w.ChannelName, w.URL, body, h, string(w.Secret))
}

// Sign returns the signature header value for body at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body: the MAC must match and
// its time lie within tolerance of now. Receivers (and the tests) use it.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return false
	}
	_, want, _ := strings.Cut(Sign(secret, time.Unix(sec, 0), body), ",v1=")
	return hmac.Equal([]byte(want), []byte(sig))
}

// Slack posts to a Slack incoming webhook: a fallback text and Block Kit
// blocks (a header, the text as a section, the fields, a context line).
type Slack struct {
	ChannelName string
	URL         string
	Client      *http.Client
	InFlight    int
}

// Name implements Channel.
func (s *Slack) Name() string { return s.ChannelName }

// Parallel implements Channel.
func (s *Slack) Parallel() int { return max(s.InFlight, 1) }

// Send implements Channel.
func (s *Slack) Send(ctx context.Context, d Delivery) error {
	body, err := json.Marshal(SlackPayload(d))
	if err != nil {
		return permanent(fmt.Errorf("channel %s: encoding message %s: %w", s.ChannelName, d.Key, err))
	}
	return post(ctx, s.Client, s.ChannelName, s.URL, body, nil)
}

// Slack's documented limits: a header's plain text holds 150 characters,
// a section's text 3000, a section's fields at most 10 of 2000 each.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldsMax  = 10
	slackFieldMax   = 2000
)

// SlackPayload builds the incoming-webhook JSON for d.
func SlackPayload(d Delivery) map[string]any {
	m := d.Message
	text := func(t, s string) map[string]any { return map[string]any{"type": t, "text": s} }
	blocks := []any{
		map[string]any{"type": "header", "text": text("plain_text", truncate(headline(m), slackHeaderMax))},
		map[string]any{"type": "section", "text": text("mrkdwn", truncate(slackEscape(m.Text), slackSectionMax))},
	}
	if len(m.Fields) > 0 {
		var fs []any
		for _, f := range m.Fields[:min(len(m.Fields), slackFieldsMax)] {
			fs = append(fs, text("mrkdwn", truncate("*"+slackEscape(f.Name)+"*\n"+slackEscape(f.Value), slackFieldMax)))
		}
		blocks = append(blocks, map[string]any{"type": "section", "fields": fs})
	}
	ctxLine := fmt.Sprintf("%s · %s · %s", m.Kind, m.IncidentID, d.Key)
	blocks = append(blocks, map[string]any{"type": "context", "elements": []any{text("mrkdwn", truncate(slackEscape(ctxLine), slackFieldMax))}})
	return map[string]any{"text": truncate(headline(m), slackSectionMax), "blocks": blocks}
}

func headline(m Message) string {
	if m.Severity == "" || m.Kind == KindCustomerNotice || m.Kind == KindNoticePublished {
		// These titles are notices, written with their severity.
		return m.Title
	}
	return "[" + strings.ToUpper(m.Severity) + "] " + m.Title
}

// slackEscape escapes the three characters Slack reads as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n characters (runes), marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// PagerDutyEndpoint is the Events API v2 endpoint.
const PagerDutyEndpoint = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty sends Events API v2 events: trigger for an opened incident
// and the notice escalation, acknowledge, and resolve; the dedup key is
// the incident's ID, so all of an incident's events act on one alert and
// a repeated trigger is merged by PagerDuty.
type PagerDuty struct {
	ChannelName string
	URL         string
	RoutingKey  string
	Client      *http.Client
	InFlight    int
}

// Name implements Channel.
func (p *PagerDuty) Name() string { return p.ChannelName }

// Parallel implements Channel.
func (p *PagerDuty) Parallel() int { return max(p.InFlight, 1) }

// Send implements Channel.
func (p *PagerDuty) Send(ctx context.Context, d Delivery) error {
	ev := PagerDutyEvent(p.RoutingKey, d)
	if ev == nil {
		return nil // nothing PagerDuty needs to hear
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return permanent(fmt.Errorf("channel %s: encoding message %s: %w", p.ChannelName, d.Key, err))
	}
	return post(ctx, p.Client, p.ChannelName, p.URL, body, nil, p.RoutingKey)
}

// PagerDutyEvent builds the Events API v2 body for d, or nil for kinds
// that are not alerts (customer messages, postmortem drafts).
func PagerDutyEvent(routingKey string, d Delivery) map[string]any {
	m := d.Message
	dedup := m.IncidentID
	if dedup == "" {
		dedup = d.Key
	}
	dedup = truncate(dedup, 255)
	action := "trigger"
	switch m.Kind {
	case KindIncidentAcknowledged:
		action = "acknowledge"
	case KindIncidentResolved:
		action = "resolve"
	case KindIncidentOpened, KindNoticeEscalation, KindNoticeReminder, KindNoticePublished:
	default:
		return nil
	}
	ev := map[string]any{"routing_key": routingKey, "event_action": action, "dedup_key": dedup}
	if action != "trigger" {
		return ev
	}
	sev := "error"
	switch m.Severity {
	case "critical":
		sev = "critical"
	case "minor":
		sev = "warning"
	}
	details := map[string]any{"kind": m.Kind, "text": m.Text, "idempotency_key": d.Key}
	for _, f := range m.Fields {
		details[f.Name] = f.Value
	}
	at := m.At
	if at.IsZero() {
		at = time.Now()
	}
	ev["payload"] = map[string]any{
		"summary": truncate(headline(m), 1024), "source": "orgguard", "severity": sev,
		"timestamp": at.UTC().Format(time.RFC3339), "component": "aws-organizations", "class": m.Kind,
		"custom_details": details,
	}
	return ev
}
