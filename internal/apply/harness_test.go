package apply

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

// clock is a settable clock shared by the engine and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	catOnce = sync.OnceValues(catalog.Load)
)

func analyzer(t testing.TB) *impact.Analyzer {
	t.Helper()
	c, err := catOnce()
	if err != nil {
		t.Fatal(err)
	}
	a, err := impact.NewAnalyzer(c, impact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// world is a simulated organization, a store and an engine's options.
type world struct {
	t     testing.TB
	clk   *clock
	st    *sqlstore.Store
	org   *sim.Org
	base  *org.Snapshot
	guard *guard.Guard
	an    *impact.Analyzer
	dir   string
	// planner and pinned: the pipeline built from the guardrails pinned in
	// the world's store.
	planner *plan.Planner
	pinned  review.Pinned
}

// weekdayNoon is inside no window; guard defaults require windows only
// from high risk.
var weekdayNoon = time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)

func newWorld(t testing.TB, accounts int, gcfg *guard.Config) *world {
	t.Helper()
	snap, err := generate.Organization(generate.Options{Accounts: accounts, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return newWorldFrom(t, snap, gcfg)
}

func newWorldFrom(t testing.TB, snap *org.Snapshot, gcfg *guard.Config) *world {
	t.Helper()
	dir := t.TempDir()
	clk := &clock{t: weekdayNoon}
	st, err := sqlstore.Open(context.Background(), filepath.Join(dir, "orgguard.db"), sqlstore.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o, err := sim.New(snap.Clone(), sim.Options{StatePath: filepath.Join(dir, "sim-state.json")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := guard.Default()
	if gcfg != nil {
		cfg = *gcfg
	}
	g, err := guard.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, clk: clk, st: st, org: o, base: snap, guard: g, an: analyzer(t), dir: dir}
	w.planner = &plan.Planner{Guard: g, Analyzer: w.an, Quarantine: testQuarantine()}
	w.pinned, err = review.Check(context.Background(), st, review.Rules{Guardrails: cfg, Quarantine: testQuarantine()}, "test", "test", true)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// options returns engine options over the world, with the engine prober.
func (w *world) options(actor string) Options {
	c, _ := catOnce()
	ev := probe.NewEvaluator(c.RCPSupported)
	return Options{Store: w.st, Backend: w.org, Planner: w.planner, Pinned: w.pinned,
		Prober: &probe.Engine{Reader: w.org, Eval: ev}, Evaluator: ev, Probes: probe.DefaultConfig(),
		Now: w.clk.Now, Actor: actor, Holder: actor + " (test)", LockTTL: 30 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { w.clk.Add(d); return nil }}
}

// plan plans ops against the live organization as author.
func (w *world) plan(author string, ops ...change.Operation) *plan.File {
	w.t.Helper()
	return w.planOn(w.org, author, ops...)
}

// planOn plans ops against the organization as r reads it, and saves the
// plan in the store with its base snapshot (as orgguard plan --out does).
func (w *world) planOn(r org.Reader, author string, ops ...change.Operation) *plan.File {
	w.t.Helper()
	live, err := r.Snapshot(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := w.planner.Make(context.Background(), live, plan.Request{Operations: ops, Author: author, Source: "cli",
		Now: w.clk.Now(), Guardrails: w.pinned.Hash()})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := review.Save(context.Background(), w.st, res.File, live, author); err != nil {
		w.t.Fatal(err)
	}
	return res.File
}

// approver approves plans in the world's store.
func (w *world) approver() *review.Approver {
	return &review.Approver{Store: w.st, Planner: w.planner, Pinned: w.pinned}
}

// approve records approvals of f by each name.
func (w *world) approve(f *plan.File, names ...string) {
	w.t.Helper()
	for _, n := range names {
		if _, err := w.approver().Approve(context.Background(), f.ID, n, "looks right"); err != nil {
			w.t.Fatalf("Approve(%s) = %v", n, err)
		}
	}
}

func (w *world) fingerprint() string {
	w.t.Helper()
	s, err := w.org.Snapshot(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return org.ComputeFingerprint(s)
}

// quarantineOps quarantines the first n customer accounts.
func (w *world) quarantineOps(n int) change.Operation {
	x := org.MustIndex(w.base)
	var ids []string
	for _, a := range w.base.Accounts {
		if len(ids) == n {
			break
		}
		if !x.IsManagementAccount(a.ID) && len(x.PathString(a.ID)) > len("/Customers/") && x.PathString(a.ID)[:11] == "/Customers/" {
			ids = append(ids, a.ID)
		}
	}
	return change.Operation{Op: change.OpQuarantine, Accounts: ids}
}

func (w *world) planState(id string) store.PlanState {
	w.t.Helper()
	p, err := w.st.Plan(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return p.State
}

// testQuarantine is the default quarantine without the break-glass
// exception: a plain deny-all, whose blast radius the analyzer reports as
// denied (with the exception it reports conditional, and accounts already
// conditional everywhere would not count as affected).
func testQuarantine() change.QuarantineConfig {
	q := change.DefaultQuarantine()
	q.BreakGlassPrincipals = nil
	return q
}
