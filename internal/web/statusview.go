package web

import (
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/app"
)

// The status pages' data: the public model (app.PublicPage) put in one
// language, with every time already formatted in the page's zone, so
// that the templates only place text.

// recentDays is how many days of history the status page itself shows;
// /history shows status.historyDays.
const recentDays = 7

// statusPageView is the status page (and its live fragment).
type statusPageView struct {
	Version      string
	Banner       bannerView
	Components   []componentView
	Incidents    []incidentView // unresolved, newest first
	Maintenances []maintenanceView
	Freezes      []freezeView
	Days         []dayView // the recent days, newest first
	HistoryDays  int
	Zone         string // which zone the times are in
	FeedURL      string
}

// bannerView is the page's headline: Class is ok, maintenance, minor,
// major or critical.
type bannerView struct {
	Class, Text string
}

type componentView struct {
	ID, Name, Description string
	Status, StatusText    string
}

type incidentView struct {
	ID, URL string
	// Title is the newest published title in the page's language (else
	// in TitleLang); Untitled when nothing was published yet.
	Title, TitleLang       string
	Untitled               bool
	Severity, SeverityText string
	State, StateText       string
	Started, Resolved      timeView
	Components             []string // names
	Updates                []updateView
	Internal               *app.PublicInternals
	IsResolved             bool
	DurationText           string
	ImpactClass            string
	// LatestBody is the newest update's body, in LatestBodyLang.
	LatestBody, LatestBodyLang string
}

type updateView struct {
	ID               string
	State, StateText string
	At               timeView
	Title, Body      string
	Lang             string // the language of Title and Body
}

type maintenanceView struct {
	ID          string
	InProgress  bool
	Start, End  timeView
	Components  []string // names
	StatusText  string
	Description string
}

type freezeView struct {
	From, To timeView
	Active   bool
	Text     string
	Reason   string
}

type dayView struct {
	Date      string // as shown
	ISO       string // 2006-01-02
	Incidents []incidentView
}

// timeView is a time as shown (in the page's zone), in UTC for the
// tooltip and as an RFC 3339 UTC value for <time datetime>.
type timeView struct {
	ISO, Text, UTC string
}

func (v timeView) IsZero() bool { return v.ISO == "" }

// statusLocalizer is a localizer for lang in the zone of p.
func (s *Server) statusLocalizer(p app.PublicPage, lang string) localizer {
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return localizer{lang: lang, msgs: s.messages[lang], zone: loc}
}

func timeOf(l localizer, t time.Time) timeView {
	if t.IsZero() {
		return timeView{}
	}
	return timeView{ISO: t.UTC().Format(time.RFC3339), Text: l.Time(t), UTC: t.UTC().Format("2006-01-02 15:04 UTC")}
}

// zoneText says which zone the page's times are in: "Times are in
// Asia/Tokyo (JST); ..." (the UTC time is in each one's tooltip).
func zoneText(l localizer, now time.Time) string {
	name := l.zone.String()
	if name == "UTC" {
		return l.T("zone.utc")
	}
	if abbr, _ := now.In(l.zone).Zone(); abbr != name && !strings.HasPrefix(abbr, "+") && !strings.HasPrefix(abbr, "-") {
		name += " (" + abbr + ")"
	}
	return l.T("zone.note", name)
}

// banner is the headline for p.
func banner(l localizer, p app.PublicPage) bannerView {
	switch {
	case p.Impact != app.ImpactNone:
		return bannerView{Class: string(p.Impact), Text: l.T("banner." + string(p.Impact))}
	case p.Status() == app.ComponentMaintenance:
		return bannerView{Class: "maintenance", Text: l.T("banner.maintenance")}
	}
	return bannerView{Class: "ok", Text: l.T("status.operational")}
}

func (s *Server) statusPageView(p app.PublicPage, lang string) statusPageView {
	l := s.statusLocalizer(p, lang)
	v := statusPageView{Version: p.Version, Banner: banner(l, p), Zone: zoneText(l, p.Now), HistoryDays: dayCount(l, p),
		FeedURL: "/history.atom?lang=" + lang}
	names := componentNames(p, lang)
	for _, c := range p.Components {
		v.Components = append(v.Components, componentView{ID: c.ID, Name: c.Name.In(lang), Description: c.Description.In(lang),
			Status: string(c.Status), StatusText: l.T("component." + string(c.Status))})
	}
	for _, in := range p.Incidents {
		v.Incidents = append(v.Incidents, incidentOf(l, in, names))
	}
	for _, m := range p.Maintenances {
		v.Maintenances = append(v.Maintenances, maintenanceOf(l, m, names))
	}
	for _, f := range p.Freezes {
		v.Freezes = append(v.Freezes, freezeOf(l, f))
	}
	v.Days = historyDays(l, p, recentDays)
	return v
}

// componentNames maps component IDs to their names in lang.
func componentNames(p app.PublicPage, lang string) map[string]string {
	m := map[string]string{}
	for _, c := range p.Components {
		m[c.ID] = c.Name.In(lang)
	}
	return m
}

