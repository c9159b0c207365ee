package watch

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/store"
)

// Config is the watch section of orgguard.yaml.
type Config struct {
	// Interval is how often the cheap surfaces (the root's policy types,
	// the first-level OUs, the policies and their contents, the SCPs and
	// RCPs attached to the root and the first-level OUs) are re-read.
	Interval time.Duration `yaml:"interval" json:"interval"`
	// SweepPeriod is how long one background sweep of the rest (every OU,
	// account and attachment) should take; the sweep is paced to it.
	SweepPeriod time.Duration `yaml:"sweepPeriod" json:"sweepPeriod"`
	// CallBudget caps the Organizations API calls per minute of the
	// watcher, both tiers together; the sweep slows down to fit and the
	// interval stretches when the cheap tier alone would exceed it.
	CallBudget int `yaml:"callBudget" json:"callBudget"`
	// IncidentSeverity is the least severity of a finding that opens an
	// incident; less severe drift is recorded in the audit log only.
	IncidentSeverity store.Severity `yaml:"incidentSeverity" json:"incidentSeverity"`
	// Rules classify drift; the first rules listed win ties. Empty means
	// DefaultRules.
	Rules []Rule `yaml:"rules" json:"rules"`
	// Intake configures the HTTP event intake.
	Intake Intake `yaml:"intake" json:"intake"`
	// Customers maps affected accounts to customers.
	Customers incident.Mapping `yaml:"customers" json:"customers"`
}

// Intake configures the event intake.
type Intake struct {
	// SecretEnv and SecretFile name where the shared secret is: an
	// environment variable or a file (its content, trimmed). One is needed
	// to listen.
	SecretEnv  string `yaml:"secretEnv" json:"secretEnv,omitempty"`
	SecretFile string `yaml:"secretFile" json:"secretFile,omitempty"`
	// Header carries the secret in each request.
	Header string `yaml:"header" json:"header"`
	// MaxBodyBytes bounds a request body; larger ones are refused (413).
	MaxBodyBytes int64 `yaml:"maxBodyBytes" json:"maxBodyBytes"`
}

// DefaultHeader is the header the secret travels in (the API key header of
// the EventBridge connection).
const DefaultHeader = "X-Orgguard-Secret"

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Interval:         10 * time.Second,
		SweepPeriod:      30 * time.Minute,
		CallBudget:       600,
		IncidentSeverity: store.SevCritical,
		Intake:           Intake{Header: DefaultHeader, MaxBodyBytes: 256 << 10},
	}
}

// EffectiveRules returns the configured rules or the defaults.
func (c Config) EffectiveRules() []Rule {
	if len(c.Rules) == 0 {
		return DefaultRules()
	}
	return c.Rules
}

// Validate checks the section; each error names its key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Interval < time.Second {
		add("watch.interval: %v is below one second", c.Interval)
	}
	if c.SweepPeriod < c.Interval {
		add("watch.sweepPeriod: %v is shorter than the interval %v", c.SweepPeriod, c.Interval)
	}
	if c.CallBudget < 10 {
		add("watch.callBudget: %d calls per minute is too few (at least 10)", c.CallBudget)
	}
	if !c.IncidentSeverity.Valid() {
		add("watch.incidentSeverity: %q is not critical, major or minor", c.IncidentSeverity)
	}
	names := map[string]bool{}
	for i, r := range c.Rules {
		if err := r.Validate(); err != nil {
			add("watch.rules[%d]: %v", i, err)
		}
		if names[r.Name] {
			add("watch.rules[%d].name: %q is used twice", i, r.Name)
		}
		names[r.Name] = true
	}
	if c.Intake.SecretEnv != "" && c.Intake.SecretFile != "" {
		add("watch.intake: set secretEnv or secretFile, not both")
	}
	if h := c.Intake.Header; h == "" || strings.ContainsAny(h, " :\r\n") {
		add("watch.intake.header: %q is not a header name", h)
	}
	if c.Intake.MaxBodyBytes < 1024 || c.Intake.MaxBodyBytes > 16<<20 {
		add("watch.intake.maxBodyBytes: %d is outside 1024..16777216", c.Intake.MaxBodyBytes)
	}
	if err := c.Customers.Validate(); err != nil {
		add("watch.customers: %v", err)
	}
	return errors.Join(errs...)
}

// ErrNoSecret: the intake has no secret configured, or it is empty.
var ErrNoSecret = errors.New("no intake secret")

// Secret reads the intake secret from the configured variable or file.
func (in Intake) Secret(getenv func(string) string) ([]byte, error) {
	switch {
	case in.SecretEnv != "":
		v := strings.TrimSpace(getenv(in.SecretEnv))
		if v == "" {
			return nil, fmt.Errorf("%w: environment variable %s is empty", ErrNoSecret, in.SecretEnv)
		}
		return []byte(v), nil
	case in.SecretFile != "":
		b, err := os.ReadFile(in.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("reading the intake secret: %w", err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return nil, fmt.Errorf("%w: %s is empty", ErrNoSecret, in.SecretFile)
		}
		return []byte(v), nil
	}
	return nil, fmt.Errorf("%w: set watch.intake.secretEnv or watch.intake.secretFile", ErrNoSecret)
}
