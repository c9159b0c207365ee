package store

import (
	"context"
	"time"
)

// Users keeps orgguard's users. A user is found by name whatever the
// case, normalisation or look-alike letters it is written with: the store
// keys users by identity.Key of their name, so two names that Key maps to
// the same string cannot both exist.
type Users interface {
	// CreateUser inserts u; CreatedAt and UpdatedAt are set by the store
	// when zero. A name (by its key) or a non-empty e-mail already used is
	// ErrAlreadyExists. Role must be one of the roles (ErrInvalid).
	CreateUser(ctx context.Context, u User) (User, error)
	// User returns the user called name (compared by key) or ErrNotFound.
	User(ctx context.Context, name string) (User, error)
	// UserByEmail returns the user with the e-mail address email
	// (compared without case) or ErrNotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	// ListUsers returns every user ordered by name key.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser applies the fields of ch that are set to the user called
	// name and returns the user as stored: ErrNotFound when there is no
	// such user. UpdatedAt becomes the store's time; a new password hash
	// sets PasswordChangedAt too.
	UpdateUser(ctx context.Context, name string, ch UserUpdate) (User, error)
}

// User is an orgguard user.
type User struct {
	// Name is the name as given when the user was created (normalised by
	// identity.Parse in the application layer).
	Name string `json:"name"`
	// Email is the address an OIDC login maps to the user; "" for none.
	// It is stored in lower case.
	Email string `json:"email,omitempty"`
	// PasswordHash is an argon2id PHC string (package auth); "" when the
	// user has no password and logs in through OIDC only.
	PasswordHash string `json:"-"`
	// Role is one of the roles of package auth.
	Role              string    `json:"role"`
	Disabled          bool      `json:"disabled"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
	PasswordChangedAt time.Time `json:"passwordChangedAt,omitzero"`
}

// UserUpdate names the fields UpdateUser changes: nil leaves a field as
// it is.
type UserUpdate struct {
	PasswordHash *string
	// Rehashed says PasswordHash is the same password hashed again with
	// new parameters: PasswordChangedAt stays as it is.
	Rehashed bool
	Role     *string
	Disabled *bool
	Email    *string
}

// Tokens keeps API tokens: only the SHA-256 of each token is stored.
type Tokens interface {
	// CreateToken inserts t (an empty ID gets a fresh "tok-" ID, a zero
	// CreatedAt the store's time). Its owner must exist (ErrNotFound); an
	// unrevoked token of the same owner with the same name, or the same
	// hash, is ErrAlreadyExists.
	CreateToken(ctx context.Context, t APIToken) (APIToken, error)
	// Token returns the token with the given ID or ErrNotFound.
	Token(ctx context.Context, id string) (APIToken, error)
	// TokenByHash returns the token whose secret hashes to hash, revoked
	// or not, or ErrNotFound.
	TokenByHash(ctx context.Context, hash string) (APIToken, error)
	// ListTokens returns tokens, newest first.
	ListTokens(ctx context.Context, f TokenFilter) ([]APIToken, error)
	// RevokeToken marks token id revoked by by at at (the store's time
	// when zero). ErrNotFound for no such token; a token already revoked
	// is a *StateConflictError.
	RevokeToken(ctx context.Context, id, by string, at time.Time) (APIToken, error)
	// TouchToken records that token id was used at at (kept only when
	// later than the time recorded).
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// APIToken is an API token as stored.
type APIToken struct {
	ID string `json:"id"`
	// Hash is the hex SHA-256 of the token's secret (auth.HashSecret).
	Hash string `json:"-"`
	// Hint is the beginning of the secret (auth.TokenHint), enough to tell
	// tokens apart, not to use one.
	Hint string `json:"hint"`
	Name string `json:"name"`
	// Owner is the name of the user the token acts as.
	Owner string `json:"owner"`
	// Role is the token's scope: the most it may do. It acts with the
	// lower of this and its owner's current role.
	Role       string    `json:"role"`
	CreatedAt  time.Time `json:"createdAt"`
	CreatedBy  string    `json:"createdBy"`
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
	RevokedBy  string    `json:"revokedBy,omitempty"`
}

// TokenFilter narrows ListTokens. Zero values match everything but revoked
// tokens.
type TokenFilter struct {
	Owner          string // only tokens of this user (compared by key)
	IncludeRevoked bool
}

// Sessions keeps browser sessions: only the SHA-256 of each session ID is
// stored.
type Sessions interface {
	// CreateSession inserts s; its user must exist (ErrNotFound). Times
	// are the caller's (ExpiresAt is required); a zero CreatedAt or
	// LastSeenAt is the store's time.
	CreateSession(ctx context.Context, s Session) (Session, error)
	// SessionByHash returns the session whose ID hashes to hash, revoked
	// or not, or ErrNotFound.
	SessionByHash(ctx context.Context, hash string) (Session, error)
	// ListSessions returns the sessions of user (by key) that are neither
	// revoked nor past their absolute end at now, newest first.
	ListSessions(ctx context.Context, user string, now time.Time) ([]Session, error)
	// TouchSession records a request of session hash at at (kept only
	// when later than the time recorded).
	TouchSession(ctx context.Context, hash string, at time.Time) error
	// RevokeSession ends session hash at at; ErrNotFound for no such
	// session. Revoking a revoked session keeps the first time.
	RevokeSession(ctx context.Context, hash string, at time.Time) error
	// RevokeUserSessions ends every unrevoked session of user (by key) at
	// at and returns how many it ended.
	RevokeUserSessions(ctx context.Context, user string, at time.Time) (int, error)
	// DeleteSessions deletes the sessions whose absolute end, or
	// revocation, is before before, and returns how many.
	DeleteSessions(ctx context.Context, before time.Time) (int, error)
}

// Session is a browser session as stored.
type Session struct {
	// Hash is the hex SHA-256 of the session ID (auth.HashSecret).
	Hash string `json:"-"`
	// User is the name of the session's user.
	User string `json:"user"`
	// Method is how the session was started: "password" or "oidc".
	Method     string    `json:"method"`
	ClientIP   string    `json:"clientIp,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
}

