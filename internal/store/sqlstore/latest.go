package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// SetLatestSnapshot implements store.Snapshots.
func (o ops) SetLatestSnapshot(ctx context.Context, source, fingerprint string, takenAt time.Time) error {
	if source == "" || fingerprint == "" || takenAt.IsZero() {
		return fmt.Errorf("recording the latest snapshot: %w: source, fingerprint and time are required", store.ErrInvalid)
	}
	if err := checkText(source, fingerprint); err != nil {
		return fmt.Errorf("recording the latest snapshot of %s: %w", source, err)
	}
	err := o.write(ctx, func(q querier) error {
		var n int
		if err := q.QueryRowContext(ctx, o.q(`SELECT COUNT(*) FROM snapshots WHERE fingerprint = ?`), fingerprint).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("snapshot %s: %w", fingerprint, store.ErrNotFound)
		}
		var prev time.Time
		err := q.QueryRowContext(ctx, o.q(`SELECT taken_at FROM latest_snapshots WHERE source = ?`), source).Scan(timeScan{&prev})
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = q.ExecContext(ctx, o.q(`INSERT INTO latest_snapshots (source, fingerprint, taken_at, updated_at) VALUES (?, ?, ?, ?)`),
				source, fingerprint, o.s.d.timeArg(takenAt), o.s.d.timeArg(o.now()))
			return err
		case err != nil:
			return err
		case takenAt.Before(prev):
			return nil // an older read finished late: keep the newer one
		}
		_, err = q.ExecContext(ctx, o.q(`UPDATE latest_snapshots SET fingerprint = ?, taken_at = ?, updated_at = ? WHERE source = ?`),
			fingerprint, o.s.d.timeArg(takenAt), o.s.d.timeArg(o.now()), source)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the latest snapshot of %s: %w", source, err)
	}
	return nil
}

// LatestSnapshot implements store.Snapshots.
func (o ops) LatestSnapshot(ctx context.Context, source string) (string, time.Time, error) {
	var fp string
	var at time.Time
	err := o.reader().QueryRowContext(ctx, o.q(`SELECT fingerprint, taken_at FROM latest_snapshots WHERE source = ?`), source).Scan(&fp, timeScan{&at})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", time.Time{}, fmt.Errorf("reading the latest snapshot of %s: %w", source, store.ErrNotFound)
	case err != nil:
		return "", time.Time{}, fmt.Errorf("reading the latest snapshot of %s: %w", source, err)
	}
	return fp, at, nil
}
