package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/auth/oidc"
	"github.com/orgguard/orgguard/internal/identity"
	"github.com/orgguard/orgguard/internal/notify"
	"github.com/orgguard/orgguard/internal/store"
)

// Logging in (password, OIDC), logging out, and finding the principal
// behind a session ID or an API token: what the server calls on every
// request. Errors match ErrRefused and one of auth.ErrUnauthenticated
// (401), auth.ErrLocked (429, a *auth.LockedError with the time) or
// auth.ErrForbidden (403).

// LoginResult is a successful login: a new browser session.
type LoginResult struct {
	// SessionID is the session's secret, for the session cookie. It is
	// shown once and never stored (the store keeps its hash).
	SessionID string         `json:"-"`
	Session   store.Session  `json:"session"`
	Principal auth.Principal `json:"principal"`
}

// unauthenticated is the uniform refusal of credentials; reason, when not
// empty, says why for a cause the person may know (an expired session),
// never whether a user exists.
func unauthenticated(reason string) error {
	if reason == "" {
		return Refused(auth.ErrUnauthenticated)
	}
	return Refused(fmt.Errorf("%w (%s)", auth.ErrUnauthenticated, reason))
}

// clientAddr normalises the client's address (an IP, or host:port) for
// the per-address limit; "" when there is none or it is not an IP.
func clientAddr(s string) string {
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	ip := net.ParseIP(strings.TrimSpace(s))
	if ip == nil {
		return ""
	}
	return ip.String()
}

// lockKey names what a lockout locks: a scope and a subject in it.
type lockKey struct {
	scope   auth.LockScope
	subject string
}

// loginKey is what the failures of a name are counted under: its
// identity key, whether or not such a user exists.
func loginKey(name string) (subject, shown string) {
	n, err := identity.Parse(name)
	if err != nil {
		return "(invalid name)", "(invalid name)"
	}
	return identity.Key(n), n
}

// Login checks a user name and password and starts a browser session.
// Every refusal — unknown user, wrong password, disabled user, a user
// without a password — is the same auth.ErrUnauthenticated after the same
// work (an unknown user's password is checked against a dummy hash), and
// counts towards the lockout of the name tried and of clientIP (an IP or
// host:port, "" on the command line) per auth.lockout; while either is
// locked the login is refused with a *auth.LockedError without checking
// the password. Failures, lockouts and logins are audited.
func (a *App) Login(ctx context.Context, name, password, clientIP string) (LoginResult, error) {
	now := a.o.Now()
	pol := a.cfg.Auth.Lockout
	st, err := a.Store(ctx)
	if err != nil {
		return LoginResult{}, err
	}
	subject, shown := loginKey(name)
	ip := clientAddr(clientIP)
	keys := []lockKey{{auth.LockUser, subject}}
	if ip != "" && pol.IPThreshold > 0 {
		keys = append(keys, lockKey{auth.LockIP, ip})
	}
	for _, k := range keys {
		l, err := st.LoginLock(ctx, string(k.scope), k.subject)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return LoginResult{}, err
		case now.Before(l.Until):
			return LoginResult{}, Refused(&auth.LockedError{Scope: k.scope, Until: l.Until})
		}
	}

	h := a.hasher()
	var u store.User
	found := false
	if shown != "(invalid name)" {
		u, err = st.User(ctx, shown)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, store.ErrNotFound):
			return LoginResult{}, err
		}
	}
	reason, rehash := "", false
	switch {
	case !found:
		h.VerifyDummy(password)
		reason = "unknown user"
	case u.PasswordHash == "":
		h.VerifyDummy(password)
		reason = "the user has no password"
	default:
		ok, re, err := h.Verify(u.PasswordHash, password)
		switch {
		case err != nil:
			a.o.Logger.Error("a stored password hash cannot be read", "user", u.Name, "error", err)
			reason = "the stored password hash cannot be read"
		case !ok:
			reason = "wrong password"
		case u.Disabled:
			reason = "the user is disabled"
		}
		rehash = re
	}
	if reason != "" {
		return LoginResult{}, a.loginFailed(ctx, st, now, keys, shown, ip, reason)
	}

	var newHash string
	if rehash {
		if newHash, err = h.Rehash(password); err != nil {
			a.o.Logger.Error("rehashing a password", "user", u.Name, "error", err)
			newHash = ""
		}
	}
	var res LoginResult
	err = st.WithTx(ctx, func(tx store.Tx) error {
		if newHash != "" {
			if _, err := tx.UpdateUser(ctx, u.Name, store.UserUpdate{PasswordHash: &newHash, Rehashed: true}); err != nil {
				return err
			}
		}
		if err := tx.DeleteLoginFailures(ctx, string(auth.LockUser), subject); err != nil {
			return err
		}
		if err := tx.DeleteLoginLock(ctx, string(auth.LockUser), subject); err != nil {
			return err
		}
		var err error
		res, err = a.startSession(ctx, tx, u, auth.MethodPassword, ip, now, map[string]any{"rehashed": newHash != ""})
		return err
	})
	if err != nil {
		return LoginResult{}, err
	}
	return res, nil
}

