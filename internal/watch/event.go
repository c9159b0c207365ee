package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event is an Organizations API call as CloudTrail records it and
// EventBridge delivers it ("AWS API Call via CloudTrail", source
// aws.organizations).
type Event struct {
	ID       string            `json:"id"`        // the EventBridge event ID
	Name     string            `json:"eventName"` // e.g. "AttachPolicy"
	Time     time.Time         `json:"eventTime"` // when the call was made
	Actor    string            `json:"actor,omitempty"`
	Params   map[string]string `json:"requestParameters,omitempty"`
	ErrorMsg string            `json:"errorCode,omitempty"` // set when the call failed
}

// Param returns a request parameter ("" when absent).
func (e Event) Param(name string) string { return e.Params[name] }

// ErrBadEvent marks a body that is not an Organizations CloudTrail event.
var ErrBadEvent = errors.New("not an Organizations CloudTrail event")

// envelope is the part of an EventBridge event the watcher reads.
type envelope struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Time       string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

type detail struct {
	EventName         string         `json:"eventName"`
	EventSource       string         `json:"eventSource"`
	EventTime         string         `json:"eventTime"`
	ErrorCode         string         `json:"errorCode"`
	RequestParameters map[string]any `json:"requestParameters"`
	UserIdentity      struct {
		ARN string `json:"arn"`
	} `json:"userIdentity"`
}

// ParseEvent parses one EventBridge event carrying a CloudTrail record of
// an Organizations call. Other events (another source, another detail
// type) are ErrBadEvent; malformed JSON is an error too. Only string
// request parameters are kept.
func ParseEvent(body []byte) (Event, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var env envelope
	if err := dec.Decode(&env); err != nil {
		return Event{}, fmt.Errorf("%w: malformed JSON: %v", ErrBadEvent, err)
	}
	if dec.More() {
		return Event{}, fmt.Errorf("%w: data after the event object", ErrBadEvent)
	}
	if env.Source != "aws.organizations" {
		return Event{}, fmt.Errorf("%w: source %q (want aws.organizations)", ErrBadEvent, env.Source)
	}
	if env.DetailType != "AWS API Call via CloudTrail" {
		return Event{}, fmt.Errorf("%w: detail-type %q", ErrBadEvent, env.DetailType)
	}
	var d detail
	if len(env.Detail) == 0 || json.Unmarshal(env.Detail, &d) != nil {
		return Event{}, fmt.Errorf("%w: no CloudTrail detail", ErrBadEvent)
	}
	if d.EventName == "" {
		return Event{}, fmt.Errorf("%w: detail.eventName is missing", ErrBadEvent)
	}
	ev := Event{ID: env.ID, Name: d.EventName, Actor: d.UserIdentity.ARN, ErrorMsg: d.ErrorCode}
	for _, s := range []string{d.EventTime, env.Time} {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			ev.Time = t.UTC()
			break
		}
	}
	for k, v := range d.RequestParameters {
		if s, ok := v.(string); ok {
			if ev.Params == nil {
				ev.Params = map[string]string{}
			}
			ev.Params[k] = s
		}
	}
	return ev, nil
}

// EncodeEvent returns the EventBridge event for an Organizations call, as
// AWS delivers it through an API destination; the simulator uses it.
func EncodeEvent(id, name string, at time.Time, actor, account string, params map[string]any, requestID string) ([]byte, error) {
	ts := at.UTC().Format(time.RFC3339)
	ev := map[string]any{
		"version":     "0",
		"id":          id,
		"detail-type": "AWS API Call via CloudTrail",
		"source":      "aws.organizations",
		"account":     account,
		"time":        ts,
		"region":      "us-east-1",
		"resources":   []string{},
		"detail": map[string]any{
			"eventVersion":      "1.09",
			"userIdentity":      map[string]any{"type": "IAMUser", "arn": actor, "accountId": account},
			"eventTime":         ts,
			"eventSource":       "organizations.amazonaws.com",
			"eventName":         name,
			"awsRegion":         "us-east-1",
			"requestParameters": params,
			"requestID":         requestID,
			"eventID":           id,
			"eventType":         "AwsApiCall",
			"managementEvent":   true,
		},
	}
	return json.Marshal(ev)
}
