package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// provider starts a real OIDC provider on 127.0.0.1 (mockoidc: discovery,
// authorization, token and JWKS endpoints, RS256-signed ID tokens) and a
// Provider for it whose redirect URL is callback.
func provider(t *testing.T, callback string, now func() time.Time) (*mockoidc.MockOIDC, *Provider) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatalf("starting the OIDC provider: %v", err)
	}
	t.Cleanup(func() { m.Shutdown() })
	c := m.Config()
	p, err := New(t.Context(), Config{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		RedirectURL: callback, Scopes: []string{"openid", "email", "profile"}, Now: now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, p
}

// browser follows the login as a browser would: it opens the
// authorization URL and returns the query of the redirect to the callback.
func browser(t *testing.T, authURL string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("GET the authorization URL: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("the authorization endpoint answered %s, want a redirect to the callback", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

// TestAuthorizationCodeFlow runs the whole login over HTTP: an app server
// whose /login starts the flow (keeping it by a cookie) and whose
// /callback finishes it, a browser with a cookie jar that follows the
// redirects, and the provider.
func TestAuthorizationCodeFlow(t *testing.T) {
	var mu sync.Mutex
	flows := map[string]Flow{}
	var p *Provider
	var got Claims
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		u, f, err := p.Start()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		mu.Lock()
		flows[f.State] = f
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "flow", Value: f.State, HttpOnly: true, Path: "/"})
		http.Redirect(w, r, u, http.StatusFound)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie("flow")
		if err != nil {
			http.Error(w, "no flow", http.StatusBadRequest)
			return
		}
		mu.Lock()
		f := flows[ck.Value]
		delete(flows, ck.Value)
		mu.Unlock()
		c, err := p.Finish(r.Context(), f, r.URL.Query().Get("state"), r.URL.Query().Get("code"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got = c
		w.Write([]byte("welcome"))
	})
	app := httptest.NewServer(mux)
	defer app.Close()
	m, prov := provider(t, app.URL+"/callback", nil)
	p = prov
	m.QueueUser(&mockoidc.MockUser{Subject: "u-42", Email: "alice@example.com", EmailVerified: true, PreferredUsername: "alice"})

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	resp, err := c.Get(app.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the login ended with %s, want 200", resp.Status)
	}
	want := Claims{Issuer: m.Issuer(), Subject: "u-42", Email: "alice@example.com", EmailVerified: true, Username: "alice"}
	if got != want {
		t.Errorf("claims = %+v, want %+v", got, want)
	}
}

func TestFinishRefuses(t *testing.T) {
	const callback = "http://127.0.0.1:9/callback" // never contacted: the test plays the browser
	start := time.Now()
	clock := start
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	set := func(t time.Time) { mu.Lock(); clock = t; mu.Unlock() }
	m, p := provider(t, callback, now)
	ctx := context.Background()
	tests := []struct {
		name   string
		tamper func(f *Flow, q url.Values)
		at     time.Duration // the clock at Finish, after Start
		want   error
	}{
		{name: "another state", tamper: func(f *Flow, q url.Values) { q.Set("state", "forged") }, want: ErrFlow},
		{name: "no flow kept", tamper: func(f *Flow, q url.Values) { *f = Flow{} }, want: ErrFlow},
		{name: "a flow older than ten minutes", at: 11 * time.Minute, want: ErrFlow},
		{name: "another PKCE verifier", tamper: func(f *Flow, q url.Values) { f.Verifier = "x" + f.Verifier[1:] }, want: ErrFlow},
		{name: "another nonce", tamper: func(f *Flow, q url.Values) { f.Nonce = "other" }, want: ErrToken},
		{name: "no code", tamper: func(f *Flow, q url.Values) { q.Del("code") }, want: ErrFlow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set(start)
			u, f, err := p.Start()
			if err != nil {
				t.Fatal(err)
			}
			q := browser(t, u)
			if tt.tamper != nil {
				tt.tamper(&f, q)
			}
			set(start.Add(tt.at))
			c, err := p.Finish(ctx, f, q.Get("state"), q.Get("code"))
			if !errors.Is(err, tt.want) {
				t.Errorf("Finish = %+v, %v; want %v", c, err, tt.want)
			}
		})
	}
	t.Run("a code is used once", func(t *testing.T) {
		set(start)
		u, f, _ := p.Start()
		q := browser(t, u)
		if _, err := p.Finish(ctx, f, q.Get("state"), q.Get("code")); err != nil {
			t.Fatalf("first Finish = %v", err)
		}
		if _, err := p.Finish(ctx, f, q.Get("state"), q.Get("code")); !errors.Is(err, ErrFlow) {
			t.Errorf("second Finish with the same code = %v, want ErrFlow", err)
		}
	})
	t.Run("an expired ID token", func(t *testing.T) {
		// The provider issues tokens valid for AccessTTL; our clock is
		// past that when the token arrives.
		set(start.Add(2 * m.AccessTTL))
		u, f, _ := p.Start()
		q := browser(t, u)
		if _, err := p.Finish(ctx, f, q.Get("state"), q.Get("code")); !errors.Is(err, ErrToken) {
			t.Errorf("Finish with an expired token = %v, want ErrToken", err)
		}
	})
	t.Run("an unverified e-mail is reported as such", func(t *testing.T) {
		set(start)
		m.QueueUser(&mockoidc.MockUser{Subject: "u-7", Email: "mallory@example.com"})
		u, f, _ := p.Start()
		q := browser(t, u)
		c, err := p.Finish(ctx, f, q.Get("state"), q.Get("code"))
		if err != nil || c.Email != "mallory@example.com" || c.EmailVerified {
			t.Errorf("Finish = %+v, %v; want mallory's unverified e-mail", c, err)
		}
	})
}

func TestNewChecksTheIssuer(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	c := m.Config()
	_, err = New(t.Context(), Config{Issuer: c.Issuer + "/", ClientID: c.ClientID, RedirectURL: "http://127.0.0.1:9/cb"})
	if err == nil {
		t.Error("New with an issuer other than the discovered one succeeded")
	}
	if _, err := New(t.Context(), Config{Issuer: "http://127.0.0.1:1", ClientID: "x", RedirectURL: "http://127.0.0.1:9/cb"}); err == nil {
		t.Error("New with an unreachable issuer succeeded")
	}
}

func TestBoolClaim(t *testing.T) {
	for in, want := range map[string]bool{`true`: true, `"true"`: true, `false`: false, `"false"`: false, `null`: false} {
		var b Bool
		if err := json.Unmarshal([]byte(in), &b); err != nil || bool(b) != want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, b, err, want)
		}
	}
	var b Bool
	if err := json.Unmarshal([]byte(`"yes"`), &b); err == nil {
		t.Error(`Unmarshal("yes") succeeded`)
	}
}
