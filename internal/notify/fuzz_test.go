package notify

import (
	"testing"
	"time"
)

// FuzzVerify: any header and body are judged without panicking, and what
// verifies depends on the key and the body.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign([]byte("k"), now, []byte(`{}`)), []byte(`{}`))
	f.Add("t=,v1=", []byte(""))
	f.Add("t=1800000000,v1=zz,t=1", []byte("x"))
	f.Add("v1=00", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if !Verify([]byte("k"), header, body, now, time.Minute) {
			return
		}
		// What verifies depends on the key and on every byte of the body.
		if Verify([]byte("other"), header, body, now, time.Minute) {
			t.Fatalf("Verify accepted %q under another key", header)
		}
		if Verify([]byte("k"), header, append(append([]byte(nil), body...), 'x'), now, time.Minute) {
			t.Fatalf("Verify accepted %q for a changed body", header)
		}
	})
}

// FuzzDecodeDelivery: any payload decodes or fails without panicking.
func FuzzDecodeDelivery(f *testing.F) {
	f.Add([]byte(`{"kind":"incident.opened","title":"x","text":"y","at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"fields":[{"name":1}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, err := DecodeDelivery("k", 1, payload)
		if err == nil {
			SlackPayload(d)
			PagerDutyEvent("rk", d)
		}
	})
}
