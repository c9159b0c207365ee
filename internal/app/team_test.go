package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/leader"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
	"github.com/orgguard/orgguard/internal/store/storetest"
)

func TestTeamModeRefusesSQLite(t *testing.T) {
	w := newWatchWorld(t, 20, nil)
	a := w.app(t)
	_, err := a.Team(t.Context(), app.TeamOptions{})
	if !errors.Is(err, app.ErrBadInput) || !strings.Contains(err.Error(), "team mode needs PostgreSQL: SQLite is single-process; set store: to a postgres:// DSN") {
		t.Errorf("Team on SQLite = %v, want ErrBadInput saying team mode needs PostgreSQL", err)
	}
}

// TestLeaderDutiesWriteUnderTheirFence runs the leader duties on
// PostgreSQL: under the current tenure the watcher reads its baseline and
// stores it; under a tenure that is over, the same duties write nothing
// (the baseline's save is refused) and say so with store.ErrFenced.
func TestLeaderDutiesWriteUnderTheirFence(t *testing.T) {
	w := newWatchWorld(t, 20, nil)
	w.cfg.Store = storetest.PostgresSchemaURL(t, "og_team_app")
	st, err := sqlstore.Open(t.Context(), w.cfg.Store)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()

	t.Run("a tenure that is over writes nothing", func(t *testing.T) {
		old, err := st.AcquireLease(ctx, store.LeaseRequest{Name: leader.DefaultName, Holder: "old", TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ReleaseLease(ctx, old.Fence()); err != nil {
			t.Fatal(err)
		}
		a := w.app(t)
		err = a.RunLeaderDuties(ctx, old.Fence(), app.LeaderDutiesOptions{})
		if !errors.Is(err, store.ErrFenced) {
			t.Errorf("RunLeaderDuties under a released tenure = %v, want ErrFenced", err)
		}
		if _, err := st.WatchState(ctx, "default"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("watch state after fenced duties: %v, want none stored", err)
		}
	})

	t.Run("the current tenure's duties run and record the watcher's state", func(t *testing.T) {
		cur, err := st.AcquireLease(ctx, store.LeaseRequest{Name: leader.DefaultName, Holder: "me", TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		a := w.app(t)
		dctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- a.RunLeaderDuties(dctx, cur.Fence(), app.LeaderDutiesOptions{Leading: func() error { return nil }})
		}()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := st.WatchState(ctx, "default"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the leader's watcher stored no state within 30s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunLeaderDuties after its context ended = %v, want nil", err)
		}
	})
}
