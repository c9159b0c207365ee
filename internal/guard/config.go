package guard

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/decode"
	"gopkg.in/yaml.v3"
)

// ErrInvalidConfig marks configuration errors; the error also is (or
// joins) *FieldError values naming each field at fault.
var ErrInvalidConfig = errors.New("invalid guardrails configuration")

// ErrInvalidInput marks an Input that cannot be evaluated (negative counts,
// duplicate accounts, an unknown override rule): a caller bug or bad user
// input, never a verdict.
var ErrInvalidInput = errors.New("invalid guardrail input")

// FieldError is one problem with one field, Path being relative to the
// guardrails section ("thresholds[2].shareAbove").
type FieldError struct {
	Path    string
	Message string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Message }

// Config is the guardrails section of orgguard.yaml. Start from Default():
// decoding YAML into a Config (even a zero one) starts from the defaults and
// replaces only what the document sets; lists are replaced as a whole.
type Config struct {
	Protected    Protection    `yaml:"protected" json:"protected"`
	DenyAll      DenyAll       `yaml:"denyAll" json:"denyAll"`
	Approvals    Approvals     `yaml:"approvals" json:"approvals"`
	Thresholds   []Threshold   `yaml:"thresholds" json:"thresholds"`
	Risk         RiskConfig    `yaml:"risk" json:"risk"`
	Windows      Windows       `yaml:"windows" json:"windows"`
	Overrides    OverrideRules `yaml:"overrides" json:"overrides"`
	Confirmation Confirmation  `yaml:"confirmation" json:"confirmation"`
}

// Protection lists protected organization nodes besides Root, which is
// always protected. Entries are ids ("ou-ab12-34cd5678", "111122223333"),
// names or paths as the caller's organization model spells them; the caller
// resolves them (see Protection.Resolve) and passes the ids in
// Input.ProtectedIDs.
type Protection struct {
	Targets []string `yaml:"targets" json:"targets"`
}

// DenyAll configures the near-deny-all rule.
type DenyAll struct {
	// NearDenyAllShare: an account for which a change newly restricts more
	// than this share of the catalog's actions is near-denied. Default 0.9.
	NearDenyAllShare float64 `yaml:"nearDenyAllShare" json:"nearDenyAllShare"`
	// BroadTargetAccounts: an OU holding more accounts than this, or a
	// change near-denying more accounts than this, is broad. Default 10.
	BroadTargetAccounts int `yaml:"broadTargetAccounts" json:"broadTargetAccounts"`
	// BroadTargetShare: likewise as a share of the organization. Default 0.1.
	BroadTargetShare float64 `yaml:"broadTargetShare" json:"broadTargetShare"`
	// IgnoreConditional: count only newly denied actions, not newly
	// conditional ones. Default false: a deny-all with a break-glass
	// exception (which makes actions conditional) still counts.
	IgnoreConditional bool `yaml:"ignoreConditional" json:"ignoreConditional"`
}

// Approvals configures the base number of approvals.
type Approvals struct {
	// Minimum approvals for any change that changes some account's access.
	// Default 1.
	Minimum int `yaml:"minimum" json:"minimum"`
}

// Threshold is one tier on the accounts a change affects. Exactly one of
// AccountsAbove and ShareAbove is set, and exactly one of Approvals and
// Refuse. The tier applies when the change affects more than AccountsAbove
// accounts, or more than ShareAbove of the organization's member accounts.
// The required approvals are the largest among applying tiers; a refusing
// tier refuses the change unless the "threshold" rule is overridden.
type Threshold struct {
	AccountsAbove *int     `yaml:"accountsAbove,omitempty" json:"accountsAbove,omitempty"`
	ShareAbove    *float64 `yaml:"shareAbove,omitempty" json:"shareAbove,omitempty"`
	Approvals     int      `yaml:"approvals,omitempty" json:"approvals,omitempty"`
	Refuse        bool     `yaml:"refuse,omitempty" json:"refuse,omitempty"`
}

// String renders the tier's condition: "more than 10 accounts", "more than 5% of the org".
func (t Threshold) String() string {
	switch {
	case t.AccountsAbove != nil:
		return "more than " + plural(*t.AccountsAbove, "account")
	case t.ShareAbove != nil:
		return "more than " + pct(*t.ShareAbove) + " of the organization"
	}
	return "an empty threshold"
}

