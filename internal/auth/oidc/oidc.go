// Package oidc logs users in through an OpenID Connect provider with the
// authorization code flow, state, nonce and PKCE (S256), and returns the
// verified claims of the ID token. It is the one part of orgguard's auth
// that speaks HTTP (to the provider); which local user the claims map to
// is decided by the application layer (internal/app, users.go).
//
// A login has two halves. Start returns the provider's authorization URL
// to send the browser to, and a Flow to keep until the browser comes back
// (the web server keeps it in a short-lived, HttpOnly cookie or on the
// server). Finish takes the Flow and the callback's state and code,
// checks the state, exchanges the code (with the PKCE verifier) at the
// provider's token endpoint, verifies the ID token (signature, issuer,
// audience, expiry, nonce) and returns its claims.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Sentinel errors callers test with errors.Is.
var (
	// ErrFlow: the callback does not belong to the login started (another
	// state, an expired or missing flow) or the provider returned an
	// error instead of a code. The login must start again.
	ErrFlow = errors.New("the OIDC login does not match the one started")
	// ErrToken: the provider's answer is not an ID token for this client
	// that verifies (signature, issuer, audience, expiry, nonce).
	ErrToken = errors.New("the OIDC ID token does not verify")
)

// MaxFlowAge bounds the time between Start and Finish.
const MaxFlowAge = 10 * time.Minute

// Config configures a Provider.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string // the secret itself (resolved), "" for a public client
	RedirectURL  string
	Scopes       []string // must include "openid"
	// HTTPClient talks to the provider; nil means a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// Now is the clock (flow age, token expiry); nil means time.Now.
	Now func() time.Time
}

// Provider is a configured OIDC provider. It is safe for concurrent use.
type Provider struct {
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	client   *http.Client
	now      func() time.Time
}

// New reads the provider's discovery document (Issuer/.well-known/
// openid-configuration) and returns a Provider. The document's issuer must
// be Issuer exactly.
func New(ctx context.Context, c Config) (*Provider, error) {
	if c.Issuer == "" || c.ClientID == "" || c.RedirectURL == "" {
		return nil, errors.New("setting up OIDC login: the issuer, client ID and redirect URL are required")
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, c.HTTPClient), c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("reading the OIDC discovery document of %s: %w", c.Issuer, err)
	}
	return &Provider{
		oauth: oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: c.Scopes},
		verifier: p.Verifier(&gooidc.Config{ClientID: c.ClientID, Now: c.Now}),
		client:   c.HTTPClient,
		now:      c.Now,
	}, nil
}

// Flow is what a login keeps between Start and Finish. Every field is a
// secret of this login: keep the Flow where only the browser that started
// it can return it (an HttpOnly, Secure, SameSite=Lax cookie), for at
// most MaxFlowAge.
type Flow struct {
	State     string    `json:"state"`
	Nonce     string    `json:"nonce"`
	Verifier  string    `json:"verifier"` // the PKCE code verifier
	StartedAt time.Time `json:"startedAt"`
}

// Start begins a login: it returns the URL to redirect the browser to and
// the Flow to keep.
func (p *Provider) Start() (string, Flow, error) {
	state, err := random()
	if err != nil {
		return "", Flow{}, err
	}
	nonce, err := random()
	if err != nil {
		return "", Flow{}, err
	}
	f := Flow{State: state, Nonce: nonce, Verifier: oauth2.GenerateVerifier(), StartedAt: p.now()}
	u := p.oauth.AuthCodeURL(f.State, gooidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	return u, f, nil
}

// random returns 32 random bytes in base64url.
func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Claims are the verified claims of an ID token orgguard uses.
type Claims struct {
	Issuer        string `json:"iss"`
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified Bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
	Username      string `json:"preferred_username,omitempty"`
}

// Bool is a claim that is true or false, written as a JSON boolean or, by
// some providers, as the string "true" or "false".
type Bool bool

// UnmarshalJSON reads true, false, "true" or "false".
func (b *Bool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`, "null":
		*b = false
	default:
		return fmt.Errorf("want true or false, not %s", data)
	}
	return nil
}

// Finish completes a login: state and code are the callback's query
// parameters. A state other than the Flow's, a Flow older than MaxFlowAge
// or not started, is ErrFlow; an ID token that does not verify is
// ErrToken.
func (p *Provider) Finish(ctx context.Context, f Flow, state, code string) (Claims, error) {
	switch {
	case f.State == "" || f.Nonce == "" || f.Verifier == "":
		return Claims{}, fmt.Errorf("%w: no login was started in this browser", ErrFlow)
	case subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1:
		return Claims{}, fmt.Errorf("%w: the state differs", ErrFlow)
	case p.now().Sub(f.StartedAt) > MaxFlowAge || f.StartedAt.After(p.now().Add(time.Minute)):
		return Claims{}, fmt.Errorf("%w: the login was started more than %s ago", ErrFlow, MaxFlowAge)
	case code == "":
		return Claims{}, fmt.Errorf("%w: the callback has no code", ErrFlow)
	}
	ctx = gooidc.ClientContext(ctx, p.client)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return Claims{}, fmt.Errorf("exchanging the OIDC code: %w: %v", ErrFlow, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Claims{}, fmt.Errorf("%w: the token response has no id_token", ErrToken)
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return Claims{}, fmt.Errorf("%w: the nonce differs from the login's", ErrToken)
	}
	var c Claims
	if err := idt.Claims(&c); err != nil {
		return Claims{}, fmt.Errorf("%w: reading its claims: %v", ErrToken, err)
	}
	c.Issuer, c.Subject = idt.Issuer, idt.Subject
	return c, nil
}
