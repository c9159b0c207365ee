package store

import (
	"context"
	"time"
)

// Tallies counts the store's records for the metrics endpoint. Every
// replica sharing a store reads the same figures.
type Tallies interface {
	// Tally counts plans, changes, incidents and outbox messages, and
	// returns the clocks of the incidents opened at or after since.
	Tally(ctx context.Context, since time.Time) (Tally, error)
}

// Tally is what Tallies.Tally counts.
type Tally struct {
	PlansByVerdict      map[string]int
	ChangesByState      map[ChangeState]int
	IncidentsBySeverity map[Severity]int
	OutboxByState       map[OutboxState]int
	Clocks              []IncidentClock
}

// IncidentClock is an incident's milestones, for the time-to-detect,
// -notify and -recover histograms. Zero times are milestones not reached.
type IncidentClock struct {
	Severity        Severity
	OpenedAt        time.Time
	ImpactStartedAt time.Time
	DetectedAt      time.Time
	FirstNoticeAt   time.Time
	MitigatedAt     time.Time
	ResolvedAt      time.Time
}

// Start is when the incident's impact began: ImpactStartedAt when known,
// else when it was detected, else opened.
func (c IncidentClock) Start() time.Time {
	for _, t := range []time.Time{c.ImpactStartedAt, c.DetectedAt, c.OpenedAt} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