// OverrideRules configures operator overrides.
type OverrideRules struct {
	// Allow lists the rules an operator may override. Default
	// [protected-target, threshold, window, freeze]; near-deny-all may be
	// added; recovery-path and intent can never be overridden.
	Allow []Rule `yaml:"allow" json:"allow"`
	// ExtraApprovals each applied override adds. Default 1.
	ExtraApprovals int `yaml:"extraApprovals" json:"extraApprovals"`
}

// Confirmation configures typed confirmation.
type Confirmation struct {
	// RequiredFrom: changes at or above this risk level need the operator
	// to type the resolved target at apply. Default high.
	RequiredFrom Risk `yaml:"requiredFrom" json:"requiredFrom"`
}

func intp(n int) *int           { return &n }
func floatp(f float64) *float64 { return &f }

// Default returns the safe defaults: Root protected; near-deny-all (more
// than 90% of actions) refused on a broad scope (Root, or more than 10
// accounts or 10% of the org); 1 approval for any change of access, 2 above
// 10 accounts or 5% of the org, refused above 50%; high and critical changes
// only inside a window (none configured: an override is needed) and never
// during a freeze; typed confirmation from high; overrides of protected
// target, threshold, window and freeze, each adding 1 approval.
func Default() Config {
	return Config{
		DenyAll:   DenyAll{NearDenyAllShare: 0.9, BroadTargetAccounts: 10, BroadTargetShare: 0.1},
		Approvals: Approvals{Minimum: 1},
		Thresholds: []Threshold{
			{AccountsAbove: intp(10), Approvals: 2},
			{ShareAbove: floatp(0.05), Approvals: 2},
			{ShareAbove: floatp(0.5), Refuse: true},
		},
		Risk:         RiskConfig{HighAccounts: 10, HighShare: 0.25, CriticalShare: 0.5},
		Windows:      Windows{TimeZone: "UTC", RequiredFor: []Risk{RiskHigh, RiskCritical}},
		Overrides:    OverrideRules{Allow: []Rule{RuleProtectedTarget, RuleThreshold, RuleWindow, RuleFreeze}, ExtraApprovals: 1},
		Confirmation: Confirmation{RequiredFrom: RiskHigh},
	}
}

// UnmarshalYAML decodes over Default(), so unset fields keep their defaults.
// Unknown keys are errors (a *source.Error with their line and column),
// whatever the caller's decoder settings: a misspelt guardrail must not be
// ignored.
func (c *Config) UnmarshalYAML(n *yaml.Node) error {
	if err := (decode.YAML{Unknown: unknownField}).Check(n, reflect.TypeFor[Config]()); err != nil {
		return err
	}
	type plain Config
	p := plain(Default())
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = Config(p)
	return nil
}

// unknownField words an unknown key in the guardrails section.
func unknownField(key, in string, known []string) string {
	where := "guardrails"
	if in != "" {
		where = decode.Join(where, in)
	}
	return fmt.Sprintf("unknown field %q in %s (known: %s)", key, where, strings.Join(known, ", "))
}

