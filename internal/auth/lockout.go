package auth

import (
	"fmt"
	"time"
)

// LockScope is what a lockout locks: a user name or a client address.
type LockScope string

// The lock scopes.
const (
	LockUser LockScope = "user" // the name tried (whether or not such a user exists)
	LockIP   LockScope = "ip"   // the client's address
)

// Valid reports whether s is one of the scopes.
func (s LockScope) Valid() bool { return s == LockUser || s == LockIP }

func (s LockScope) noun() string {
	if s == LockIP {
		return "client address"
	}
	return "user"
}

// LockoutPolicy throttles password logins. Failures are counted per user
// name tried and per client address over a sliding Window; reaching the
// threshold locks that name or address for Duration, doubled for each
// earlier lockout not yet cleared by a successful login, at most
// MaxDuration. Counting the name tried, not the user found, makes an
// unknown name lock like a known one: a lockout reveals nothing about
// which users exist. The store holds the counts, so the policy holds
// across server replicas.
type LockoutPolicy struct {
	// Threshold is the failures for one user name within Window that
	// lock it.
	Threshold int `yaml:"threshold" json:"threshold"`
	// IPThreshold is the failures from one client address within Window
	// that lock it (whatever names were tried); 0 turns address limiting
	// off.
	IPThreshold int           `yaml:"ipThreshold" json:"ipThreshold"`
	Window      time.Duration `yaml:"window" json:"window"`
	Duration    time.Duration `yaml:"duration" json:"duration"`
	MaxDuration time.Duration `yaml:"maxDuration" json:"maxDuration"`
}

// DefaultLockoutPolicy returns 5 failures per user or 20 per address in 15
// minutes, locked for 15 minutes, doubling up to 24 hours.
func DefaultLockoutPolicy() LockoutPolicy {
	return LockoutPolicy{Threshold: 5, IPThreshold: 20, Window: 15 * time.Minute, Duration: 15 * time.Minute, MaxDuration: 24 * time.Hour}
}

// ThresholdFor returns the failures within the window that lock scope; 0
// means the scope is never locked.
func (p LockoutPolicy) ThresholdFor(scope LockScope) int {
	if scope == LockIP {
		return p.IPThreshold
	}
	return p.Threshold
}

// LockFor returns how long the next lockout lasts after previous earlier
// ones: Duration × 2^previous, at most MaxDuration.
func (p LockoutPolicy) LockFor(previous int) time.Duration {
	d := p.Duration
	for i := 0; i < previous && d < p.MaxDuration; i++ {
		d *= 2
	}
	return min(d, p.MaxDuration)
}

// Validate checks the policy's bounds.
func (p LockoutPolicy) Validate() error {
	switch {
	case p.Threshold < 1 || p.Threshold > 100:
		return fmt.Errorf("auth.lockout.threshold: %d is outside 1 to 100", p.Threshold)
	case p.IPThreshold < 0 || p.IPThreshold > 10000:
		return fmt.Errorf("auth.lockout.ipThreshold: %d is outside 0 (off) to 10000", p.IPThreshold)
	case p.Window < time.Minute || p.Window > 24*time.Hour:
		return fmt.Errorf("auth.lockout.window: %s is outside 1m to 24h", p.Window)
	case p.Duration < time.Minute || p.Duration > 24*time.Hour:
		return fmt.Errorf("auth.lockout.duration: %s is outside 1m to 24h", p.Duration)
	case p.MaxDuration < p.Duration || p.MaxDuration > 30*24*time.Hour:
		return fmt.Errorf("auth.lockout.maxDuration: %s is outside the duration (%s) to 720h", p.MaxDuration, p.Duration)
	}
	return nil
}
