package org

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// strictDecode is what ParseSnapshot did before the fast decoder, and
// still does when it gives up: encoding/json refusing unknown fields.
func strictDecode(data []byte) (*Snapshot, error) {
	var s Snapshot
	if err := decodeSnapshotStrict(data, "t.json", &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// richFixture is the fixture with everything a snapshot can hold: tags,
// closed accounts, the service lists, text needing escapes, non-ASCII
// names and times in another zone.
func richFixture() *Snapshot {
	s := fixture()
	s.Root.Tags = map[string]string{"owner": "platform"}
	s.OUs[0].Tags = map[string]string{"tier": "gold", "quote\"key": "line\nbreak"}
	s.OUs[1].Tags = map[string]string{}
	s.Accounts[0].Tags = map[string]string{"cost-center": "1234", "名前": "値 <&>"}
	s.Accounts[0].Name = "acme-prod-ü"
	s.Accounts[1].JoinedAt = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.FixedZone("", 9*3600))
	s.Accounts[2].Status = AccountSuspended
	s.Accounts[2].ClosedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Policies[2].Description = "tab\there, slash / and \\ backslash, \u2028 and \u0001"
	s.Policies[2].Tags = map[string]string{"k": "v"}
	s.ServiceAccess = []ServiceAccess{{ServicePrincipal: "guardduty.amazonaws.com", EnabledAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}
	s.DelegatedAdministrators = []DelegatedAdministrator{{AccountID: "555555555555", ServicePrincipal: "guardduty.amazonaws.com", DelegatedAt: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}}
	s.ResourcePolicy = &ResourcePolicy{ID: "rp-1", ARN: "arn:rp", Content: `{"Version":"2012-10-17"}`, Tags: map[string]string{"a": "b"}}
	s.CreateAccountStatuses = []CreateAccountStatus{{ID: "car-1", AccountName: "new", State: CreateAccountSucceeded,
		RequestedAt: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), CompletedAt: time.Date(2025, 2, 1, 0, 1, 0, 0, time.UTC), AccountID: "666666666666"}}
	s.Handshakes = []Handshake{{ID: "h-1", ARN: "arn:h", Action: "INVITE", State: "OPEN",
		Parties:     []HandshakeParty{{ID: "999999999999", Type: "ACCOUNT"}},
		Resources:   []HandshakeResource{{Type: "NOTES", Value: "welcome"}},
		RequestedAt: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2025, 3, 16, 0, 0, 0, 0, time.UTC)}}
	return s
}

