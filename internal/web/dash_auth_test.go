package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
)

// testUsers is an Auth that signs people in with a password and a
// session cookie, for the browser test until internal/auth is wired.
type testUsers struct {
	mu       sync.Mutex
	roles    map[string][]string
	pw       map[string]string
	sessions map[string]string // cookie value -> user name
}

// ranked lists the roles a rank includes.
var ranked = map[string][]string{
	"viewer":   {"viewer"},
	"operator": {"viewer", "operator"},
	"approver": {"viewer", "operator", "approver"},
	"admin":    {"viewer", "operator", "approver", "admin"},
}

func newTestUsers(t *testing.T, _ *app.App, roles map[string]string) *testUsers {
	t.Helper()
	u := &testUsers{roles: map[string][]string{}, pw: map[string]string{}, sessions: map[string]string{}}
	for name, role := range roles {
		u.roles[name] = ranked[role]
		u.pw[name] = "correct horse " + name
	}
	return u
}

func (u *testUsers) password(name string) string { return u.pw[name] }

func (u *testUsers) User(r *http.Request) (User, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return User{}, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	name, ok := u.sessions[c.Value]
	if !ok {
		return User{}, false
	}
	return User{Name: name, Roles: u.roles[name]}, true
}

func (u *testUsers) signIn(_ context.Context, name, password, _ string) (string, time.Time, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if pw, ok := u.pw[name]; !ok || pw != password {
		return "", time.Time{}, errSignInFailed
	}
	id := fmt.Sprintf("ogs_test_%d", len(u.sessions)+1)
	u.sessions[id] = name
	return id, time.Now().Add(time.Hour), nil
}

func (u *testUsers) signOut(_ context.Context, session string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.sessions, session)
	return nil
}

func (u *testUsers) oidc() (string, bool) { return "", false }

func (u *testUsers) oidcStart(context.Context) (string, string, time.Duration, error) {
	return "", "", 0, errNotFound
}

func (u *testUsers) oidcFinish(context.Context, string, string, string, string) (string, time.Time, error) {
	return "", time.Time{}, errNotFound
}
