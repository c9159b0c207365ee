package auth

import (
	"fmt"
	"time"
)

// Session lifetimes by default.
const (
	DefaultSessionLifetime = 12 * time.Hour
	DefaultIdleTimeout     = 30 * time.Minute
	// TouchEvery is how stale a session's last-seen time may grow before
	// a request records it again: a busy browser does not write to the
	// store on every request, and the idle timeout is exact to within it.
	TouchEvery = time.Minute
)

// SessionPolicy bounds browser sessions: a session ends Lifetime after the
// login whatever happens (absolute), or IdleTimeout after its last
// request, whichever comes first; logout, a password change and disabling
// the user end it at once.
type SessionPolicy struct {
	Lifetime    time.Duration `yaml:"lifetime" json:"lifetime"`
	IdleTimeout time.Duration `yaml:"idleTimeout" json:"idleTimeout"`
}

// DefaultSessionPolicy returns 12 hours absolute, 30 minutes idle.
func DefaultSessionPolicy() SessionPolicy {
	return SessionPolicy{Lifetime: DefaultSessionLifetime, IdleTimeout: DefaultIdleTimeout}
}

// SessionTimes are the times a session check looks at.
type SessionTimes struct {
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end, fixed at login
	RevokedAt  time.Time // zero while not revoked
}

// SessionEnd says why a session is no longer valid.
type SessionEnd string

// Why sessions end.
const (
	SessionLive    SessionEnd = ""
	SessionRevoked SessionEnd = "revoked" // logout, password change, user disabled
	SessionExpired SessionEnd = "expired" // the absolute lifetime passed
	SessionIdle    SessionEnd = "idle"    // no request within the idle timeout
	SessionFuture  SessionEnd = "not-yet" // created after now: a clock gone backwards, refused
)

// Check returns why the session is over at now, or SessionLive.
func (p SessionPolicy) Check(s SessionTimes, now time.Time) SessionEnd {
	switch {
	case !s.RevokedAt.IsZero():
		return SessionRevoked
	case s.CreatedAt.After(now.Add(TouchEvery)):
		return SessionFuture
	case !now.Before(s.ExpiresAt):
		return SessionExpired
	case p.IdleTimeout > 0 && !now.Before(s.LastSeenAt.Add(p.IdleTimeout)):
		return SessionIdle
	}
	return SessionLive
}

// NeedsTouch reports whether a request at now should record it as the
// session's last-seen time.
func (p SessionPolicy) NeedsTouch(s SessionTimes, now time.Time) bool {
	return now.Sub(s.LastSeenAt) >= TouchEvery
}

// Validate checks the policy's bounds.
func (p SessionPolicy) Validate() error {
	switch {
	case p.Lifetime < time.Minute || p.Lifetime > 30*24*time.Hour:
		return fmt.Errorf("auth.sessions.lifetime: %s is outside 1m to 720h", p.Lifetime)
	case p.IdleTimeout < TouchEvery || p.IdleTimeout > p.Lifetime:
		return fmt.Errorf("auth.sessions.idleTimeout: %s is outside %s to the lifetime (%s)", p.IdleTimeout, TouchEvery, p.Lifetime)
	}
	return nil
}
