package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/app"
)

// The team dashboard (issue 10): server-rendered pages under /team/ for
// signed-in users, complete without JavaScript. Reading needs the viewer
// role; each action needs the role of teamRoutes (operator: apply and
// incident response; approver: approve) and is done through the
// application layer acting as the signed-in user (appFor), so that the
// plans, approvals, changes and audit entries name them. Actions are
// POST forms (the cross-origin check guards them) answered with a
// redirect to the page they changed (post/redirect/get), whose ?done=
// says what was done; a refusal re-renders the page with what the
// application layer said.

// The roles the dashboard's routes need (see internal/auth: each role
// includes those before it, and the Auth lists every role a user's
// rank includes).
const (
	roleViewer   = "viewer"
	roleOperator = "operator"
	roleApprover = "approver"
)

// maxFormBytes bounds a dashboard form (a postmortem's fields are the
// largest).
const maxFormBytes = 1 << 20

// applyStartWait bounds how long an apply request waits for the engine to
// record its change (its checks run first: the freshness read of the
// organization, recovery of an interrupted change).
const applyStartWait = 45 * time.Second

// team is what every dashboard page shows around its content: who is
// signed in, the current section, what the last action did and what a
// refused action said.
type team struct {
	User    User
	Section string // "org", "plans", "incidents", "audit"
	Done    string // catalog key of the message after an action
	Error   string // a refused action's reason
}

// Can reports whether the signed-in user holds role (the pages offer only
// the actions the user may take; the routes check again).
func (t team) Can(role string) bool { return t.User.HasRole(role) }

// doneMessages are the ?done= values the pages show, with their messages.
var doneMessages = map[string]string{
	"approved":  "team.done.approved",
	"ack":       "team.done.ack",
	"note":      "team.done.note",
	"state":     "team.done.state",
	"draft":     "team.done.draft",
	"drafts":    "team.done.drafts",
	"published": "team.done.published",
	"saved":     "team.done.saved",
}

// teamOf returns the frame of a dashboard page in section.
func teamOf(r *http.Request, section string) team {
	u, _ := UserFrom(r.Context())
	t := team{User: u, Section: section}
	if key, ok := doneMessages[r.URL.Query().Get("done")]; ok {
		t.Done = key
	}
	return t
}

// home sends /team/ to the plans.
func (s *Server) teamHome(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/team/plans", http.StatusSeeOther)
	return nil
}

// parseForm reads a POST form of at most maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("reading the form: %w", err)
		}
		return app.BadInput(fmt.Errorf("reading the form: %w", err))
	}
	return nil
}

// seeOther answers an action with a redirect to the page it changed,
// saying what was done.
func seeOther(w http.ResponseWriter, r *http.Request, path, done string) error {
	if done != "" {
		path += "?done=" + url.QueryEscape(done)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
	return nil
}

// refusal reports whether err is one a page shows beside the form that
// caused it (bad input, a refusal, a conflict with the state), with its
// status; anything else goes to fail.
func refusal(err error) (int, bool) {
	switch st := statusOf(err); st {
	case http.StatusBadRequest, http.StatusConflict:
		return st, true
	}
	return 0, false
}

// queryInt reads a non-negative integer query parameter (0 when absent).
func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, app.BadInput(fmt.Errorf("?%s=%q: want a non-negative integer", name, v))
	}
	return n, nil
}

// teamDuration formats d for people: "1h02m", "4m05s", "12s".
func teamDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	d = d.Round(time.Second)
	h, m, sec := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var out string
	switch {
	case h > 0:
		out = fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		out = fmt.Sprintf("%dm%02ds", m, sec)
	default:
		out = fmt.Sprintf("%ds", sec)
	}
	if neg {
		return "-" + out
	}
	return out
}

// shortHash abbreviates a hash for tables ("sha256:" dropped).
func shortHash(h string) string {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// detach returns a context that keeps ctx's values but not its deadline
// or cancellation: the apply a request starts outlives the request.
func detach(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
