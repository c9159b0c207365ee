package review

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

var catOnce = sync.OnceValues(catalog.Load)

// bench is a store, a generated organization and a planner over rules.
type bench struct {
	t       *testing.T
	st      store.Store
	base    *org.Snapshot
	rules   Rules
	pinned  Pinned
	planner *plan.Planner
}

func newBench(t *testing.T) *bench {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "orgguard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	base, err := generate.Organization(generate.Options{Accounts: 30, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{t: t, st: st, base: base, rules: Rules{Guardrails: guard.Default(), Quarantine: change.DefaultQuarantine()}}
	if b.pinned, err = Check(ctx, st, b.rules, "test", "alice", true); err != nil {
		t.Fatal(err)
	}
	b.planner = b.plannerFor(b.rules)
	return b
}

func (b *bench) plannerFor(r Rules) *plan.Planner {
	b.t.Helper()
	g, err := guard.Compile(r.Guardrails)
	if err != nil {
		b.t.Fatal(err)
	}
	cat, err := catOnce()
	if err != nil {
		b.t.Fatal(err)
	}
	an, err := impact.NewAnalyzer(cat, impact.Options{Critical: r.Critical})
	if err != nil {
		b.t.Fatal(err)
	}
	return &plan.Planner{Guard: g, Analyzer: an, Quarantine: r.Quarantine}
}

// plan plans ops as author and saves the plan.
func (b *bench) plan(author string, ops ...change.Operation) *plan.File {
	b.t.Helper()
	res, err := b.planner.Make(context.Background(), b.base, plan.Request{Operations: ops, Author: author, Source: "test",
		Now: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), Guardrails: b.pinned.Hash()})
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := Save(context.Background(), b.st, res.File, b.base, author); err != nil {
		b.t.Fatal(err)
	}
	return res.File
}

var denyAllOnRoot = change.Operation{Op: change.OpAttachPolicy, Policy: "deny-all", Target: "Root"}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	b := newBench(t)
	f := b.plan("alice", denyAllOnRoot)
	t.Run("a stored plan derives to itself", func(t *testing.T) {
		if err := Verify(ctx, b.st, b.planner, b.pinned, f); err != nil {
			t.Fatalf("Verify = %v, want nil", err)
		}
	})
	tests := []struct {
		name   string
		edit   func(f *plan.File)
		fields []string
	}{
		{"a verdict edited to allowed is named", func(f *plan.File) { f.Verdict, f.Guard.Decision = guard.Allowed, guard.Allowed },
			[]string{`verdict (plan: "allowed", derived: "refused")`, "guard"}},
		{"required approvals edited to 0 are named", func(f *plan.File) { f.RequiredApprovals = 0 },
			[]string{"requiredApprovals (plan: 0, derived:"}},
		{"a dropped confirmation is named", func(f *plan.File) { f.Guard.RequiresConfirmation = false }, []string{"guard"}},
		{"another author is named", func(f *plan.File) { f.Author = "mallory" }, []string{`id (plan: "plan-`}},
		{"a plan made under other guardrails is named", func(f *plan.File) { f.Guardrails = "sha256:0000" }, []string{"guardrails (plan: 0000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := *f
			tt.edit(&g)
			if err := g.Seal(); err != nil {
				t.Fatal(err)
			}
			err := Verify(ctx, b.st, b.planner, b.pinned, &g)
			var de *DerivationError
			if !errors.As(err, &de) || !errors.Is(err, ErrRefused) {
				t.Fatalf("Verify(edited) = %v, want a *DerivationError", err)
			}
			for _, want := range tt.fields {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Verify(edited) = %q, want it to name %q", err, want)
				}
			}
		})
	}
	t.Run("a plan whose base snapshot is not stored cannot be derived", func(t *testing.T) {
		g := *f
		g.BaseFingerprint = "sha256:ffff"
		if err := Verify(ctx, b.st, b.planner, b.pinned, &g); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not in the store") {
			t.Errorf("Verify(unknown base) = %v, want a refusal", err)
		}
	})
}

func TestSaveAndStored(t *testing.T) {
	ctx := context.Background()
	b := newBench(t)
	f := b.plan("alice", change.Operation{Op: change.OpCreateOU, Parent: "Root", Name: "Lab-7"})
	t.Run("saving again returns the stored plan", func(t *testing.T) {
		if _, err := Save(ctx, b.st, f, b.base, "alice"); err != nil {
			t.Errorf("Save(again) = %v", err)
		}
	})
	t.Run("a re-sealed plan with the same ID is refused", func(t *testing.T) {
		g := *f
		g.Description = "edited"
		g.Seal()
		if _, err := Save(ctx, b.st, &g, b.base, "alice"); !errors.Is(err, ErrPlanChanged) {
			t.Errorf("Save(re-sealed) = %v, want ErrPlanChanged", err)
		}
		if _, _, err := Stored(ctx, b.st, &g); !errors.Is(err, ErrRefused) {
			t.Errorf("Stored(re-sealed) = %v, want a refusal", err)
		}
	})
	t.Run("a plan never saved is not stored", func(t *testing.T) {
		g := *f
		g.ID = "plan-forged"
		g.Seal()
		if _, _, err := Stored(ctx, b.st, &g); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not in the store") {
			t.Errorf("Stored(never saved) = %v, want a refusal", err)
		}
	})
	t.Run("the base snapshot reads back with its fingerprint", func(t *testing.T) {
		s, err := Base(ctx, b.st, f.BaseFingerprint)
		if err != nil || org.ComputeFingerprint(s) != f.BaseFingerprint {
			t.Fatalf("Base = %v; want the plan's base", err)
		}
	})
	t.Run("a plan whose base is another snapshot is not saved", func(t *testing.T) {
		other, _ := generate.Organization(generate.Options{Accounts: 31, Seed: 2})
		g := *f
		g.ID = "plan-other"
		g.Seal()
		if _, err := Save(ctx, b.st, &g, other, "alice"); err == nil {
			t.Errorf("Save with the wrong base snapshot = nil, want an error")
		}
	})
}

