package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The sign-in and sign-out pages. They work with an Options.Auth that can
// sign people in (signer): the Auth of authn.go, on internal/auth through
// the application layer. Signing in sets the session cookie; every later
// request carries it and the Auth finds the user behind it.

// SessionCookie is the name of the session cookie: HttpOnly, SameSite=Lax,
// Path=/, Secure when the server is reached over TLS.
const SessionCookie = "orgguard_session"

// oidcFlowCookie keeps an OpenID Connect sign-in's state, nonce and PKCE
// verifier between the redirect to the provider and its callback.
const oidcFlowCookie = "orgguard_oidc"

// signer is what the sign-in pages need from Options.Auth.
type signer interface {
	// signIn checks a user name and password from client (the remote
	// address) and starts a session: its cookie value and end.
	signIn(ctx context.Context, name, password, client string) (session string, ends time.Time, err error)
	// signOut ends the session whose cookie value is session.
	signOut(ctx context.Context, session string) error
	// oidc says whether OpenID Connect sign-in is configured and names
	// the provider for its button.
	oidc() (provider string, ok bool)
	// oidcStart begins an OpenID Connect sign-in: the provider's URL to
	// send the browser to and the flow to keep until the callback.
	oidcStart(ctx context.Context) (redirect, flow string, maxAge time.Duration, err error)
	// oidcFinish completes it from the callback's state and code; a
	// refusal other than a lockout is shown as one message.
	oidcFinish(ctx context.Context, flow, state, code, client string) (session string, ends time.Time, err error)
}

// errSignInFailed is every refusal of credentials (the page never says
// whether the user exists).
var errSignInFailed = errors.New("unknown user name or wrong password")

// lockedOutError refuses signing in until a time (too many failures for
// the name or the client address).
type lockedOutError struct{ until time.Time }

func (e *lockedOutError) Error() string {
	return "signing in is refused until " + e.until.UTC().Format(time.RFC3339)
}

// signInFirst reports whether an unauthenticated request should be sent
// to the sign-in page instead of answered 401: a browser asking for a
// page (Accept names text/html) with GET.
func signInFirst(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && !wantsJSON(r) &&
		strings.Contains(r.Header.Get("Accept"), "text/html")
}

// signInURL is the sign-in page that leads back to u.
func signInURL(u *url.URL) string {
	return "/signin?next=" + url.QueryEscape(u.RequestURI())
}

// safeNext returns next when it is a path on this site, else the
// dashboard: the sign-in page never redirects elsewhere.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) ||
		strings.ContainsAny(next, "\r\n") {
		return "/team/"
	}
	return next
}

// loginView is the sign-in page's data.
type loginView struct {
	Next      string
	Name      string
	Message   string // what went wrong, in the visitor's language
	Info      string // a catalog key: signed out, session ended
	Available bool   // the server can sign people in
	OIDC      string // the OpenID Connect provider's name, when configured
}

func (s *Server) loginView(r *http.Request) loginView {
	v := loginView{Next: safeNext(r.FormValue("next"))}
	sg, ok := s.o.Auth.(signer)
	v.Available = ok
	if ok {
		if name, on := sg.oidc(); on {
			v.OIDC = name
		}
	}
	switch r.URL.Query().Get("done") {
	case "signedout":
		v.Info = "login.signedOut"
	}
	return v
}

// signInPage shows the sign-in form (or, to a signed-in user, goes on to
// where they were going).
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) error {
	v := s.loginView(r)
	if s.signedIn(r) {
		http.Redirect(w, r, v.Next, http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "login", v)
}

// signIn checks the form's user name and password and starts a session.
// A refusal shows the form again: the same message whatever was wrong,
// or until when a lockout refuses signing in.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	v := s.loginView(r)
	sg, ok := s.o.Auth.(signer)
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		return s.render(w, r, http.StatusNotFound, "login", v)
	}
	v.Name = strings.TrimSpace(r.PostFormValue("name"))
	session, ends, err := sg.signIn(r.Context(), v.Name, r.PostFormValue("password"), r.RemoteAddr)
	if err != nil {
		status, msg, ok := s.signInRefusal(w, r, err)
		if !ok {
			return err
		}
		v.Message = msg
		w.Header().Set("Cache-Control", "no-store")
		return s.render(w, r, status, "login", v)
	}
	s.setSession(w, session, ends)
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
	return nil
}

