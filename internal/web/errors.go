package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/store"
)

// Errors handlers return for conditions of the request itself.
var (
	errNotFound        = errors.New("not found")
	errUnauthenticated = errors.New("not signed in")
	errForbidden       = errors.New("not allowed for this user")
	errCrossOrigin     = errors.New("cross-origin request refused")
)

// statusOf maps a handler's error to an HTTP status. It is the only place
// that does: add a case here for a new kind of error.
func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	// Before ErrBadInput: the application layer marks a missing record
	// as the caller's input at fault.
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errUnauthenticated), errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized
	// Before ErrRefused, which internal/auth's refusals also match.
	case errors.Is(err, errForbidden), errors.Is(err, errCrossOrigin), errors.Is(err, auth.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, auth.ErrLocked):
		return http.StatusTooManyRequests
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, app.ErrBadInput), errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest
	// A guardrail or review-chain refusal, or state that moved under the
	// request: the request was understood and conflicts with the state.
	case errors.Is(err, app.ErrRefused), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrAlreadyExists), errors.Is(err, store.ErrLockHeld):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// fail writes err's response: the status from statusOf, and a page (or,
// for API requests, JSON) saying what went wrong in the visitor's
// language. The error's own text is shown only to signed-in users and
// only for 4xx statuses; a 5xx's detail is logged, never shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away; there is no one to answer
	}
	status := statusOf(err)
	if headerWritten(w) {
		// The response has started: only the log can hear of it.
		s.log.WarnContext(r.Context(), "request failed after its response started", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		s.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	if isAPIv1(r) {
		// The JSON API's own error body and codes (api.go).
		st, code := apiV1Status(err)
		s.apiError(w, r, st, code, err)
		return
	}
	if status == http.StatusUnauthorized {
		if signInFirst(r) {
			// A browser asking for a page: the sign-in page, then back.
			http.Redirect(w, r, signInURL(r.URL), http.StatusSeeOther)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgguard"`)
	}
	loc := s.localizer(w, r)
	msg := loc.T(errorKey(status))
	detail := ""
	if status < 500 && s.signedIn(r) {
		detail = err.Error()
	}
	if wantsJSON(r) {
		body := map[string]string{"error": msg}
		if detail != "" {
			body["detail"] = detail
		}
		writeJSON(w, status, body)
		return
	}
	data := errorPage{Status: status, Message: msg, Detail: detail}
	if rerr := s.render(w, r, status, "error", data); rerr != nil {
		s.log.ErrorContext(r.Context(), "rendering the error page", "err", rerr)
		http.Error(w, msg, status)
	}
}

// signedIn reports whether r comes from a signed-in user (on any route).
func (s *Server) signedIn(r *http.Request) bool {
	if _, ok := UserFrom(r.Context()); ok {
		return true
	}
	if s.o.Auth == nil {
		return false
	}
	_, ok := s.o.Auth.User(r)
	return ok
}

// errorPage is the error template's data.
type errorPage struct {
	Status  int
	Message string
	Detail  string
}

// errorKey is the catalog key of the message for status.
func errorKey(status int) string {
	switch status {
	case 400, 401, 403, 404, 409, 413:
		return "error." + strconv.Itoa(status)
	}
	if status < 500 {
		return "error.400"
	}
	return "error.500"
}

// wantsJSON reports whether r expects a JSON answer: the API and the
// health checks do, as does a client preferring application/json.
func wantsJSON(r *http.Request) bool {
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.HasPrefix(accept, "application/json")
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(append(body, '\n'))
	return err
}
