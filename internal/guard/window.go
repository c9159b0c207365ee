package guard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without system tzdata

	"gopkg.in/yaml.v3"
)

// WeeklyWindow is one recurring maintenance window in the schedule's time
// zone. In YAML it is either a compact string or a mapping:
//
//   - "Mon-Fri 01:00-05:00"
//   - {days: "Sat,Sun", from: "00:00", to: "24:00"}
//
// Days name the days on which the window starts. A window whose end is not
// after its start crosses midnight and ends on the following day
// ("Fri 22:00-02:00" runs from Friday 22:00 to Saturday 02:00). The start is
// inclusive and the end exclusive.
type WeeklyWindow struct {
	// Spec is the compact form "DAYS HH:MM-HH:MM"; when set, Days, From and
	// To must be empty.
	Spec string `yaml:"-" json:"spec,omitempty"`
	Days string `yaml:"days,omitempty" json:"days,omitempty"` // "Mon-Fri", "Sat,Sun", "weekdays", "daily"
	From string `yaml:"from,omitempty" json:"from,omitempty"` // "01:00"
	To   string `yaml:"to,omitempty" json:"to,omitempty"`     // "05:00"; "24:00" is the end of the day
}

// UnmarshalYAML accepts the compact string form as well as the mapping.
func (w *WeeklyWindow) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*w = WeeklyWindow{Spec: n.Value}
		return nil
	}
	type plain WeeklyWindow
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*w = WeeklyWindow(p)
	return nil
}

// MarshalYAML writes the compact form back as a string.
func (w WeeklyWindow) MarshalYAML() (any, error) {
	if w.Spec != "" {
		return w.Spec, nil
	}
	type plain WeeklyWindow
	return plain(w), nil
}

// String renders the window in the compact form.
func (w WeeklyWindow) String() string {
	if w.Spec != "" {
		return w.Spec
	}
	return w.Days + " " + w.From + "-" + w.To
}

// daySet holds one bit per time.Weekday.
type daySet uint8

func (d daySet) has(wd time.Weekday) bool { return d&(1<<uint(wd)) != 0 }

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// parseDays parses "Mon-Fri", "Sat,Sun", "Fri-Mon" (wrapping), "weekdays",
// "weekends" and "daily".
func parseDays(s string) (daySet, error) {
	var set daySet
	if strings.TrimSpace(s) == "" {
		return 0, errors.New("no days given")
	}
	for part := range strings.SplitSeq(s, ",") {
		p := strings.ToLower(strings.TrimSpace(part))
		switch p {
		case "daily", "everyday", "all":
			set |= 0x7f
			continue
		case "weekdays":
			set |= 0x3e // Mon..Fri
			continue
		case "weekends", "weekend":
			set |= 1<<uint(time.Saturday) | 1<<uint(time.Sunday)
			continue
		case "":
			return 0, fmt.Errorf("empty day in %q", s)
		}
		lo, hi, isRange := strings.Cut(p, "-")
		a, ok := dayNames[strings.TrimSpace(lo)]
		if !ok {
			return 0, fmt.Errorf("unknown day %q (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)", strings.TrimSpace(lo))
		}
		if !isRange {
			set |= 1 << uint(a)
			continue
		}
		b, ok := dayNames[strings.TrimSpace(hi)]
		if !ok {
			return 0, fmt.Errorf("unknown day %q (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)", strings.TrimSpace(hi))
		}
		for d := a; ; d = (d + 1) % 7 {
			set |= 1 << uint(d)
			if d == b {
				break
			}
		}
	}
	return set, nil
}

// parseClock parses "H:MM" or "HH:MM" into minutes after midnight;
// "24:00" is accepted (1440) for ends.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(m) != 2 || len(h) < 1 || len(h) > 2 {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) ||
		h[0] == '+' || h[0] == '-' || m[0] == '+' || m[0] == '-' {
		return 0, fmt.Errorf("time %q is not a time of day between 00:00 and 24:00", s)
	}
	return hh*60 + mm, nil
}

// window is a parsed WeeklyWindow: start and end in minutes after midnight.
type window struct {
	days       daySet
	start, end int // end <= start: crosses midnight
	text       string
}

// ParseWeeklyWindow parses the compact form "DAYS HH:MM-HH:MM", for example
// "Mon-Fri 01:00-05:00", "Sat,Sun 00:00-24:00" or "Fri 22:00-02:00".
func ParseWeeklyWindow(spec string) (WeeklyWindow, error) {
	w := WeeklyWindow{Spec: spec}
	_, err := w.parse()
	return w, err
}

