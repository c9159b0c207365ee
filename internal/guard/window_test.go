package guard

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func mustSchedule(t testing.TB, w Windows) *Schedule {
	t.Helper()
	s, err := NewSchedule(w)
	if err != nil {
		t.Fatalf("NewSchedule(%+v): %v", w, err)
	}
	return s
}

// tokyo is the schedule of the brief: weekdays 01:00-05:00 plus whole weekends.
func tokyo() Windows {
	return Windows{TimeZone: "Asia/Tokyo", Weekly: []WeeklyWindow{
		{Spec: "Mon-Fri 01:00-05:00"},
		{Days: "Sat,Sun", From: "00:00", To: "24:00"},
	}}
}

func TestParseWeeklyWindow(t *testing.T) {
	tests := []struct {
		spec       string
		days       daySet
		start, end int
		wantErr    string
	}{
		{spec: "Mon-Fri 01:00-05:00", days: 0x3e, start: 60, end: 300},
		{spec: "Sat-Sun 00:00-24:00", days: 1<<6 | 1, start: 0, end: 1440},
		{spec: "Sat,Sun 00:00-24:00", days: 1<<6 | 1, start: 0, end: 1440},
		{spec: "Sat, Sun 00:00-24:00", days: 1<<6 | 1, start: 0, end: 1440},
		{spec: "Fri-Mon 22:00-02:00", days: 1<<5 | 1<<6 | 1 | 1<<1, start: 1320, end: 120},
		{spec: "weekdays 9:30-10:00", days: 0x3e, start: 570, end: 600},
		{spec: "daily 23:00-01:00", days: 0x7f, start: 1380, end: 60},
		{spec: "monday 00:00-00:30", days: 1 << 1, start: 0, end: 30},
		{spec: "Mon-Fri", wantErr: "is not"},
		{spec: "Mon-Fri 01:00", wantErr: "is not HH:MM-HH:MM"},
		{spec: "Mon-Fry 01:00-05:00", wantErr: "unknown day \"fry\""},
		{spec: "Mon 25:00-26:00", wantErr: "not a time of day"},
		{spec: "Mon 01:60-02:00", wantErr: "not a time of day"},
		{spec: "Mon 24:00-02:00", wantErr: "cannot start at 24:00"},
		{spec: "Mon 03:00-03:00", wantErr: "start and end are equal"},
		{spec: "Mon 00:00-00:00", wantErr: "start and end are equal"},
		{spec: "Mon +1:00-02:00", wantErr: "not a time of day"},
		{spec: "Mon 1:0-02:00", wantErr: "not HH:MM"},
		{spec: ", 01:00-02:00", wantErr: "empty day"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			w, err := ParseWeeklyWindow(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseWeeklyWindow(%q) error = %v, want one containing %q", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWeeklyWindow(%q): %v", tt.spec, err)
			}
			p, _ := w.parse()
			if p.days != tt.days || p.start != tt.start || p.end != tt.end {
				t.Errorf("ParseWeeklyWindow(%q) = days %07b %d-%d, want days %07b %d-%d", tt.spec, p.days, p.start, p.end, tt.days, tt.start, tt.end)
			}
		})
	}
}

func TestWeeklyWindowYAMLAcceptsBothForms(t *testing.T) {
	var w Windows
	doc := "timeZone: Asia/Tokyo\nweekly:\n  - Mon-Fri 01:00-05:00\n  - {days: \"Sat,Sun\", from: \"00:00\", to: \"24:00\"}\n"
	if err := yaml.Unmarshal([]byte(doc), &w); err != nil {
		t.Fatalf("yaml.Unmarshal: %v", err)
	}
	want := tokyo()
	if len(w.Weekly) != 2 || w.Weekly[0] != want.Weekly[0] || w.Weekly[1] != want.Weekly[1] {
		t.Fatalf("decoded weekly = %+v, want %+v", w.Weekly, want.Weekly)
	}
	out, err := yaml.Marshal(w)
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	if !strings.Contains(string(out), "- Mon-Fri 01:00-05:00") {
		t.Errorf("yaml.Marshal kept the compact form as a string? got:\n%s", out)
	}
}

