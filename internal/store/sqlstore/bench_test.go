package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/store"
)

// The benchmarks run on SQLite in a temporary directory, with the store's
// synchronous=FULL and, for comparison, NORMAL (see docs/storage.md).
var syncModes = []string{"FULL", "NORMAL"}

func benchStore(b *testing.B, mode string) *Store {
	return openSQLite(b, func(o *options) { o.sync = mode })
}

func BenchmarkAuditAppend(b *testing.B) {
	for _, mode := range syncModes {
		b.Run("synchronous="+mode, func(b *testing.B) {
			s := benchStore(b, mode)
			ctx := b.Context()
			rec := store.AuditRecord{Actor: "alice", Action: "apply.step", Subject: "change-1", Detail: json.RawMessage(`{"step":3,"target":"ou-ab12-34567890"}`)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.AppendAudit(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkJournalAppend(b *testing.B) {
	for _, mode := range syncModes {
		b.Run("synchronous="+mode, func(b *testing.B) {
			s := benchStore(b, mode)
			ctx := b.Context()
			p, err := s.SavePlan(ctx, store.Plan{Author: "alice", Hash: "h", Body: []byte(`{}`)})
			if err != nil {
				b.Fatal(err)
			}
			c, err := s.StartChange(ctx, store.Change{PlanID: p.ID})
			if err != nil {
				b.Fatal(err)
			}
			e := store.JournalEntry{ChangeID: c.ID, Step: 1, Phase: store.PhaseIntent, RequestID: "req-1", Detail: json.RawMessage(`{"op":"AttachPolicy"}`)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.AppendJournal(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// planBody is a plan file of roughly the size a 20-step plan has.
var planBody = json.RawMessage(`{"steps":[` + strings.TrimSuffix(strings.Repeat(`{"kind":"attach-policy","policy":"p-1234567890","target":"ou-ab12-34567890","inverse":{"kind":"detach-policy"}},`, 20), ",") + `]}`)

func BenchmarkPlanSave(b *testing.B) {
	s := benchStore(b, "FULL")
	ctx := b.Context()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if _, err := s.SavePlan(ctx, store.Plan{ID: fmt.Sprintf("plan-%d", i), Author: "alice", Hash: "h", Body: planBody}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlanLoad(b *testing.B) {
	s := benchStore(b, "FULL")
	ctx := b.Context()
	for i := range 1000 {
		if _, err := s.SavePlan(ctx, store.Plan{ID: fmt.Sprintf("plan-%d", i), Author: "alice", Hash: "h", Body: planBody}); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if _, err := s.Plan(ctx, fmt.Sprintf("plan-%d", i%1000)); err != nil {
			b.Fatal(err)
		}
	}
}