// Ref returns a short, non-secret name of the session (from its hash) to
// show in lists.
func (s Session) Ref() string {
	if len(s.Hash) < 12 {
		return "session-" + s.Hash
	}
	return "session-" + s.Hash[:12]
}

// Logins keeps what throttles password logins: recent failures and the
// lockouts they caused, per scope ("user": the name tried, by key; "ip":
// the client address). Kept in the store, they hold across every replica
// of the server.
type Logins interface {
	// RecordLoginFailure records a failed login of subject in scope at at.
	RecordLoginFailure(ctx context.Context, scope, subject string, at time.Time) error
	// CountLoginFailures counts the failures of subject in scope at or
	// after since.
	CountLoginFailures(ctx context.Context, scope, subject string, since time.Time) (int, error)
	// DeleteLoginFailures forgets the failures of subject in scope.
	DeleteLoginFailures(ctx context.Context, scope, subject string) error
	// PruneLoginFailures deletes every failure before before and returns
	// how many.
	PruneLoginFailures(ctx context.Context, before time.Time) (int, error)
	// LockLogin locks subject in scope until until, counting one more
	// lockout, and returns the lock.
	LockLogin(ctx context.Context, scope, subject string, until time.Time) (LoginLock, error)
	// LoginLock returns the lock of subject in scope (current or past) or
	// ErrNotFound.
	LoginLock(ctx context.Context, scope, subject string) (LoginLock, error)
	// DeleteLoginLock forgets the lock of subject in scope.
	DeleteLoginLock(ctx context.Context, scope, subject string) error
}

// LoginLock is the lockout of one user name or client address.
type LoginLock struct {
	Scope   string    `json:"scope"`
	Subject string    `json:"subject"`
	Until   time.Time `json:"until"`
	// Lockouts counts the lockouts since the lock was last forgotten:
	// each lasts twice as long as the one before.
	Lockouts int       `json:"lockouts"`
	LockedAt time.Time `json:"lockedAt"`
}
