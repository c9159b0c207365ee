package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// The lease tests use real time: on PostgreSQL the lease's clock is the
// database's, which no test can move.

func testLeases(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t.Run("the first holder gets epoch 1 and everyone else is refused while it lasts", func(t *testing.T) {
		a := must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: "leader", Holder: "a", TTL: time.Minute}))
		if a.Epoch != 1 || a.Holder != "a" || !a.ExpiresAt.Equal(a.AcquiredAt.Add(time.Minute)) || a.TakenOverFrom != "" {
			t.Errorf("AcquireLease = %+v, want epoch 1 held by a for a minute", a)
		}
		for _, who := range []string{"b", "a"} {
			_, err := s.AcquireLease(ctx, store.LeaseRequest{Name: "leader", Holder: who, TTL: time.Minute})
			var held *store.LeaseHeldError
			if !errors.As(err, &held) || held.Current.Holder != "a" || held.Current.Epoch != 1 {
				t.Errorf("AcquireLease(%s) while a holds it = %v, want a *LeaseHeldError naming a at epoch 1", who, err)
			}
		}
		got := must[store.Lease](t, "Lease")(s.Lease(ctx, "leader"))
		if got.Holder != "a" || got.Epoch != 1 || !got.Live() {
			t.Errorf("Lease = %+v, want a's live epoch 1", got)
		}
	})
	t.Run("the holder renews; a wrong epoch cannot", func(t *testing.T) {
		a := must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: "renew", Holder: "a", TTL: time.Minute}))
		r := must[store.Lease](t, "RenewLease")(s.RenewLease(ctx, a.Fence(), 2*time.Minute))
		if r.Epoch != 1 || !r.ExpiresAt.After(a.ExpiresAt) || r.AcquiredAt != a.AcquiredAt {
			t.Errorf("RenewLease = %+v, want epoch 1 expiring later than %v", r, a.ExpiresAt)
		}
		_, err := s.RenewLease(ctx, store.Fence{Name: "renew", Epoch: 2}, time.Minute)
		wantErr(t, "RenewLease(epoch 2)", err, store.ErrFenced)
		_, err = s.RenewLease(ctx, store.Fence{Name: "never-held", Epoch: 1}, time.Minute)
		wantErr(t, "RenewLease(never held)", err, store.ErrFenced)
	})
	t.Run("an expired lease is taken over with the next epoch and its old holder is fenced", func(t *testing.T) {
		const ttl = 250 * time.Millisecond
		old := must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: "expiry", Holder: "paused", TTL: ttl}))
		time.Sleep(ttl + 150*time.Millisecond)
		_, err := s.RenewLease(ctx, old.Fence(), time.Minute)
		wantErr(t, "RenewLease(expired, not taken over)", err, store.ErrFenced)
		cur := must[store.Lease](t, "Lease")(s.Lease(ctx, "expiry"))
		if cur.Live() {
			t.Errorf("Lease after its TTL = %+v, want it expired by the database's clock", cur)
		}
		nw := must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: "expiry", Holder: "next", TTL: time.Minute}))
		if nw.Epoch != 2 || nw.TakenOverFrom != "paused" {
			t.Errorf("AcquireLease after expiry = %+v, want epoch 2 taken over from paused", nw)
		}
		_, err = s.RenewLease(ctx, old.Fence(), time.Minute)
		var fe *store.FencedError
		if !errors.As(err, &fe) || fe.Current.Epoch != 2 || fe.Current.Holder != "next" {
			t.Errorf("RenewLease(epoch 1) after the take-over = %v, want a *FencedError naming next at epoch 2", err)
		}
		wantErr(t, "ReleaseLease(epoch 1)", s.ReleaseLease(ctx, old.Fence()), store.ErrFenced)
	})
	t.Run("a release ends the tenure at once and the epoch keeps counting", func(t *testing.T) {
		a := must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: "release", Holder: "a", TTL: time.Hour}))
		if err := s.ReleaseLease(ctx, a.Fence()); err != nil {
			t.Fatalf("ReleaseLease = %v", err)
		}
		wantErr(t, "ReleaseLease(again)", s.ReleaseLease(ctx, a.Fence()), store.ErrFenced)
		_, err := s.RenewLease(ctx, a.Fence(), time.Hour)
		wantErr(t, "RenewLease(released)", err, store.ErrFenced)
		b := must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: "release", Holder: "b", TTL: time.Hour}))
		if b.Epoch != 2 || b.TakenOverFrom != "" {
			t.Errorf("AcquireLease after a release = %+v, want epoch 2, taken over from nobody", b)
		}
	})
	t.Run("bad requests are refused", func(t *testing.T) {
		for _, r := range []store.LeaseRequest{{Holder: "a", TTL: time.Second}, {Name: "x", TTL: time.Second}, {Name: "x", Holder: "a"}} {
			_, err := s.AcquireLease(ctx, r)
			wantErr(t, fmt.Sprintf("AcquireLease(%+v)", r), err, store.ErrInvalid)
		}
		_, err := s.Lease(ctx, "nobody")
		wantErr(t, `Lease("nobody")`, err, store.ErrNotFound)
	})
}

