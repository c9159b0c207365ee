package web

import (
	"context"
	"net/http"

	"github.com/orgguard/orgguard/internal/app"
)

// teamChangeView is a change's progress page.
type teamChangeView struct {
	team
	app.ChangeProgress
}

func (s *Server) teamChangeView(r *http.Request) (teamChangeView, error) {
	a, err := s.appFor(r)
	if err != nil {
		return teamChangeView{}, err
	}
	p, err := a.ChangeProgress(r.Context(), r.PathValue("id"))
	if err != nil {
		return teamChangeView{}, err
	}
	return teamChangeView{team: teamOf(r, "plans"), ChangeProgress: p}, nil
}

// teamChange is a change's progress: its journal as the store holds it
// (so an apply run by any replica, or the command line, shows here), and
// its result once it has finished. The page reloads its progress part
// when the change's event stream says it moved.
func (s *Server) teamChange(w http.ResponseWriter, r *http.Request) error {
	v, err := s.teamChangeView(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "team_change", v)
}

// teamChangeFragment is the progress part of the page alone.
func (s *Server) teamChangeFragment(w http.ResponseWriter, r *http.Request) error {
	v, err := s.teamChangeView(r)
	if err != nil {
		return err
	}
	return s.renderFragment(w, r, "team_change", "progress", v)
}

// teamChangeEvents streams a "change" event carrying the progress's
// version whenever a journal entry is added or the change finishes.
func (s *Server) teamChangeEvents(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := a.ChangeProgress(r.Context(), id); err != nil {
		return err // an unknown change is a 404, not an empty stream
	}
	read := func(ctx context.Context) (string, error) {
		p, err := a.ChangeProgress(ctx, id)
		return p.Version(), err
	}
	return Stream(w, r, s.o.Heartbeat, Changes(r.Context(), s.log, s.o.Poll, "change", read))
}
