package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
)

// Auth says who signed a request in: a session cookie, an API token. The
// server never stores credentials itself; internal/auth implements this
// interface and is passed in Options.Auth.
type Auth interface {
	// User returns the signed-in user of r, or false when r carries no
	// valid credentials. It must not write to anything: the server
	// decides what an anonymous request gets (401 on team routes).
	User(r *http.Request) (User, bool)
}

// User is a signed-in user as the server sees it.
type User struct {
	// Name is who acts (identity.Parse-normalised): the application layer
	// acts as this user on team routes.
	Name string `json:"name"`
	// Roles are the user's roles. An Auth with ranked roles lists every
	// role the user's rank includes, so that HasRole is a plain lookup.
	Roles []string `json:"roles"`
	// principal, when the Auth is internal/auth's (authn.go), is who the
	// application layer acts for: its use cases check the role again.
	principal *auth.Principal
}

// HasRole reports whether u holds role; the empty role is held by every
// signed-in user.
func (u User) HasRole(role string) bool { return role == "" || slices.Contains(u.Roles, role) }

type userKey struct{}

// UserFrom returns the signed-in user of a team route's request.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// requireUser lets through requests signed in with role (any signed-in
// user when role is ""), with the user in the request's context.
func (s *Server) requireUser(role string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.o.Auth == nil {
			return errUnauthenticated
		}
		u, ok := s.o.Auth.User(r)
		if !ok {
			return errUnauthenticated
		}
		if !u.HasRole(role) {
			return fmt.Errorf("%w: this needs the %s role", errForbidden, role)
		}
		w.Header().Add("Cache-Control", "private, no-store")
		return h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	}
}

// appFor returns the application layer acting as the signed-in user of
// r (a team route's request).
func (s *Server) appFor(r *http.Request) (*app.App, error) {
	u, ok := UserFrom(r.Context())
	if !ok {
		return nil, errUnauthenticated
	}
	// Remote: a request names plans by stored ID only, never a file on
	// the server's disk (AsPrincipal views are remote already).
	if u.principal != nil {
		return s.o.App.AsPrincipal(*u.principal, nil)
	}
	v, err := s.o.App.As(u.Name, nil)
	if err != nil {
		return nil, err
	}
	return v.Remote(), nil
}

// me answers who the request is signed in as.
func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"name": a.Actor(), "roles": roles})
}
