package auth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/orgguard/orgguard/internal/loopback"
)

// Config is the auth section of orgguard.yaml: the password policy and
// hash parameters, sessions, login throttling and, optionally, OpenID
// Connect login. See docs/auth.md.
type Config struct {
	Password PasswordConfig `yaml:"password" json:"password"`
	Sessions SessionPolicy  `yaml:"sessions" json:"sessions"`
	Lockout  LockoutPolicy  `yaml:"lockout" json:"lockout"`
	OIDC     OIDCConfig     `yaml:"oidc" json:"oidc"`
}

// PasswordConfig is the password policy and the argon2id parameters of new
// hashes. Raising a parameter rehashes each user's password at their next
// login.
type PasswordConfig struct {
	MinLength   int    `yaml:"minLength" json:"minLength"`
	MemoryKiB   uint32 `yaml:"memoryKiB" json:"memoryKiB"`
	Iterations  uint32 `yaml:"iterations" json:"iterations"`
	Parallelism uint8  `yaml:"parallelism" json:"parallelism"`
}

// Params returns the argon2id parameters the configuration chooses.
func (c PasswordConfig) Params() Params {
	p := DefaultParams()
	p.Memory, p.Iterations, p.Parallelism = c.MemoryKiB, c.Iterations, c.Parallelism
	return p
}

// OIDCConfig configures login through an OpenID Connect provider. It is
// off while Issuer is empty.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL (discovery is read from
	// Issuer/.well-known/openid-configuration).
	Issuer   string `yaml:"issuer" json:"issuer,omitempty"`
	ClientID string `yaml:"clientID" json:"clientID,omitempty"`
	// ClientSecret is a reference, env:NAME or file:PATH, never the secret
	// itself; empty for a public client (PKCE alone).
	ClientSecret string `yaml:"clientSecret" json:"-"`
	// RedirectURL is orgguard's callback URL registered with the provider.
	RedirectURL string `yaml:"redirectURL" json:"redirectURL,omitempty"`
	// Scopes asked for; empty means openid, email and profile.
	Scopes []string `yaml:"scopes" json:"scopes,omitempty"`
	// AutoProvision creates a user with DefaultRole on the first login of
	// a verified e-mail address of one of AllowedDomains that no user has;
	// off, such a login is refused.
	AutoProvision  bool     `yaml:"autoProvision" json:"autoProvision"`
	DefaultRole    Role     `yaml:"defaultRole" json:"defaultRole"`
	AllowedDomains []string `yaml:"allowedDomains" json:"allowedDomains,omitempty"`
}

// Enabled reports whether OIDC login is configured.
func (c OIDCConfig) Enabled() bool { return c.Issuer != "" }

// ScopeList returns the scopes to ask for.
func (c OIDCConfig) ScopeList() []string {
	if len(c.Scopes) == 0 {
		return []string{"openid", "email", "profile"}
	}
	return append([]string(nil), c.Scopes...)
}

// DomainAllowed reports whether email's domain is one of AllowedDomains
// (compared without case). An address without exactly one @ has none.
func (c OIDCConfig) DomainAllowed(email string) bool {
	at := strings.IndexByte(email, '@')
	if at < 1 || strings.Count(email, "@") != 1 {
		return false
	}
	domain := strings.ToLower(email[at+1:])
	for _, d := range c.AllowedDomains {
		if strings.ToLower(strings.TrimPrefix(d, "@")) == domain {
			return true
		}
	}
	return false
}

// DefaultConfig returns the defaults: OWASP's argon2id parameters, 12
// characters at least, 12-hour sessions idle out after 30 minutes, 5
// failures lock a user name for 15 minutes, OIDC off.
func DefaultConfig() Config {
	p := DefaultParams()
	return Config{
		Password: PasswordConfig{MinLength: DefaultMinPasswordLen, MemoryKiB: p.Memory, Iterations: p.Iterations, Parallelism: p.Parallelism},
		Sessions: DefaultSessionPolicy(),
		Lockout:  DefaultLockoutPolicy(),
		OIDC:     OIDCConfig{DefaultRole: RoleViewer},
	}
}

// Validate checks every key; each problem starts with its dotted key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	min := MinParams()
	pw := c.Password
	if pw.MinLength < 8 || pw.MinLength > 128 {
		add("auth.password.minLength: %d is outside 8 to 128", pw.MinLength)
	}
	if pw.MemoryKiB < min.Memory || pw.MemoryKiB > MaxMemoryKiB {
		add("auth.password.memoryKiB: %d is outside %d (OWASP's minimum) to %d", pw.MemoryKiB, min.Memory, MaxMemoryKiB)
	}
	if pw.Iterations < min.Iterations || pw.Iterations > MaxIterations {
		add("auth.password.iterations: %d is outside %d (OWASP's minimum) to %d", pw.Iterations, min.Iterations, MaxIterations)
	}
	if pw.Parallelism < 1 {
		add("auth.password.parallelism: must be at least 1")
	}
	if err := c.Sessions.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Lockout.Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.OIDC.validate()...)
	return errors.Join(errs...)
}

func (c OIDCConfig) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !c.DefaultRole.Valid() {
		add("auth.oidc.defaultRole: %q is not a role (viewer, operator, approver, admin)", c.DefaultRole)
	}
	if !c.Enabled() {
		if c.ClientID != "" || c.RedirectURL != "" || c.ClientSecret != "" || c.AutoProvision {
			add("auth.oidc.issuer: set it to turn OIDC login on, or remove the other auth.oidc keys")
		}
		return errs
	}
	if err := checkURL(c.Issuer); err != nil {
		add("auth.oidc.issuer: %v", err)
	}
	if c.ClientID == "" {
		add("auth.oidc.clientID: the client ID registered with the provider is required")
	}
	if err := checkURL(c.RedirectURL); err != nil {
		add("auth.oidc.redirectURL: %v", err)
	}
	if s := c.ClientSecret; s != "" && !(strings.HasPrefix(s, "env:") && len(s) > 4 || strings.HasPrefix(s, "file:") && len(s) > 5) {
		add("auth.oidc.clientSecret: must be env:NAME or file:PATH, never the secret itself")
	}
	hasOpenID := false
	for _, s := range c.ScopeList() {
		hasOpenID = hasOpenID || s == "openid"
	}
	if !hasOpenID {
		add("auth.oidc.scopes: must include openid")
	}
	if c.AutoProvision {
		if len(c.AllowedDomains) == 0 {
			add("auth.oidc.allowedDomains: autoProvision needs the e-mail domains whose users may be created (anyone with an account at the provider could sign in otherwise)")
		}
		if c.DefaultRole == RoleAdmin {
			add("auth.oidc.defaultRole: an automatically created user may not be an admin")
		}
	}
	for i, d := range c.AllowedDomains {
		d = strings.TrimPrefix(d, "@")
		if d == "" || strings.ContainsAny(d, "@/ ") || !strings.Contains(d, ".") {
			add("auth.oidc.allowedDomains[%d]: %q is not a domain name", i, c.AllowedDomains[i])
		}
	}
	return errs
}

// checkURL accepts https URLs, and http URLs on a loopback host (a
// provider or a server on the same machine, as in tests).
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback.Host(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: http is allowed on a loopback host only; use https", s)
	}
	return fmt.Errorf("%q: want an https URL", s)
}
