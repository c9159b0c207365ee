package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

func entry(seq int64, prev string) store.AuditEntry {
	return Seal(store.AuditEntry{Seq: seq, At: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
		Actor: "alice", Action: "plan.approve", Subject: "plan-1", Detail: []byte(`{"a":1}`), PrevHash: prev})
}

func TestHashCoversEveryField(t *testing.T) {
	base := entry(1, "")
	edits := []struct {
		name string
		edit func(*store.AuditEntry)
	}{
		{"seq", func(e *store.AuditEntry) { e.Seq = 2 }},
		{"time", func(e *store.AuditEntry) { e.At = e.At.Add(time.Microsecond) }},
		{"actor", func(e *store.AuditEntry) { e.Actor = "alicf" }},
		{"action", func(e *store.AuditEntry) { e.Action += "x" }},
		{"subject", func(e *store.AuditEntry) { e.Subject = "" }},
		{"detail", func(e *store.AuditEntry) { e.Detail = []byte(`{"a":2}`) }},
		{"prev_hash", func(e *store.AuditEntry) { e.PrevHash = "00" }},
		// Moving bytes between adjacent fields must change the hash too: the
		// length prefixes make the encoding unambiguous.
		{"actor/action boundary", func(e *store.AuditEntry) { e.Actor, e.Action = "aliceplan", ".approve" }},
	}
	for _, tc := range edits {
		t.Run("changing the "+tc.name+" changes the hash", func(t *testing.T) {
			e := base
			tc.edit(&e)
			if got := Hash(e); got == base.Hash {
				t.Errorf("Hash after changing %s = %s, the same as before", tc.name, got)
			}
		})
	}
	t.Run("the hash ignores the time zone and sub-microsecond digits", func(t *testing.T) {
		e := base
		e.At = base.At.In(time.FixedZone("x", 3600)).Add(999 * time.Nanosecond)
		if got := Seal(e).Hash; got != base.Hash {
			t.Errorf("Seal(same instant in another zone) = %s, want %s", got, base.Hash)
		}
	})
	t.Run("the encoding is stable", func(t *testing.T) {
		// Pinned: changing the canonical encoding breaks every stored chain.
		const want = "orgguard-audit/1\n1:1\n27:2026-01-02T03:04:05.000006Z\n5:alice\n12:plan.approve\n6:plan-1\n7:{\"a\":1}\n0:\n"
		if got := string(Canonical(base)); got != want {
			t.Errorf("Canonical = %q, want %q", got, want)
		}
	})
}

func TestCanonicalJSON(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty is nil", "", ""},
		{"whitespace only is nil", " \n", ""},
		{"keys are sorted and space removed", `{ "b": 1, "a": {"d": [1, 2], "c": null} }`, `{"a":{"c":null,"d":[1,2]},"b":1}`},
		{"numbers keep their spelling", `[1.50, 1e3, -0, 12345678901234567890]`, `[1.50,1e3,-0,12345678901234567890]`},
		{"HTML is not escaped", `"<a&b>"`, `"<a&b>"`},
		{"a scalar is fine", `true`, `true`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CanonicalJSON([]byte(tc.in))
			if err != nil || string(got) != tc.want {
				t.Errorf("CanonicalJSON(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
			}
		})
	}
	for _, in := range []string{`{"a":`, `{} {}`, `[1,]`, `nul`} {
		t.Run("invalid JSON "+in+" is refused", func(t *testing.T) {
			if got, err := CanonicalJSON([]byte(in)); err == nil {
				t.Errorf("CanonicalJSON(%q) = %q, want an error", in, got)
			}
		})
	}
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1.5,"x"]}`, `[]`, `"\u2028"`, `{"a":{"a":{"a":1}}}`, `1e400`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := CanonicalJSON(in)
		if err != nil {
			return
		}
		// Canonical form is a fixed point.
		again, err := CanonicalJSON(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("CanonicalJSON(CanonicalJSON(%q)) = %q, %v, want %q", in, again, err, out)
		}
	})
}

func TestParseAnchor(t *testing.T) {
	h := strings.Repeat("ab", 32)
	got, err := ParseAnchor("12:" + strings.ToUpper(h))
	if err != nil || got != (Anchor{Seq: 12, Hash: h}) || got.String() != "12:"+h {
		t.Errorf("ParseAnchor(12:HASH) = %+v, %v, want seq 12 and the lower-case hash", got, err)
	}
	for _, in := range []string{"", "12", ":" + h, "0:" + h, "-1:" + h, "x:" + h, "1:abc", "1:" + strings.Repeat("zz", 32)} {
		if _, err := ParseAnchor(in); err == nil {
			t.Errorf("ParseAnchor(%q) = nil error, want one", in)
		}
	}
}

func FuzzParseAnchor(f *testing.F) {
	f.Add("1:" + strings.Repeat("0", 64))
	f.Add("x:y")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseAnchor(in)
		if err != nil {
			return
		}
		if back, err := ParseAnchor(a.String()); err != nil || back != a {
			t.Fatalf("ParseAnchor(%q) round trip = %+v, %v, want %+v", in, back, err, a)
		}
	})
}

// memLog is an in-memory Source for Verify.
type memLog struct {
	entries []store.AuditEntry
	head    store.AuditHead
	err     error
}

func (m *memLog) ListAudit(_ context.Context, q store.AuditQuery) ([]store.AuditEntry, error) {
	if m.err != nil {
		return nil, m.err
	}
	var out []store.AuditEntry
	for _, e := range m.entries {
		if e.Seq > q.AfterSeq && (q.Limit == 0 || len(out) < q.Limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memLog) AuditHead(context.Context) (store.AuditHead, error) { return m.head, nil }

func chain(n int) *memLog {
	m := &memLog{}
	prev := ""
	for i := 1; i <= n; i++ {
		e := entry(int64(i), prev)
		m.entries = append(m.entries, e)
		prev = e.Hash
	}
	m.head = store.AuditHead{Seq: int64(n), Hash: prev}
	return m
}

func TestVerifyPagesThroughLongChains(t *testing.T) {
	m := chain(2*pageSize + 7)
	r, err := Verify(t.Context(), m)
	if err != nil || !r.Intact() || r.Entries != int64(len(m.entries)) {
		t.Fatalf("Verify(%d entries) = %+v, %v, want intact", len(m.entries), r, err)
	}
	m.entries[pageSize+3].Subject = "edited"
	r, _ = Verify(t.Context(), m)
	if r.Intact() || r.Break.Seq != pageSize+4 {
		t.Errorf("Verify after editing entry %d = %+v, want broken there", pageSize+4, r.Break)
	}
}

func TestVerifyReportsReadErrors(t *testing.T) {
	m := chain(1)
	m.err = errors.New("disk on fire")
	if _, err := Verify(t.Context(), m); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Verify = %v, want the read error", err)
	}
}
