package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/orgguard/orgguard/internal/app"
)

// The status JSON API, shaped like the public API of Atlassian
// Statuspage (api/v2), so that the widgets, bots and monitors written for
// it read orgguard's page too. Field names and values follow it; what
// orgguard does not have is null or left at Statuspage's neutral value
// (showcase, group, only_show_if_degraded). Texts are in the request's
// language. One addition: "change_freezes" in the summary and the
// scheduled maintenances.

type apiPage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	URL       string `json:"url"`
	TimeZone  string `json:"time_zone"`
	UpdatedAt string `json:"updated_at"`
}

type apiStatus struct {
	Indicator   string `json:"indicator"` // none, minor, major, critical
	Description string `json:"description"`
}

type apiComponent struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Status             string  `json:"status"`
	CreatedAt          string  `json:"created_at"`
	UpdatedAt          string  `json:"updated_at"`
	Position           int     `json:"position"`
	Description        *string `json:"description"`
	Showcase           bool    `json:"showcase"`
	StartDate          *string `json:"start_date"`
	GroupID            *string `json:"group_id"`
	PageID             string  `json:"page_id"`
	Group              bool    `json:"group"`
	OnlyShowIfDegraded bool    `json:"only_show_if_degraded"`
}

type apiIncident struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Status          string         `json:"status"`
	CreatedAt       string         `json:"created_at"`
	UpdatedAt       string         `json:"updated_at"`
	MonitoringAt    *string        `json:"monitoring_at"`
	ResolvedAt      *string        `json:"resolved_at"`
	Impact          string         `json:"impact"`
	Shortlink       string         `json:"shortlink"`
	StartedAt       string         `json:"started_at"`
	PageID          string         `json:"page_id"`
	IncidentUpdates []apiUpdate    `json:"incident_updates"`
	Components      []apiComponent `json:"components"`
	// Scheduled maintenances only.
	ScheduledFor   *string `json:"scheduled_for,omitempty"`
	ScheduledUntil *string `json:"scheduled_until,omitempty"`
}

type apiUpdate struct {
	ID                   string  `json:"id"`
	Status               string  `json:"status"`
	Body                 string  `json:"body"`
	IncidentID           string  `json:"incident_id"`
	CreatedAt            string  `json:"created_at"`
	UpdatedAt            string  `json:"updated_at"`
	DisplayAt            string  `json:"display_at"`
	AffectedComponents   any     `json:"affected_components"`
	DeliverNotifications bool    `json:"deliver_notifications"`
	CustomTweet          *string `json:"custom_tweet"`
	TweetID              *string `json:"tweet_id"`
}

type apiFreeze struct {
	StartsAt string `json:"starts_at"`
	EndsAt   string `json:"ends_at"`
	Active   bool   `json:"active"`
	Reason   string `json:"reason,omitempty"`
}

// statusAPI renders the documents for one model and language.
type statusAPI struct {
	p     app.PublicPage
	l     localizer
	names map[string]string
}

func (s *Server) statusAPI(p app.PublicPage, lang string) statusAPI {
	return statusAPI{p: p, l: s.statusLocalizer(p, lang), names: componentNames(p, lang)}
}

// apiTime writes t as Statuspage does: milliseconds, in the page's zone.
func (a statusAPI) time(t time.Time) string {
	return t.In(a.l.zone).Format("2006-01-02T15:04:05.000Z07:00")
}

func (a statusAPI) timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := a.time(t)
	return &s
}

func (a statusAPI) page() apiPage {
	return apiPage{ID: a.p.ID, Name: a.p.Name, URL: a.p.URL, TimeZone: a.p.TimeZone, UpdatedAt: a.time(a.p.UpdatedAt)}
}

// indicatorKey is the catalog key suffix of p's overall status.
func indicatorKey(p app.PublicPage) string {
	if p.Impact == app.ImpactNone && p.InMaintenance {
		return "maintenance"
	}
	return string(p.Impact)
}

func (a statusAPI) status() apiStatus {
	return apiStatus{Indicator: string(a.p.Impact), Description: a.l.T("api.indicator." + indicatorKey(a.p))}
}

// componentUpdatedAt is when c's status last changed as far as the model
// knows: the newest start or resolution of an incident affecting it, or
// the start of the maintenance in progress; else the history's start.
func (a statusAPI) componentUpdatedAt(c app.PublicComponent) time.Time {
	at := a.p.HistoryFrom
	for _, in := range a.p.History {
		for _, id := range in.Components {
			if id != c.ID {
				continue
			}
			for _, t := range []time.Time{in.CreatedAt, in.ResolvedAt} {
				if t.After(at) {
					at = t
				}
			}
		}
	}
	for _, m := range a.p.Maintenances {
		if m.InProgress && c.Status == app.ComponentMaintenance && m.Start.After(at) {
			at = m.Start
		}
	}
	return at
}

func (a statusAPI) components(ids []string) []apiComponent {
	out := []apiComponent{}
	for _, c := range a.p.Components {
		if ids != nil && !slices.Contains(ids, c.ID) {
			continue
		}
		var desc *string
		if d := c.Description.In(a.l.lang); d != "" {
			desc = &d
		}
		out = append(out, apiComponent{ID: c.ID, Name: c.Name.In(a.l.lang), Status: string(c.Status),
			CreatedAt: a.time(a.p.HistoryFrom), UpdatedAt: a.time(a.componentUpdatedAt(c)), Position: c.Position,
			Description: desc, Showcase: true, PageID: a.p.ID})
	}
	return out
}