func (w WeeklyWindow) parse() (window, error) {
	days, from, to := w.Days, w.From, w.To
	if w.Spec != "" {
		if days != "" || from != "" || to != "" {
			return window{}, errors.New("give either the compact form or days/from/to, not both")
		}
		fields := strings.Fields(w.Spec)
		if len(fields) < 2 {
			return window{}, fmt.Errorf("window %q is not \"DAYS HH:MM-HH:MM\"", w.Spec)
		}
		rng := fields[len(fields)-1]
		var ok bool
		from, to, ok = strings.Cut(rng, "-")
		if !ok {
			return window{}, fmt.Errorf("window %q: time range %q is not HH:MM-HH:MM", w.Spec, rng)
		}
		days = strings.Join(fields[:len(fields)-1], "")
	}
	set, err := parseDays(days)
	if err != nil {
		return window{}, fmt.Errorf("window %q: %w", w.String(), err)
	}
	s, err := parseClock(from)
	if err != nil {
		return window{}, fmt.Errorf("window %q: start: %w", w.String(), err)
	}
	e, err := parseClock(to)
	if err != nil {
		return window{}, fmt.Errorf("window %q: end: %w", w.String(), err)
	}
	if s == 1440 {
		return window{}, fmt.Errorf("window %q: a window cannot start at 24:00", w.String())
	}
	if s == e || (s == 0 && e == 0) {
		return window{}, fmt.Errorf("window %q: start and end are equal; use 00:00-24:00 for a whole day", w.String())
	}
	return window{days: set, start: s, end: e, text: w.String()}, nil
}

// FreezeSpec is a dated change freeze as configured. From and To are
// RFC 3339 times ("2026-12-24T00:00:00+09:00"), or local times in the
// schedule's zone ("2026-12-24 18:00", "2026-12-24T18:00"), or dates. A date
// given as From starts at 00:00 of that day; a date given as To includes that
// whole day (the freeze ends at 00:00 of the next day). Otherwise From is
// inclusive and To exclusive.
type FreezeSpec struct {
	From   string `yaml:"from" json:"from"`
	To     string `yaml:"to" json:"to"`
	Reason string `yaml:"reason" json:"reason"`
}

// Freeze is a resolved change freeze: [From, To).
type Freeze struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
}

var localLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"}

// parseFreezeTime parses one bound; end reports whether it is the To bound.
func parseFreezeTime(s string, loc *time.Location, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	if d, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		if end {
			return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc), nil
		}
		return d, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02), a local time (2006-01-02 15:04) or an RFC 3339 time", s)
}

// Windows configures when risky changes may be applied.
type Windows struct {
	// TimeZone is an IANA zone name ("Asia/Tokyo"); windows and zone-less
	// freeze times are read in it. Default "UTC".
	TimeZone string `yaml:"timeZone" json:"timeZone"`
	// Weekly maintenance windows. None configured means no change that
	// requires a window can be applied without a window override.
	Weekly []WeeklyWindow `yaml:"weekly" json:"weekly"`
	// Freezes block every change above low risk while active.
	Freezes []FreezeSpec `yaml:"freezes" json:"freezes"`
	// RequiredFor lists the risk levels that may be applied only inside a
	// window. Default [high, critical].
	RequiredFor []Risk `yaml:"requiredFor" json:"requiredFor"`
}

// Schedule is a compiled Windows configuration. Its methods are pure
// functions of their now argument; apply calls them again at apply time.
type Schedule struct {
	loc     *time.Location
	windows []window
	freezes []Freeze
}

