package app

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/config"
)

// oidcWorld is a real OIDC provider on 127.0.0.1 and a configuration
// using it, the client secret passed through the environment.
func oidcWorld(t *testing.T, edit func(*config.Config)) (*mockoidc.MockOIDC, *App) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	mc := m.Config()
	c := authConfig(t, filepath.Join(t.TempDir(), "orgguard.db"))
	c.Auth.OIDC = auth.OIDCConfig{Issuer: mc.Issuer, ClientID: mc.ClientID, ClientSecret: "env:OIDC_SECRET",
		RedirectURL: "http://127.0.0.1:9/auth/oidc/callback", DefaultRole: auth.RoleViewer}
	if edit != nil {
		edit(c)
	}
	if err := c.Auth.Validate(); err != nil {
		t.Fatalf("the test configuration is invalid: %v", err)
	}
	a, err := New(Options{Config: c, Actor: "setup", Getenv: func(k string) string {
		if k == "OIDC_SECRET" {
			return mc.ClientSecret
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return m, a
}

// oidcLogin runs the whole flow: start, the browser at the provider (which
// logs user in and redirects to the callback), finish.
func oidcLogin(t *testing.T, a *App, m *mockoidc.MockOIDC, user *mockoidc.MockUser) (LoginResult, error) {
	t.Helper()
	ctx := context.Background()
	u, flow, err := a.OIDCStart(ctx)
	if err != nil {
		t.Fatalf("OIDCStart = %v", err)
	}
	m.QueueUser(user)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), "http://127.0.0.1:9/auth/oidc/callback?") {
		t.Fatalf("the provider redirected to %q, want the callback", resp.Header.Get("Location"))
	}
	return a.OIDCLogin(ctx, flow, loc.Query().Get("state"), loc.Query().Get("code"), "203.0.113.5")
}

func TestOIDCLogin(t *testing.T) {
	ctx := context.Background()
	m, a := oidcWorld(t, nil)
	if _, err := a.AddUser(ctx, NewUser{Name: "alice", Role: auth.RoleApprover, Email: "alice@example.com", NoPassword: true}); err != nil {
		t.Fatal(err)
	}
	res, err := oidcLogin(t, a, m, &mockoidc.MockUser{Subject: "u-1", Email: "Alice@Example.com", EmailVerified: true})
	if err != nil {
		t.Fatalf("OIDCLogin = %v", err)
	}
	if want := (auth.Principal{Name: "alice", Role: auth.RoleApprover, Method: auth.MethodOIDC}); res.Principal != want || res.Session.Method != "oidc" {
		t.Errorf("OIDCLogin = %+v, want %+v", res.Principal, want)
	}
	if p, err := a.SessionPrincipal(ctx, res.SessionID); err != nil || p.SessionLogin != auth.MethodOIDC {
		t.Errorf("SessionPrincipal = %+v, %v", p, err)
	}
	t.Run("a user without a password cannot log in with one", func(t *testing.T) {
		if _, err := a.Login(ctx, "alice", "", ""); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("Login = %v", err)
		}
	})
	refusals := []struct {
		name string
		user *mockoidc.MockUser
		want string
	}{
		{"an unverified e-mail address", &mockoidc.MockUser{Subject: "u-2", Email: "alice@example.com"}, "not verified"},
		{"no e-mail address", &mockoidc.MockUser{Subject: "u-3"}, "no usable e-mail"},
		{"an address no user has, without auto-provisioning", &mockoidc.MockUser{Subject: "u-4", Email: "bob@example.com", EmailVerified: true}, "no user has"},
	}
	for _, tt := range refusals {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			_, err := oidcLogin(t, a, m, tt.user)
			if !errors.Is(err, auth.ErrUnauthenticated) || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("OIDCLogin = %v, want ErrUnauthenticated saying %q", err, tt.want)
			}
		})
	}
	t.Run("a disabled user is refused", func(t *testing.T) {
		if _, err := a.AddUser(ctx, NewUser{Name: "root", Role: auth.RoleAdmin, Password: pw}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.DisableUser(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := oidcLogin(t, a, m, &mockoidc.MockUser{Subject: "u-1", Email: "alice@example.com", EmailVerified: true}); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("OIDCLogin of a disabled user = %v", err)
		}
	})
	t.Run("a forged state is refused", func(t *testing.T) {
		_, flow, err := a.OIDCStart(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.OIDCLogin(ctx, flow, "forged", "code", ""); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("OIDCLogin(forged state) = %v", err)
		}
	})
	got := strings.Join(auditActions(t, a), "\n")
	for _, w := range []string{"login.succeeded alice", "login.failed bob@example.com", "login.failed alice@example.com", "login.failed (unknown)"} {
		if !strings.Contains(got, w) {
			t.Errorf("the audit log has no %q entry:\n%s", w, got)
		}
	}
}

func TestOIDCAutoProvisioning(t *testing.T) {
	m, a := oidcWorld(t, func(c *config.Config) {
		c.Auth.OIDC.AutoProvision = true
		c.Auth.OIDC.AllowedDomains = []string{"example.com"}
		c.Auth.OIDC.DefaultRole = auth.RoleOperator
	})
	res, err := oidcLogin(t, a, m, &mockoidc.MockUser{Subject: "u-9", Email: "carol@example.com", EmailVerified: true})
	if err != nil {
		t.Fatalf("OIDCLogin = %v", err)
	}
	if res.Principal.Name != "carol@example.com" || res.Principal.Role != auth.RoleOperator {
		t.Errorf("a provisioned user = %+v, want carol@example.com as operator", res.Principal)
	}
	// The second login finds the user.
	if _, err := oidcLogin(t, a, m, &mockoidc.MockUser{Subject: "u-9", Email: "carol@example.com", EmailVerified: true}); err != nil {
		t.Errorf("second OIDCLogin = %v", err)
	}
	if _, err := oidcLogin(t, a, m, &mockoidc.MockUser{Subject: "u-10", Email: "mallory@example.org", EmailVerified: true}); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("OIDCLogin from another domain = %v, want it refused", err)
	}
	got := strings.Join(auditActions(t, a), "\n")
	if strings.Count(got, "user.provisioned carol@example.com") != 1 {
		t.Errorf("the audit log should record one provisioning:\n%s", got)
	}
}

func TestOIDCOff(t *testing.T) {
	a := open(t, testConfig(t), "alice")
	if a.OIDCEnabled() {
		t.Error("OIDCEnabled() with no issuer")
	}
	if _, _, err := a.OIDCStart(context.Background()); !errors.Is(err, ErrOIDCOff) || !errors.Is(err, ErrBadInput) {
		t.Errorf("OIDCStart = %v, want ErrOIDCOff", err)
	}
}
