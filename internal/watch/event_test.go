package watch

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParseEvent(f *testing.F) {
	ev, _ := EncodeEvent("ev-1", "AttachPolicy", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "arn:aws:iam::111111111111:user/a", "111111111111",
		map[string]any{"policyId": "p-abc", "targetId": "r-ab12"}, "req-1")
	f.Add(ev)
	f.Add([]byte(`{"source":"aws.organizations","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"MoveAccount","requestParameters":{"accountId":"123","destinationParentId":"ou-1","n":3}}}`))
	f.Add([]byte(`{"source":"aws.organizations","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"X","errorCode":"AccessDenied"}}`))
	f.Add([]byte(`{"source":"aws.s3"}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte(`{"source":"aws.organizations","detail-type":"AWS API Call via CloudTrail","detail":null}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseEvent(body)
		if err != nil {
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("ParseEvent error %v does not wrap ErrBadEvent", err)
			}
			if got.Name != "" || got.Params != nil {
				t.Fatalf("ParseEvent returned %+v with error %v", got, err)
			}
			return
		}
		if got.Name == "" {
			t.Fatalf("ParseEvent(%q) accepted an event without a name", body)
		}
		if !got.Time.IsZero() && got.Time.Location() != time.UTC {
			t.Fatalf("event time %v is not UTC", got.Time)
		}
		// What the watcher keeps survives a round trip through the encoder
		// the simulator uses.
		params := map[string]any{}
		for k, v := range got.Params {
			params[k] = v
		}
		if !utf8.ValidString(got.Name) || !utf8.ValidString(got.Actor) {
			return // JSON replaces invalid UTF-8; no round trip to compare
		}
		at := got.Time
		if at.IsZero() {
			at = time.Unix(0, 0)
		}
		re, err := EncodeEvent(got.ID, got.Name, at, got.Actor, "111111111111", params, "req")
		if err != nil {
			t.Fatalf("EncodeEvent: %v", err)
		}
		again, err := ParseEvent(re)
		if err != nil {
			t.Fatalf("ParseEvent(EncodeEvent(%+v)) = %v", got, err)
		}
		if again.Name != got.Name || again.Actor != got.Actor || len(again.Params) != len(got.Params) {
			a, _ := json.Marshal(again)
			b, _ := json.Marshal(got)
			t.Fatalf("round trip: %s, want %s", a, b)
		}
		for k, v := range got.Params {
			if again.Params[k] != v {
				t.Fatalf("round trip: param %q = %q, want %q", k, again.Params[k], v)
			}
		}
	})
}

func TestParseEvent(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev, _ := EncodeEvent("ev-1", "DetachPolicy", at, "arn:aws:iam::1:user/a", "1", map[string]any{"policyId": "p-1", "targetId": "r-1", "count": 2}, "req")
	got, err := ParseEvent(ev)
	if err != nil {
		t.Fatalf("ParseEvent = %v", err)
	}
	if got.ID != "ev-1" || got.Name != "DetachPolicy" || !got.Time.Equal(at) || got.Actor != "arn:aws:iam::1:user/a" ||
		got.Param("policyId") != "p-1" || got.Param("targetId") != "r-1" || got.Param("count") != "" {
		t.Errorf("ParseEvent = %+v, want the call, its time, actor and string parameters only", got)
	}
	for _, tc := range []struct{ name, body string }{
		{"malformed JSON", `{"source":`},
		{"two objects", `{"source":"aws.organizations"} {}`},
		{"another source", `{"source":"aws.s3","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"PutObject"}}`},
		{"another detail type", `{"source":"aws.organizations","detail-type":"Scheduled Event","detail":{"eventName":"X"}}`},
		{"no detail", `{"source":"aws.organizations","detail-type":"AWS API Call via CloudTrail"}`},
		{"no event name", `{"source":"aws.organizations","detail-type":"AWS API Call via CloudTrail","detail":{}}`},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			if _, err := ParseEvent([]byte(tc.body)); !errors.Is(err, ErrBadEvent) {
				t.Errorf("ParseEvent(%s) = %v, want ErrBadEvent", tc.body, err)
			}
		})
	}
}
