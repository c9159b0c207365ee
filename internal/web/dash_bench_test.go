package web

import (
	"context"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/plan"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/config"
)

// BenchmarkOrgPage10k serves /team/org for a generated organization of
// 10,000 accounts (the simulated backend, as `orgguard sim generate
// --accounts 10000` writes it): reading the organization, drawing the
// tree and rendering the page. The target is under one second.
func BenchmarkOrgPage10k(b *testing.B) {
	dir := b.TempDir()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(dir, "orgguard.db")
	cfg.Backend.Sim.State = filepath.Join(dir, "sim-state.json")
	cfg.Backend.Sim.Accounts = 10000
	a, err := app.New(app.Options{Config: &cfg, Actor: "tester"})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Backend(context.Background()); err != nil { // generate the organization first
		b.Fatal(err)
	}
	s, err := New(Options{App: a, Auth: fakeAuth{"victor": {Name: "victor", Roles: []string{"viewer"}}}})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/team/org", nil)
		req.Header.Set("Authorization", "victor")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := serve()
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "9999 member accounts") {
		b.Fatalf("GET /team/org = %d, want 200 with 9999 member accounts", rec.Code)
	}
	size := rec.Body.Len()
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
	b.ReportMetric(float64(size)/1e6, "MB/page")
}

// BenchmarkPlanPage10k serves the page of a quarantine plan of three
// accounts in a generated 10,000-account organization: the stored plan,
// its base snapshot from the store, the blast radius on the tree.
func BenchmarkPlanPage10k(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(dir, "orgguard.db")
	cfg.Backend.Sim.State = filepath.Join(dir, "sim-state.json")
	cfg.Backend.Sim.Accounts = 10000
	cfg.Quarantine.BreakGlassPrincipals = nil
	a, err := app.New(app.Options{Config: &cfg, Actor: "alice"})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	base, err := a.Snapshot(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	var accounts []string
	for _, acc := range base.Accounts {
		if acc.ID != base.Organization.ManagementAccountID && len(accounts) < 3 {
			accounts = append(accounts, acc.ID)
		}
	}
	res, err := a.Plan(ctx, app.PlanRequest{Request: plan.Request{Operations: []change.Operation{{Op: change.OpQuarantine, Accounts: accounts}}, Source: "bench"}, Save: true})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{App: a, Auth: fakeAuth{"victor": {Name: "victor", Roles: []string{"viewer"}}}})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/team/plans/"+res.File.ID, nil)
		req.Header.Set("Authorization", "victor")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := serve()
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "3 of 3 affected accounts lose access") {
		b.Fatalf("GET the plan = %d, want 200 with the blast radius on the tree", rec.Code)
	}
	size := rec.Body.Len()
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
	b.ReportMetric(float64(size)/1e6, "MB/page")
}