func TestInWindow(t *testing.T) {
	jst := mustLoc(t, "Asia/Tokyo")
	ny := mustLoc(t, "America/New_York")
	at := func(loc *time.Location, y int, mo time.Month, d, h, m int) time.Time {
		return time.Date(y, mo, d, h, m, 0, 0, loc)
	}
	tests := []struct {
		name string
		w    Windows
		now  time.Time
		want bool
	}{
		// 2023-06-02 is a Friday.
		{"a weekday at 17:15 JST is outside the night window", tokyo(), at(jst, 2023, 6, 2, 17, 15), false},
		{"the start of a window is inside (inclusive)", tokyo(), at(jst, 2023, 6, 2, 1, 0), true},
		{"one second before the start is outside", tokyo(), at(jst, 2023, 6, 2, 0, 59).Add(59 * time.Second), false},
		{"the end of a window is outside (exclusive)", tokyo(), at(jst, 2023, 6, 2, 5, 0), false},
		{"one second before the end is inside", tokyo(), at(jst, 2023, 6, 2, 4, 59).Add(59 * time.Second), true},
		{"Saturday midnight starts the weekend window", tokyo(), at(jst, 2023, 6, 3, 0, 0), true},
		{"Sunday 23:59 is inside the weekend window", tokyo(), at(jst, 2023, 6, 4, 23, 59), true},
		{"Monday 00:30 is between the weekend and the weekday window", tokyo(), at(jst, 2023, 6, 5, 0, 30), false},
		{"the same instant given in UTC is judged in the window's zone", tokyo(), at(jst, 2023, 6, 2, 2, 0).UTC(), true},
		{"a window crossing midnight covers the next morning",
			Windows{TimeZone: "Asia/Tokyo", Weekly: []WeeklyWindow{{Spec: "Fri 22:00-02:00"}}}, at(jst, 2023, 6, 3, 1, 30), true},
		{"a window crossing midnight ends at its end time",
			Windows{TimeZone: "Asia/Tokyo", Weekly: []WeeklyWindow{{Spec: "Fri 22:00-02:00"}}}, at(jst, 2023, 6, 3, 2, 0), false},
		{"a window crossing midnight does not run on the previous night",
			Windows{TimeZone: "Asia/Tokyo", Weekly: []WeeklyWindow{{Spec: "Fri 22:00-02:00"}}}, at(jst, 2023, 6, 2, 1, 0), false},
		{"a Sunday-night window crosses into Monday across the week boundary",
			Windows{TimeZone: "Asia/Tokyo", Weekly: []WeeklyWindow{{Spec: "Sun 23:00-01:00"}}}, at(jst, 2023, 6, 5, 0, 30), true},
		// DST: America/New_York springs forward on 2026-03-08 at 02:00 EST -> 03:00 EDT
		// and falls back on 2026-11-01 at 02:00 EDT -> 01:00 EST.
		{"a window in the skipped hour begins when the clock jumps (spring forward)",
			Windows{TimeZone: "America/New_York", Weekly: []WeeklyWindow{{Spec: "Sun 02:30-04:00"}}},
			time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), true}, // 03:00 EDT
		{"before the jump the skipped-hour window has not begun",
			Windows{TimeZone: "America/New_York", Weekly: []WeeklyWindow{{Spec: "Sun 02:30-04:00"}}},
			time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC), false}, // 01:59 EST
		{"01:00-05:00 local on the spring-forward day ends at 05:00 EDT",
			Windows{TimeZone: "America/New_York", Weekly: []WeeklyWindow{{Spec: "Sun 01:00-05:00"}}},
			time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC), false}, // 05:00 EDT
		{"01:00-05:00 local on the spring-forward day runs at 04:59 EDT",
			Windows{TimeZone: "America/New_York", Weekly: []WeeklyWindow{{Spec: "Sun 01:00-05:00"}}},
			time.Date(2026, 3, 8, 8, 59, 0, 0, time.UTC), true},
		{"the repeated hour at fall-back is inside both times (second 01:30 EST)",
			Windows{TimeZone: "America/New_York", Weekly: []WeeklyWindow{{Spec: "Sun 01:00-05:00"}}},
			time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), true},
		{"a window starts at 01:00 EDT, the first 01:00 of the fall-back day",
			Windows{TimeZone: "America/New_York", Weekly: []WeeklyWindow{{Spec: "Sun 01:00-05:00"}}},
			time.Date(2026, 11, 1, 4, 59, 0, 0, time.UTC), false},
		{"09:00 local is judged in EDT in summer",
			Windows{TimeZone: "America/New_York", Weekly: []WeeklyWindow{{Spec: "Mon-Fri 09:00-10:00"}}},
			at(ny, 2026, 7, 1, 9, 0), true},
		{"09:00 local is judged in EST in winter (13:00 UTC is 08:00)",
			Windows{TimeZone: "America/New_York", Weekly: []WeeklyWindow{{Spec: "Mon-Fri 09:00-10:00"}}},
			time.Date(2026, 1, 7, 13, 0, 0, 0, time.UTC), false},
		{"no windows configured means never inside one", Windows{}, at(jst, 2023, 6, 2, 2, 0), false},
		// Samoa skipped Friday 2011-12-30 entirely (UTC-10 to UTC+14): a
		// Friday window that day does not reappear on Saturday.
		{"a window on a skipped day does not move to the next day",
			Windows{TimeZone: "Pacific/Apia", Weekly: []WeeklyWindow{{Spec: "Fri 10:00-12:00"}}},
			time.Date(2011, 12, 30, 20, 30, 0, 0, time.UTC), false}, // Sat 2011-12-31 10:30 +14
		{"the Friday window runs the week before the skipped day",
			Windows{TimeZone: "Pacific/Apia", Weekly: []WeeklyWindow{{Spec: "Fri 10:00-12:00"}}},
			time.Date(2011, 12, 23, 20, 30, 0, 0, time.UTC), true}, // Fri 2011-12-23 10:30 -10
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSchedule(t, tt.w)
			if got := s.InWindow(tt.now); got != tt.want {
				t.Errorf("InWindow(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestNextOpen(t *testing.T) {
	jst := mustLoc(t, "Asia/Tokyo")
	at := func(y int, mo time.Month, d, h, m int) time.Time { return time.Date(y, mo, d, h, m, 0, 0, jst) }
	withFreeze := tokyo()
	withFreeze.Freezes = []FreezeSpec{{From: "2023-06-03", To: "2023-06-04", Reason: "quarter close"}}
	tests := []struct {
		name   string
		w      Windows
		now    time.Time
		want   time.Time
		wantOK bool
	}{
		{"outside a window the next start is returned", tokyo(), at(2023, 6, 1, 17, 15), at(2023, 6, 2, 1, 0), true},
		{"on Friday evening the next window is the weekend", tokyo(), at(2023, 6, 2, 17, 15), at(2023, 6, 3, 0, 0), true},
		{"inside a window it is now", tokyo(), at(2023, 6, 2, 2, 0), at(2023, 6, 2, 2, 0), true},
		{"at a window's end the next window is returned", tokyo(), at(2023, 6, 1, 5, 0), at(2023, 6, 2, 1, 0), true},
		{"a freeze over the weekend pushes the next opening past it", withFreeze, at(2023, 6, 2, 17, 15), at(2023, 6, 5, 1, 0), true},
		{"a freeze ending inside a window opens at the freeze's end",
			Windows{TimeZone: "Asia/Tokyo", Weekly: []WeeklyWindow{{Spec: "Sat 00:00-24:00"}},
				Freezes: []FreezeSpec{{From: "2023-06-02", To: "2023-06-03 12:00", Reason: "x"}}},
			at(2023, 6, 2, 17, 15), at(2023, 6, 3, 12, 0), true},
		{"no windows means no opening", Windows{}, at(2023, 6, 2, 17, 15), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSchedule(t, tt.w)
			got, ok := s.NextOpen(tt.now)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("NextOpen(%v) = %v, %v; want %v, %v", tt.now, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestActiveFreeze(t *testing.T) {
	jst := mustLoc(t, "Asia/Tokyo")
	w := Windows{TimeZone: "Asia/Tokyo", Freezes: []FreezeSpec{
		{From: "2026-12-24", To: "2027-01-03", Reason: "year end"},
		{From: "2026-12-31T00:00:00Z", To: "2027-01-10T00:00:00Z", Reason: "audit"},
		{From: "2026-06-01 18:00", To: "2026-06-01 20:00", Reason: "release"},
	}}
	s := mustSchedule(t, w)
	tests := []struct {
		name string
		now  time.Time
		want string // reason, "" for none
	}{
		{"a date-only from starts at local midnight", time.Date(2026, 12, 24, 0, 0, 0, 0, jst), "year end"},
		{"the instant before the freeze is free", time.Date(2026, 12, 23, 23, 59, 59, 0, jst), ""},
		{"a date-only to includes that whole day", time.Date(2027, 1, 3, 23, 59, 0, 0, jst), "audit"},
		{"overlapping freezes report the one ending last", time.Date(2027, 1, 1, 12, 0, 0, 0, jst), "audit"},
		{"a date-time to is exclusive", time.Date(2026, 6, 1, 20, 0, 0, 0, jst), ""},
		{"a date-time from is inclusive", time.Date(2026, 6, 1, 18, 0, 0, 0, jst), "release"},
		{"an RFC 3339 bound keeps its own offset", time.Date(2027, 1, 10, 8, 59, 0, 0, jst), "audit"},
		{"after every freeze nothing is active", time.Date(2027, 1, 10, 9, 0, 0, 0, jst), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if f := s.ActiveFreeze(tt.now); f != nil {
				got = f.Reason
			}
			if got != tt.want {
				t.Errorf("ActiveFreeze(%v) = %q, want %q", tt.now, got, tt.want)
			}
		})
	}
	if got := s.NextUnfrozen(time.Date(2026, 12, 25, 0, 0, 0, 0, jst)); !got.Equal(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("NextUnfrozen(2026-12-25) = %v, want 2027-01-10T00:00Z (chained freezes)", got)
	}
}

// FuzzParseWeeklyWindow: the parser never panics, and every accepted window
// describes a non-empty span of at most one day, which InWindow and NextOpen
// can evaluate.
func FuzzParseWeeklyWindow(f *testing.F) {
	for _, s := range []string{"Mon-Fri 01:00-05:00", "Sat-Sun 00:00-24:00", "Fri 22:00-02:00", "daily 9:00-9:30", "", "Mon", "Mon 24:00-01:00", "Sun-Sat 00:01-00:00"} {
		f.Add(s)
	}
	s := &Schedule{loc: time.UTC}
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		w, err := ParseWeeklyWindow(spec)
		if err != nil {
			return
		}
		p, err := w.parse()
		if err != nil {
			t.Fatalf("ParseWeeklyWindow(%q) accepted, parse() refused: %v", spec, err)
		}
		if p.days == 0 || p.start < 0 || p.start >= 1440 || p.end < 0 || p.end > 1440 || p.start == p.end {
			t.Fatalf("ParseWeeklyWindow(%q) = %+v, an impossible window", spec, p)
		}
		s.windows = []window{p}
		open, ok := s.NextOpen(now)
		if !ok || !s.InWindow(open) || open.Before(now) {
			t.Fatalf("NextOpen(%v) for %q = %v, %v; want an instant inside the window", now, spec, open, ok)
		}
	})
}

// FuzzParseFreezeTime: freeze bounds parse or fail cleanly; a date given as
// the end includes that day, so it always ends after the same text as start.
func FuzzParseFreezeTime(f *testing.F) {
	for _, s := range []string{"2026-12-24", "2026-12-24 18:00", "2026-12-24T18:00:05", "2026-12-24T00:00:00+09:00", "2026-02-30", "", "soon"} {
		f.Add(s)
	}
	loc := mustLoc(f, "America/New_York")
	f.Fuzz(func(t *testing.T, s string) {
		from, err1 := parseFreezeTime(s, loc, false)
		to, err2 := parseFreezeTime(s, loc, true)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("parseFreezeTime(%q): from error %v, to error %v", s, err1, err2)
		}
		if err1 != nil {
			return
		}
		if to.Before(from) {
			t.Fatalf("parseFreezeTime(%q): as end %v is before as start %v", s, to, from)
		}
		if _, err := time.Parse("2006-01-02", strings.TrimSpace(s)); err == nil && !to.After(from) {
			t.Fatalf("parseFreezeTime(%q): a date as end (%v) must include the day after its start (%v)", s, to, from)
		}
	})
}
