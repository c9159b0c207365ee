package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/orgguard/orgguard/internal/app"
)

// The public status page (docs/server.md#status-page): the page, its live
// fragment and event stream, the incident pages, the history, and the
// machine-readable forms (feed.go, statusapi.go). Every one of them is
// rendered from the cached public model (statuscache.go), once per
// version and language, and answered from memory with an ETag.

// statusCacheFor returns the server's status cache, made on first use.
func (s *Server) statusCacheFor() *statusCache {
	s.statusOnce.Do(func() {
		refresh := statusRefresh
		if s.o.Poll < refresh {
			refresh = s.o.Poll
		}
		s.status = newStatusCache(s.o.App, refresh, s.log)
	})
	return s.status
}

// serveStatus answers with the response kind in the request's language,
// rendered from the current model by render the first time it is asked
// for. contentType and cacheControl are its headers; a request whose
// If-None-Match names it gets 304.
func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request, kind, contentType string,
	check func(app.PublicPage) error, render func(p app.PublicPage, lang string) ([]byte, error)) error {
	lang := s.localizer(w, r).lang
	snap, err := s.statusCacheFor().get(r.Context())
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(snap.page); err != nil {
			return err
		}
	}
	out := snap.output(outputKey{kind: kind, lang: lang, path: r.URL.Path}, func() ([]byte, error) { return render(snap.page, lang) })
	if out.err != nil {
		return out.err
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", out.etag)
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasSuffix(r.URL.Path, ".atom") {
		// Public data for widgets on other sites; no credentials go along.
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if etagMatches(r.Header.Get("If-None-Match"), out.etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(out.body)
	return err
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	for c := range strings.SplitSeq(header, ",") {
		c = strings.TrimPrefix(strings.TrimSpace(c), "W/")
		if c == etag || c == "*" {
			return true
		}
	}
	return false
}

// renderStatusHTML renders template tmpl of page name in lang for path,
// as render does for a request.
func (s *Server) renderStatusHTML(name, tmpl, lang, path string, data any) ([]byte, error) {
	base, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("rendering page %q: no such template", name)
	}
	loc := localizer{lang: lang, msgs: s.messages[lang], zone: s.zone}
	t, err := base.Clone()
	if err != nil {
		return nil, fmt.Errorf("rendering page %q: %w", name, err)
	}
	t.Funcs(template.FuncMap{"t": loc.T, "time": loc.Time, "lang": func() string { return lang }})
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, page{Title: s.o.Title, Lang: lang, Path: path, Data: data}); err != nil {
		return nil, fmt.Errorf("rendering page %q: %w", name, err)
	}
	return buf.Bytes(), nil
}

const htmlType = "text/html; charset=utf-8"

// statusPage is the public status page.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) error {
	return s.serveStatus(w, r, "page", htmlType, nil, func(p app.PublicPage, lang string) ([]byte, error) {
		return s.renderStatusHTML("status", "base", lang, "/", s.statusPageView(p, lang))
	})
}

// statusFragment is the live part of the page alone, for the script to
// swap in when the status changes.
func (s *Server) statusFragment(w http.ResponseWriter, r *http.Request) error {
	return s.serveStatus(w, r, "fragment", htmlType, nil, func(p app.PublicPage, lang string) ([]byte, error) {
		return s.renderStatusHTML("status", "status", lang, "/", s.statusPageView(p, lang))
	})
}

// statusHistory lists the incidents of the history window by day.
func (s *Server) statusHistory(w http.ResponseWriter, r *http.Request) error {
	return s.serveStatus(w, r, "history", htmlType, nil, func(p app.PublicPage, lang string) ([]byte, error) {
		return s.renderStatusHTML("status_history", "base", lang, "/history", s.statusHistoryView(p, lang))
	})
}

// statusIncident is one incident's page, by its public ID. An ID the
// model does not hold is 404 (and is not cached).
func (s *Server) statusIncident(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	exists := func(p app.PublicPage) error {
		if _, ok := p.Incident(id); !ok {
			return errNotFound
		}
		return nil
	}
	return s.serveStatus(w, r, "incident", htmlType, exists, func(p app.PublicPage, lang string) ([]byte, error) {
		in, _ := p.Incident(id)
		return s.renderStatusHTML("status_incident", "base", lang, "/incidents/"+id, s.statusIncidentView(p, in, lang))
	})
}

// statusEvents streams a "status" event carrying the status's version
// each time it changes (the first one on connecting). Every stream reads
// the cache, so open pages cost no store reads of their own.
func (s *Server) statusEvents(w http.ResponseWriter, r *http.Request) error {
	read := func(ctx context.Context) (string, error) {
		snap, err := s.statusCacheFor().get(ctx)
		if err != nil {
			return "", err
		}
		return snap.page.Version, nil
	}
	return Stream(w, r, s.o.Heartbeat, Changes(r.Context(), s.log, s.o.Poll, "status", read))
}

// statusJSON is the public model for machines, every language at once:
// whether anything is unresolved, the version, and the unresolved
// incidents with their updates.
func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request) error {
	return s.serveStatus(w, r, "api/status", jsonType, nil, func(p app.PublicPage, _ string) ([]byte, error) {
		return marshalJSON(map[string]any{"operational": p.Operational(), "version": p.Version, "incidents": p.Incidents})
	})
}

const jsonType = "application/json; charset=utf-8"

// marshalJSON encodes v indented, with a final newline, without escaping
// HTML characters (the documents are served as JSON only).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", err)
	}
	return buf.Bytes(), nil
}
