package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/auth/oidc"
)

// Authn is the server's Auth on internal/auth, through the application
// layer: a request is signed in by its session cookie (SessionCookie, set
// by the sign-in page) or by an API token (Authorization: Bearer ogt_…).
// It also signs people in and out for the sign-in pages. Make it with
// NewAuthn and pass it as Options.Auth.
type Authn struct {
	app *app.App
	log *slog.Logger
}

// NewAuthn returns the Auth of the users of a's store; log receives why
// credentials were refused (at debug level) and failures to check them.
func NewAuthn(a *app.App, log *slog.Logger) *Authn {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Authn{app: a, log: log}
}

// User returns who r is signed in as: the bearer token when r carries an
// Authorization header (a bad token signs nothing in, whatever cookie
// comes with it), else the session cookie.
func (x *Authn) User(r *http.Request) (User, bool) {
	var (
		p   auth.Principal
		err error
	)
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return User{}, false
		}
		p, err = x.app.TokenPrincipal(r.Context(), strings.TrimSpace(token))
	} else {
		c, cerr := r.Cookie(SessionCookie)
		if cerr != nil || c.Value == "" {
			return User{}, false
		}
		p, err = x.app.SessionPrincipal(r.Context(), c.Value)
	}
	if err != nil {
		level := slog.LevelDebug
		if !errors.Is(err, auth.ErrUnauthenticated) {
			level = slog.LevelWarn // the store, not the credentials
		}
		x.log.Log(r.Context(), level, "credentials refused", "path", r.URL.Path, "err", err)
		return User{}, false
	}
	return userOf(p), true
}

// userOf is the server's view of a principal: its name and every role its
// rank includes.
func userOf(p auth.Principal) User {
	u := User{Name: p.Name, principal: &p}
	for _, r := range p.Role.Implied() {
		u.Roles = append(u.Roles, string(r))
	}
	return u
}

// signIn is app.Login; every refusal of the credentials is one error.
func (x *Authn) signIn(ctx context.Context, name, password, client string) (string, time.Time, error) {
	res, err := x.app.Login(ctx, name, password, client)
	if err != nil {
		return "", time.Time{}, signInError(err)
	}
	return res.SessionID, res.Session.ExpiresAt, nil
}

// signInError maps internal/auth's refusals to the sign-in page's.
func signInError(err error) error {
	var locked *auth.LockedError
	switch {
	case errors.As(err, &locked):
		return &lockedOutError{until: locked.Until}
	case errors.Is(err, auth.ErrUnauthenticated):
		return fmt.Errorf("%w: %w", errSignInFailed, err)
	}
	return err
}

func (x *Authn) signOut(ctx context.Context, session string) error { return x.app.Logout(ctx, session) }

// oidc names the provider by its issuer's host.
func (x *Authn) oidc() (string, bool) {
	if !x.app.OIDCEnabled() {
		return "", false
	}
	iss := x.app.Config().Auth.OIDC.Issuer
	if u, err := url.Parse(iss); err == nil && u.Host != "" {
		return u.Host, true
	}
	return iss, true
}

// oidcStart begins an OIDC sign-in; the flow travels in its cookie as
// base64url JSON.
func (x *Authn) oidcStart(ctx context.Context) (string, string, time.Duration, error) {
	redirect, f, err := x.app.OIDCStart(ctx)
	if err != nil {
		return "", "", 0, err
	}
	b, err := json.Marshal(f)
	if err != nil {
		return "", "", 0, fmt.Errorf("encoding the OIDC flow: %w", err)
	}
	return redirect, base64.RawURLEncoding.EncodeToString(b), oidc.MaxFlowAge, nil
}

// oidcFinish completes an OIDC sign-in from the flow cookie and the
// callback's state and code.
func (x *Authn) oidcFinish(ctx context.Context, flow, state, code, client string) (string, time.Time, error) {
	var f oidc.Flow
	b, err := base64.RawURLEncoding.DecodeString(flow)
	if err != nil || json.Unmarshal(b, &f) != nil {
		return "", time.Time{}, errors.New("finishing the OIDC sign-in: its cookie is missing or damaged")
	}
	res, err := x.app.OIDCLogin(ctx, f, state, code, client)
	var locked *auth.LockedError
	if errors.As(err, &locked) {
		return "", time.Time{}, &lockedOutError{until: locked.Until}
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("finishing the OIDC sign-in: %w", err)
	}
	return res.SessionID, res.Session.ExpiresAt, nil
}
