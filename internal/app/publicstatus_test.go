package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/store"
)

func TestPublicStatus(t *testing.T) {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	a, err := New(Options{Config: &cfg, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	st, err := a.PublicStatus(ctx)
	if err != nil || !st.Operational() {
		t.Fatalf("PublicStatus() before any store = %+v, %v; want operational", st, err)
	}
	if _, err := os.Stat(cfg.Store); !os.IsNotExist(err) {
		t.Errorf("PublicStatus created the store (stat: %v); reading the status must not", err)
	}
	if err := a.Ready(ctx); err != nil {
		t.Fatalf("Ready() = %v", err)
	}
	s, err := a.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenIncident(ctx, store.Incident{Title: "secret internal title", Severity: store.SevCritical})
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := s.OpenIncident(ctx, store.Incident{Title: "over", Severity: store.SevMinor, State: store.IncidentResolved})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublishNotice(ctx, store.Notice{IncidentID: open.ID, Lang: "en", Title: "Errors in some accounts", Body: "Looking into it.",
		State: store.IncidentInvestigating, PublishedBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	st, err = a.PublicStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Operational() || len(st.Incidents) != 1 {
		t.Fatalf("PublicStatus() = %+v, want the one active incident", st)
	}
	got := st.Incidents[0]
	if got.ID != open.ID || got.ID == resolved.ID || got.Severity != store.SevCritical || len(got.Notices) != 1 || got.Notices[0].Title != "Errors in some accounts" {
		t.Errorf("PublicStatus().Incidents[0] = %+v, want %s with its notice", got, open.ID)
	}
}

func TestReadyFailsWithoutAStore(t *testing.T) {
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.Store = filepath.Join(blocked, "orgguard.db")
	a, err := New(Options{Config: &cfg, Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Ready(context.Background()); err == nil {
		t.Errorf("Ready() with a store under a file = nil, want an error")
	}
}
