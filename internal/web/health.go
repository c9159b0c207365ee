package web

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds how long /readyz waits for the store.
const readyTimeout = 3 * time.Second

// healthz answers while the process serves requests.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the store answers a read, else 503 (the cause
// is logged, not shown).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.o.App.Ready(ctx); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "err", err)
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
