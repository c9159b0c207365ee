package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

var testMessage = Message{Kind: KindIncidentOpened, IncidentID: "incident-0123456789abcdef", Severity: "critical", State: "investigating",
	Title: "deny-all on Root <!channel> & more", Text: "12 accounts of 3 customers cannot use S3 since 12:00 JST.", Lang: "en",
	At: time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC), Fields: []Field{{"accounts", "12"}, {"deadline", "12:10 JST"}}}

func TestWebhookSignsAndCarriesTheKey(t *testing.T) {
	secret := []byte("s3cr3t-hmac-key")
	rcv := newReceiver(t, secret)
	w := &Webhook{ChannelName: "ops", URL: rcv.srv.URL, Secret: secret, Client: rcv.srv.Client()}
	if err := w.Send(t.Context(), Delivery{Key: "incident.opened:incident-1@ops", Attempt: 1, Message: testMessage}); err != nil {
		t.Fatalf("Send = %v", err)
	}
	byKey, _, bad := rcv.snapshot()
	if len(bad) > 0 || byKey["incident.opened:incident-1@ops"] != 1 {
		t.Fatalf("receiver saw %v (bad: %v), want the key once", byKey, bad)
	}
	var got WebhookBody
	if err := json.Unmarshal(rcv.bodies[0], &got); err != nil || got.ID != "incident.opened:incident-1@ops" || got.Title != testMessage.Title {
		t.Errorf("body = %+v, %v", got, err)
	}
	t.Run("a wrong key or an old time does not verify", func(t *testing.T) {
		body := []byte(`{"a":1}`)
		now := time.Now()
		if Verify([]byte("other"), Sign(secret, now, body), body, now, time.Minute) {
			t.Error("Verify with another key = true")
		}
		if Verify(secret, Sign(secret, now.Add(-time.Hour), body), body, now, time.Minute) {
			t.Error("Verify of an hour-old signature = true")
		}
		if Verify(secret, Sign(secret, now, body), []byte(`{"a":2}`), now, time.Minute) {
			t.Error("Verify of a changed body = true")
		}
		if !Verify(secret, Sign(secret, now, body), body, now, time.Minute) {
			t.Error("Verify of a fresh signature = false")
		}
	})
}

func TestHTTPFailuresAreClassifiedAndHideTheURL(t *testing.T) {
	const secretURLPart = "T000/B000/XXXXsecretXXXX"
	for _, tc := range []struct {
		name      string
		status    int
		permanent bool
	}{
		{"a 503 is retried", http.StatusServiceUnavailable, false},
		{"a 429 is retried", http.StatusTooManyRequests, false},
		{"a 400 is permanent", http.StatusBadRequest, true},
		{"a 404 is permanent", http.StatusNotFound, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, nil)
			rcv.check = func(*http.Request, []byte) int { return tc.status }
			s := &Slack{ChannelName: "slack", URL: rcv.srv.URL + "/services/" + secretURLPart, Client: rcv.srv.Client()}
			err := s.Send(t.Context(), Delivery{Key: "k", Message: testMessage})
			if err == nil || errors.Is(err, ErrPermanent) != tc.permanent {
				t.Fatalf("Send = %v, want permanent=%v", err, tc.permanent)
			}
			if strings.Contains(err.Error(), secretURLPart) {
				t.Errorf("error %q shows the secret URL", err)
			}
		})
	}
	t.Run("a refused connection is retried and does not show the URL", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		u := rcv.srv.URL + "/services/" + secretURLPart
		rcv.srv.Close()
		err := (&Slack{ChannelName: "slack", URL: u, Client: http.DefaultClient}).Send(t.Context(), Delivery{Key: "k", Message: testMessage})
		if err == nil || errors.Is(err, ErrPermanent) || strings.Contains(err.Error(), secretURLPart) {
			t.Errorf("Send to a closed server = %v, want a transient error without the URL", err)
		}
	})
	t.Run("PagerDuty's routing key never shows", func(t *testing.T) {
		rcv := newReceiver(t, nil)
		rcv.check = func(_ *http.Request, body []byte) int { return http.StatusBadRequest }
		p := &PagerDuty{ChannelName: "pd", URL: rcv.srv.URL, RoutingKey: "R0UTINGKEY0123456789", Client: rcv.srv.Client()}
		err := p.Send(context.Background(), Delivery{Key: "k", Message: testMessage})
		if err == nil || strings.Contains(err.Error(), "R0UTINGKEY0123456789") {
			t.Errorf("Send = %v", err)
		}
	})
}

