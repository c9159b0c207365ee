package impact

import (
	"runtime"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
)

// generated10k returns the organization `orgguard sim generate --accounts
// 10000 --seed 1` writes.
func generated10k(tb testing.TB) *org.Snapshot {
	tb.Helper()
	s, err := generate.Organization(generate.Options{Accounts: 10000, Seed: 1})
	if err != nil {
		tb.Fatalf("generate.Organization() = %v", err)
	}
	return s
}

type benchCase struct {
	name  string
	after *org.Snapshot
}

// benchCases are the two changes the issue measures on a 10,000-account
// organization: the accident (deny-all attached to Root) and an ordinary
// change (the same policy attached to one customer OU).
func benchCases(tb testing.TB, s *org.Snapshot) []benchCase {
	tb.Helper()
	var denyAllID, customers, customer string
	for _, p := range s.Policies {
		if p.Name == "deny-all" {
			denyAllID = p.ID
		}
	}
	for _, o := range s.OUs {
		if o.Name == "Customers" && o.ParentID == s.Root.ID {
			customers = o.ID
		}
	}
	for _, o := range s.OUs {
		if o.ParentID == customers && customer == "" {
			customer = o.ID
		}
	}
	if denyAllID == "" || customer == "" {
		tb.Fatalf("the generated organization has no deny-all policy (%q) or no customer OU (%q)", denyAllID, customer)
	}
	return []benchCase{
		{"deny-all-on-root", apply(s, attach(denyAllID, s.Root.ID))},
		{"deny-all-on-one-customer-ou", apply(s, attach(denyAllID, customer))},
	}
}

// BenchmarkBlastRadius10k measures Compute — a fresh Analyzer every time, so
// nothing is reused between iterations — on the generated 10,000-account
// organization over the full catalog, and reports the CPU time per
// computation (all threads, GC included: a figure that does not depend on
// other jobs sharing the machine) and the heap the process obtained from
// the OS.
func BenchmarkBlastRadius10k(b *testing.B) {
	cat := testCatalog(b)
	s := generated10k(b)
	for _, bc := range benchCases(b, s) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var im *Impact
			cpu0 := cpuTime()
			for b.Loop() {
				var err error
				im, err = Compute(s, bc.after, cat, Options{})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heapsys-MiB")
			b.ReportMetric(float64(im.AccountsAffected), "affected")
		})
	}
}