// loginFailed records a failed password login of name from ip, locks
// what reached its threshold, and returns the refusal.
func (a *App) loginFailed(ctx context.Context, st store.Store, now time.Time, keys []lockKey, shown, ip, reason string) error {
	pol := a.cfg.Auth.Lockout
	actor := ip
	if actor == "" {
		actor = "local"
	}
	var locked *auth.LockedError
	err := st.WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.PruneLoginFailures(ctx, now.Add(-pol.Window)); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.RecordLoginFailure(ctx, string(k.scope), k.subject, now); err != nil {
				return err
			}
		}
		if err := auditIn(ctx, tx, actor, "login.failed", shown, map[string]any{"method": auth.MethodPassword, "reason": reason, "ip": ip}); err != nil {
			return err
		}
		for _, k := range keys {
			n, err := tx.CountLoginFailures(ctx, string(k.scope), k.subject, now.Add(-pol.Window))
			if err != nil {
				return err
			}
			if n < pol.ThresholdFor(k.scope) {
				continue
			}
			previous := 0
			switch l, err := tx.LoginLock(ctx, string(k.scope), k.subject); {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return err
			case now.Sub(l.Until) < pol.MaxDuration:
				previous = l.Lockouts
			default:
				// The last lockout ended long ago: start doubling afresh.
				if err := tx.DeleteLoginLock(ctx, string(k.scope), k.subject); err != nil {
					return err
				}
			}
			until := now.Add(pol.LockFor(previous))
			l, err := tx.LockLogin(ctx, string(k.scope), k.subject, until)
			if err != nil {
				return err
			}
			if err := tx.DeleteLoginFailures(ctx, string(k.scope), k.subject); err != nil {
				return err
			}
			what := shown
			if k.scope == auth.LockIP {
				what = k.subject
			}
			if err := auditIn(ctx, tx, "orgguard", "login.locked", what, map[string]any{"scope": k.scope, "until": l.Until,
				"lockouts": l.Lockouts, "failures": n}); err != nil {
				return err
			}
			if locked == nil || k.scope == auth.LockUser {
				locked = &auth.LockedError{Scope: k.scope, Until: l.Until}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording a failed login: %w", err)
	}
	if locked != nil {
		return Refused(locked)
	}
	return unauthenticated("")
}

// sessionRetention is how long ended sessions are kept (for the record)
// before a login deletes them.
const sessionRetention = 7 * 24 * time.Hour

// startSession creates a session of u in tx and audits the login.
func (a *App) startSession(ctx context.Context, tx store.Tx, u store.User, method auth.Method, ip string, now time.Time, detail map[string]any) (LoginResult, error) {
	secret, err := auth.NewSessionID(nil)
	if err != nil {
		return LoginResult{}, err
	}
	s, err := tx.CreateSession(ctx, store.Session{Hash: secret.Hash, User: u.Name, Method: string(method), ClientIP: ip,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.cfg.Auth.Sessions.Lifetime)})
	if err != nil {
		return LoginResult{}, err
	}
	if _, err := tx.DeleteSessions(ctx, now.Add(-sessionRetention)); err != nil {
		return LoginResult{}, err
	}
	if detail == nil {
		detail = map[string]any{}
	}
	detail["method"], detail["ip"], detail["session"] = method, ip, s.Ref()
	if err := auditIn(ctx, tx, u.Name, "login.succeeded", u.Name, detail); err != nil {
		return LoginResult{}, err
	}
	return LoginResult{SessionID: secret.Text, Session: s,
		Principal: auth.Principal{Name: u.Name, Role: auth.Role(u.Role), Method: method}}, nil
}

// Logout ends the session sessionID names. An unknown, malformed or
// already ended session is not an error: the browser is logged out
// either way.
func (a *App) Logout(ctx context.Context, sessionID string) error {
	hash, err := auth.ParseSessionID(sessionID)
	if err != nil {
		return nil
	}
	st, err := a.Store(ctx)
	if err != nil {
		return err
	}
	s, err := st.SessionByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !s.RevokedAt.IsZero() {
		return nil
	}
	return st.WithTx(ctx, func(tx store.Tx) error {
		if err := tx.RevokeSession(ctx, hash, a.o.Now()); err != nil {
			return err
		}
		return auditIn(ctx, tx, s.User, "session.ended", s.Ref(), map[string]any{"reason": "logout"})
	})
}

