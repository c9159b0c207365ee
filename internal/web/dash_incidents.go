package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/store"
)

// teamIncidentsView is the incidents list.
type teamIncidentsView struct {
	team
	All       bool
	Incidents []store.Incident
}

// teamIncidents lists the active incidents (all with ?all=1), newest
// first.
func (s *Server) teamIncidents(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	all := r.URL.Query().Get("all") == "1"
	ins, err := a.IncidentList(r.Context(), store.IncidentFilter{Active: !all, Limit: 200})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "team_incidents", teamIncidentsView{team: teamOf(r, "incidents"), All: all, Incidents: ins})
}

// teamIncidentView is an incident's page.
type teamIncidentView struct {
	team
	*app.IncidentDetail
	States []store.IncidentState
	// Clock lines: each duration of the incident clock, formatted.
	Clock []teamClockLine
	// Deadline is the first notice's deadline; Left the time left to it
	// (negative when overdue), formatted; Noticed when published.
	Deadline time.Time
	Left     string
	Overdue  bool
	Noticed  bool
}

type teamClockLine struct {
	Name  string // catalog key
	Value string // "" when not reached
}

func (s *Server) teamIncidentView(r *http.Request, a *app.App, id string) (*teamIncidentView, error) {
	d, err := a.IncidentDetail(r.Context(), id)
	if err != nil {
		return nil, err
	}
	v := &teamIncidentView{team: teamOf(r, "incidents"), IncidentDetail: d, States: store.IncidentStates,
		Deadline: d.Notice.Deadline, Overdue: d.Notice.Overdue, Noticed: !d.Notice.Noticed.IsZero()}
	v.Left = teamDuration(d.Notice.Remaining)
	for _, c := range []struct {
		key string
		d   *time.Duration
	}{{"team.clock.ttd", d.Clock.TTD}, {"team.clock.tta", d.Clock.TTA}, {"team.clock.ttn", d.Clock.TTN}, {"team.clock.ttm", d.Clock.TTM}, {"team.clock.ttr", d.Clock.TTR}} {
		line := teamClockLine{Name: c.key}
		if c.d != nil {
			line.Value = teamDuration(*c.d)
		}
		v.Clock = append(v.Clock, line)
	}
	return v, nil
}

// teamIncident is an incident's page: timeline, impact, notice drafts
// with their editors, the notice clock, and the response actions.
func (s *Server) teamIncident(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	v, err := s.teamIncidentView(r, a, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "team_incident", v)
}

// teamIncidentAction runs one response action on the incident of the path
// through the application layer, then shows the incident again (a
// refusal beside the forms).
func (s *Server) teamIncidentAction(done string, act func(r *http.Request, a *app.App, id string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := s.appFor(r)
		if err != nil {
			return err
		}
		if err := parseForm(w, r); err != nil {
			return err
		}
		id := r.PathValue("id")
		if err := act(r, a, id); err != nil {
			status, ok := refusal(err)
			if !ok {
				return err
			}
			v, verr := s.teamIncidentView(r, a, id)
			if verr != nil {
				return verr
			}
			v.Error = err.Error()
			return s.render(w, r, status, "team_incident", v)
		}
		return seeOther(w, r, "/team/incidents/"+id, done)
	}
}

func (s *Server) teamIncidentAck() handlerFunc {
	return s.teamIncidentAction("ack", func(r *http.Request, a *app.App, id string) error {
		_, err := a.AcknowledgeIncident(r.Context(), id, strings.TrimSpace(r.PostFormValue("message")))
		return err
	})
}

func (s *Server) teamIncidentNote() handlerFunc {
	return s.teamIncidentAction("note", func(r *http.Request, a *app.App, id string) error {
		return a.NoteIncident(r.Context(), id, r.PostFormValue("text"))
	})
}

func (s *Server) teamIncidentState() handlerFunc {
	return s.teamIncidentAction("state", func(r *http.Request, a *app.App, id string) error {
		_, err := a.SetIncidentState(r.Context(), id, store.IncidentState(r.PostFormValue("state")), strings.TrimSpace(r.PostFormValue("message")))
		return err
	})
}

func (s *Server) teamNoticeDraft() handlerFunc {
	return s.teamIncidentAction("draft", func(r *http.Request, a *app.App, id string) error {
		_, err := a.EditNotice(r.Context(), id, r.PathValue("lang"), r.PostFormValue("title"), r.PostFormValue("body"))
		return err
	})
}

func (s *Server) teamNoticeDrafts() handlerFunc {
	return s.teamIncidentAction("drafts", func(r *http.Request, a *app.App, id string) error {
		return a.WriteNoticeDrafts(r.Context(), id)
	})
}

func (s *Server) teamNoticePublish() handlerFunc {
	return s.teamIncidentAction("published", func(r *http.Request, a *app.App, id string) error {
		langs := r.PostForm["lang"]
		if len(langs) == 0 {
			return app.BadInput(errors.New("publishing the notices: choose at least one language"))
		}
		_, err := a.PublishNotice(r.Context(), id, langs)
		return err
	})
}
