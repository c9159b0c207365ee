package sim

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
)

// bigState writes a generated 10,000-account state file and returns its path.
func bigState(b testing.TB) string {
	b.Helper()
	s, err := generate.Organization(generate.Options{Accounts: 10000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "state.json")
	if _, err := New(s, Options{StatePath: path}); err != nil {
		b.Fatal(err)
	}
	return path
}

// TestLoadTenThousandAccountsIsFast pins "loads fast": a 10,000-account
// state opens in well under a second (generous bound for loaded CI).
func TestLoadTenThousandAccountsIsFast(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("generates a 10,000-account organization; timing is meaningless under -race")
	}
	path := bigState(t)
	start := time.Now()
	o, err := Open(Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("opening a 10,000-account state took %v", d)
	}
	accts, _ := o.ListAccounts(context.Background())
	if len(accts) != 10000 {
		t.Errorf("accounts = %d, want 10000", len(accts))
	}
}

func BenchmarkOpenTenThousandAccounts(b *testing.B) {
	path := bigState(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(Options{StatePath: path}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSnapshotTenThousandAccounts(b *testing.B) {
	o, err := Open(Options{StatePath: bigState(b)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAttachDetachTenThousandAccounts(b *testing.B) {
	// One write: a change plus an atomic save of the whole state.
	o, err := Open(Options{StatePath: bigState(b)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, _ := o.Snapshot(ctx)
	x := org.MustIndex(s)
	sandbox, _ := x.Resolve("/Sandbox")
	var deny string
	for _, p := range s.Policies {
		if p.Name == "deny-external-sharing-draft" {
			deny = p.ID
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := o.AttachPolicy(ctx, deny, sandbox.ID); err != nil {
			b.Fatal(err)
		}
		if err := o.DetachPolicy(ctx, deny, sandbox.ID); err != nil {
			b.Fatal(err)
		}
	}
}
