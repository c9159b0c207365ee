package guard

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgguard/orgguard/internal/source"
	"gopkg.in/yaml.v3"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v, want nil", err)
	}
	if _, err := Compile(Default()); err != nil {
		t.Fatalf("Compile(Default()) = %v, want nil", err)
	}
}

func TestValidateReportsFieldPaths(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // "path: substring"
	}{
		{"a share above one", func(c *Config) { c.DenyAll.NearDenyAllShare = 1.5 }, []string{"denyAll.nearDenyAllShare: must be more than 0"}},
		{"a zero share", func(c *Config) { c.DenyAll.BroadTargetShare = 0 }, []string{"denyAll.broadTargetShare: must be more than 0"}},
		{"negative broad accounts", func(c *Config) { c.DenyAll.BroadTargetAccounts = -1 }, []string{"denyAll.broadTargetAccounts: must not be negative"}},
		{"an empty protected target", func(c *Config) { c.Protected.Targets = []string{"ou-1", " "} }, []string{"protected.targets[1]: empty target"}},
		{"a duplicated protected target", func(c *Config) { c.Protected.Targets = []string{"ou-1", "ou-1"} }, []string{"protected.targets[1]: \"ou-1\" is listed twice"}},
		{"a tier with no condition", func(c *Config) { c.Thresholds = []Threshold{{Approvals: 2}} }, []string{"thresholds[0]: set accountsAbove or shareAbove"}},
		{"a tier with two conditions", func(c *Config) {
			c.Thresholds = []Threshold{{AccountsAbove: intp(1), ShareAbove: floatp(0.1), Approvals: 2}}
		}, []string{"thresholds[0]: set only one of accountsAbove and shareAbove"}},
		{"a tier with no effect", func(c *Config) { c.Thresholds = []Threshold{{AccountsAbove: intp(1)}} }, []string{"thresholds[0]: set approvals"}},
		{"a tier with both effects", func(c *Config) { c.Thresholds = []Threshold{{AccountsAbove: intp(1), Approvals: 1, Refuse: true}} }, []string{"thresholds[0]: set only one of approvals and refuse"}},
		{"a tier share of one", func(c *Config) { c.Thresholds = []Threshold{{ShareAbove: floatp(1), Refuse: true}} }, []string{"thresholds[0].shareAbove: must be at least 0 and less than 1"}},
		{"a tier with too many approvals", func(c *Config) { c.Thresholds = []Threshold{{AccountsAbove: intp(1), Approvals: 99}} }, []string{"thresholds[0].approvals: must be between 1 and 20"}},
		{"an unknown time zone", func(c *Config) { c.Windows.TimeZone = "Mars/Olympus" }, []string{"windows.timeZone: unknown time zone \"Mars/Olympus\""}},
		{"Local is not a time zone", func(c *Config) { c.Windows.TimeZone = "Local" }, []string{"windows.timeZone: unknown time zone"}},
		{"a bad weekly window", func(c *Config) {
			c.Windows.Weekly = []WeeklyWindow{{Spec: "Mon-Fri 01:00-05:00"}, {Spec: "Fun 1:00-2:00"}}
		}, []string{"windows.weekly[1]: window \"Fun 1:00-2:00\": unknown day"}},
		{"both window forms at once", func(c *Config) { c.Windows.Weekly = []WeeklyWindow{{Spec: "Mon 01:00-02:00", Days: "Mon"}} }, []string{"windows.weekly[0]: give either the compact form"}},
		{"a freeze without reason or valid end", func(c *Config) {
			c.Windows.Freezes = []FreezeSpec{{From: "2026-12-24", To: "soon"}}
		}, []string{"windows.freezes[0].to: \"soon\" is not a date", "windows.freezes[0].reason: a freeze needs a reason"}},
		{"a freeze ending before it starts", func(c *Config) {
			c.Windows.Freezes = []FreezeSpec{{From: "2026-12-24", To: "2026-12-01", Reason: "x"}}
		}, []string{"windows.freezes[0]: ends (2026-12-01) before it starts"}},
		{"an invalid required level", func(c *Config) { c.Windows.RequiredFor = []Risk{RiskHigh, 9} }, []string{"windows.requiredFor[1]: unknown risk level 9"}},
		{"an unknown override rule", func(c *Config) { c.Overrides.Allow = []Rule{"windw"} }, []string{"overrides.allow[0]: unknown rule \"windw\""}},
		{"a rule that can never be overridden", func(c *Config) { c.Overrides.Allow = []Rule{RuleIntent, RuleRecoveryPath} }, []string{"overrides.allow[0]: rule \"intent\" can never be overridden", "overrides.allow[1]: rule \"recovery-path\" can never be overridden"}},
		{"negative extra approvals", func(c *Config) { c.Overrides.ExtraApprovals = -1 }, []string{"overrides.extraApprovals: must be between 0 and 20"}},
		{"a missing confirmation level", func(c *Config) { c.Confirmation.RequiredFrom = 0 }, []string{"confirmation.requiredFrom: must be low"}},
		{"high share above critical share", func(c *Config) { c.Risk.HighShare = 0.6 }, []string{"risk.highShare: must not exceed risk.criticalShare"}},
		{"negative minimum approvals", func(c *Config) { c.Approvals.Minimum = -1 }, []string{"approvals.minimum: must be between 0 and 20"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("Validate() = %v, want a *FieldError inside", err)
			}
			if _, cerr := Compile(c); cerr == nil {
				t.Errorf("Compile accepted a configuration Validate refuses")
			}
		})
	}
}

