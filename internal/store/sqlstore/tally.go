package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// Tally implements store.Tallies with one GROUP BY per table.
func (o ops) Tally(ctx context.Context, since time.Time) (store.Tally, error) {
	var t store.Tally
	var err error
	if t.PlansByVerdict, err = countBy[string](ctx, o, "plans", "verdict"); err != nil {
		return t, err
	}
	if t.ChangesByState, err = countBy[store.ChangeState](ctx, o, "changes", "state"); err != nil {
		return t, err
	}
	if t.IncidentsBySeverity, err = countBy[store.Severity](ctx, o, "incidents", "severity"); err != nil {
		return t, err
	}
	if t.OutboxByState, err = countBy[store.OutboxState](ctx, o, "outbox", "state"); err != nil {
		return t, err
	}
	t.Clocks, err = queryAll(ctx, o.reader(), "reading the incidents' clocks",
		o.q(`SELECT severity, opened_at, impact_started_at, detected_at, first_notice_at, mitigated_at, closed_at
			FROM incidents WHERE opened_at >= ? ORDER BY opened_at`),
		[]any{o.s.d.timeArg(since)},
		func(row interface{ Scan(...any) error }) (store.IncidentClock, error) {
			var c store.IncidentClock
			err := row.Scan(&c.Severity, timeScan{&c.OpenedAt}, timeScan{&c.ImpactStartedAt}, timeScan{&c.DetectedAt},
				timeScan{&c.FirstNoticeAt}, timeScan{&c.MitigatedAt}, timeScan{&c.ResolvedAt})
			return c, err
		})
	return t, err
}

// countBy counts table's rows by column. table and column are constants of
// this package, never input.
func countBy[K ~string](ctx context.Context, o ops, table, column string) (map[K]int, error) {
	type pair struct {
		k K
		n int
	}
	rows, err := queryAll(ctx, o.reader(), fmt.Sprintf("counting %s by %s", table, column),
		`SELECT `+column+`, COUNT(*) FROM `+table+` GROUP BY `+column, nil,
		func(row interface{ Scan(...any) error }) (pair, error) {
			var p pair
			err := row.Scan(&p.k, &p.n)
			return p, err
		})
	if err != nil {
		return nil, err
	}
	out := make(map[K]int, len(rows))
	for _, p := range rows {
		out[p.k] = p.n
	}
	return out, nil
}
