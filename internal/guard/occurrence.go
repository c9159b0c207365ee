package guard

import (
	"slices"
	"time"
)

// Occurrence is one run of a weekly window: [Start, End).
type Occurrence struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Window is the window's compact form ("Mon-Fri 01:00-05:00").
	Window string `json:"window"`
}

// Occurrences returns the runs of the weekly windows that overlap
// [from, to), in the order they start (the one in progress at from
// first). Overlapping runs of different windows are returned as they are.
func (s *Schedule) Occurrences(from, to time.Time) []Occurrence {
	if !to.After(from) || len(s.windows) == 0 {
		return nil
	}
	var out []Occurrence
	lf := from.In(s.loc)
	y, mo, d := lf.Date()
	// A run lasts at most a day, so the one in progress at from started
	// yesterday at the earliest.
	for off := -1; ; off++ {
		if day := time.Date(y, mo, d+off, 0, 0, 0, 0, s.loc); !day.Before(to) {
			break
		}
		wd := s.weekday(y, mo, d+off)
		for _, w := range s.windows {
			if !w.days.has(wd) {
				continue
			}
			start, end := s.bounds(w, y, mo, d+off)
			if end.After(from) && start.Before(to) && end.After(start) {
				out = append(out, Occurrence{Start: start, End: end, Window: w.text})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Occurrence) int { return a.Start.Compare(b.Start) })
	return out
}

// Freezes returns the freezes that overlap [from, to), in the order they
// start.
func (s *Schedule) Freezes(from, to time.Time) []Freeze {
	var out []Freeze
	for _, f := range s.freezes {
		if f.To.After(from) && f.From.Before(to) {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b Freeze) int { return a.From.Compare(b.From) })
	return out
}
