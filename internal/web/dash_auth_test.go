package web

import (
	"context"
	"testing"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
)

// testUsers is the server's real Auth (authn.go) over users added to the
// store through the application layer, with their passwords for the
// tests to type.
type testUsers struct {
	*Authn
	pw map[string]string
}

// newTestUsers adds a user of each role named (name -> role) to a's
// store.
func newTestUsers(t *testing.T, a *app.App, roles map[string]string) *testUsers {
	t.Helper()
	u := &testUsers{Authn: NewAuthn(a, nil), pw: map[string]string{}}
	for name, role := range roles {
		pw := "correct horse battery staple " + name
		if _, err := a.AddUser(context.Background(), app.NewUser{Name: name, Role: auth.Role(role), Password: pw}); err != nil {
			t.Fatalf("AddUser(%s) = %v", name, err)
		}
		u.pw[name] = pw
	}
	return u
}

func (u *testUsers) password(name string) string { return u.pw[name] }
