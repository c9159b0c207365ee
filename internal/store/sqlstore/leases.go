package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// Leases (store.Leases) are rows of the leases table. Every decision is
// made on the database's clock: on PostgreSQL clock_timestamp(), read in
// the transaction after the lease row is locked, so two replicas whose
// clocks disagree still agree on who holds the lease; on SQLite the
// store's clock (one process writes).

const leaseColumns = `name, holder, epoch, acquired_at, renewed_at, expires_at`

func scanLease(row interface{ Scan(...any) error }) (store.Lease, error) {
	var l store.Lease
	err := row.Scan(&l.Name, &l.Holder, &l.Epoch, timeScan{&l.AcquiredAt}, timeScan{&l.RenewedAt}, timeScan{&l.ExpiresAt})
	return l, err
}

// dbNow is the database's clock: PostgreSQL's clock_timestamp() (the time
// of the call, not of the transaction's start), the store's clock on
// SQLite.
func (o ops) dbNow(ctx context.Context, q querier) (time.Time, error) {
	if o.s.d.name != Postgres {
		return o.now(), nil
	}
	var t time.Time
	if err := q.QueryRowContext(ctx, `SELECT clock_timestamp()`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("reading the database's clock: %w", err)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// currentLease reads the named lease, locked with lock (a dialect's
// lockRow, keepRow or shareRow), and the database's clock after the lock is held.
func (o ops) currentLease(ctx context.Context, q querier, name, lock string) (store.Lease, bool, error) {
	cur, err := scanLease(q.QueryRowContext(ctx, o.q(`SELECT `+leaseColumns+` FROM leases WHERE name = ?`+lock), name))
	found := true
	switch {
	case errors.Is(err, sql.ErrNoRows):
		found, cur = false, store.Lease{Name: name}
	case err != nil:
		return store.Lease{}, false, err
	}
	if cur.At, err = o.dbNow(ctx, q); err != nil {
		return store.Lease{}, false, err
	}
	return cur, found, nil
}

// AcquireLease implements store.Leases.
func (o ops) AcquireLease(ctx context.Context, r store.LeaseRequest) (store.Lease, error) {
	switch {
	case r.Name == "":
		return store.Lease{}, fmt.Errorf("acquiring a lease: %w: no lease name", store.ErrInvalid)
	case r.Holder == "":
		return store.Lease{}, fmt.Errorf("acquiring lease %q: %w: no holder", r.Name, store.ErrInvalid)
	case r.TTL < time.Millisecond:
		return store.Lease{}, fmt.Errorf("acquiring lease %q: %w: TTL %v is below a millisecond", r.Name, store.ErrInvalid, r.TTL)
	}
	if err := checkText(r.Name, r.Holder); err != nil {
		return store.Lease{}, fmt.Errorf("acquiring lease %q: %w", r.Name, err)
	}
	var got store.Lease
	err := o.write(ctx, func(q querier) error {
		for range acquireAttempts {
			cur, found, err := o.currentLease(ctx, q, r.Name, o.s.d.lockRow)
			if err != nil {
				return err
			}
			now := cur.At
			next := store.Lease{Name: r.Name, Holder: r.Holder, Epoch: cur.Epoch + 1, AcquiredAt: now, RenewedAt: now, ExpiresAt: now.Add(r.TTL), At: now}
			args := []any{next.Holder, next.Epoch, o.s.d.timeArg(now), o.s.d.timeArg(now), o.s.d.timeArg(next.ExpiresAt)}
			var res sql.Result
			if !found {
				res, err = q.ExecContext(ctx, o.q(`INSERT INTO leases (holder, epoch, acquired_at, renewed_at, expires_at, name) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`),
					append(args, r.Name)...)
			} else {
				if cur.Live() {
					return &store.LeaseHeldError{Current: cur}
				}
				// Compare-and-swap on the epoch and the expiry: a renewal
				// or a take-over committed since the read wins.
				res, err = q.ExecContext(ctx, o.q(`UPDATE leases SET holder = ?, epoch = ?, acquired_at = ?, renewed_at = ?, expires_at = ?
WHERE name = ? AND epoch = ? AND (holder = '' OR expires_at <= ?)`),
					append(args, r.Name, cur.Epoch, o.s.d.timeArg(now))...)
				next.TakenOverFrom = cur.Holder
			}
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				got = next
				return nil
			}
			// Another contender got there first; look again.
		}
		return fmt.Errorf("%w: the lease changed hands %d times while acquiring it", store.ErrConflict, acquireAttempts)
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("acquiring lease %q for %s: %w", r.Name, r.Holder, err)
	}
	return got, nil
}

// RenewLease implements store.Leases.
func (o ops) RenewLease(ctx context.Context, f store.Fence, ttl time.Duration) (store.Lease, error) {
	if ttl < time.Millisecond {
		return store.Lease{}, fmt.Errorf("renewing %s: %w: TTL %v is below a millisecond", f, store.ErrInvalid, ttl)
	}
	var got store.Lease
	err := o.write(ctx, func(q querier) error {
		cur, err := o.heldBy(ctx, q, f, o.s.d.keepRow)
		if err != nil {
			return err
		}
		cur.RenewedAt, cur.ExpiresAt = cur.At, cur.At.Add(ttl)
		if _, err := q.ExecContext(ctx, o.q(`UPDATE leases SET renewed_at = ?, expires_at = ? WHERE name = ? AND epoch = ?`),
			o.s.d.timeArg(cur.RenewedAt), o.s.d.timeArg(cur.ExpiresAt), f.Name, f.Epoch); err != nil {
			return err
		}
		got = cur
		return nil
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("renewing %s: %w", f, err)
	}
	return got, nil
}

// ReleaseLease implements store.Leases.
func (o ops) ReleaseLease(ctx context.Context, f store.Fence) error {
	err := o.write(ctx, func(q querier) error {
		cur, err := o.heldBy(ctx, q, f, o.s.d.keepRow)
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, o.q(`UPDATE leases SET holder = '', expires_at = ? WHERE name = ? AND epoch = ?`),
			o.s.d.timeArg(cur.At), f.Name, f.Epoch)
		return err
	})
	if err != nil {
		return fmt.Errorf("releasing %s: %w", f, err)
	}
	return nil
}

// Lease implements store.Leases.
func (o ops) Lease(ctx context.Context, name string) (store.Lease, error) {
	cur, found, err := o.currentLease(ctx, o.reader(), name, "")
	switch {
	case err != nil:
		return store.Lease{}, fmt.Errorf("reading lease %q: %w", name, err)
	case !found:
		return store.Lease{}, fmt.Errorf("reading lease %q: %w", name, store.ErrNotFound)
	}
	return cur, nil
}

// heldBy reads f's lease locked with lock and returns it when f's tenure
// is current and unexpired, else a *store.FencedError.
func (o ops) heldBy(ctx context.Context, q querier, f store.Fence, lock string) (store.Lease, error) {
	cur, _, err := o.currentLease(ctx, q, f.Name, lock)
	if err != nil {
		return store.Lease{}, err
	}
	if cur.Epoch != f.Epoch || !cur.Live() {
		return store.Lease{}, &store.FencedError{Fence: f, Current: cur}
	}
	return cur, nil
}

// checkFence runs first in a fenced write transaction: f's tenure must be
// current and unexpired by the database's clock. On PostgreSQL the lease
// row is key-share-locked until the transaction ends: a take-over (which
// locks the row FOR UPDATE) waits for the transaction, so no write made
// under f commits after the next tenure began, while the holder's
// renewals (FOR NO KEY UPDATE) pass beside it — a steady stream of the
// leader's own writes cannot starve its renewals. The session is ended by
// the server if it idles inside the transaction (a stopped process), so
// that a take-over's wait is bounded.
func (s *Store) checkFence(ctx context.Context, tx *sql.Tx, f store.Fence) error {
	if s.d.fenceTimeout != "" {
		if _, err := tx.ExecContext(ctx, s.d.fenceTimeout); err != nil {
			return fmt.Errorf("checking %s: %w", f, err)
		}
	}
	o := ops{s: s, tx: tx}
	if _, err := o.heldBy(ctx, tx, f, s.d.shareRow); err != nil {
		if errors.Is(err, store.ErrFenced) {
			return err
		}
		return fmt.Errorf("checking %s: %w", f, err)
	}
	return nil
}
