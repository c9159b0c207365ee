package app

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/plan"
)

func TestPlanReportsItsStagesAndLogs(t *testing.T) {
	s, err := generate.Organization(generate.Options{Accounts: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	snap := filepath.Join(dir, "org.json")
	if err := org.WriteSnapshotFile(snap, s); err != nil {
		t.Fatal(err)
	}
	c := config.Defaults()
	c.Store = filepath.Join(dir, "orgguard.db")
	var status, logs bytes.Buffer
	a, err := New(Options{Config: &c, Actor: "alice", Status: &status,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.Plan(context.Background(), PlanRequest{SnapshotPath: snap, Request: plan.Request{
		Operations: []change.Operation{{Op: change.OpAttachPolicy, Policy: "deny-all", Target: "/Sandbox"}}}})
	if err != nil {
		t.Fatalf("Plan() = %v", err)
	}
	for _, want := range []string{"orgguard: reading " + snap, "orgguard: planning 1 change on a simulated copy"} {
		if !strings.Contains(status.String(), want) {
			t.Errorf("status %q does not say %q", status.String(), want)
		}
	}
	for _, want := range []string{"msg=planned", "msg=\"plan detail\"", "msg=\"read the organization\""} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs %q do not say %q", logs.String(), want)
		}
	}
}
