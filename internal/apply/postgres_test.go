package apply

import (
	"context"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
	"github.com/orgguard/orgguard/internal/store/storetest"
)

// usePostgres replaces w's store with a PostgreSQL one in a fresh schema of
// ORGGUARD_TEST_POSTGRES (skipping the test when it is unset, failing when
// CI=true), dropped afterwards.
func usePostgres(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	u := storetest.PostgresSchemaURL(t, "og_apply")
	st, err := sqlstore.Open(ctx, u, sqlstore.WithClock(w.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st
}

// TestOnPostgres: the same apply, crash and recovery on the PostgreSQL
// store.
func TestOnPostgres(t *testing.T) {
	t.Run("a quarantine applies with its journal and audit in PostgreSQL", func(t *testing.T) {
		w := newWorld(t, 30, nil)
		usePostgres(t, w)
		f := w.plan("alice", w.quarantineOps(2))
		w.approve(f, "bob", "carol")
		rep, err := New(w.options("alice")).Apply(context.Background(), Request{Plan: f})
		if err != nil || rep.Outcome != Applied {
			t.Fatalf("Apply = %v, %v", rep, err)
		}
		j, _ := w.st.Journal(context.Background(), rep.ChangeID)
		if len(j) != 2*len(f.Steps) {
			t.Errorf("journal has %d entries, want %d", len(j), 2*len(f.Steps))
		}
	})
	t.Run("a crash half-way is recovered from PostgreSQL to the state before", func(t *testing.T) {
		w := newWorld(t, 30, nil)
		usePostgres(t, w)
		f := w.plan("alice", w.quarantineOps(2))
		w.approve(f, "bob", "carol")
		o := w.options("alice")
		o.Crash = func(n int, _ string) error {
			if n == 12 {
				return errKilled
			}
			return nil
		}
		if _, err := New(o).Apply(context.Background(), Request{Plan: f}); !IsCrash(err) {
			t.Fatalf("Apply = %v", err)
		}
		w.clk.Add(time.Minute)
		recs, err := New(w.options("ops")).Recover(context.Background())
		if err != nil || len(recs) != 1 || recs[0].State != Before || !recs[0].Verified {
			t.Fatalf("Recover = %+v, %v", recs, err)
		}
		if w.fingerprint() != f.BaseFingerprint || w.planState(f.ID) != store.PlanRolledBack {
			t.Errorf("not back at the base, or plan not rolled back")
		}
	})
}
