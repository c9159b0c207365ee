package awsorg_test

import (
	"context"
	"testing"

	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/simserver"
)

// BenchmarkSnapshot10000Accounts reads a generated 10,000-account
// organization from the simulator over HTTP on 127.0.0.1 through the SDK.
// It reports the API calls per snapshot; the wall time includes the
// simulator's side of every request.
func BenchmarkSnapshot10000Accounts(b *testing.B) {
	snap := generated(b, 10000, 1)
	st := newStack(b, snap, simserver.Options{}, awsorg.Options{Concurrency: awsorg.DefaultConcurrency})
	ctx := context.Background()
	b.ReportAllocs()
	var stats awsorg.Stats
	for b.Loop() {
		got, s, err := st.backend.ReadSnapshot(ctx)
		if err != nil {
			b.Fatalf("ReadSnapshot: %v", err)
		}
		if len(got.Accounts) != len(snap.Accounts) {
			b.Fatalf("read %d accounts, want %d", len(got.Accounts), len(snap.Accounts))
		}
		stats = s
	}
	b.ReportMetric(float64(stats.TotalCalls()), "calls/snapshot")
	b.Logf("%s", stats)
}
