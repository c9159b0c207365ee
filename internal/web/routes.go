package web

import "net/http"

// handlerFunc is a handler that returns its error instead of writing it:
// fail maps it to a status and a page or JSON body, in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one line of the route table: a ServeMux pattern (method and
// path, Go 1.22 syntax) and its handler.
type route struct {
	pattern string
	handle  handlerFunc
}

// teamRoute is a route only signed-in users reach: role names the role
// they need ("" for any signed-in user); see auth.go.
type teamRoute struct {
	route
	role string
}

// publicRoutes are reachable by anyone: the status page, its fragment,
// event stream and JSON, health checks and assets. Keep state-changing
// routes out of here unless anonymous use is the point (a sign-in form).
func (s *Server) publicRoutes() []route {
	return []route{
		{"GET /{$}", s.statusPage},
		{"GET /status/fragment", s.statusFragment},
		{"GET /status/events", s.statusEvents},
		{"GET /api/status", s.statusJSON},
		// The rest of the public status page: incident pages, history,
		// the Atom feed and the Statuspage-shaped JSON API.
		{"GET /incidents/{id}", s.statusIncident},
		{"GET /history", s.statusHistory},
		{"GET /history.atom", s.statusFeed},
		{"GET /api/v2/{doc...}", s.statusAPIDocument},
		{"GET /healthz", s.healthz},
		{"GET /readyz", s.readyz},
		{"GET /assets/{name...}", s.asset},
		// Signing in and out (login.go); the forms post to this origin.
		{"GET /signin", s.signInPage},
		{"POST /signin", s.signIn},
		{"POST /signout", s.signOut},
		{"GET /auth/oidc", s.oidcStart},
		{"GET /auth/oidc/callback", s.oidcCallback},
		// Anything else is a 404 page (methods not allowed on a known
		// path still get the mux's 405 with its Allow header).
		{"/", func(http.ResponseWriter, *http.Request) error { return errNotFound }},
	}
}

// teamRoutes need a signed-in user (Options.Auth). The dashboard goes
// here, under /team/ for pages and /api/ for JSON.
func (s *Server) teamRoutes() []teamRoute {
	return []teamRoute{
		{route{"GET /api/me", s.me}, ""},
		// Prometheus scrapes with an API token (bearer) of a viewer.
		{route{"GET /metrics", s.metrics}, "viewer"},

		// The team dashboard (dash*.go): reading needs a viewer, each
		// action the role that may take it.
		{route{"GET /team/{$}", s.teamHome}, roleViewer},
		{route{"GET /team/org", s.teamOrg}, roleViewer},
		{route{"GET /team/org/policies/{id}", s.teamPolicy}, roleViewer},
		{route{"GET /team/plans", s.teamPlans}, roleViewer},
		{route{"GET /team/plans/{id}", s.teamPlan}, roleViewer},
		{route{"POST /team/plans/{id}/approve", s.teamApprove}, roleApprover},
		{route{"POST /team/plans/{id}/apply", s.teamApply}, roleOperator},
		{route{"GET /team/changes/{id}", s.teamChange}, roleViewer},
		{route{"GET /team/changes/{id}/fragment", s.teamChangeFragment}, roleViewer},
		{route{"GET /team/changes/{id}/events", s.teamChangeEvents}, roleViewer},
		{route{"GET /team/incidents", s.teamIncidents}, roleViewer},
		{route{"GET /team/incidents/{id}", s.teamIncident}, roleViewer},
		{route{"POST /team/incidents/{id}/ack", s.teamIncidentAck()}, roleOperator},
		{route{"POST /team/incidents/{id}/note", s.teamIncidentNote()}, roleOperator},
		{route{"POST /team/incidents/{id}/state", s.teamIncidentState()}, roleOperator},
		{route{"POST /team/incidents/{id}/drafts", s.teamNoticeDrafts()}, roleOperator},
		{route{"POST /team/incidents/{id}/notices/{lang}", s.teamNoticeDraft()}, roleOperator},
		{route{"POST /team/incidents/{id}/publish", s.teamNoticePublish()}, roleOperator},
		{route{"GET /team/incidents/{id}/postmortem", s.teamPostmortem}, roleViewer},
		{route{"POST /team/incidents/{id}/postmortem", s.teamPostmortemSave}, roleOperator},
		{route{"GET /team/audit", s.teamAudit}, roleViewer},
	}
}

// mux builds the route table.
func (s *Server) mux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range s.publicRoutes() {
		mux.Handle(rt.pattern, s.handle(rt.handle))
	}
	for _, rt := range append(s.teamRoutes(), s.apiRoutes()...) {
		mux.Handle(rt.pattern, s.handle(s.requireUser(rt.role, rt.handle)))
	}
	return mux
}

// handle adapts a handlerFunc to http.Handler, sending its error to fail.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// metrics serves the Prometheus metrics (docs/metrics.md).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	s.o.App.Metrics().Handler().ServeHTTP(w, r)
	return nil
}
