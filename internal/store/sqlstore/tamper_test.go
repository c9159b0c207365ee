package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/audit"
	"github.com/orgguard/orgguard/internal/store"
)

// TestAuditTamper edits the audit log behind the store's back with raw SQL,
// as someone with access to the database file could, and checks that
// audit.Verify reports the first entry where the chain breaks.
func TestAuditTamper(t *testing.T) {
	const n = 5
	type tamper struct {
		name      string
		sql       []string // statements, '?' placeholders, run in order
		args      func(s *Store, e []store.AuditEntry) [][]any
		anchor    func(e []store.AuditEntry) []audit.Anchor
		wantSeq   int64 // 0: the chain still verifies
		wantWords string
	}
	none := func(*Store, []store.AuditEntry) [][]any { return nil }
	tampers := []tamper{
		{name: "an untouched log verifies", args: none},
		{
			name: "changing the actor of a middle entry breaks the chain there",
			sql:  []string{`UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`}, args: none,
			wantSeq: 3, wantWords: "altered",
		},
		{
			name: "changing a detail breaks the chain there",
			sql:  []string{`UPDATE audit_log SET detail = '{"n":99}' WHERE seq = 2`}, args: none,
			wantSeq: 2, wantWords: "altered",
		},
		{
			name: "changing a time breaks the chain there",
			sql:  []string{`UPDATE audit_log SET at = ? WHERE seq = 4`},
			args: func(s *Store, _ []store.AuditEntry) [][]any {
				return [][]any{{s.d.timeArg(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))}}
			},
			wantSeq: 4, wantWords: "altered",
		},
		{
			name: "editing an entry and recomputing its hash breaks the chain at the next entry",
			sql:  []string{`UPDATE audit_log SET actor = 'mallory', hash = ? WHERE seq = 3`},
			args: func(s *Store, e []store.AuditEntry) [][]any {
				forged := e[2]
				forged.Actor = "mallory"
				return [][]any{{audit.Hash(forged)}}
			},
			wantSeq: 4, wantWords: "does not follow",
		},
		{
			name: "deleting a middle entry is a gap",
			sql:  []string{`DELETE FROM audit_log WHERE seq = 3`}, args: none,
			wantSeq: 3, wantWords: "missing",
		},
		{
			name: "deleting the first entry is a gap at 1",
			sql:  []string{`DELETE FROM audit_log WHERE seq = 1`}, args: none,
			wantSeq: 1, wantWords: "missing",
		},
		{
			name: "deleting the last entry is caught by the head checkpoint",
			sql:  []string{`DELETE FROM audit_log WHERE seq = 5`}, args: none,
			wantSeq: 5, wantWords: "head checkpoint",
		},
		{
			name: "deleting every entry is caught by the head checkpoint",
			sql:  []string{`DELETE FROM audit_log`}, args: none,
			wantSeq: 1, wantWords: "missing",
		},
		{
			name: "deleting the head checkpoint is reported",
			sql:  []string{`DELETE FROM audit_head`}, args: none,
			wantSeq: 6, wantWords: "head checkpoint is missing",
		},
		{
			name: "swapping two entries' sequence numbers breaks the chain at the first",
			sql: []string{
				`UPDATE audit_log SET seq = -2 WHERE seq = 2`,
				`UPDATE audit_log SET seq = 2 WHERE seq = 3`,
				`UPDATE audit_log SET seq = 3 WHERE seq = -2`,
			},
			args:    none,
			wantSeq: 2,
		},
		{
			name: "truncating the tail and rewinding the head verifies, but not against an anchor",
			sql: []string{
				`DELETE FROM audit_log WHERE seq > 3`,
				`UPDATE audit_head SET seq = 3, hash = ? WHERE id = 1`,
			},
			args: func(s *Store, e []store.AuditEntry) [][]any { return [][]any{nil, {e[2].Hash}} },
			anchor: func(e []store.AuditEntry) []audit.Anchor {
				return []audit.Anchor{{Seq: 5, Hash: e[4].Hash}}
			},
			wantSeq: 5, wantWords: "anchored entry 5 is missing",
		},
		{
			name: "an entry appended behind the store's back is beyond the head",
			sql:  []string{`INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) SELECT 6, at, actor, action, subject, detail, hash, hash FROM audit_log WHERE seq = 5`},
			args: none, wantSeq: 6, wantWords: "altered",
		},
	}
	for _, d := range dialects {
		for _, tc := range tampers {
			t.Run("on "+d.name+" "+tc.name, func(t *testing.T) {
				s := d.open(t)
				ctx := t.Context()
				var entries []store.AuditEntry
				for i := range n {
					e, err := s.AppendAudit(ctx, store.AuditRecord{Actor: "alice", Action: "step", Subject: fmt.Sprintf("s-%d", i),
						Detail: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
					if err != nil {
						t.Fatal(err)
					}
					entries = append(entries, e)
				}
				disableAuditTriggers(t, s)
				args := tc.args(s, entries)
				for i, q := range tc.sql {
					var a []any
					if i < len(args) {
						a = args[i]
					}
					if _, err := s.write.ExecContext(ctx, s.d.rebind(q), a...); err != nil {
						t.Fatalf("tampering with %q: %v", q, err)
					}
				}
				var anchors []audit.Anchor
				if tc.anchor != nil {
					anchors = tc.anchor(entries)
					// Without the anchor this tampering is invisible: say so.
					if r, err := audit.Verify(ctx, s); err != nil || !r.Intact() {
						t.Errorf("Verify without the anchor = %+v, %v; expected the rewound chain to verify", r, err)
					}
				}
				r, err := audit.Verify(ctx, s, anchors...)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				switch {
				case tc.wantSeq == 0 && !r.Intact():
					t.Errorf("Verify = broken at %d (%s), want intact", r.Break.Seq, r.Break.Reason)
				case tc.wantSeq != 0 && r.Intact():
					t.Errorf("Verify = intact, want broken at %d", tc.wantSeq)
				case tc.wantSeq != 0 && (r.Break.Seq != tc.wantSeq || !strings.Contains(r.Break.Reason, tc.wantWords)):
					t.Errorf("Verify = broken at %d (%s), want broken at %d with %q", r.Break.Seq, r.Break.Reason, tc.wantSeq, tc.wantWords)
				}
			})
		}
	}
}

// disableAuditTriggers removes the append-only triggers, as a tamperer would.
func disableAuditTriggers(t *testing.T, s *Store) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}
	if s.Driver() == Postgres {
		stmts = []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}
	}
	for _, q := range stmts {
		if _, err := s.write.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAuditAppendOnly checks that the store's own triggers refuse updates
// and deletes of audit entries.
func TestAuditAppendOnly(t *testing.T) {
	for _, d := range dialects {
		t.Run("on "+d.name+" updates and deletes of audit entries are refused", func(t *testing.T) {
			s := d.open(t)
			ctx := t.Context()
			if _, err := s.AppendAudit(ctx, store.AuditRecord{Actor: "a", Action: "b"}); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{`UPDATE audit_log SET actor = 'x'`, `DELETE FROM audit_log`} {
				_, err := s.write.ExecContext(ctx, q)
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s = %v, want an append-only error", q, err)
				}
			}
		})
	}
}