func TestConfigYAMLStartsFromDefaults(t *testing.T) {
	doc := `
protected:
  targets: [ou-ab12-security, "Root/Infrastructure"]
denyAll:
  nearDenyAllShare: 0.8
thresholds:
  - {accountsAbove: 0, approvals: 1}
  - {shareAbove: 0.25, refuse: true}
windows:
  timeZone: Asia/Tokyo
  weekly:
    - Mon-Fri 01:00-05:00
    - {days: "Sat,Sun", from: "00:00", to: "24:00"}
  freezes:
    - {from: 2026-12-24, to: 2027-01-03, reason: year-end freeze}
  requiredFor: [medium, high, critical]
confirmation:
  requiredFrom: critical
`
	var got Config
	if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatalf("yaml.Unmarshal: %v", err)
	}
	want := Default()
	want.Protected.Targets = []string{"ou-ab12-security", "Root/Infrastructure"}
	want.DenyAll.NearDenyAllShare = 0.8
	want.Thresholds = []Threshold{{AccountsAbove: intp(0), Approvals: 1}, {ShareAbove: floatp(0.25), Refuse: true}}
	want.Windows = Windows{TimeZone: "Asia/Tokyo",
		Weekly:      tokyo().Weekly,
		Freezes:     []FreezeSpec{{From: "2026-12-24", To: "2027-01-03", Reason: "year-end freeze"}},
		RequiredFor: []Risk{RiskMedium, RiskHigh, RiskCritical}}
	want.Confirmation.RequiredFrom = RiskCritical
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("decoded config (-got +want):\n%s", d)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	var bad Config
	if err := yaml.Unmarshal([]byte("confirmation: {requiredFrom: extreme}\n"), &bad); err == nil || !strings.Contains(err.Error(), "unknown risk level \"extreme\"") {
		t.Errorf("yaml.Unmarshal(requiredFrom: extreme) = %v, want an unknown risk level error", err)
	}
}

func TestProtectionResolve(t *testing.T) {
	nodes := []Node{
		{ID: "r-ab12", Name: "Root", Path: "Root"},
		{ID: "ou-ab12-sec", Name: "Security", Path: "Root/Security"},
		{ID: "ou-ab12-inf", Name: "Infrastructure", Path: "Root/Infrastructure"},
		{ID: "111111111111", Name: "log-archive", Path: "Root/Security/log-archive"},
	}
	p := Protection{Targets: []string{"Security", "/Root/Infrastructure/", "111111111111", "ou-gone"}}
	ids, unmatched := p.Resolve(nodes)
	if d := cmp.Diff(ids, []string{"111111111111", "ou-ab12-inf", "ou-ab12-sec"}); d != "" {
		t.Errorf("Resolve ids (-got +want):\n%s", d)
	}
	if d := cmp.Diff(unmatched, []string{"ou-gone"}); d != "" {
		t.Errorf("Resolve unmatched (-got +want):\n%s", d)
	}
}

// FuzzConfigYAML: any document decodes or fails cleanly, and Validate and
// Compile agree and never panic.
func FuzzConfigYAML(f *testing.F) {
	for _, s := range []string{
		"windows: {timeZone: Asia/Tokyo, weekly: [Mon-Fri 01:00-05:00]}",
		"thresholds: [{accountsAbove: 10, approvals: 2}, {shareAbove: 0.5, refuse: true}]",
		"windows: {freezes: [{from: 2026-12-24, to: 2027-01-03, reason: x}]}",
		"windows: {weekly: [{days: Sat, from: '00:00', to: '24:00'}]}",
		"overrides: {allow: [window, near-deny-all], extraApprovals: 2}",
		"denyAll: {nearDenyAllShare: .NaN}",
		"confirmation: {requiredFrom: high}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var c Config
		if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
			return
		}
		verr := c.Validate()
		g, cerr := Compile(c)
		if (verr == nil) != (cerr == nil) {
			t.Fatalf("Validate() = %v but Compile() = %v", verr, cerr)
		}
		if verr != nil {
			if !errors.Is(verr, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, not wrapping ErrInvalidConfig", verr)
			}
			return
		}
		now := mustTime(t, "2023-06-02T17:15:00+09:00")
		if _, err := g.Evaluate(accidentInput(now, 50)); err != nil {
			t.Fatalf("Evaluate with a valid config: %v", err)
		}
	})
}

func TestConfigYAMLRejectsUnknownFields(t *testing.T) {
	tests := []struct {
		doc  string
		want string
	}{
		{"denyAll:\n  nearDenyAlShare: 0.8\n", `line 2, column 3: unknown field "nearDenyAlShare" in guardrails.denyAll (known: nearDenyAllShare, broadTargetAccounts, broadTargetShare, ignoreConditional)`},
		{"thresholds:\n  - {accounts: 10, approvals: 2}\n", `line 2, column 6: unknown field "accounts" in guardrails.thresholds[0]`},
		{"windows:\n  weekly:\n    - {day: Mon, from: '01:00', to: '02:00'}\n", `unknown field "day" in guardrails.windows.weekly[0]`},
		{"window: {}\n", `line 1, column 1: unknown field "window" in guardrails (known: protected, denyAll,`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var c Config
			err := yaml.Unmarshal([]byte(tt.doc), &c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("yaml.Unmarshal(%q) = %v, want an error containing %q", tt.doc, err, tt.want)
			}
			var se *source.Error
			if !errors.As(err, &se) || se.Pos.Line == 0 {
				t.Errorf("yaml.Unmarshal(%q) = %T, want a *source.Error with its position", tt.doc, err)
			}
		})
	}
	var c Config
	if err := yaml.Unmarshal([]byte("windows:\n  weekly: [Mon-Fri 01:00-05:00]\n"), &c); err != nil {
		t.Errorf("the compact window form was rejected: %v", err)
	}
}
