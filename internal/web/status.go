package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/store"
)

// statusView is the status page's data in one language.
type statusView struct {
	Operational bool
	// Version changes whenever the public status does: the page's
	// script reloads the status fragment when an event carries another.
	Version   string
	Incidents []incidentView
}

// incidentView is an active incident as the public sees it: the newest
// published notice in the visitor's language (else in any language), or
// no title at all before the first notice (the template says an issue is
// being looked into). The incident's internal title is never shown.
type incidentView struct {
	Severity  store.Severity
	State     store.IncidentState
	OpenedAt  time.Time
	UpdatedAt time.Time
	Title     string
	Body      string
}

// publicStatus reads the public status and its version.
func (s *Server) publicStatus(ctx context.Context) (app.PublicStatus, string, error) {
	st, err := s.o.App.PublicStatus(ctx)
	if err != nil {
		return app.PublicStatus{}, "", fmt.Errorf("reading the public status: %w", err)
	}
	body, err := json.Marshal(st)
	if err != nil {
		return app.PublicStatus{}, "", fmt.Errorf("hashing the public status: %w", err)
	}
	sum := sha256.Sum256(body)
	return st, hex.EncodeToString(sum[:8]), nil
}

func (s *Server) statusView(ctx context.Context, lang string) (statusView, error) {
	st, version, err := s.publicStatus(ctx)
	if err != nil {
		return statusView{}, err
	}
	v := statusView{Operational: st.Operational(), Version: version}
	for _, in := range st.Incidents {
		iv := incidentView{Severity: in.Severity, State: in.State, OpenedAt: in.OpenedAt}
		if n, ok := newestNotice(in.Notices, lang); ok {
			iv.Title, iv.Body, iv.UpdatedAt = n.Title, n.Body, n.PublishedAt
		}
		v.Incidents = append(v.Incidents, iv)
	}
	return v, nil
}

// newestNotice picks from notices (newest first) the newest in lang,
// else the newest.
func newestNotice(notices []store.Notice, lang string) (store.Notice, bool) {
	for _, n := range notices {
		if n.Lang == lang {
			return n, true
		}
	}
	if len(notices) > 0 {
		return notices[0], true
	}
	return store.Notice{}, false
}

// statusPage is the public status page.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.statusView(r.Context(), s.localizer(w, r).lang)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "status", v)
}

// statusFragment is the status part of the page alone, for the script
// to swap in when the status changes.
func (s *Server) statusFragment(w http.ResponseWriter, r *http.Request) error {
	v, err := s.statusView(r.Context(), s.localizer(w, r).lang)
	if err != nil {
		return err
	}
	return s.renderFragment(w, r, "status", "status", v)
}

// statusEvents streams a "status" event carrying the status's version
// each time it changes (the first one on connecting).
func (s *Server) statusEvents(w http.ResponseWriter, r *http.Request) error {
	read := func(ctx context.Context) (string, error) {
		_, version, err := s.publicStatus(ctx)
		return version, err
	}
	return Stream(w, r, s.o.Heartbeat, Changes(r.Context(), s.log, s.o.Poll, "status", read))
}

// statusJSON is the public status for machines: the active incidents and
// their published notices in every language.
func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request) error {
	st, version, err := s.publicStatus(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"operational": st.Operational(), "version": version, "incidents": st.Incidents})
}
