package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/config"
)

// TestSigningInWithOIDC runs the whole OpenID Connect sign-in against a
// provider on 127.0.0.1: the button, the provider, the callback, the
// session.
func TestSigningInWithOIDC(t *testing.T) {
	ctx := context.Background()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	mc := m.Config()
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	base := "http://" + srv.Listener.Addr().String()
	cfg := config.Defaults()
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	cfg.Auth.OIDC = auth.OIDCConfig{Issuer: mc.Issuer, ClientID: mc.ClientID, ClientSecret: "env:OIDC_SECRET",
		RedirectURL: base + "/auth/oidc/callback", DefaultRole: auth.RoleViewer}
	a, err := app.New(app.Options{Config: &cfg, Actor: "setup", Getenv: func(k string) string {
		if k == "OIDC_SECRET" {
			return mc.ClientSecret
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.AddUser(ctx, app.NewUser{Name: "alice", Role: auth.RoleApprover, Email: "alice@example.com", NoPassword: true}); err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServer(t, Options{App: a, Auth: NewAuthn(a, nil)})
	srv.Config.Handler = s.Handler()
	srv.Start()

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if _, body := get("/signin"); !strings.Contains(body, `href="/auth/oidc"`) || !strings.Contains(body, "Sign in with 127.0.0.1:") {
		t.Fatalf("the sign-in page offers no OIDC button:\n%s", body)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "u-1", Email: "alice@example.com", EmailVerified: true})
	res, body := get("/auth/oidc") // → provider → callback → /team/ → /team/plans
	if res.StatusCode != 200 || res.Request.URL.Path != "/team/plans" || !strings.Contains(body, `class="user">alice<`) {
		t.Fatalf("after the OIDC sign-in: %d at %s\n%s", res.StatusCode, res.Request.URL, body)
	}
	t.Run("a callback without the flow cookie is refused", func(t *testing.T) {
		res, err := http.Get(base + "/auth/oidc/callback?state=x&code=y")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "did not complete") {
			t.Errorf("a forged callback = %d, want 401 saying the sign-in did not complete\n%s", res.StatusCode, b)
		}
	})
}