func testLeaseRace(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for round := range 4 {
		name := fmt.Sprintf("leader-%d", round)
		if round%2 == 1 {
			// An expired lease this time: the racers take it over.
			must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: name, Holder: "gone", TTL: 50 * time.Millisecond}))
			time.Sleep(150 * time.Millisecond)
		}
		got := make([]store.Lease, 3)
		errs := race(3, func(i int) error {
			var err error
			got[i], err = s.AcquireLease(ctx, store.LeaseRequest{Name: name, Holder: fmt.Sprintf("racer-%d", i), TTL: time.Minute})
			return err
		})
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
				if want := int64(1 + round%2); got[i].Epoch != want {
					t.Errorf("round %d: the winner got epoch %d, want %d", round, got[i].Epoch, want)
				}
			case !errors.Is(err, store.ErrLeaseHeld):
				t.Errorf("round %d: AcquireLease in a race = %v, want nil or ErrLeaseHeld", round, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d of 3 racers won lease %s, want exactly 1", round, won, name)
		}
	}
}

func testFencedWrites(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	const ttl = 300 * time.Millisecond
	old := must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: "leader", Holder: "old", TTL: ttl}))
	fs := s.Fenced(old.Fence())
	body := []byte{0x1f, 0x8b, 1}
	if err := fs.SaveWatchState(ctx, store.WatchState{Name: "default", Fingerprint: "sha256:old", Body: body}); err != nil {
		t.Fatalf("SaveWatchState under the current fence = %v", err)
	}
	msg := store.OutboxMessage{Key: "incident.opened:x@hook", Channel: "hook", Kind: "incident.opened", Payload: []byte(`{}`)}
	if _, _, err := fs.EnqueueMessage(ctx, msg); err != nil {
		t.Fatalf("EnqueueMessage under the current fence = %v", err)
	}
	if err := fs.Close(); err != nil {
		t.Errorf("closing the fenced view = %v, want nil (it owns nothing)", err)
	}

	time.Sleep(ttl + 150*time.Millisecond)
	t.Run("an expired tenure writes nothing, even before anyone takes over", func(t *testing.T) {
		err := fs.SaveWatchState(ctx, store.WatchState{Name: "default", Fingerprint: "sha256:stale", Body: body})
		wantErr(t, "SaveWatchState(expired fence)", err, store.ErrFenced)
	})
	next := must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: "leader", Holder: "next", TTL: time.Minute}))
	t.Run("a taken-over tenure writes nothing: state, incidents, outbox claims, transactions", func(t *testing.T) {
		err := fs.SaveWatchState(ctx, store.WatchState{Name: "default", Fingerprint: "sha256:stale", Body: body})
		wantErr(t, "SaveWatchState(old fence)", err, store.ErrFenced)
		_, err = fs.OpenIncident(ctx, store.Incident{Title: "stale", Severity: store.SevCritical})
		wantErr(t, "OpenIncident(old fence)", err, store.ErrFenced)
		_, err = fs.ClaimMessages(ctx, store.ClaimRequest{Channel: "hook", Owner: "old", Until: time.Now().Add(time.Minute), Limit: 10})
		wantErr(t, "ClaimMessages(old fence)", err, store.ErrFenced)
		ran := false
		err = fs.WithTx(ctx, func(tx store.Tx) error {
			ran = true
			_, err := tx.AppendAudit(ctx, store.AuditRecord{Actor: "old", Action: "stale"})
			return err
		})
		wantErr(t, "WithTx(old fence)", err, store.ErrFenced)
		if ran {
			t.Errorf("WithTx under an old fence ran its function; the check must come first")
		}
		if ws := must[store.WatchState](t, "WatchState")(fs.WatchState(ctx, "default")); ws.Fingerprint != "sha256:old" {
			t.Errorf("watch state %s after the fenced writes, want sha256:old (reads pass, writes do not)", ws.Fingerprint)
		}
		if ins := must[[]store.Incident](t, "ListIncidents")(s.ListIncidents(ctx, store.IncidentFilter{})); len(ins) != 0 {
			t.Errorf("%d incidents after a fenced OpenIncident, want 0", len(ins))
		}
		if ms := must[[]store.OutboxMessage](t, "ListMessages")(s.ListMessages(ctx, store.OutboxFilter{})); len(ms) != 1 || ms[0].LeaseOwner != "" {
			t.Errorf("outbox after a fenced claim = %+v, want the one message unclaimed", ms)
		}
	})
	t.Run("the new tenure writes", func(t *testing.T) {
		nf := s.Fenced(next.Fence())
		if err := nf.SaveWatchState(ctx, store.WatchState{Name: "default", Fingerprint: "sha256:new", Body: body}); err != nil {
			t.Errorf("SaveWatchState under the new fence = %v", err)
		}
		ms, err := nf.ClaimMessages(ctx, store.ClaimRequest{Channel: "hook", Owner: "next", Until: time.Now().Add(time.Minute), Limit: 10})
		if err != nil || len(ms) != 1 {
			t.Errorf("ClaimMessages under the new fence = %d messages, %v; want 1", len(ms), err)
		}
		// A view can be re-fenced (the old tenure's view gives the new one).
		if err := fs.Fenced(next.Fence()).SaveWatchState(ctx, store.WatchState{Name: "default", Fingerprint: "sha256:new2", Body: body}); err != nil {
			t.Errorf("SaveWatchState through a re-fenced view = %v", err)
		}
	})
}

