package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
)

// The templates: layout.html defines "base", the page skeleton, which
// calls the blocks "title" and "content"; each file under pages/ is one
// page defining those blocks (and any fragment it serves alone). The
// other files beside layout.html hold templates several pages share (the
// team dashboard's navigation and tree); every page is parsed with them.
//
//go:embed templates
var templateFiles embed.FS

// parseTemplates parses each page with the layout, once. The functions
// every template may call: t (translate a catalog key, with fmt
// arguments), time (format a time.Time for the language), asset (the
// versioned URL of an asset), lang (the page's language code). t, time
// and lang are bound per request (render); the ones here only let the
// templates parse.
func parseTemplates(a *assets) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset": a.url,
		"t":     func(string, ...any) string { return "" },
		"time":  localizer{}.Time,
		"lang":  func() string { return "" },
	}
	names, err := fs.Glob(templateFiles, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("listing the page templates: %w", err)
	}
	shared, err := fs.Glob(templateFiles, "templates/*.html") // layout.html and the shared parts
	if err != nil {
		return nil, fmt.Errorf("listing the shared templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		t, err := template.New(path.Base(name)).Funcs(funcs).ParseFS(templateFiles, slices.Concat(shared, []string{name})...)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", name, err)
		}
		pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return pages, nil
}

// page is what every page template gets: the site's title, the
// request's language and path (for the language links), and the page's
// own data as .Data.
type page struct {
	Title string
	Lang  string
	Path  string
	Data  any
}

// render writes page name (its "base" template) with status and data in
// the request's language. The page is rendered to memory first, so a
// template error is a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	return s.renderTemplate(w, r, status, name, "base", data)
}

// renderFragment writes one named template of page name alone (a part
// of the page that an event stream makes the browser reload).
func (s *Server) renderFragment(w http.ResponseWriter, r *http.Request, name, fragment string, data any) error {
	return s.renderTemplate(w, r, http.StatusOK, name, fragment, data)
}

func (s *Server) renderTemplate(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, data any) error {
	base, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("rendering page %q: no such template", name)
	}
	loc := s.localizer(w, r)
	// The parsed templates are never executed themselves; each request
	// executes a clone bound to its language (cloning does not re-parse).
	t, err := base.Clone()
	if err != nil {
		return fmt.Errorf("rendering page %q: %w", name, err)
	}
	t.Funcs(template.FuncMap{"t": loc.T, "time": loc.Time, "lang": func() string { return loc.lang }})
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, page{Title: s.o.Title, Lang: loc.lang, Path: r.URL.Path, Data: data}); err != nil {
		return fmt.Errorf("rendering page %q: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	_, err = buf.WriteTo(w)
	return err
}
