package guard

import (
	"fmt"
	"strings"
)

// Risk is the risk level of a change, derived from its impact (see riskOf and
// docs/guardrails.md). The zero value is not a level; configuration and
// verdicts always carry one of the named levels.
type Risk int

// Risk levels, from least to most dangerous.
const (
	RiskLow      Risk = iota + 1 // no account changes access
	RiskMedium                   // some accounts change access, within the high limits
	RiskHigh                     // many accounts, a protected node, or a non-quarantine near-deny-all
	RiskCritical                 // recovery path at stake, broad near-deny-all, or most of the org
)

var riskNames = [...]string{RiskLow: "low", RiskMedium: "medium", RiskHigh: "high", RiskCritical: "critical"}

// String returns the level's name ("low", "medium", "high", "critical").
func (r Risk) String() string {
	if r.valid() {
		return riskNames[r]
	}
	return fmt.Sprintf("risk(%d)", int(r))
}

func (r Risk) valid() bool { return r >= RiskLow && r <= RiskCritical }

// ParseRisk parses a level name, case-insensitively.
func ParseRisk(s string) (Risk, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for r := RiskLow; r <= RiskCritical; r++ {
		if riskNames[r] == t {
			return r, nil
		}
	}
	return 0, fmt.Errorf("unknown risk level %q (want low, medium, high or critical)", s)
}

// MarshalText encodes the level by name (used by JSON and YAML); the zero
// value, not a level, encodes as "".
func (r Risk) MarshalText() ([]byte, error) {
	if r == 0 {
		return []byte{}, nil
	}
	if !r.valid() {
		return nil, fmt.Errorf("encoding risk level: %d is not a level", int(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText decodes a level name; "" decodes as the zero value, which
// Validate rejects where a level is required.
func (r *Risk) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*r = 0
		return nil
	}
	v, err := ParseRisk(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// RiskConfig sets where the derived risk level crosses into high and
// critical. Shares are fractions of the organization's member accounts.
type RiskConfig struct {
	// HighAccounts: a change affecting more accounts than this is at least high.
	HighAccounts int `yaml:"highAccounts" json:"highAccounts"`
	// HighShare: a change affecting more than this share of the org is at least high.
	HighShare float64 `yaml:"highShare" json:"highShare"`
	// CriticalShare: a change affecting more than this share of the org is critical.
	CriticalShare float64 `yaml:"criticalShare" json:"criticalShare"`
}

// riskFacts are the findings riskOf needs, computed once by Evaluate.
type riskFacts struct {
	affected, total  int
	protectedTouched bool // a protected target or account is touched
	nearDenyAny      bool // some account loses nearly everything outside an exempt quarantine
	nearDenyBroad    bool // ... and the scope is broad
	recoveryAtStake  bool // recovery path lost or management account affected
}

// riskOf maps impact findings to a level. The mapping, first match wins:
//
//	critical: the recovery path is lost or the management account is affected;
//	          or a near-deny-all on a broad scope (quarantine exempt);
//	          or more than CriticalShare of the org is affected.
//	high:     more than HighAccounts accounts or HighShare of the org affected;
//	          or a protected target or account is touched;
//	          or a near-deny-all on any account (quarantine exempt).
//	medium:   at least one account is affected.
//	low:      no account changes access.
func riskOf(c RiskConfig, f riskFacts) Risk {
	share := shareOf(f.affected, f.total)
	switch {
	case f.recoveryAtStake, f.nearDenyBroad, f.affected > 0 && share > c.CriticalShare:
		return RiskCritical
	case f.affected > c.HighAccounts, f.affected > 0 && share > c.HighShare,
		f.protectedTouched, f.nearDenyAny:
		return RiskHigh
	case f.affected > 0:
		return RiskMedium
	default:
		return RiskLow
	}
}

func shareOf(n, total int) float64 {
	if total <= 0 {
		return 0
	}
	return float64(n) / float64(total)
}
