// Package web is orgguard's HTTP server (`orgguard serve`): the public
// status page now, the team dashboard and its API as they are built.
//
// A Server is made once with New: it parses its templates, loads its
// message catalogs and hashes its assets then; the only state it keeps
// besides is the public status it serves from memory (statuscache.go).
// Handler returns the whole http.Handler: the route table (routes.go)
// behind the middleware every response goes through (security headers,
// cross-origin protection, panic recovery, request logging). Handlers
// return errors; one function (fail, in errors.go) maps them to a status
// and a page or a JSON body. ListenAndServe runs a handler with explicit
// timeouts and shuts it down gracefully when its context ends.
//
// The package reads and changes state only through internal/app; it never
// opens a store or a backend itself.
package web

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/text/language"

	"github.com/orgguard/orgguard/internal/app"
)

// Options configure a Server.
type Options struct {
	// App is the application layer every handler reads and acts through.
	// Team routes act as the signed-in user (App.As).
	App *app.App
	// Log receives one record per request and the detail of every
	// internal error; nil discards.
	Log *slog.Logger
	// Auth says who signed a request in; nil means nobody ever is (team
	// routes answer 401). See auth.go.
	Auth Auth
	// TLS says the server is reached over HTTPS: responses carry
	// Strict-Transport-Security and cookies are Secure.
	TLS bool
	// PublicURL, when set, is the URL people reach the server at (behind
	// a reverse proxy): its origin is trusted for state-changing requests.
	// Empty means server.publicURL from the configuration.
	PublicURL string
	// Title heads the status page; empty means server.title.
	Title string
	// Heartbeat is how often an idle event stream sends a comment so that
	// proxies keep it open; 0 means 15s.
	Heartbeat time.Duration
	// Poll is how often event streams re-read what they watch; 0 means 5s.
	Poll time.Duration
	// Team, when set (team mode), is this replica's leadership: /healthz
	// and /readyz report whether it leads and the lease epoch, and
	// /healthz answers 503 when its elector is stuck.
	Team *app.Team
}

// Server serves orgguard over HTTP. Make it with New.
type Server struct {
	o        Options
	log      *slog.Logger
	pages    map[string]*template.Template
	assets   *assets
	messages catalog
	matcher  language.Matcher
	zone     *time.Location
	csrf     *http.CrossOriginProtection
	handler  http.Handler

	// The public status, served from memory (statuscache.go).
	statusOnce sync.Once
	status     *statusCache
}

// New checks o, parses the templates, loads the message catalogs and
// builds the handler.
func New(o Options) (*Server, error) {
	if o.App == nil {
		return nil, errors.New("making the web server: Options.App is nil")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	cfg := o.App.Config().Server
	if o.PublicURL == "" {
		o.PublicURL = cfg.PublicURL
	}
	if o.Title == "" {
		o.Title = cfg.Title
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	s := &Server{o: o, log: o.Log, csrf: http.NewCrossOriginProtection(), matcher: language.NewMatcher(languages)}
	var err error
	if s.zone, err = time.LoadLocation(o.App.Config().Notices.TimeZone); err != nil {
		return nil, fmt.Errorf("making the web server: notices.timeZone: %w", err)
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.messages, err = loadCatalog(); err != nil {
		return nil, err
	}
	if s.pages, err = parseTemplates(s.assets); err != nil {
		return nil, err
	}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("making the web server: public URL %q is not an absolute URL", o.PublicURL)
		}
		if err := s.csrf.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("trusting the origin of %s: %w", o.PublicURL, err)
		}
	}
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errCrossOrigin)
	}))
	s.handler = s.middleware(s.mux())
	return s, nil
}

// Handler returns the server's handler: every route behind the
// middleware.
func (s *Server) Handler() http.Handler { return s.handler }
