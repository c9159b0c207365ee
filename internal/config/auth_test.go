package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/auth"
)

func TestAuthSection(t *testing.T) {
	t.Run("defaults apply without an auth section", func(t *testing.T) {
		c, err := Parse([]byte("store: x.db\n"), "orgguard.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if c.Auth.Password.MemoryKiB != 19456 || c.Auth.Sessions.IdleTimeout != 30*time.Minute || c.Auth.Lockout.Threshold != 5 || c.Auth.OIDC.Enabled() {
			t.Errorf("Auth = %+v, want the defaults", c.Auth)
		}
	})
	t.Run("a full section is read", func(t *testing.T) {
		doc := `auth:
  password:
    minLength: 16
    memoryKiB: 65536
    iterations: 3
    parallelism: 4
  sessions:
    lifetime: 8h
    idleTimeout: 15m
  lockout:
    threshold: 3
    ipThreshold: 0
    window: 10m
    duration: 5m
    maxDuration: 1h
  oidc:
    issuer: https://login.example.com
    clientID: orgguard
    clientSecret: env:OIDC_SECRET
    redirectURL: https://orgguard.example.com/auth/oidc/callback
    autoProvision: true
    defaultRole: operator
    allowedDomains: [example.com]
`
		c, err := Parse([]byte(doc), "orgguard.yaml")
		if err != nil {
			t.Fatal(err)
		}
		a := c.Auth
		if a.Password.Params() != (auth.Params{Memory: 65536, Iterations: 3, Parallelism: 4, SaltLen: 16, KeyLen: 32}) || a.Password.MinLength != 16 ||
			a.Sessions.Lifetime != 8*time.Hour || a.Lockout.IPThreshold != 0 || a.OIDC.DefaultRole != auth.RoleOperator ||
			a.OIDC.ClientSecret != "env:OIDC_SECRET" || !a.OIDC.AutoProvision || len(a.OIDC.AllowedDomains) != 1 {
			t.Errorf("Auth = %+v", a)
		}
	})
	for _, tc := range []struct{ name, doc, want string }{
		{"argon2 below OWASP's minimum", "auth:\n  password:\n    memoryKiB: 8192\n", "orgguard.yaml:3:16: auth.password.memoryKiB"},
		{"a secret written in the file", "auth:\n  oidc:\n    issuer: https://idp.example.com\n    clientID: x\n    redirectURL: https://o.example.com/cb\n    clientSecret: hunter2hunter2\n", "auth.oidc.clientSecret: must be env:NAME"},
		{"an unknown role", "auth:\n  oidc:\n    defaultRole: root\n", "auth.oidc.defaultRole"},
		{"an unknown key", "auth:\n  sessions:\n    lifetme: 1h\n", "unknown key"},
		{"a duration that is not one", "auth:\n  lockout:\n    window: soon\n", "auth.lockout.window"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "orgguard.yaml")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