// testFenceOrdersTenures: a fenced transaction that began while its tenure
// was current commits before the next tenure can begin — the take-over
// waits for it — so no write of an old tenure lands after a new one.
func testFenceOrdersTenures(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	const ttl = 300 * time.Millisecond
	old := must[store.Lease](t, "AcquireLease")(s.AcquireLease(ctx, store.LeaseRequest{Name: "leader", Holder: "old", TTL: ttl}))
	inTx := make(chan struct{})
	var committed time.Time
	txDone := make(chan error, 1)
	go func() {
		txDone <- s.Fenced(old.Fence()).WithTx(ctx, func(tx store.Tx) error {
			close(inTx)
			time.Sleep(ttl + 300*time.Millisecond) // past the lease's expiry
			_, err := tx.AppendAudit(ctx, store.AuditRecord{Actor: "old", Action: "slow write"})
			committed = time.Now()
			return err
		})
	}()
	<-inTx
	time.Sleep(ttl + 100*time.Millisecond) // the lease has expired; the transaction is still open
	next, err := s.AcquireLease(ctx, store.LeaseRequest{Name: "leader", Holder: "next", TTL: time.Minute})
	acquired := time.Now()
	if err != nil {
		t.Fatalf("AcquireLease while an old tenure's transaction is open = %v, want it to wait and win", err)
	}
	if err := <-txDone; err != nil {
		t.Fatalf("the old tenure's transaction, checked at its start, = %v, want committed", err)
	}
	if next.Epoch != 2 || acquired.Before(committed) {
		t.Errorf("take-over epoch %d at %v, the old tenure's transaction committed at %v; want epoch 2 after the commit",
			next.Epoch, acquired.Format(time.StampMicro), committed.Format(time.StampMicro))
	}
}