func compact(t testing.TB, s *Snapshot) []byte {
	t.Helper()
	b, err := MarshalSnapshotCompact(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func indented(t testing.TB, s *Snapshot) []byte {
	t.Helper()
	b, err := MarshalSnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFastDecoderAgrees(t *testing.T) {
	rich := richFixture()
	htmlEscaped, err := json.Marshal(rich) // escapes <, > and & as \u003c...
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  []byte
	}{
		{"an indented snapshot as orgguard writes it", indented(t, fixture())},
		{"a compact snapshot as the simulator saves it", compact(t, fixture())},
		{"a snapshot with tags, closed accounts, escapes and the service lists", indented(t, rich)},
		{"the same, compact", compact(t, rich)},
		{"the same with HTML characters escaped", htmlEscaped},
		{"fields in another order, CRLF line ends and tabs", []byte("{\r\n\t\"root\": {\"name\":\"Root\",\"id\":\"r-ab12\",\"policyTypes\":[]},\r\n\t\"formatVersion\": 1,\"accounts\":[],\r\n\t\"organizationalUnits\": [] }\r\n")},
		{"an empty object", []byte(`{}`)},
		{"empty lists and an empty tag map", []byte(`{"formatVersion":1,"root":{"id":"r-ab12","tags":{}},"accounts":[],"policies":[],"attachments":[],"serviceAccess":[]}`)},
		{"unicode escapes", []byte(`{"formatVersion":1,"source":"\u00e9\u4e2d\u0041\/","root":{"id":"r-ab12","tags":{"\u0041":"x","A":"last wins"}}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Snapshot
			if !decodeSnapshotFast(tt.doc, &got) {
				t.Fatal("the fast decoder gave up on a document orgguard writes")
			}
			want, err := strictDecode(tt.doc)
			if err != nil {
				t.Fatalf("strict decoder: %v", err)
			}
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("fast and strict decoders differ (-fast +strict):\n%s", cmp.Diff(&got, want))
			}
		})
	}
}

func TestFastDecoderGivesUp(t *testing.T) {
	good := string(indented(t, fixture()))
	tests := []struct {
		name string
		doc  string
	}{
		{"a key in another case", strings.Replace(good, `"source":`, `"Source":`, 1)},
		{"a key given twice", strings.Replace(good, `"source":`, `"source": "x", "source":`, 1)},
		{"an escaped key", strings.Replace(good, `"source":`, `"sourc\u0065":`, 1)},
		{"an unknown field", strings.Replace(good, `"source":`, `"sauce": 1, "source":`, 1)},
		{"a null", strings.Replace(good, `"source": "test"`, `"source": null`, 1)},
		{"a null list", strings.Replace(good, `"attachments": [`, `"attachments": null, "x": [`, 1)},
		{"a negative number", strings.Replace(good, `"formatVersion": 1`, `"formatVersion": -1`, 1)},
		{"a fraction", strings.Replace(good, `"formatVersion": 1`, `"formatVersion": 1.0`, 1)},
		{"an exponent", strings.Replace(good, `"formatVersion": 1`, `"formatVersion": 1e0`, 1)},
		{"a leading zero", strings.Replace(good, `"formatVersion": 1`, `"formatVersion": 01`, 1)},
		{"a string for a number", strings.Replace(good, `"formatVersion": 1`, `"formatVersion": "1"`, 1)},
		{"a surrogate pair", strings.Replace(good, `"source": "test"`, `"source": "\ud83d\ude00"`, 1)},
		{"invalid UTF-8", strings.Replace(good, `"source": "test"`, "\"source\": \"te\xffst\"", 1)},
		{"a control character in a string", strings.Replace(good, `"source": "test"`, "\"source\": \"te\x01st\"", 1)},
		{"a bad time", strings.Replace(good, `"takenAt": "2026-11-27T10:00:00Z"`, `"takenAt": "yesterday"`, 1)},
		{"trailing data", good + "{}"},
		{"a trailing comma", strings.Replace(good, `"source": "test",`, `"source": "test",,`, 1)},
		{"a truncated document", good[:len(good)/2]},
		{"an array", `[]`},
		{"an empty document", ``},
		{"a byte-order mark", "\xef\xbb\xbf" + good},
		{"an unknown field in a service list", `{"formatVersion":1,"serviceAccess":[{"servicePrincipal":"x","bogus":1}]}`},
		{"a null resource policy", `{"formatVersion":1,"resourcePolicy":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Snapshot
			if decodeSnapshotFast([]byte(tt.doc), &s) {
				t.Fatalf("the fast decoder took %q, want it to leave it to encoding/json", tt.doc[:min(len(tt.doc), 80)])
			}
		})
	}
}

// FuzzFastDecoder holds the fast decoder to encoding/json: whatever it
// takes, encoding/json (strict) takes too, with the same result.
func FuzzFastDecoder(f *testing.F) {
	f.Add(indented(f, fixture()))
	f.Add(compact(f, richFixture()))
	f.Add([]byte(`{"formatVersion":1,"root":{"id":"r-ab12","tags":{"\u0041":"x"}},"accounts":[{"id":"123456789012","joinedAt":"2024-01-01T00:00:00+09:00"}]}`))
	f.Add([]byte(`{"formatVersion":1,"handshakes":[{"id":"h-1","parties":[{"id":"1","type":"ACCOUNT"}]}],"resourcePolicy":{"id":"x"}}`))
	f.Add([]byte(`{"source":"a\"b\\c\/d\be\ff\ng\rh\ti\u00e9"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast Snapshot
		if !decodeSnapshotFast(data, &fast) {
			return
		}
		strict, err := strictDecode(data)
		if err != nil {
			t.Fatalf("the fast decoder took %q; encoding/json refuses it: %v", data, err)
		}
		if !reflect.DeepEqual(&fast, strict) {
			t.Fatalf("fast and strict decoders differ on %q (-fast +strict):\n%s", data, cmp.Diff(&fast, strict))
		}
	})
}

// TestParseSnapshotErrorsUnchanged checks that documents the fast decoder
// leaves alone get encoding/json's error, positioned, as before.
func TestParseSnapshotErrorsUnchanged(t *testing.T) {
	good := string(indented(t, fixture()))
	doc := strings.Replace(good, `"source":`, `"Source": "x", "sauce":`, 1)
	_, err := ParseSnapshot([]byte(doc), "snap.json")
	_, want := strictDecode([]byte(doc))
	if err == nil || want == nil {
		t.Fatalf("ParseSnapshot = %v, strict = %v; want both to refuse", err, want)
	}
	if got, w := err.Error(), strings.Replace(want.Error(), "t.json", "snap.json", 1); got != w {
		t.Errorf("ParseSnapshot error = %q, want %q", got, w)
	}
}

// BenchmarkDecodeSnapshot compares the fast decoder with encoding/json on
// 2,000 tagged accounts.
func BenchmarkDecodeSnapshot(b *testing.B) {
	// Many accounts with tags, like a generated organization.
	s := fixture()
	for i := range 2000 {
		a := s.Accounts[0]
		a.ID = "1" + strings.Repeat("0", 11-len(strconv.Itoa(i))) + strconv.Itoa(i)
		a.Name = "acct-" + strconv.Itoa(i)
		a.Tags = map[string]string{"customer": "acme", "environment": "prod"}
		s.Accounts = append(s.Accounts, a)
		s.Attachments = append(s.Attachments, Attachment{PolicyID: FullAWSAccessID, TargetID: a.ID})
	}
	data := indented(b, s)
	for _, bb := range []struct {
		name   string
		decode func([]byte) error
	}{
		{"fast", func(d []byte) error {
			var s Snapshot
			if !decodeSnapshotFast(d, &s) {
				return errors.New("the fast decoder gave up")
			}
			return nil
		}},
		{"encoding-json", func(d []byte) error {
			var s Snapshot
			return decodeSnapshotStrict(d, "b.json", &s)
		}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := bb.decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