// SessionPrincipal returns who the session sessionID belongs to, with the
// user's current role. A session that is unknown, revoked, past its
// lifetime or idle timeout, or whose user is disabled, is
// auth.ErrUnauthenticated. It records the request as the session's last
// activity (at most once a minute).
func (a *App) SessionPrincipal(ctx context.Context, sessionID string) (auth.Principal, error) {
	hash, err := auth.ParseSessionID(sessionID)
	if err != nil {
		return auth.Principal{}, unauthenticated("")
	}
	st, err := a.Store(ctx)
	if err != nil {
		return auth.Principal{}, err
	}
	s, err := st.SessionByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, unauthenticated("")
	}
	if err != nil {
		return auth.Principal{}, err
	}
	now := a.o.Now()
	pol := a.cfg.Auth.Sessions
	times := auth.SessionTimes{CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt, RevokedAt: s.RevokedAt}
	switch end := pol.Check(times, now); end {
	case auth.SessionLive:
	case auth.SessionIdle:
		return auth.Principal{}, unauthenticated(fmt.Sprintf("the session ended after %s without a request; log in again", pol.IdleTimeout))
	case auth.SessionExpired:
		return auth.Principal{}, unauthenticated("the session ended at " + s.ExpiresAt.UTC().Format(time.RFC3339) + "; log in again")
	default:
		return auth.Principal{}, unauthenticated("the session has ended; log in again")
	}
	u, err := st.User(ctx, s.User)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, err
	}
	if err != nil || u.Disabled {
		return auth.Principal{}, unauthenticated("")
	}
	if pol.NeedsTouch(times, now) {
		if err := st.TouchSession(ctx, hash, now); err != nil {
			return auth.Principal{}, err
		}
	}
	return auth.Principal{Name: u.Name, Role: auth.Role(u.Role), Method: auth.MethodSession, SessionLogin: auth.Method(s.Method)}, nil
}

// TokenPrincipal returns who the API token acts as: its owner, with the
// lower of the token's scope and the owner's current role. A token that
// is malformed, unknown, revoked or expired, or whose owner is disabled,
// is auth.ErrUnauthenticated. It records the token's use (at most once a
// minute).
func (a *App) TokenPrincipal(ctx context.Context, token string) (auth.Principal, error) {
	hash, err := auth.ParseToken(token)
	if err != nil {
		return auth.Principal{}, unauthenticated("")
	}
	st, err := a.Store(ctx)
	if err != nil {
		return auth.Principal{}, err
	}
	t, err := st.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, unauthenticated("")
	}
	if err != nil {
		return auth.Principal{}, err
	}
	now := a.o.Now()
	switch {
	case !t.RevokedAt.IsZero():
		return auth.Principal{}, unauthenticated("the token was revoked")
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return auth.Principal{}, unauthenticated("the token expired at " + t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	u, err := st.User(ctx, t.Owner)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, err
	}
	if err != nil || u.Disabled {
		return auth.Principal{}, unauthenticated("")
	}
	role := auth.Role(t.Role).Min(auth.Role(u.Role))
	if !role.Valid() {
		return auth.Principal{}, unauthenticated("")
	}
	if now.Sub(t.LastUsedAt) >= auth.TouchEvery {
		if err := st.TouchToken(ctx, t.ID, now); err != nil {
			return auth.Principal{}, err
		}
	}
	return auth.Principal{Name: u.Name, Role: role, Method: auth.MethodToken, TokenID: t.ID}, nil
}

// ErrOIDCOff: OIDC login is not configured (auth.oidc.issuer is empty).
var ErrOIDCOff = errors.New("OIDC login is not configured (auth.oidc.issuer)")

// OIDCEnabled reports whether OIDC login is configured.
func (a *App) OIDCEnabled() bool { return a.cfg.Auth.OIDC.Enabled() }

// oidcProvider sets up the OIDC provider on first use (reading its
// discovery document) and keeps it.
func (a *App) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	c := a.cfg.Auth.OIDC
	if !c.Enabled() {
		return nil, BadInput(ErrOIDCOff)
	}
	a.authMu.Lock()
	defer a.authMu.Unlock()
	if a.oidc != nil {
		return a.oidc, nil
	}
	secret := ""
	if c.ClientSecret != "" {
		var err error
		if secret, err = notify.Resolve(c.ClientSecret, a.o.Getenv); err != nil {
			return nil, fmt.Errorf("auth.oidc.clientSecret: %w", err)
		}
	}
	p, err := oidc.New(ctx, oidc.Config{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: secret, RedirectURL: c.RedirectURL,
		Scopes: c.ScopeList(), Now: a.o.Now})
	if err != nil {
		return nil, err
	}
	a.oidc = p
	return p, nil
}