// TestSlackPayloadShape checks the incoming-webhook body against Slack's
// documented Block Kit shapes (https://api.slack.com/messaging/webhooks,
// https://api.slack.com/reference/block-kit/blocks): a top-level text used
// as the notification fallback, a header block with plain_text of at most
// 150 characters, section blocks with mrkdwn text (at most 3000) or up to
// 10 fields, a context block; &, < and > escaped so "<!channel>" in a
// title pings nobody.
func TestSlackPayloadShape(t *testing.T) {
	rcv := newReceiver(t, nil)
	var got map[string]any
	rcv.check = func(_ *http.Request, body []byte) int {
		if err := json.Unmarshal(body, &got); err != nil {
			return http.StatusBadRequest
		}
		return 0
	}
	long := testMessage
	long.Title = strings.Repeat("長", 400)
	for _, m := range []Message{testMessage, long} {
		if err := (&Slack{ChannelName: "slack", URL: rcv.srv.URL, Client: rcv.srv.Client()}).Send(t.Context(), Delivery{Key: "k", Message: m}); err != nil {
			t.Fatal(err)
		}
		if _, ok := got["text"].(string); !ok {
			t.Fatalf("payload has no fallback text: %v", got)
		}
		blocks, _ := got["blocks"].([]any)
		if len(blocks) < 2 || len(blocks) > 50 {
			t.Fatalf("blocks = %v, want 2..50", blocks)
		}
		for i, b := range blocks {
			b := b.(map[string]any)
			switch b["type"] {
			case "header":
				txt := b["text"].(map[string]any)
				if txt["type"] != "plain_text" || len([]rune(txt["text"].(string))) > 150 {
					t.Errorf("block %d: header %v, want plain_text of at most 150 characters", i, txt)
				}
			case "section":
				if txt, ok := b["text"].(map[string]any); ok {
					s := txt["text"].(string)
					if txt["type"] != "mrkdwn" || len([]rune(s)) > 3000 || strings.Contains(s, "<!") {
						t.Errorf("block %d: section text %v", i, txt)
					}
				} else if fs, ok := b["fields"].([]any); !ok || len(fs) > 10 {
					t.Errorf("block %d: section without text or with more than 10 fields: %v", i, b)
				}
			case "context":
				if els, ok := b["elements"].([]any); !ok || len(els) == 0 || len(els) > 10 {
					t.Errorf("block %d: context elements %v", i, b["elements"])
				}
			default:
				t.Errorf("block %d: unexpected type %v", i, b["type"])
			}
		}
	}
}

// TestPagerDutyEvents checks the Events API v2 bodies against PagerDuty's
// documentation (developer.pagerduty.com, "Events API v2 Overview" and
// "Send an Alert Event"): routing_key, event_action trigger / acknowledge
// / resolve, a dedup_key of at most 255 characters shared by an incident's
// events, and for a trigger a payload with summary (at most 1024
// characters), source and severity (critical, error, warning or info).
func TestPagerDutyEvents(t *testing.T) {
	rcv := newReceiver(t, nil)
	var events []map[string]any
	rcv.check = func(_ *http.Request, body []byte) int {
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			return http.StatusBadRequest
		}
		events = append(events, ev)
		return 0
	}
	p := &PagerDuty{ChannelName: "pd", URL: rcv.srv.URL, RoutingKey: "rk-123", Client: rcv.srv.Client()}
	for _, kind := range []string{KindIncidentOpened, KindNoticeEscalation, KindIncidentAcknowledged, KindIncidentResolved, KindCustomerNotice} {
		m := testMessage
		m.Kind = kind
		if err := p.Send(t.Context(), Delivery{Key: kind + "@pd", Message: m}); err != nil {
			t.Fatalf("Send(%s) = %v", kind, err)
		}
	}
	if len(events) != 4 {
		t.Fatalf("PagerDuty received %d events, want 4 (customer messages are not alerts)", len(events))
	}
	wantActions := []string{"trigger", "trigger", "acknowledge", "resolve"}
	for i, ev := range events {
		if ev["routing_key"] != "rk-123" || ev["event_action"] != wantActions[i] || ev["dedup_key"] != testMessage.IncidentID {
			t.Errorf("event %d = %v, want action %s with the incident's dedup key", i, ev, wantActions[i])
		}
		if wantActions[i] != "trigger" {
			continue
		}
		pl, _ := ev["payload"].(map[string]any)
		sum, _ := pl["summary"].(string)
		if sum == "" || len(sum) > 1024 || pl["source"] == "" || pl["severity"] != "critical" {
			t.Errorf("event %d payload = %v", i, pl)
		}
		if _, err := time.Parse(time.RFC3339, pl["timestamp"].(string)); err != nil {
			t.Errorf("event %d timestamp: %v", i, err)
		}
	}
}