func incidentOf(l localizer, in app.PublicIncident, names map[string]string) incidentView {
	v := incidentView{
		ID: in.ID, URL: "/incidents/" + in.ID,
		Severity: string(in.Severity), SeverityText: l.T("severity." + string(in.Severity)),
		State: string(in.State), StateText: l.T("state." + string(in.State)),
		Started: timeOf(l, in.StartedAt), Resolved: timeOf(l, in.ResolvedAt),
		Internal: in.Internal, IsResolved: !in.ResolvedAt.IsZero() && !in.State.Active(), ImpactClass: string(in.Severity),
	}
	v.Title, v.TitleLang = in.Title(l.lang)
	if v.Title == "" {
		v.Untitled, v.TitleLang = true, l.lang
		if in.State.Active() {
			v.Title = l.T("status.noNotice")
		} else {
			v.Title = l.T("status.unpublished")
		}
	}
	if v.IsResolved {
		v.DurationText = l.T("incident.lasted", duration(l, in.ResolvedAt.Sub(in.StartedAt)))
	}
	for _, id := range in.Components {
		v.Components = append(v.Components, names[id])
	}
	for _, u := range in.Updates {
		text, lang := u.Text(l.lang)
		v.Updates = append(v.Updates, updateView{ID: u.ID, State: string(u.State), StateText: l.T("state." + string(u.State)),
			At: timeOf(l, u.At), Title: text.Title, Body: text.Body, Lang: lang})
	}
	if len(v.Updates) > 0 {
		v.LatestBody, v.LatestBodyLang = v.Updates[0].Body, v.Updates[0].Lang
	}
	return v
}

// duration writes d in hours and minutes ("1 h 25 min", "1時間25分").
func duration(l localizer, d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if h == 0 {
		return l.T("duration.minutes", m)
	}
	return l.T("duration.hours", h, m)
}

func maintenanceOf(l localizer, m app.PublicMaintenance, names map[string]string) maintenanceView {
	v := maintenanceView{ID: m.ID, InProgress: m.InProgress, Start: timeOf(l, m.Start), End: timeOf(l, m.End),
		StatusText: l.T("maintenance.scheduled"), Description: l.T("maintenance.description")}
	if m.InProgress {
		v.StatusText = l.T("maintenance.inProgress")
	}
	for _, id := range m.Components {
		v.Components = append(v.Components, names[id])
	}
	return v
}

func freezeOf(l localizer, f app.PublicFreeze) freezeView {
	return freezeView{From: timeOf(l, f.From), To: timeOf(l, f.To), Active: f.Active, Reason: f.Reason,
		Text: l.T("freeze.text", l.Time(f.From), l.Time(f.To))}
}

// historyDays lists the days of p's history, newest first, each with the
// incidents that started that day (in the page's zone); n > 0 keeps the
// newest n days.
func historyDays(l localizer, p app.PublicPage, n int) []dayView {
	names := componentNames(p, l.lang)
	byDay := map[string][]incidentView{}
	for _, in := range p.History {
		day := in.StartedAt.In(l.zone).Format(time.DateOnly)
		byDay[day] = append(byDay[day], incidentOf(l, in, names))
	}
	var out []dayView
	today := p.Now.In(l.zone)
	from := p.HistoryFrom.In(l.zone)
	for d := time.Date(today.Year(), today.Month(), today.Day(), 12, 0, 0, 0, l.zone); !d.Before(from); d = d.AddDate(0, 0, -1) {
		if n > 0 && len(out) == n {
			break
		}
		iso := d.Format(time.DateOnly)
		out = append(out, dayView{Date: d.Format(l.T("format.date")), ISO: iso, Incidents: byDay[iso]})
		delete(byDay, iso)
	}
	// Unresolved incidents that started before the window are listed on
	// the window's first day.
	if n == 0 && len(out) > 0 {
		for day, ins := range byDay {
			if day < out[len(out)-1].ISO {
				out[len(out)-1].Incidents = append(out[len(out)-1].Incidents, ins...)
			}
		}
	}
	return out
}

// dayCount is the number of days of p's history window.
func dayCount(l localizer, p app.PublicPage) int {
	today := p.Now.In(l.zone)
	from := p.HistoryFrom.In(l.zone)
	n := 0
	for d := time.Date(today.Year(), today.Month(), today.Day(), 12, 0, 0, 0, l.zone); !d.Before(from); d = d.AddDate(0, 0, -1) {
		n++
	}
	return n
}

// statusHistoryView is the history page.
type statusHistoryView struct {
	Days     []dayView
	DayCount int
	Zone     string
	FeedURL  string
}

func (s *Server) statusHistoryView(p app.PublicPage, lang string) statusHistoryView {
	l := s.statusLocalizer(p, lang)
	days := historyDays(l, p, 0)
	return statusHistoryView{Days: days, DayCount: len(days), Zone: zoneText(l, p.Now), FeedURL: "/history.atom?lang=" + lang}
}

// statusIncidentView is an incident's page.
type statusIncidentView struct {
	Incident incidentView
	Zone     string
}

func (s *Server) statusIncidentView(p app.PublicPage, in app.PublicIncident, lang string) statusIncidentView {
	l := s.statusLocalizer(p, lang)
	return statusIncidentView{Incident: incidentOf(l, in, componentNames(p, lang)), Zone: zoneText(l, p.Now)}
}
