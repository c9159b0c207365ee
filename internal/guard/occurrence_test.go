package guard

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOccurrences(t *testing.T) {
	jst := mustLoc(t, "Asia/Tokyo")
	at := func(day, hh, mm int) time.Time { return time.Date(2023, 6, day, hh, mm, 0, 0, jst) } // June 2023: the 2nd is a Friday
	s := mustSchedule(t, tokyo())
	tests := []struct {
		name     string
		from, to time.Time
		want     []Occurrence
	}{
		{"the run in progress comes first, then the next ones", at(2, 3, 0), at(4, 12, 0), []Occurrence{
			{Start: at(2, 1, 0), End: at(2, 5, 0), Window: "Mon-Fri 01:00-05:00"},
			{Start: at(3, 0, 0), End: at(4, 0, 0), Window: "Sat,Sun 00:00-24:00"},
			{Start: at(4, 0, 0), End: at(5, 0, 0), Window: "Sat,Sun 00:00-24:00"},
		}},
		{"a run that ended at from is not listed", at(2, 5, 0), at(2, 23, 0), nil},
		{"a run starting at to is not listed", at(2, 12, 0), at(3, 0, 0), nil},
		{"an empty range has none", at(2, 3, 0), at(2, 3, 0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Occurrences(tt.from, tt.to)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("Occurrences(%v, %v) (-want +got):\n%s", tt.from, tt.to, diff)
			}
		})
	}
	t.Run("a run crossing midnight started the day before from", func(t *testing.T) {
		s := mustSchedule(t, Windows{TimeZone: "UTC", Weekly: []WeeklyWindow{{Spec: "Fri 22:00-02:00"}}})
		from := time.Date(2023, 6, 3, 1, 0, 0, 0, time.UTC)
		got := s.Occurrences(from, from.Add(time.Hour))
		if len(got) != 1 || !got[0].Start.Equal(time.Date(2023, 6, 2, 22, 0, 0, 0, time.UTC)) {
			t.Errorf("Occurrences at Saturday 01:00 = %v, want Friday's run", got)
		}
	})
	t.Run("no windows, no runs", func(t *testing.T) {
		if got := mustSchedule(t, Windows{}).Occurrences(at(1, 0, 0), at(30, 0, 0)); got != nil {
			t.Errorf("Occurrences without windows = %v", got)
		}
	})
}

func TestFreezesInRange(t *testing.T) {
	s := mustSchedule(t, Windows{TimeZone: "UTC", Freezes: []FreezeSpec{
		{From: "2026-12-24", To: "2026-12-26", Reason: "holidays"},
		{From: "2026-06-01", To: "2026-06-02", Reason: "audit"},
	}})
	d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, time.UTC) }
	got := s.Freezes(d(5, 1), d(12, 25))
	if len(got) != 2 || got[0].Reason != "audit" || got[1].Reason != "holidays" {
		t.Errorf("Freezes(May 1, Dec 25) = %+v, want audit then holidays", got)
	}
	if got := s.Freezes(d(12, 27), d(12, 31)); len(got) != 0 {
		t.Errorf("Freezes after the last one = %+v, want none", got)
	}
}