func TestPinnedGuardrails(t *testing.T) {
	ctx := context.Background()
	b := newBench(t)
	lax := b.rules
	lax.Guardrails.Approvals.Minimum = 0
	lax.Guardrails.Thresholds = nil
	t.Run("the same rules pass", func(t *testing.T) {
		if _, err := Check(ctx, b.st, b.rules, "orgguard.yaml", "alice", false); err != nil {
			t.Errorf("Check(same) = %v", err)
		}
	})
	t.Run("other rules are refused naming both hashes", func(t *testing.T) {
		_, err := Check(ctx, b.st, lax, "lax.yaml", "alice", true)
		var me *MismatchError
		if !errors.As(err, &me) || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "lax.yaml") {
			t.Fatalf("Check(lax) = %v, want a *MismatchError naming lax.yaml", err)
		}
	})
	gp, err := PlanGuardrails(ctx, b.st, lax, "alice", "relax", time.Now())
	if err != nil {
		t.Fatalf("PlanGuardrails = %v", err)
	}
	ap := &Approver{Store: b.st, Planner: b.planner, Pinned: b.pinned}
	t.Run("a guardrails plan needs someone else's approval", func(t *testing.T) {
		if _, err := ApplyGuardrails(ctx, b.st, gp.ID, "alice"); !errors.Is(err, ErrRefused) {
			t.Fatalf("ApplyGuardrails(unapproved) = %v, want a refusal", err)
		}
		if _, err := ap.Approve(ctx, gp.ID, "Alice", ""); !errors.Is(err, ErrRefused) {
			t.Fatalf("Approve by the author = %v, want a refusal", err)
		}
		if _, err := ap.Approve(ctx, gp.ID, "bob", ""); err != nil {
			t.Fatalf("Approve by bob = %v", err)
		}
	})
	t.Run("a second plan against the same version goes stale when the first applies", func(t *testing.T) {
		strict := b.rules
		strict.Guardrails.Approvals.Minimum = 2
		gp2, err := PlanGuardrails(ctx, b.st, strict, "carol", "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		p, err := ApplyGuardrails(ctx, b.st, gp.ID, "alice")
		if err != nil || p.Version.Seq != 2 || p.Version.PlanID != gp.ID {
			t.Fatalf("ApplyGuardrails = %+v, %v; want v2 from %s", p.Version, err, gp.ID)
		}
		now, err := Current(ctx, b.st)
		if err != nil {
			t.Fatal(err)
		}
		ap2 := &Approver{Store: b.st, Planner: b.plannerFor(lax), Pinned: now}
		if _, err := ap2.Approve(ctx, gp2.ID, "bob", ""); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "make a new plan") {
			t.Errorf("Approve of the stale guardrails plan = %v, want a refusal", err)
		}
	})
	t.Run("the old rules are now refused", func(t *testing.T) {
		if _, err := Check(ctx, b.st, b.rules, "orgguard.yaml", "alice", false); !errors.Is(err, ErrRefused) {
			t.Errorf("Check(previous rules) = %v, want a refusal", err)
		}
	})
}

func TestValidApprovals(t *testing.T) {
	f := &plan.File{PlanHash: "sha256:h", Author: "alice"}
	as := []store.Approval{
		{Approver: "ALICE", PlanHash: "sha256:h"},   // the author, in capitals
		{Approver: "аӏісе", PlanHash: "sha256:h"},   // the author, in Cyrillic look-alikes
		{Approver: "bob", PlanHash: "sha256:other"}, // another plan hash
		{Approver: "bob", PlanHash: "sha256:h"},     // counts
		{Approver: "Bob", PlanHash: "sha256:h"},     // bob again
		{Approver: "ｃａｒｏｌ", PlanHash: "sha256:h"},   // counts (fullwidth carol)
	}
	got := ValidApprovals(as, f)
	if len(got) != 2 || got[0].Approver != "bob" || got[1].Approver != "ｃａｒｏｌ" {
		t.Errorf("ValidApprovals = %+v, want bob and carol only", got)
	}
}