// OIDCStart begins an OIDC login: it returns the provider URL to redirect
// the browser to and the Flow the server keeps until the callback (see
// oidc.Flow: an HttpOnly cookie of at most oidc.MaxFlowAge).
func (a *App) OIDCStart(ctx context.Context) (string, oidc.Flow, error) {
	p, err := a.oidcProvider(ctx)
	if err != nil {
		return "", oidc.Flow{}, err
	}
	return p.Start()
}

// OIDCLogin finishes an OIDC login from the callback's state and code:
// the ID token must verify and carry an e-mail address the provider
// verified; the user with that address logs in (a disabled user is
// refused). No user has it: with auth.oidc.autoProvision and an allowed
// domain a user named after the address is created with
// auth.oidc.defaultRole, otherwise the login is refused. It starts a
// browser session like Login.
func (a *App) OIDCLogin(ctx context.Context, f oidc.Flow, state, code, clientIP string) (LoginResult, error) {
	p, err := a.oidcProvider(ctx)
	if err != nil {
		return LoginResult{}, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return LoginResult{}, err
	}
	ip := clientAddr(clientIP)
	actor := ip
	if actor == "" {
		actor = "local"
	}
	now := a.o.Now()
	fail := func(who, reason string, cause error) error {
		err := st.WithTx(ctx, func(tx store.Tx) error {
			return auditIn(ctx, tx, actor, "login.failed", who, map[string]any{"method": auth.MethodOIDC, "reason": reason, "ip": ip})
		})
		if err != nil {
			return fmt.Errorf("recording a failed login: %w", err)
		}
		if cause != nil {
			return Refused(fmt.Errorf("%w (%s: %v)", auth.ErrUnauthenticated, reason, cause))
		}
		return unauthenticated(reason)
	}
	claims, err := p.Finish(ctx, f, state, code)
	if err != nil {
		if errors.Is(err, oidc.ErrFlow) || errors.Is(err, oidc.ErrToken) {
			return LoginResult{}, fail("(unknown)", "the OIDC login did not complete", err)
		}
		return LoginResult{}, err
	}
	email, err := parseEmail(claims.Email)
	if err != nil || email == "" {
		return LoginResult{}, fail(claims.Subject, "the provider gave no usable e-mail address", nil)
	}
	if !claims.EmailVerified {
		return LoginResult{}, fail(email, "the provider has not verified the e-mail address "+email, nil)
	}
	oc := a.cfg.Auth.OIDC
	var res LoginResult
	err = st.WithTx(ctx, func(tx store.Tx) error {
		u, err := tx.UserByEmail(ctx, email)
		provisioned := false
		switch {
		case errors.Is(err, store.ErrNotFound) && oc.AutoProvision && oc.DomainAllowed(email):
			name, perr := identity.Parse(email)
			if perr != nil {
				return unauthenticated("the e-mail address cannot be a user name")
			}
			u, err = tx.CreateUser(ctx, store.User{Name: name, Email: email, Role: string(oc.DefaultRole), CreatedAt: now})
			if errors.Is(err, store.ErrAlreadyExists) {
				return unauthenticated("a user named " + name + " exists without this e-mail address; an admin sets it with orgguard user add or the admin page")
			}
			if err != nil {
				return err
			}
			if err := auditIn(ctx, tx, u.Name, "user.provisioned", u.Name, map[string]any{"role": u.Role, "email": email,
				"issuer": claims.Issuer, "subject": claims.Subject}); err != nil {
				return err
			}
			provisioned = true
		case errors.Is(err, store.ErrNotFound):
			return errNoOIDCUser
		case err != nil:
			return err
		case u.Disabled:
			return errDisabledOIDCUser
		}
		res, err = a.startSession(ctx, tx, u, auth.MethodOIDC, ip, now, map[string]any{"issuer": claims.Issuer, "subject": claims.Subject,
			"provisioned": provisioned})
		return err
	})
	switch {
	case errors.Is(err, errNoOIDCUser):
		return LoginResult{}, fail(email, "no user has the e-mail address "+email+"; an admin adds one (orgguard user add NAME --email "+email+")", nil)
	case errors.Is(err, errDisabledOIDCUser):
		return LoginResult{}, fail(email, "the user is disabled", nil)
	case err != nil:
		return LoginResult{}, err
	}
	return res, nil
}

var (
	errNoOIDCUser       = errors.New("no user has the e-mail address")
	errDisabledOIDCUser = errors.New("the user is disabled")
)