// Validate reports every problem, each as a *FieldError with the field's
// path, joined and wrapped with ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for i, t := range c.Protected.Targets {
		p := fmt.Sprintf("protected.targets[%d]", i)
		switch {
		case strings.TrimSpace(t) == "":
			add(p, "empty target; give an OU or account id, name or path")
		case seen[t]:
			add(p, "%q is listed twice", t)
		}
		seen[t] = true
	}
	d := c.DenyAll
	if !(d.NearDenyAllShare > 0 && d.NearDenyAllShare <= 1) {
		add("denyAll.nearDenyAllShare", "must be more than 0 and at most 1, got %v", d.NearDenyAllShare)
	}
	if d.BroadTargetAccounts < 0 {
		add("denyAll.broadTargetAccounts", "must not be negative, got %d", d.BroadTargetAccounts)
	}
	if !(d.BroadTargetShare > 0 && d.BroadTargetShare <= 1) {
		add("denyAll.broadTargetShare", "must be more than 0 and at most 1, got %v", d.BroadTargetShare)
	}
	if c.Approvals.Minimum < 0 || c.Approvals.Minimum > maxApprovals {
		add("approvals.minimum", "must be between 0 and %d, got %d", maxApprovals, c.Approvals.Minimum)
	}
	for i, t := range c.Thresholds {
		p := fmt.Sprintf("thresholds[%d]", i)
		switch {
		case t.AccountsAbove == nil && t.ShareAbove == nil:
			add(p, "set accountsAbove or shareAbove")
		case t.AccountsAbove != nil && t.ShareAbove != nil:
			add(p, "set only one of accountsAbove and shareAbove (use two tiers for both)")
		case t.AccountsAbove != nil && *t.AccountsAbove < 0:
			add(p+".accountsAbove", "must not be negative, got %d", *t.AccountsAbove)
		case t.ShareAbove != nil && !(*t.ShareAbove >= 0 && *t.ShareAbove < 1):
			add(p+".shareAbove", "must be at least 0 and less than 1, got %v", *t.ShareAbove)
		}
		switch {
		case t.Refuse && t.Approvals != 0:
			add(p, "set only one of approvals and refuse")
		case !t.Refuse && t.Approvals == 0:
			add(p, "set approvals (1 or more) or refuse: true")
		case t.Approvals < 0 || t.Approvals > maxApprovals:
			add(p+".approvals", "must be between 1 and %d, got %d", maxApprovals, t.Approvals)
		}
	}
	r := c.Risk
	if r.HighAccounts < 0 {
		add("risk.highAccounts", "must not be negative, got %d", r.HighAccounts)
	}
	if !(r.HighShare > 0 && r.HighShare <= 1) {
		add("risk.highShare", "must be more than 0 and at most 1, got %v", r.HighShare)
	}
	if !(r.CriticalShare > 0 && r.CriticalShare <= 1) {
		add("risk.criticalShare", "must be more than 0 and at most 1, got %v", r.CriticalShare)
	} else if r.HighShare > r.CriticalShare {
		add("risk.highShare", "must not exceed risk.criticalShare (%v), got %v", r.CriticalShare, r.HighShare)
	}
	if _, err := NewSchedule(c.Windows); err != nil {
		errs = append(errs, unjoin(err)...)
	}
	for i, lv := range c.Windows.RequiredFor {
		if !lv.valid() {
			add(fmt.Sprintf("windows.requiredFor[%d]", i), "unknown risk level %d", int(lv))
		}
	}
	for i, rule := range c.Overrides.Allow {
		p := fmt.Sprintf("overrides.allow[%d]", i)
		switch {
		case !rule.known():
			add(p, "unknown rule %q (overridable: %s)", rule, strings.Join(ruleNames(overridableRules), ", "))
		case !slices.Contains(overridableRules, rule):
			add(p, "rule %q can never be overridden", rule)
		}
	}
	if c.Overrides.ExtraApprovals < 0 || c.Overrides.ExtraApprovals > maxApprovals {
		add("overrides.extraApprovals", "must be between 0 and %d, got %d", maxApprovals, c.Overrides.ExtraApprovals)
	}
	if !c.Confirmation.RequiredFrom.valid() {
		add("confirmation.requiredFrom", "must be low, medium, high or critical")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// maxApprovals bounds configured approval counts; larger is surely a typo.
const maxApprovals = 20

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Node is an organization node the caller offers for resolving protected
// entries: its id, its name and its path as the organization model prints it.
type Node struct {
	ID, Name, Path string
}

// Resolve matches the configured entries against nodes by id, name or path
// (exactly, and for paths also ignoring leading and trailing slashes). It
// returns the sorted ids matched and the entries that matched nothing, which
// the caller should report: a protection that protects nothing is a mistake.
func (p Protection) Resolve(nodes []Node) (ids []string, unmatched []string) {
	set := map[string]bool{}
	for _, entry := range p.Targets {
		e := strings.TrimSpace(entry)
		hit := false
		for _, n := range nodes {
			if e == n.ID || e == n.Name || (n.Path != "" && (e == n.Path || strings.Trim(e, "/") == strings.Trim(n.Path, "/"))) {
				set[n.ID] = true
				hit = true
			}
		}
		if !hit {
			unmatched = append(unmatched, entry)
		}
	}
	ids = make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, unmatched
}
