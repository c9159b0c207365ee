// Package auth says who is who in orgguard's server mode: users and their
// roles, what each role may do, password hashes, API tokens for automation,
// browser sessions and the login throttling policy.
//
// It is the domain only: no storage, no HTTP, no clock of its own. The
// store keeps the records (package store), the application layer
// (internal/app, users.go) runs the use cases — add a user, log in, check a
// token — and the web server maps the errors below to responses. OpenID
// Connect login lives in the subpackage oidc, the only part that speaks
// HTTP.
//
// Errors: ErrUnauthenticated for credentials that identify nobody (a wrong
// password, an unknown user, a disabled user, a bad, expired or revoked
// token or session — one error, so that callers cannot tell them apart),
// ErrLocked (a *LockedError) while a user or client is locked out,
// ErrForbidden (a *ForbiddenError) for an authenticated principal whose
// role does not allow the action, ErrWeakPassword (a *PasswordError) for a
// password the policy refuses.
package auth

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors callers test with errors.Is.
var (
	// ErrUnauthenticated: the credentials identify nobody. The message
	// shown to the person is always the same whatever the cause.
	ErrUnauthenticated = errors.New("unknown user name, wrong password, or an invalid, expired or revoked credential")
	// ErrLocked: too many failed logins; see *LockedError.
	ErrLocked = errors.New("locked out after too many failed logins")
	// ErrForbidden: the principal's role does not allow the action; see
	// *ForbiddenError.
	ErrForbidden = errors.New("forbidden")
	// ErrWeakPassword: the password policy refuses the password; see
	// *PasswordError.
	ErrWeakPassword = errors.New("password refused")
	// ErrMalformedHash: a stored password hash is not a PHC string this
	// package reads.
	ErrMalformedHash = errors.New("malformed password hash")
	// ErrMalformedSecret: a token or session ID does not have the shape
	// this package hands out.
	ErrMalformedSecret = errors.New("malformed credential")
	// ErrInvalidRole: a role name is not one of the roles.
	ErrInvalidRole = errors.New("unknown role")
)

// LockedError says until when a login is refused and what is locked (a
// user name or a client address).
type LockedError struct {
	Scope LockScope
	Until time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%v: logins for this %s are refused until %s", ErrLocked, e.Scope.noun(), e.Until.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// ForbiddenError says who was refused what, and the least role that would
// have been allowed: the diagnostics of the decision.
type ForbiddenError struct {
	Principal string
	Role      Role
	Action    Action
	Need      Role // the least role allowed the action; "" for an unknown action
}

func (e *ForbiddenError) Error() string {
	if e.Need == "" {
		return fmt.Sprintf("%v: %s (%s) may not %s: no role may", ErrForbidden, e.Principal, e.Role, e.Action)
	}
	return fmt.Sprintf("%v: %s (%s) may not %s: it needs the %s role", ErrForbidden, e.Principal, e.Role, e.Action, e.Need)
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// Method is how a principal proved who it is.
type Method string

// The authentication methods.
const (
	MethodPassword Method = "password" // a user name and password, just now
	MethodSession  Method = "session"  // a browser session started by a login
	MethodToken    Method = "token"    // an API token
	MethodOIDC     Method = "oidc"     // an OpenID Connect login, just now
)

// Principal is an authenticated user as the server sees them: the user's
// name (normalised, as stored), the role in force for this request (for a
// token, the lower of the token's scope and the owner's role) and how they
// authenticated.
type Principal struct {
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	Method Method `json:"method"`
	// TokenID is the API token's ID when Method is MethodToken.
	TokenID string `json:"tokenId,omitempty"`
	// SessionLogin is how the session was started (password or oidc) when
	// Method is MethodSession.
	SessionLogin Method `json:"sessionLogin,omitempty"`
}

// Can reports whether the principal's role allows a.
func (p Principal) Can(a Action) bool { return p.Role.Can(a) }

// Authorize returns nil when the principal's role allows a, else a
// *ForbiddenError.
func (p Principal) Authorize(a Action) error {
	if p.Role.Can(a) {
		return nil
	}
	need, _ := MinRole(a)
	return &ForbiddenError{Principal: p.Name, Role: p.Role, Action: a, Need: need}
}
