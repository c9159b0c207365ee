package org

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/atomicfile"
)

func TestSnapshotRoundTrip(t *testing.T) {
	s := fixture()
	data, err := MarshalSnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSnapshot(data, "fixture.json")
	if err != nil {
		t.Fatalf("ParseSnapshot(MarshalSnapshot(fixture)): %v", err)
	}
	if diff := cmp.Diff(got, s); diff != "" {
		t.Errorf("round trip (-got +want):\n%s", diff)
	}
	again, err := MarshalSnapshot(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Error("encoding a decoded snapshot does not reproduce the same bytes")
	}
}

func TestSnapshotFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap.json")
	if err := WriteSnapshotFile(path, fixture()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSnapshotFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint != ComputeFingerprint(fixture()) {
		t.Errorf("fingerprint after a file round trip = %s, want %s", got.Fingerprint, ComputeFingerprint(fixture()))
	}
	leftovers, _ := filepath.Glob(path + atomicfile.TempSuffix + "*")
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestFingerprint(t *testing.T) {
	base := ComputeFingerprint(fixture())
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Fatalf("ComputeFingerprint = %q, want sha256: and 64 hex digits", base)
	}
	same := []struct {
		name   string
		change func(*Snapshot)
	}{
		{"capture time does not change it", func(s *Snapshot) { s.TakenAt = s.TakenAt.Add(time.Hour) }},
		{"source does not change it", func(s *Snapshot) { s.Source = "aws:prod" }},
		{"the stored fingerprint does not change it", func(s *Snapshot) { s.Fingerprint = "sha256:0" }},
		{"list order does not change it", func(s *Snapshot) {
			slicesReverse(s.Accounts)
			slicesReverse(s.OUs)
			slicesReverse(s.Policies)
			slicesReverse(s.Attachments)
		}},
		{"a time zone does not change it", func(s *Snapshot) {
			s.Accounts[0].JoinedAt = s.Accounts[0].JoinedAt.In(time.FixedZone("X", 3600))
		}},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			s := fixture()
			tt.change(s)
			if got := ComputeFingerprint(s); got != base {
				t.Errorf("ComputeFingerprint = %s, want %s", got, base)
			}
		})
	}
	differ := []struct {
		name   string
		change func(*Snapshot)
	}{
		{"moving an account changes it", func(s *Snapshot) { s.Accounts[0].ParentID = "ou-ab12-66666666" }},
		{"renaming an OU changes it", func(s *Snapshot) { s.OUs[0].Name = "Clients" }},
		{"editing a policy changes it", func(s *Snapshot) { s.Policies[2].Content += " " }},
		{"detaching a policy changes it", func(s *Snapshot) { s.Attachments = s.Attachments[1:] }},
		{"a tag changes it", func(s *Snapshot) { s.Accounts[0].Tags = map[string]string{"a": "b"} }},
		{"disabling a policy type changes it", func(s *Snapshot) { s.Root.PolicyTypes = s.Root.PolicyTypes[1:] }},
		{"moving a field boundary changes it", func(s *Snapshot) {
			s.Accounts[0].Name, s.Accounts[0].Email = s.Accounts[0].Name+"x", strings.TrimPrefix(s.Accounts[0].Email, "x")
		}},
	}
	for _, tt := range differ {
		t.Run(tt.name, func(t *testing.T) {
			s := fixture()
			tt.change(s)
			if got := ComputeFingerprint(s); got == base {
				t.Errorf("ComputeFingerprint did not change")
			}
		})
	}
}

func slicesReverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func TestParseSnapshotErrors(t *testing.T) {
	good, err := MarshalSnapshot(fixture())
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(*Snapshot)) string {
		s := fixture()
		f(s)
		s.Normalize()
		data, err := MarshalSnapshot(s)
		if err != nil {
			t.Fatal(err)
		}
		// Drop the fingerprint so that only the edit is judged.
		return strings.Replace(string(data), `"fingerprint": "`+s.Fingerprint+`",`, "", 1)
	}
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error
	}{
		{"malformed JSON reports line and column", "{\n  \"formatVersion\": 1,\n  oops\n}", []string{"snap.json:3:3", "malformed JSON"}},
		{"a truncated file is reported as truncated", string(good[:len(good)/2]), []string{"snap.json:", "truncated"}},
		{"an empty file is reported", "", []string{"snap.json", "truncated"}},
		{"a missing format version is not a snapshot", `{"root":{}}`, []string{"formatVersion: missing"}},
		{"a newer format version is refused", `{"formatVersion": 2, "newField": true}`, []string{"unsupported format version 2"}},
		{"an unknown field is named", strings.Replace(string(good), `"source":`, `"sauce": 1, "source":`, 1), []string{`unknown field "sauce"`}},
		{"a wrong type gives the field and position", strings.Replace(string(good), `"formatVersion": 1`, `"formatVersion": "1"`, 1), []string{"snap.json:2:", "formatVersion"}},
		{"trailing data is refused", string(good) + "{}", []string{"unexpected data after the snapshot"}},
		{"an edited file with a stale fingerprint is refused", strings.Replace(string(good), `"name": "acme-dev"`, `"name": "acme-dev2"`, 1), []string{"fingerprint", "does not match"}},
		{"an account whose parent is missing is reported with its path", edit(func(s *Snapshot) { s.Accounts[1].ParentID = "ou-ab12-00000000" }),
			[]string{"accounts[1].parentId", "ou-ab12-00000000"}},
		{"an OU whose parent is missing is reported", edit(func(s *Snapshot) { s.OUs[0].ParentID = "ou-gone-00000000" }),
			[]string{"organizationalUnits[0].parentId"}},
		{"an attachment to an unknown policy is reported", edit(func(s *Snapshot) {
			s.Attachments = append(s.Attachments, Attachment{PolicyID: "p-missing1", TargetID: "r-ab12"})
		}), []string{"policyId", `no policy with ID "p-missing1"`}},
		{"an attachment to an unknown target is reported", edit(func(s *Snapshot) {
			s.Attachments = append(s.Attachments, Attachment{PolicyID: "p-denyleave", TargetID: "123412341234"})
		}), []string{"targetId", "123412341234"}},
		{"a duplicate attachment is reported", edit(func(s *Snapshot) { s.Attachments = append(s.Attachments, s.Attachments[0]) }),
			[]string{"duplicate of attachments"}},
		{"a cycle of OUs is reported", edit(func(s *Snapshot) {
			s.OUs[0].ParentID = "ou-ab12-33333333" // Customers under Customers/Acme/Prod
		}), []string{"its own ancestor"}},
		{"a duplicated ID is reported", edit(func(s *Snapshot) { s.Accounts[1].ID = s.Accounts[0].ID }), []string{"already used"}},
		{"an account ID of the wrong shape is reported", edit(func(s *Snapshot) { s.Accounts[0].ID = "12345" }), []string{"12-digit"}},
		{"a management account outside the organization is reported", edit(func(s *Snapshot) { s.Organization.ManagementAccountID = "888888888888" }),
			[]string{"organization.managementAccountId"}},
		{"a missing root is reported", edit(func(s *Snapshot) { s.Root.ID = "" }), []string{"root.id: missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSnapshot([]byte(tt.doc), "snap.json")
			if err == nil {
				t.Fatal("ParseSnapshot succeeded, want an error")
			}
			if !errors.Is(err, ErrInvalidSnapshot) {
				t.Errorf("errors.Is(%v, ErrInvalidSnapshot) = false", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseSnapshot error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func FuzzParseSnapshot(f *testing.F) {
	good, err := MarshalSnapshot(fixture())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"formatVersion":1,"root":{"id":"r-ab12"},"accounts":[{"id":"123456789012","parentId":"r-ab12"}]}`))
	f.Add([]byte(`{"formatVersion":1,"root":{"id":"r-ab12"},"organizationalUnits":[{"id":"ou-a-1","name":"x","parentId":"ou-a-1"}]}`))
	f.Add([]byte(`{"formatVersion":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSnapshot(data, "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrInvalidSnapshot) {
				t.Fatalf("ParseSnapshot error %v does not match ErrInvalidSnapshot", err)
			}
			return
		}
		// A snapshot that parsed is valid, indexes, and survives a round trip.
		x, err := NewIndex(s)
		if err != nil {
			t.Fatalf("NewIndex of a parsed snapshot: %v", err)
		}
		for _, a := range s.Accounts {
			if _, err := x.Path(a.ID); err != nil {
				t.Fatalf("Path(%s): %v", a.ID, err)
			}
		}
		out, err := MarshalSnapshot(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSnapshot(out, "again.json")
		if err != nil {
			t.Fatalf("re-parsing an encoded snapshot: %v", err)
		}
		if back.Fingerprint != s.Fingerprint {
			t.Fatalf("fingerprint changed across a round trip: %s != %s", back.Fingerprint, s.Fingerprint)
		}
	})
}
