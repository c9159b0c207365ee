package apply

import (
	"context"
	"testing"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/probe"
)

// BenchmarkCheckRound measures one round of health checks (a full read,
// the state comparison, the impact against the expected state and the
// probes) on a 1,000-account organization after the first step of a
// quarantine.
func BenchmarkCheckRound(b *testing.B) {
	w := newWorld(b, 1000, nil)
	f := w.plan("alice", w.quarantineOps(3))
	ctx := context.Background()
	live, err := w.org.Snapshot(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ex, err := replay(ctx, live, f.Steps)
	if err != nil {
		b.Fatal(err)
	}
	bind := change.Bindings{}
	if _, err := change.Run(ctx, w.org, f.Steps[0].Step, bind); err != nil {
		b.Fatal(err)
	}
	o := w.options("alice")
	e := New(o)
	r := &run{e: e, f: f, rep: &Report{}, base: live, ex: ex, steps: f.Steps, order: []int{0, 1, 2, 3, 4, 5},
		sample: probe.Select(o.Probes, &f.Impact, org.MustIndex(live), nil), bind: bind}
	b.ReportAllocs()
	for b.Loop() {
		cr, err := r.check(ctx, "after step 1", 1)
		if err != nil || !cr.OK() {
			b.Fatalf("check = %v, %s", err, cr.Summary())
		}
		r.rep.Checks = r.rep.Checks[:0]
	}
}
