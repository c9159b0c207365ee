package sqlstore

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/audit"
	"github.com/orgguard/orgguard/internal/store"
)

// TestSeparateHandlesShareOneStore opens the same database through two
// independent Store handles, as two orgguard processes would (an apply and
// a serve), and races them: SQLite's file locking with busy_timeout, or
// PostgreSQL's row locks, must let exactly one take the lock, and their
// audit appends must form one intact chain.
func TestSeparateHandlesShareOneStore(t *testing.T) {
	for _, d := range dialects {
		t.Run("on "+d.name+" two handles race for the organization lock and append to one chain", func(t *testing.T) {
			a := d.open(t)
			var b *Store
			var err error
			if a.Driver() == SQLite {
				b, err = Open(t.Context(), a.dsn.Path)
			} else {
				b, err = Open(t.Context(), a.dsn.URL)
			}
			if err != nil {
				t.Fatalf("opening a second handle: %v", err)
			}
			defer b.Close()
			ctx := t.Context()
			for round := range 5 {
				name := fmt.Sprintf("organization-%d", round)
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, s := range []*Store{a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = s.AcquireLock(ctx, store.LockRequest{Name: name, Holder: fmt.Sprintf("process-%d", i), TTL: time.Minute})
					}()
				}
				wg.Wait()
				won := 0
				for _, err := range errs {
					switch {
					case err == nil:
						won++
					case !errors.Is(err, store.ErrLockHeld):
						t.Errorf("round %d: AcquireLock = %v, want nil or ErrLockHeld", round, err)
					}
				}
				if won != 1 {
					t.Errorf("round %d: %d handles took %s, want exactly 1", round, won, name)
				}
			}
			var wg sync.WaitGroup
			for i, s := range []*Store{a, b, a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := range 10 {
						if _, err := s.AppendAudit(ctx, store.AuditRecord{Actor: fmt.Sprintf("writer-%d", i), Action: "append", Subject: fmt.Sprint(j)}); err != nil {
							t.Errorf("AppendAudit: %v", err)
						}
					}
				}()
			}
			wg.Wait()
			r, err := audit.Verify(ctx, b)
			if err != nil || !r.Intact() || r.Entries != 40 {
				t.Errorf("Verify after interleaved appends from two handles = %+v, %v, want an intact chain of 40", r, err)
			}
		})
	}
}