func TestRouting(t *testing.T) {
	c := DefaultConfig()
	c.IncidentChannels = []string{"slack"}
	c.OnCallChannels = []string{"pd"}
	c.CustomerChannel = "mail"
	c.Routes = []Route{{Kinds: []string{KindIncidentOpened, KindIncidentResolved}, Severities: []string{"critical"}, Channels: []string{"pd"}}, {Channels: []string{"hook"}}}
	for _, tc := range []struct {
		kind, sev string
		want      string
	}{
		{KindIncidentOpened, "critical", "hook,pd,slack"},
		{KindIncidentOpened, "minor", "hook,slack"},
		{KindNoticeEscalation, "minor", "hook,pd"},
		{KindCustomerNotice, "critical", "mail"},
		{KindNoticeReminder, "major", "hook,slack"},
	} {
		if got := strings.Join(c.Route(tc.kind, tc.sev), ","); got != tc.want {
			t.Errorf("Route(%s, %s) = %s, want %s", tc.kind, tc.sev, got, tc.want)
		}
	}
}

func TestBackoffGrowsWithJitterAndStopsAtMax(t *testing.T) {
	r := Retry{Initial: time.Second, Max: 10 * time.Second, MaxAttempts: 5}
	for _, tc := range []struct {
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{1, 0.5, time.Second}, {2, 0.5, 2 * time.Second}, {3, 0.5, 4 * time.Second}, {5, 0.5, 10 * time.Second},
		{40, 0.5, 10 * time.Second}, {1, 0, 800 * time.Millisecond}, {1, 0.999999, 1200 * time.Millisecond},
	} {
		if got := r.Backoff(tc.attempt, tc.jitter).Round(time.Millisecond); got != tc.want {
			t.Errorf("Backoff(%d, %v) = %v, want %v", tc.attempt, tc.jitter, got, tc.want)
		}
	}
}

func TestSecretsAreReferences(t *testing.T) {
	c := DefaultConfig()
	c.Channels = []ChannelConfig{
		{Name: "hook", Type: TypeWebhook, URL: "https://example.invalid/x", Secret: "plaintext-secret"},
		{Name: "slack", Type: TypeSlack, URL: "https://hooks.slack.com/services/T/B/X"},
		{Name: "pd", Type: TypePagerDuty, RoutingKey: "abc"},
	}
	err := c.Validate()
	for _, want := range []string{"channels[0].secret", "channels[1].url", "channels[2].routingKey"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want a complaint about %s", err, want)
		}
	}
	if err != nil && (strings.Contains(err.Error(), "plaintext-secret") || strings.Contains(err.Error(), "T/B/X")) {
		t.Errorf("Validate shows a secret: %v", err)
	}
	v, err := Resolve("env:HOOK", func(k string) string { return map[string]string{"HOOK": " v "}[k] })
	if err != nil || v != "v" {
		t.Errorf("Resolve(env:HOOK) = %q, %v", v, err)
	}
	if _, err := Resolve("env:NONE", func(string) string { return "" }); !errors.Is(err, ErrSecret) {
		t.Errorf("Resolve(env:NONE) = %v, want ErrSecret", err)
	}
}
