package incident

import (
	"slices"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// Clock is an incident's durations, each measured from the impact start
// (or, when it is unknown, from detection): time to detect, acknowledge,
// mitigate and resolve, and time to the first published notice (TTN). A
// milestone not reached yet is nil.
type Clock struct {
	TTD *time.Duration `json:"ttd,omitempty"`
	TTA *time.Duration `json:"tta,omitempty"`
	TTN *time.Duration `json:"ttn,omitempty"`
	TTM *time.Duration `json:"ttm,omitempty"`
	TTR *time.Duration `json:"ttr,omitempty"`
}

// ClockOf computes in's clock.
func ClockOf(in store.Incident) Clock {
	start := in.ImpactStartedAt
	if start.IsZero() {
		start = in.DetectedAt
	}
	if start.IsZero() {
		start = in.OpenedAt
	}
	since := func(t time.Time) *time.Duration {
		if t.IsZero() {
			return nil
		}
		d := max(t.Sub(start), 0)
		return &d
	}
	return Clock{TTD: since(in.DetectedAt), TTA: since(in.AcknowledgedAt), TTN: since(in.FirstNoticeAt), TTM: since(in.MitigatedAt), TTR: since(in.ResolvedAt)}
}

// Stat summarises one duration over many incidents.
type Stat struct {
	N      int           `json:"n"`
	Mean   time.Duration `json:"mean"`
	Median time.Duration `json:"median"`
	P90    time.Duration `json:"p90"`
	Max    time.Duration `json:"max"`
}

// Summary is the clock aggregated over incidents.
type Summary struct {
	Incidents int  `json:"incidents"`
	Open      int  `json:"open"`
	TTD       Stat `json:"ttd"`
	TTA       Stat `json:"tta"`
	TTN       Stat `json:"ttn"`
	TTM       Stat `json:"ttm"`
	TTR       Stat `json:"ttr"`
}

// Summarize aggregates the clocks of ins.
func Summarize(ins []store.Incident) Summary {
	s := Summary{Incidents: len(ins)}
	var ttd, tta, ttn, ttm, ttr []time.Duration
	for _, in := range ins {
		if in.State.Active() {
			s.Open++
		}
		c := ClockOf(in)
		for _, p := range []struct {
			d  *time.Duration
			to *[]time.Duration
		}{{c.TTD, &ttd}, {c.TTA, &tta}, {c.TTN, &ttn}, {c.TTM, &ttm}, {c.TTR, &ttr}} {
			if p.d != nil {
				*p.to = append(*p.to, *p.d)
			}
		}
	}
	s.TTD, s.TTA, s.TTN, s.TTM, s.TTR = stat(ttd), stat(tta), stat(ttn), stat(ttm), stat(ttr)
	return s
}

func stat(ds []time.Duration) Stat {
	if len(ds) == 0 {
		return Stat{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return Stat{N: len(ds), Mean: sum / time.Duration(len(ds)), Median: at(0.5), P90: at(0.9), Max: ds[len(ds)-1]}
}
