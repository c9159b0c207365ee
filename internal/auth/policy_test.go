package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSessionPolicy(t *testing.T) {
	p := DefaultSessionPolicy()
	login := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	s := SessionTimes{CreatedAt: login, LastSeenAt: login, ExpiresAt: login.Add(p.Lifetime)}
	tests := []struct {
		name string
		edit func(*SessionTimes)
		at   time.Time
		want SessionEnd
	}{
		{"a fresh session is live", nil, login.Add(time.Minute), SessionLive},
		{"29 idle minutes are fine", nil, login.Add(29 * time.Minute), SessionLive},
		{"30 idle minutes end it", nil, login.Add(30 * time.Minute), SessionIdle},
		{"activity keeps it alive", func(s *SessionTimes) { s.LastSeenAt = login.Add(11*time.Hour + 50*time.Minute) }, login.Add(11*time.Hour + 59*time.Minute), SessionLive},
		{"but never past the absolute lifetime", func(s *SessionTimes) { s.LastSeenAt = login.Add(11*time.Hour + 59*time.Minute) }, login.Add(12 * time.Hour), SessionExpired},
		{"a revoked session is over", func(s *SessionTimes) { s.RevokedAt = login.Add(time.Minute) }, login.Add(2 * time.Minute), SessionRevoked},
		{"a session from the future is refused", nil, login.Add(-time.Hour), SessionFuture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s
			if tt.edit != nil {
				tt.edit(&st)
			}
			if got := p.Check(st, tt.at); got != tt.want {
				t.Errorf("Check(at %s) = %q, want %q", tt.at.Sub(login), got, tt.want)
			}
		})
	}
	if p.NeedsTouch(s, login.Add(30*time.Second)) || !p.NeedsTouch(s, login.Add(time.Minute)) {
		t.Error("NeedsTouch should record the last-seen time at most once a minute")
	}
}

func TestLockoutDoubles(t *testing.T) {
	p := DefaultLockoutPolicy()
	want := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 16 * time.Hour, 24 * time.Hour, 24 * time.Hour}
	for prev, w := range want {
		if got := p.LockFor(prev); got != w {
			t.Errorf("LockFor(%d) = %s, want %s", prev, got, w)
		}
	}
	if p.LockFor(1000) != 24*time.Hour {
		t.Errorf("LockFor(1000) = %s, want the maximum", p.LockFor(1000))
	}
	if p.ThresholdFor(LockUser) != 5 || p.ThresholdFor(LockIP) != 20 {
		t.Errorf("thresholds = %d, %d; want 5, 20", p.ThresholdFor(LockUser), p.ThresholdFor(LockIP))
	}
	le := &LockedError{Scope: LockUser, Until: time.Date(2026, 6, 1, 9, 15, 0, 0, time.UTC)}
	if !errors.Is(le, ErrLocked) || !strings.Contains(le.Error(), "2026-06-01T09:15:00Z") {
		t.Errorf("LockedError = %q", le)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	oidc := func(edit func(*OIDCConfig)) func(*Config) {
		return func(c *Config) {
			c.OIDC = OIDCConfig{Issuer: "https://idp.example.com", ClientID: "orgguard", RedirectURL: "https://orgguard.example.com/auth/callback", DefaultRole: RoleViewer}
			if edit != nil {
				edit(&c.OIDC)
			}
		}
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" when valid
	}{
		{"OIDC with an issuer, a client and a callback", oidc(nil), ""},
		{"an http issuer on loopback (tests)", oidc(func(o *OIDCConfig) { o.Issuer = "http://127.0.0.1:5556" }), ""},
		{"auto-provisioning with a domain", oidc(func(o *OIDCConfig) { o.AutoProvision, o.AllowedDomains = true, []string{"example.com"} }), ""},
		{"weaker argon2 memory", func(c *Config) { c.Password.MemoryKiB = 4096 }, "auth.password.memoryKiB"},
		{"one iteration", func(c *Config) { c.Password.Iterations = 1 }, "auth.password.iterations"},
		{"short passwords", func(c *Config) { c.Password.MinLength = 6 }, "auth.password.minLength"},
		{"an idle timeout beyond the lifetime", func(c *Config) { c.Sessions.IdleTimeout = 13 * time.Hour }, "auth.sessions.idleTimeout"},
		{"no lockout threshold", func(c *Config) { c.Lockout.Threshold = 0 }, "auth.lockout.threshold"},
		{"a maximum lock below the lock", func(c *Config) { c.Lockout.MaxDuration = time.Minute }, "auth.lockout.maxDuration"},
		{"OIDC keys without an issuer", func(c *Config) { c.OIDC.ClientID = "x" }, "auth.oidc.issuer"},
		{"an http issuer elsewhere", oidc(func(o *OIDCConfig) { o.Issuer = "http://idp.example.com" }), "auth.oidc.issuer"},
		{"no client ID", oidc(func(o *OIDCConfig) { o.ClientID = "" }), "auth.oidc.clientID"},
		{"a literal client secret", oidc(func(o *OIDCConfig) { o.ClientSecret = "s3cr3t" }), "auth.oidc.clientSecret"},
		{"scopes without openid", oidc(func(o *OIDCConfig) { o.Scopes = []string{"email"} }), "auth.oidc.scopes"},
		{"auto-provisioning anyone", oidc(func(o *OIDCConfig) { o.AutoProvision = true }), "auth.oidc.allowedDomains"},
		{"auto-provisioning admins", oidc(func(o *OIDCConfig) {
			o.AutoProvision, o.AllowedDomains, o.DefaultRole = true, []string{"example.com"}, RoleAdmin
		}), "auth.oidc.defaultRole"},
		{"an unknown default role", oidc(func(o *OIDCConfig) { o.DefaultRole = "root" }), "auth.oidc.defaultRole"},
		{"a domain with an @", oidc(func(o *OIDCConfig) { o.AllowedDomains = []string{"bob@example.com"} }), "auth.oidc.allowedDomains[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error starting %q", err, tt.want)
			}
		})
	}
}

func TestDomainAllowed(t *testing.T) {
	c := OIDCConfig{AllowedDomains: []string{"Example.com", "@corp.example.org"}}
	for email, want := range map[string]bool{
		"alice@example.com":           true,
		"ALICE@EXAMPLE.COM":           true,
		"bob@corp.example.org":        true,
		"eve@example.com.attacker.io": false,
		"eve@sub.example.com":         false,
		"example.com":                 false,
		"eve@attacker.io@example.com": false,
		"@example.com":                false,
	} {
		if got := c.DomainAllowed(email); got != want {
			t.Errorf("DomainAllowed(%q) = %v, want %v", email, got, want)
		}
	}
}
