package app

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/watch"
)

// testConfig is a 40-account simulated organization and an SQLite store in
// a temporary directory; the quarantine has no break-glass exception.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	dir := t.TempDir()
	c := config.Defaults()
	c.Backend.Sim.State = filepath.Join(dir, "sim-state.json")
	c.Backend.Sim.Accounts = 40
	c.Store = filepath.Join(dir, "orgguard.db")
	c.Quarantine.BreakGlassPrincipals = nil
	return &c
}

// weekdayNoon is inside no window; the defaults need windows only from high risk.
var weekdayNoon = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

func open(t *testing.T, c *config.Config, actor string) *App {
	t.Helper()
	a, err := New(Options{Config: c, Actor: actor, Now: func() time.Time { return weekdayNoon }})
	if err != nil {
		t.Fatalf("New(%q) = %v", actor, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func quarantine(accounts ...string) PlanRequest {
	return PlanRequest{Request: plan.Request{Operations: []change.Operation{{Op: change.OpQuarantine, Accounts: accounts}}, Source: "test"}, Save: true}
}

func TestAPlanIsSavedApprovedAppliedAndRolledBack(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	alice, bob := open(t, c, "alice"), open(t, c, "bob")
	base, err := alice.Snapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var target string
	for _, acct := range base.Accounts {
		if acct.ID != base.Organization.ManagementAccountID {
			target = acct.Name
			break
		}
	}
	res, err := alice.Plan(ctx, quarantine(target))
	if err != nil {
		t.Fatalf("Plan = %v", err)
	}
	if !res.Saved || res.Pinned.Version.Seq != 1 || res.File.Guardrails != res.Pinned.Hash() {
		t.Fatalf("Plan: saved %v, pinned v%d, plan guardrails %q; want saved under v1 (%s)", res.Saved, res.Pinned.Version.Seq, res.File.Guardrails, res.Pinned.Hash())
	}
	id := res.File.ID
	t.Run("the author cannot approve", func(t *testing.T) {
		if _, err := alice.Approve(ctx, id, ""); !errors.Is(err, ErrRefused) {
			t.Errorf("Approve by the author = %v, want ErrRefused", err)
		}
	})
	t.Run("apply without approval is refused", func(t *testing.T) {
		if _, err := alice.Apply(ctx, ApplyRequest{Ref: id}); !errors.Is(err, ErrRefused) {
			t.Errorf("Apply = %v, want ErrRefused", err)
		}
	})
	t.Run("a second person approves", func(t *testing.T) {
		ap, err := bob.Approve(ctx, id, "ok")
		if err != nil || ap.State != store.PlanApproved {
			t.Fatalf("Approve by bob = %+v, %v; want approved", ap, err)
		}
	})
	var changeID string
	t.Run("the approved plan applies", func(t *testing.T) {
		r, err := alice.Apply(ctx, ApplyRequest{Ref: id})
		if err != nil || r.Report == nil || r.Report.ChangeID == "" {
			t.Fatalf("Apply = %+v, %v", r, err)
		}
		changeID = r.Report.ChangeID
	})
	t.Run("the metrics count the apply's probes and the plan", func(t *testing.T) {
		rec := httptest.NewRecorder()
		alice.Metrics().Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		out := rec.Body.String()
		for _, want := range []string{`orgguard_probe_results_total{probe="sts:AssumeRole",result="pass"}`, `orgguard_changes_total{state="applied"} 1`} {
			if !strings.Contains(out, want) {
				t.Errorf("metrics after the apply lack %s:\n%s", want, out)
			}
		}
	})
	t.Run("the plans list shows it applied with bob's approval", func(t *testing.T) {
		rows, err := alice.Plans(ctx, store.PlanFilter{})
		if err != nil || len(rows) != 1 || rows[0].State != store.PlanApplied || rows[0].Have != 1 || rows[0].Approvers[0] != "bob" {
			t.Fatalf("Plans = %+v, %v", rows, err)
		}
	})
	t.Run("the rollback is a new saved plan", func(t *testing.T) {
		rb, err := alice.Rollback(ctx, changeID, "", alice.Now())
		if err != nil || !rb.Saved || len(rb.File.Steps) == 0 || rb.File.Source != "rollback:"+changeID {
			t.Fatalf("Rollback = %+v, %v", rb, err)
		}
	})
	t.Run("nothing is left to recover", func(t *testing.T) {
		if recs, err := alice.Recover(ctx); err != nil || len(recs) != 0 {
			t.Errorf("Recover = %v, %v; want nothing", recs, err)
		}
	})
}

func TestPlanWithoutAStoreCreatesNone(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	a := open(t, c, "alice")
	res, err := a.Plan(ctx, PlanRequest{Request: plan.Request{Operations: []change.Operation{{Op: change.OpAttachPolicy, Policy: "deny-all", Target: "Root"}}}})
	if err != nil {
		t.Fatalf("Plan = %v", err)
	}
	if res.File.Verdict != guard.Refused || res.Saved || res.File.Guardrails != "" {
		t.Errorf("Plan(deny-all on Root) = verdict %s, saved %v, guardrails %q; want refused, unsaved, unpinned", res.File.Verdict, res.Saved, res.File.Guardrails)
	}
	if _, err := os.Stat(c.Store); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("planning without --out created the store %s (%v)", c.Store, err)
	}
}

func TestErrorKinds(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	a := open(t, c, "alice")
	tests := []struct {
		name string
		err  func() error
		kind error
	}{
		{"an unknown account is bad input", func() error { _, err := a.Plan(ctx, quarantine("no-such-account")); return err }, ErrBadInput},
		{"an unknown plan is bad input", func() error { _, err := a.Approve(ctx, "plan-nope", ""); return err }, ErrBadInput},
		{"a description over the limit is bad input", func() error {
			r := quarantine("x")
			r.Description = string(make([]byte, plan.MaxDescription+1))
			_, err := a.Plan(ctx, r)
			return err
		}, ErrBadInput},
		{"a look-alike actor is bad input", func() error { _, err := New(Options{Config: c, Actor: "аlice"}); return err }, ErrBadInput},
		{"the same guardrails again are refused as a change", func() error {
			if _, err := a.PinGuardrails(ctx); err != nil {
				return err
			}
			_, err := a.PlanGuardrails(ctx, "")
			return err
		}, ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); !errors.Is(err, tt.kind) {
				t.Errorf("error = %v, want %v", err, tt.kind)
			}
		})
	}
}

// TestRemediationRulesArePinned: a watch rule with remediate: true lets the
// watcher apply the undo of drift on its standing approval, so a local
// configuration that adds one to pinned rules without it is refused, like
// any weaker guardrail.
func TestRemediationRulesArePinned(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	if _, err := open(t, c, "alice").PinGuardrails(ctx); err != nil {
		t.Fatalf("PinGuardrails = %v", err)
	}
	lax := *c
	lax.Watch.Rules = []watch.Rule{{Name: "undo-everything", When: watch.WhenAnyChange, Severity: store.SevCritical, Remediate: true}}
	err := open(t, &lax, "mallory").Watch(ctx, WatchOptions{})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "differ from those pinned") {
		t.Fatalf("Watch with an unpinned remediation rule = %v, want refused as not the pinned guardrails", err)
	}
}
