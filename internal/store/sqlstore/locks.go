package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

const lockColumns = `name, holder, token, acquired_at, heartbeat_at, expires_at`

func scanLock(row interface{ Scan(...any) error }) (store.Lock, error) {
	var l store.Lock
	err := row.Scan(&l.Name, &l.Holder, &l.Token, timeScan{&l.AcquiredAt}, timeScan{&l.HeartbeatAt}, timeScan{&l.ExpiresAt})
	return l, err
}

// acquireAttempts bounds the insert / take-over loop: each retry means
// another contender changed the lock between two statements.
const acquireAttempts = 5

// AcquireLock implements store.Locks. It inserts the lock row if there is
// none; otherwise, if the row has expired, it takes it over with a
// compare-and-swap on the old token, so that of several contenders exactly
// one wins, on SQLite and on PostgreSQL alike.
func (o ops) AcquireLock(ctx context.Context, r store.LockRequest) (store.Lock, error) {
	switch {
	case r.Name == "":
		return store.Lock{}, fmt.Errorf("acquiring a lock: %w: no lock name", store.ErrInvalid)
	case r.Holder == "":
		return store.Lock{}, fmt.Errorf("acquiring lock %q: %w: no holder", r.Name, store.ErrInvalid)
	case r.TTL <= 0:
		return store.Lock{}, fmt.Errorf("acquiring lock %q: %w: TTL %v is not positive", r.Name, store.ErrInvalid, r.TTL)
	}
	if err := checkText(r.Name, r.Holder); err != nil {
		return store.Lock{}, fmt.Errorf("acquiring a lock: %w", err)
	}
	var got store.Lock
	err := o.write(ctx, func(q querier) error {
		for range acquireAttempts {
			now := o.now()
			l := store.Lock{Name: r.Name, Holder: r.Holder, Token: newToken(), AcquiredAt: now, HeartbeatAt: now, ExpiresAt: now.Add(r.TTL)}
			res, err := q.ExecContext(ctx, o.q(`INSERT INTO locks (`+lockColumns+`) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`),
				l.Name, l.Holder, l.Token, o.s.d.timeArg(now), o.s.d.timeArg(now), o.s.d.timeArg(l.ExpiresAt))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				got = l
				return nil
			}
			cur, err := scanLock(q.QueryRowContext(ctx, o.q(`SELECT `+lockColumns+` FROM locks WHERE name = ?`), r.Name))
			if errors.Is(err, sql.ErrNoRows) {
				continue // released in between: try the insert again
			}
			if err != nil {
				return err
			}
			if now.Before(cur.ExpiresAt) {
				return &store.LockHeldError{Name: cur.Name, Holder: cur.Holder, AcquiredAt: cur.AcquiredAt, ExpiresAt: cur.ExpiresAt}
			}
			res, err = q.ExecContext(ctx, o.q(`UPDATE locks SET holder = ?, token = ?, acquired_at = ?, heartbeat_at = ?, expires_at = ? WHERE name = ? AND token = ?`),
				l.Holder, l.Token, o.s.d.timeArg(now), o.s.d.timeArg(now), o.s.d.timeArg(l.ExpiresAt), l.Name, cur.Token)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				l.TakenOverFrom = cur.Holder
				got = l
				return nil
			}
			// Another contender took the expired lock first; look again.
		}
		return fmt.Errorf("%w: the lock changed hands %d times while acquiring it", store.ErrConflict, acquireAttempts)
	})
	if err != nil {
		return store.Lock{}, fmt.Errorf("acquiring lock %q for %s: %w", r.Name, r.Holder, err)
	}
	return got, nil
}

// HeartbeatLock implements store.Locks.
func (o ops) HeartbeatLock(ctx context.Context, name, token string, ttl time.Duration) (store.Lock, error) {
	if ttl <= 0 {
		return store.Lock{}, fmt.Errorf("renewing lock %q: %w: TTL %v is not positive", name, store.ErrInvalid, ttl)
	}
	var l store.Lock
	err := o.write(ctx, func(q querier) error {
		now := o.now()
		res, err := q.ExecContext(ctx, o.q(`UPDATE locks SET heartbeat_at = ?, expires_at = ? WHERE name = ? AND token = ?`),
			o.s.d.timeArg(now), o.s.d.timeArg(now.Add(ttl)), name, token)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return o.lost(ctx, q, name)
		}
		l, err = scanLock(q.QueryRowContext(ctx, o.q(`SELECT `+lockColumns+` FROM locks WHERE name = ?`), name))
		return err
	})
	if err != nil {
		return store.Lock{}, fmt.Errorf("renewing lock %q: %w", name, err)
	}
	return l, nil
}

// lost explains ErrLockLost with the lock's current holder, if any.
func (o ops) lost(ctx context.Context, q querier, name string) error {
	cur, err := scanLock(q.QueryRowContext(ctx, o.q(`SELECT `+lockColumns+` FROM locks WHERE name = ?`), name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: it was released", store.ErrLockLost)
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: it is now held by %s since %s", store.ErrLockLost, cur.Holder, cur.AcquiredAt.Format(time.RFC3339))
}

// ReleaseLock implements store.Locks.
func (o ops) ReleaseLock(ctx context.Context, name, token string) error {
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(`DELETE FROM locks WHERE name = ? AND token = ?`), name, token)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return o.lost(ctx, q, name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("releasing lock %q: %w", name, err)
	}
	return nil
}

// Lock implements store.Locks.
func (o ops) Lock(ctx context.Context, name string) (store.Lock, error) {
	l, err := scanLock(o.reader().QueryRowContext(ctx, o.q(`SELECT `+lockColumns+` FROM locks WHERE name = ?`), name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Lock{}, fmt.Errorf("reading lock %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Lock{}, fmt.Errorf("reading lock %q: %w", name, err)
	}
	l.Token = ""
	return l, nil
}