// NewSchedule compiles windows and freezes. Errors name the field at fault.
func NewSchedule(w Windows) (*Schedule, error) {
	var errs []error
	s := &Schedule{}
	tz := w.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || strings.EqualFold(tz, "local") {
		errs = append(errs, &FieldError{Path: "windows.timeZone", Message: fmt.Sprintf("unknown time zone %q (want an IANA name such as Asia/Tokyo)", w.TimeZone)})
		loc = time.UTC
	}
	s.loc = loc
	for i, ww := range w.Weekly {
		p, err := ww.parse()
		if err != nil {
			errs = append(errs, &FieldError{Path: fmt.Sprintf("windows.weekly[%d]", i), Message: err.Error()})
			continue
		}
		s.windows = append(s.windows, p)
	}
	for i, f := range w.Freezes {
		path := fmt.Sprintf("windows.freezes[%d]", i)
		from, err1 := parseFreezeTime(f.From, loc, false)
		if err1 != nil {
			errs = append(errs, &FieldError{Path: path + ".from", Message: err1.Error()})
		}
		to, err2 := parseFreezeTime(f.To, loc, true)
		if err2 != nil {
			errs = append(errs, &FieldError{Path: path + ".to", Message: err2.Error()})
		}
		if strings.TrimSpace(f.Reason) == "" {
			errs = append(errs, &FieldError{Path: path + ".reason", Message: "a freeze needs a reason (it is shown to operators)"})
		}
		if err1 == nil && err2 == nil && !to.After(from) {
			errs = append(errs, &FieldError{Path: path, Message: fmt.Sprintf("ends (%s) before it starts (%s)", f.To, f.From)})
			continue
		}
		if err1 == nil && err2 == nil {
			s.freezes = append(s.freezes, Freeze{From: from, To: to, Reason: strings.TrimSpace(f.Reason)})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// HasWindows reports whether any weekly window is configured.
func (s *Schedule) HasWindows() bool { return len(s.windows) > 0 }

// Describe lists the weekly windows for messages: "Asia/Tokyo: Mon-Fri 01:00-05:00, Sat,Sun 00:00-24:00".
func (s *Schedule) Describe() string {
	if len(s.windows) == 0 {
		return "no weekly windows configured"
	}
	parts := make([]string, len(s.windows))
	for i, w := range s.windows {
		parts[i] = w.text
	}
	return s.loc.String() + ": " + strings.Join(parts, ", ")
}

// at returns the instant of minute-of-day m on the local date y-mo-d. When
// that wall-clock time does not exist (the clock jumps over it at a DST
// change) the instant of the jump is used, so a window never vanishes or
// grows because of a gap.
func (s *Schedule) at(y int, mo time.Month, d, m int) time.Time {
	t := time.Date(y, mo, d, m/60, m%60, 0, 0, s.loc)
	if m == 1440 {
		return t // midnight of the next day
	}
	// Compare wall clocks, dates included: a whole day can be skipped
	// (Pacific/Apia skipped 2011-12-30).
	want := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute)
	got := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
	if got.Equal(want) {
		return t
	}
	start, end := t.ZoneBounds()
	if got.Before(want) {
		if !end.IsZero() {
			return end
		}
		return t
	}
	if !start.IsZero() {
		return start
	}
	return t
}

// bounds returns the instants of w's occurrence starting on local date y-mo-d.
func (s *Schedule) bounds(w window, y int, mo time.Month, d int) (time.Time, time.Time) {
	start := s.at(y, mo, d, w.start)
	var end time.Time
	if w.end > w.start {
		end = s.at(y, mo, d, w.end)
	} else {
		end = s.at(y, mo, d+1, w.end)
	}
	return start, end
}

// weekday of local date y-mo-d (noon avoids any DST oddity at midnight).
func (s *Schedule) weekday(y int, mo time.Month, d int) time.Weekday {
	return time.Date(y, mo, d, 12, 0, 0, 0, s.loc).Weekday()
}

// InWindow reports whether now falls inside a weekly window: start
// inclusive, end exclusive. Freezes are not considered (see ActiveFreeze).
func (s *Schedule) InWindow(now time.Time) bool {
	_, ok := s.windowAt(now)
	return ok
}

// windowAt returns the end of the window occurrence containing now.
func (s *Schedule) windowAt(now time.Time) (time.Time, bool) {
	lt := now.In(s.loc)
	y, mo, d := lt.Date()
	var best time.Time
	found := false
	// A window lasts at most one day, so it started today or yesterday.
	for off := -1; off <= 0; off++ {
		wd := s.weekday(y, mo, d+off)
		for _, w := range s.windows {
			if !w.days.has(wd) {
				continue
			}
			start, end := s.bounds(w, y, mo, d+off)
			if !now.Before(start) && now.Before(end) {
				if !found || end.After(best) {
					best, found = end, true
				}
			}
		}
	}
	return best, found
}

// nextStart returns the earliest window start strictly after now.
func (s *Schedule) nextStart(now time.Time) (time.Time, bool) {
	lt := now.In(s.loc)
	y, mo, d := lt.Date()
	for off := 0; off <= 8; off++ {
		wd := s.weekday(y, mo, d+off)
		var best time.Time
		found := false
		for _, w := range s.windows {
			if !w.days.has(wd) {
				continue
			}
			start, _ := s.bounds(w, y, mo, d+off)
			if start.After(now) && (!found || start.Before(best)) {
				best, found = start, true
			}
		}
		if found {
			return best, true
		}
	}
	return time.Time{}, false
}

// ActiveFreeze returns the freeze in force at now, or nil. When several
// overlap, the one that ends last is returned.
func (s *Schedule) ActiveFreeze(now time.Time) *Freeze {
	var got *Freeze
	for i := range s.freezes {
		f := &s.freezes[i]
		if !now.Before(f.From) && now.Before(f.To) && (got == nil || f.To.After(got.To)) {
			got = f
		}
	}
	if got == nil {
		return nil
	}
	c := *got
	return &c
}

// maxHops bounds the search of NextOpen and NextUnfrozen; each hop skips a
// freeze or moves to the next window, so it covers years of schedule.
const maxHops = 10000

// NextOpen returns the earliest instant at or after now that is inside a
// weekly window and outside every freeze: now itself when it already is.
// It reports false when there is none (no windows configured, or the search
// horizon is exhausted).
func (s *Schedule) NextOpen(now time.Time) (time.Time, bool) {
	if len(s.windows) == 0 {
		return time.Time{}, false
	}
	u := now
	for range maxHops {
		if f := s.ActiveFreeze(u); f != nil {
			u = f.To
			continue
		}
		if s.InWindow(u) {
			return u, true
		}
		next, ok := s.nextStart(u)
		if !ok {
			return time.Time{}, false
		}
		u = next
	}
	return time.Time{}, false
}

// NextUnfrozen returns the earliest instant at or after now outside every
// freeze.
func (s *Schedule) NextUnfrozen(now time.Time) time.Time {
	u := now
	for range maxHops {
		f := s.ActiveFreeze(u)
		if f == nil {
			return u
		}
		u = f.To
	}
	return u
}
