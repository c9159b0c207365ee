package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
)

// TestSigningInWithTheRealAuth: the sign-in page, the session cookie,
// API tokens, sign-out and the lockout message, on users in the store.
func TestSigningInWithTheRealAuth(t *testing.T) {
	f := newDashFixture(t)
	users := newTestUsers(t, f.app, map[string]string{"alice": "operator", "bob": "approver", "victor": "viewer"})
	for _, tls := range []bool{false, true} {
		f.srv.o.Auth, f.srv.o.TLS = users, tls
		res, body := f.request(t, "", "POST", "/signin", url.Values{"name": {"alice"}, "password": {users.password("alice")}, "next": {"/team/org"}}, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/team/org" {
			t.Fatalf("signing in = %d to %q, want 303 to /team/org\n%s", res.StatusCode, res.Header.Get("Location"), body)
		}
		var c *http.Cookie
		for _, k := range res.Cookies() {
			if k.Name == SessionCookie {
				c = k
			}
		}
		if c == nil || !strings.HasPrefix(c.Value, "ogs_") || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != tls || c.Expires.IsZero() {
			t.Fatalf("with TLS %v the session cookie is %+v, want ogs_…, HttpOnly, SameSite=Lax, Path=/, Secure %v, expiring", tls, c, tls)
		}
		cookie := map[string]string{"Cookie": SessionCookie + "=" + c.Value}
		if res, body := f.request(t, "", "GET", "/team/plans", nil, cookie); res.StatusCode != 200 || !strings.Contains(body, `class="user">alice<`) {
			t.Errorf("the session cookie does not sign alice in: %d", res.StatusCode)
		}
		if res, _ := f.request(t, "", "POST", "/signout", url.Values{}, cookie); res.StatusCode != http.StatusSeeOther {
			t.Errorf("signing out = %d, want 303", res.StatusCode)
		}
		if res, _ := f.request(t, "", "GET", "/team/plans", nil, cookie); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("the session still works after signing out: %d", res.StatusCode)
		}
	}
	f.srv.o.TLS = false

	t.Run("a wrong password says nothing about the user", func(t *testing.T) {
		for _, name := range []string{"alice", "nobody"} {
			res, body := f.request(t, "", "POST", "/signin", url.Values{"name": {name}, "password": {"wrong password!"}}, nil)
			if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Unknown user name or wrong password.") {
				t.Errorf("a wrong password for %s = %d, want 401 with the one message\n%s", name, res.StatusCode, body)
			}
		}
	})
	t.Run("after too many failures the page says until when", func(t *testing.T) {
		var res *http.Response
		var body string
		for range auth.DefaultLockoutPolicy().Threshold + 1 {
			res, body = f.request(t, "", "POST", "/signin", url.Values{"name": {"bob"}, "password": {"guess guess guess"}}, nil)
		}
		if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "signing in is refused until") {
			t.Errorf("after the threshold = %d, want 429 saying until when\n%s", res.StatusCode, body)
		}
		res, _ = f.request(t, "", "POST", "/signin", url.Values{"name": {"bob"}, "password": {users.password("bob")}}, nil)
		if res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("the right password while locked = %d, want 429", res.StatusCode)
		}
	})
	t.Run("an API token signs a script in with its role", func(t *testing.T) {
		tok, err := f.app.CreateToken(context.Background(), app.TokenRequest{Name: "ci", Owner: "victor"})
		if err != nil {
			t.Fatal(err)
		}
		bearer := map[string]string{"Authorization": "Bearer " + tok.Secret}
		if res, body := f.request(t, "", "GET", "/api/me", nil, bearer); res.StatusCode != 200 || !strings.Contains(body, `"name":"victor"`) || !strings.Contains(body, `"roles":["viewer"]`) {
			t.Errorf("GET /api/me with victor's token = %d %s", res.StatusCode, body)
		}
		if res, _ := f.request(t, "", "POST", "/team/plans/"+f.plan.ID+"/approve", url.Values{}, bearer); res.StatusCode != http.StatusForbidden {
			t.Errorf("a viewer's token approving = %d, want 403", res.StatusCode)
		}
		bad := map[string]string{"Authorization": "Bearer ogt_not-a-token"}
		if res, _ := f.request(t, "", "GET", "/api/me", nil, bad); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("a bad token = %d, want 401", res.StatusCode)
		}
	})
	t.Run("the application layer checks the role again", func(t *testing.T) {
		// A route that let a viewer through would still be refused by the
		// use case, acting for the principal.
		u, ok := users.User(requestWithToken(t, f, "victor"))
		if !ok {
			t.Fatal("victor's token signs nobody in")
		}
		v, err := f.app.AsPrincipal(*u.principal, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Approve(context.Background(), f.plan.ID, ""); statusOf(err) != http.StatusForbidden {
			t.Errorf("Approve as a viewer = %v (status %d), want 403", err, statusOf(err))
		}
		if err := v.NoteIncident(context.Background(), "incident-nope", "x"); statusOf(err) != http.StatusForbidden {
			t.Errorf("NoteIncident as a viewer = %v (status %d), want 403", err, statusOf(err))
		}
	})
}

// requestWithToken returns a request carrying a new API token of user.
func requestWithToken(t *testing.T, f *dashFixture, user string) *http.Request {
	t.Helper()
	tok, err := f.app.CreateToken(context.Background(), app.TokenRequest{Name: "t-" + user, Owner: user})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequestWithContext(context.Background(), "GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok.Secret)
	return r
}
