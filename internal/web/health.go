package web

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds how long /readyz waits for the store.
const readyTimeout = 3 * time.Second

// health is the body of /healthz and /readyz. In team mode it says
// whether this replica leads and the lease epoch (the tenure it holds, or
// the newest it has seen).
type health struct {
	Status string `json:"status"`
	Leader *bool  `json:"leader,omitempty"`
	Epoch  *int64 `json:"epoch,omitempty"`
}

func (s *Server) health(status string) health {
	h := health{Status: status}
	if s.o.Team != nil {
		st := s.o.Team.Status()
		h.Leader, h.Epoch = &st.Leader, &st.Epoch
	}
	return h
}

// healthz answers while the process serves requests (and, in team mode,
// while its elector runs), else 503.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	if s.o.Team != nil {
		if err := s.o.Team.Healthy(); err != nil {
			s.log.WarnContext(r.Context(), "unhealthy", "err", err)
			return writeJSON(w, http.StatusServiceUnavailable, s.health("unhealthy"))
		}
	}
	return writeJSON(w, http.StatusOK, s.health("ok"))
}

// readyz answers 200 when the store answers a read, else 503 (the cause
// is logged, not shown).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.o.App.Ready(ctx); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "err", err)
		return writeJSON(w, http.StatusServiceUnavailable, s.health("unavailable"))
	}
	return writeJSON(w, http.StatusOK, s.health("ready"))
}