// signInRefusal maps a refused sign-in to its status and message.
func (s *Server) signInRefusal(w http.ResponseWriter, r *http.Request, err error) (int, string, bool) {
	loc := s.localizer(w, r)
	var locked *lockedOutError
	switch {
	case errors.As(err, &locked):
		return http.StatusTooManyRequests, loc.T("login.locked", loc.Time(locked.until)), true
	case errors.Is(err, errSignInFailed):
		return http.StatusUnauthorized, loc.T("login.failed"), true
	}
	return 0, "", false
}

// setSession sets the session cookie.
func (s *Server) setSession(w http.ResponseWriter, session string, ends time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: session, Path: "/", Expires: ends,
		HttpOnly: true, Secure: s.o.TLS, SameSite: http.SameSiteLaxMode})
}

// signOut ends the session and clears its cookie.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if sg, ok := s.o.Auth.(signer); ok {
			if err := sg.signOut(r.Context(), c.Value); err != nil {
				return err
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.o.TLS, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/signin?done=signedout", http.StatusSeeOther)
	return nil
}

// oidcStart sends the browser to the OpenID Connect provider, keeping
// the flow in a short-lived cookie for the callback.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) error {
	sg, ok := s.o.Auth.(signer)
	if !ok {
		return errNotFound
	}
	if _, on := sg.oidc(); !on {
		return errNotFound
	}
	redirect, flow, maxAge, err := sg.oidcStart(r.Context())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: oidcFlowCookie, Value: flow, Path: "/auth/oidc", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: s.o.TLS, SameSite: http.SameSiteLaxMode})
	// The callback goes to the dashboard (no page to return to travels
	// through the provider).
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, redirect, http.StatusFound)
	return nil
}

// oidcCallback completes an OpenID Connect sign-in. It changes state on a
// GET, as the protocol requires; the state parameter and the flow cookie
// bind it to the browser that started it.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	sg, ok := s.o.Auth.(signer)
	if !ok {
		return errNotFound
	}
	if _, on := sg.oidc(); !on {
		return errNotFound
	}
	http.SetCookie(w, &http.Cookie{Name: oidcFlowCookie, Value: "", Path: "/auth/oidc", MaxAge: -1,
		HttpOnly: true, Secure: s.o.TLS, SameSite: http.SameSiteLaxMode})
	v := s.loginView(r)
	flow := ""
	if c, err := r.Cookie(oidcFlowCookie); err == nil {
		flow = c.Value
	}
	q := r.URL.Query()
	session, ends, err := sg.oidcFinish(r.Context(), flow, q.Get("state"), q.Get("code"), r.RemoteAddr)
	if err != nil {
		var locked *lockedOutError
		status, msg, ok := s.signInRefusal(w, r, err)
		if !errors.As(err, &locked) {
			ok = false // not the password page's message
		}
		if !ok {
			// The provider's or the token's fault: logged, not shown to
			// someone not signed in.
			s.log.InfoContext(r.Context(), "OpenID Connect sign-in failed", "err", err)
			status, msg = http.StatusUnauthorized, s.localizer(w, r).T("login.oidcFailed")
		}
		v.Message = msg
		w.Header().Set("Cache-Control", "no-store")
		return s.render(w, r, status, "login", v)
	}
	s.setSession(w, session, ends)
	http.Redirect(w, r, "/team/", http.StatusSeeOther)
	return nil
}