func (a statusAPI) incident(in app.PublicIncident) apiIncident {
	name, _ := in.Title(a.l.lang)
	if name == "" {
		name = a.l.T("api.unnamed")
	}
	out := apiIncident{
		ID: in.ID, Name: name, Status: string(in.State), CreatedAt: a.time(in.CreatedAt), UpdatedAt: a.time(in.UpdatedAt),
		MonitoringAt: a.timePtr(in.MonitoringAt), ResolvedAt: a.timePtr(in.ResolvedAt), Impact: string(in.Severity),
		Shortlink: absolute(a.p, "/incidents/"+in.ID), StartedAt: a.time(in.StartedAt), PageID: a.p.ID,
		IncidentUpdates: []apiUpdate{}, Components: a.components(in.Components),
	}
	for _, u := range in.Updates {
		text, _ := u.Text(a.l.lang)
		at := a.time(u.At)
		out.IncidentUpdates = append(out.IncidentUpdates, apiUpdate{ID: u.ID, Status: string(u.State), Body: text.Body,
			IncidentID: in.ID, CreatedAt: at, UpdatedAt: at, DisplayAt: at, DeliverNotifications: true})
	}
	return out
}

func (a statusAPI) incidents(list []app.PublicIncident) []apiIncident {
	out := []apiIncident{}
	for _, in := range list {
		out = append(out, a.incident(in))
	}
	return out
}

// maintenances are the maintenance runs as Statuspage scheduled
// maintenances: in progress, else scheduled. want filters them.
func (a statusAPI) maintenances(want func(app.PublicMaintenance) bool) []apiIncident {
	out := []apiIncident{}
	for _, m := range a.p.Maintenances {
		if want != nil && !want(m) {
			continue
		}
		status := "scheduled"
		if m.InProgress {
			status = "in_progress"
		}
		start, end := a.time(m.Start), a.time(m.End)
		out = append(out, apiIncident{
			ID: m.ID, Name: a.l.T("maintenance.name"), Status: status, CreatedAt: start, UpdatedAt: start,
			Impact: "maintenance", Shortlink: absolute(a.p, "/#maintenance"), StartedAt: start, PageID: a.p.ID,
			IncidentUpdates: []apiUpdate{{ID: m.ID, Status: status, Body: a.l.T("maintenance.description"), IncidentID: m.ID,
				CreatedAt: start, UpdatedAt: start, DisplayAt: start}},
			Components: a.components(m.Components), ScheduledFor: &start, ScheduledUntil: &end,
		})
	}
	return out
}

func (a statusAPI) freezes() []apiFreeze {
	out := []apiFreeze{}
	for _, f := range a.p.Freezes {
		out = append(out, apiFreeze{StartsAt: a.time(f.From), EndsAt: a.time(f.To), Active: f.Active, Reason: f.Reason})
	}
	return out
}

// apiDocumentFor returns the document of the API route name (under
// /api/v2/). Lists a route has are never null: [] when empty.
func apiDocumentFor(name string) (func(a statusAPI) any, bool) {
	inProgress := func(m app.PublicMaintenance) bool { return m.InProgress }
	upcoming := func(m app.PublicMaintenance) bool { return !m.InProgress }
	switch name {
	case "summary.json":
		return func(a statusAPI) any {
			st := a.status()
			return struct {
				Page                  apiPage        `json:"page"`
				Status                apiStatus      `json:"status"`
				Components            []apiComponent `json:"components"`
				Incidents             []apiIncident  `json:"incidents"`
				ScheduledMaintenances []apiIncident  `json:"scheduled_maintenances"`
				ChangeFreezes         []apiFreeze    `json:"change_freezes"`
			}{a.page(), st, a.components(nil), a.incidents(a.p.Incidents), a.maintenances(nil), a.freezes()}
		}, true
	case "status.json":
		return func(a statusAPI) any {
			return struct {
				Page   apiPage   `json:"page"`
				Status apiStatus `json:"status"`
			}{a.page(), a.status()}
		}, true
	case "components.json":
		return func(a statusAPI) any {
			return struct {
				Page       apiPage        `json:"page"`
				Components []apiComponent `json:"components"`
			}{a.page(), a.components(nil)}
		}, true
	case "incidents.json", "incidents/unresolved.json":
		list := func(a statusAPI) []app.PublicIncident { return a.p.History }
		if name == "incidents/unresolved.json" {
			list = func(a statusAPI) []app.PublicIncident { return a.p.Incidents }
		}
		return func(a statusAPI) any {
			return struct {
				Page      apiPage       `json:"page"`
				Incidents []apiIncident `json:"incidents"`
			}{a.page(), a.incidents(list(a))}
		}, true
	case "scheduled-maintenances.json":
		return func(a statusAPI) any {
			return struct {
				Page                  apiPage       `json:"page"`
				ScheduledMaintenances []apiIncident `json:"scheduled_maintenances"`
				ChangeFreezes         []apiFreeze   `json:"change_freezes"`
			}{a.page(), a.maintenances(nil), a.freezes()}
		}, true
	case "scheduled-maintenances/upcoming.json", "scheduled-maintenances/active.json":
		want := upcoming
		if name == "scheduled-maintenances/active.json" {
			want = inProgress
		}
		return func(a statusAPI) any {
			return struct {
				Page                  apiPage       `json:"page"`
				ScheduledMaintenances []apiIncident `json:"scheduled_maintenances"`
			}{a.page(), a.maintenances(want)}
		}, true
	}
	return nil, false
}

// statusAPIDocument serves /api/v2/{doc...}.
func (s *Server) statusAPIDocument(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("doc")
	doc, ok := apiDocumentFor(name)
	if !ok {
		return errNotFound
	}
	return s.serveStatus(w, r, "api/v2/"+name, jsonType, nil, func(p app.PublicPage, lang string) ([]byte, error) {
		return marshalJSON(doc(s.statusAPI(p, lang)))
	})
}
