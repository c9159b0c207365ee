// Package probe checks, from inside member accounts, that principals can
// still do what they must and that intended denials hold. It defines the
// Check a probe answers and the Prober interface; Engine answers checks with
// the policy engine over a snapshot of the organization (the simulated
// organization's live state), and a prober for real AWS (assuming a probe
// role and calling cheap read APIs, or IAM SimulatePrincipalPolicy) lives in
// package awsprobe. Select chooses which checks to run around a change.
package probe

import (
	"context"
	"fmt"
	"strings"
)

// Expect is the outcome a check expects, or the one it observed.
type Expect string

// The outcomes.
const (
	Allowed Expect = "allowed"
	Denied  Expect = "denied"
)

// Check is one question to ask in one account: may Principal perform
// Action on Resource there?
type Check struct {
	AccountID string `json:"accountId"`
	Principal string `json:"principal"` // an IAM role ARN in the account
	Action    string `json:"action"`    // "sts:AssumeRole"
	Resource  string `json:"resource"`  // an ARN or "*"
	Expect    Expect `json:"expect"`
	// Why says where the expectation comes from, for reports: "must keep
	// working (unaffected account)", "intended denial of the plan".
	Why string `json:"why"`
}

// String renders the check on one line.
func (c Check) String() string {
	return fmt.Sprintf("%s in %s: %s expected (%s)", c.Action, c.AccountID, c.Expect, c.Why)
}

// Result is the answer to one check.
type Result struct {
	Check    Check  `json:"check"`
	Observed Expect `json:"observed,omitempty"`
	OK       bool   `json:"ok"`
	// Detail explains the observation (which policy level denied, the AWS
	// error code) or why the check could not be made.
	Detail string `json:"detail,omitempty"`
	// Err is set when the check could not be made at all (no probe role,
	// a network error); such a result is never OK.
	Err string `json:"error,omitempty"`
}

// String renders the result on one line.
func (r Result) String() string {
	if r.Err != "" {
		return fmt.Sprintf("FAIL %s: could not probe: %s", r.Check, r.Err)
	}
	status := "ok  "
	if !r.OK {
		status = "FAIL"
	}
	s := fmt.Sprintf("%s %s in %s: %s (expected %s: %s)", status, r.Check.Action, r.Check.AccountID, r.Observed, r.Check.Expect, r.Check.Why)
	if r.Detail != "" && !r.OK {
		s += " — " + r.Detail
	}
	return s
}

// Prober answers checks. Probe returns one Result per Check, in order; an
// error means the prober itself could not run (every check unanswered).
type Prober interface {
	Probe(ctx context.Context, checks []Check) ([]Result, error)
}

// Failed returns the results that are not OK.
func Failed(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if !r.OK {
			out = append(out, r)
		}
	}
	return out
}

// DefaultActions are the actions that must keep working unless a plan
// means to deny them: entering the account, reading IAM, a cheap read of
// EC2 and S3.
func DefaultActions() []string {
	return []string{"sts:AssumeRole", "iam:ListRoles", "ec2:DescribeRegions", "s3:ListAllMyBuckets"}
}

// DefaultRole is the role the probes act as in each account.
const DefaultRole = "OrgGuardProbe"

// Config is the probes: section of orgguard.yaml.
type Config struct {
	// Actions are probed in every sampled account: they must keep working
	// where the plan does not deny them, and must be denied where it does.
	// Default: DefaultActions().
	Actions []string `yaml:"actions" json:"actions"`
	// Denials are further actions probed in affected accounts only, where
	// the plan must deny them (the intended denials). Default: none beyond
	// the critical actions the blast radius names as lost.
	Denials []string `yaml:"denials" json:"denials"`
	// Affected and Unaffected are how many affected and unaffected member
	// accounts are sampled. Defaults 5 and 5.
	Affected   int `yaml:"affected" json:"affected"`
	Unaffected int `yaml:"unaffected" json:"unaffected"`
	// Role is the role name the probes act as in each account
	// (arn:aws:iam::ACCOUNT:role/ROLE). Default OrgGuardProbe.
	Role string `yaml:"role" json:"role"`
	// CanaryWaitSeconds is how long apply waits after the canary targets
	// before widening, when --canary is given without --canary-wait.
	// Default 60.
	CanaryWaitSeconds int `yaml:"canaryWaitSeconds" json:"canaryWaitSeconds"`
}

// DefaultConfig returns the defaults of the probes section.
func DefaultConfig() Config {
	return Config{Actions: DefaultActions(), Affected: 5, Unaffected: 5, Role: DefaultRole, CanaryWaitSeconds: 60}
}

// Validate reports the first problem of c, naming the key.
func (c Config) Validate() error {
	for i, a := range append(append([]string(nil), c.Actions...), c.Denials...) {
		svc, act, ok := strings.Cut(a, ":")
		if !ok || svc == "" || act == "" || strings.ContainsAny(a, " *?") {
			key := "probes.actions"
			if i >= len(c.Actions) {
				key, i = "probes.denials", i-len(c.Actions)
			}
			return fmt.Errorf("%s[%d]: %q is not an action (service:Action, no wildcards)", key, i, a)
		}
	}
	if c.Affected < 0 || c.Unaffected < 0 {
		return fmt.Errorf("probes.affected and probes.unaffected must not be negative")
	}
	if strings.TrimSpace(c.Role) == "" || strings.ContainsAny(c.Role, " :") {
		return fmt.Errorf("probes.role: %q is not a role name", c.Role)
	}
	if c.CanaryWaitSeconds < 0 {
		return fmt.Errorf("probes.canaryWaitSeconds must not be negative")
	}
	return nil
}

// PrincipalARN is the probe role's ARN in account.
func (c Config) PrincipalARN(account string) string {
	role := c.Role
	if role == "" {
		role = DefaultRole
	}
	return "arn:aws:iam::" + account + ":role/" + role
}
