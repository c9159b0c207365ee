package probe

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
)

func generated(t *testing.T) *org.Snapshot {
	t.Helper()
	s, err := generate.Organization(generate.Options{Accounts: 30, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// member returns a member account under /Customers/.
func member(t *testing.T, x *org.Index) org.Account {
	t.Helper()
	for _, a := range x.Snapshot().Accounts {
		if strings.HasPrefix(x.PathString(a.ID), "/Customers/") && a.Status == org.AccountActive {
			return a
		}
	}
	t.Fatal("no customer account")
	return org.Account{}
}

const denyAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
const denyIAM = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`

// TestEvaluate pins the engine prober's answers to AWS's SCP rules.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
// (a deny at any level of the account's path wins; SCPs never affect the
// management account.)
func TestEvaluate(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		content string
		target  func(x *org.Index, a org.Account) string
		account func(x *org.Index, a org.Account) string
		action  string
		want    Expect
	}{
		{name: "an untouched member account may assume roles", action: "sts:AssumeRole", want: Allowed,
			account: func(x *org.Index, a org.Account) string { return a.ID }},
		{name: "a deny-all on the account's OU denies it", content: denyAll, action: "sts:AssumeRole", want: Denied,
			target:  func(x *org.Index, a org.Account) string { return a.ParentID },
			account: func(x *org.Index, a org.Account) string { return a.ID }},
		{name: "a deny of iam:* at the root denies iam:ListRoles everywhere", content: denyIAM, action: "iam:ListRoles", want: Denied,
			target:  func(x *org.Index, a org.Account) string { return x.Root().ID },
			account: func(x *org.Index, a org.Account) string { return a.ID }},
		{name: "a deny of iam:* leaves ec2:DescribeRegions allowed", content: denyIAM, action: "ec2:DescribeRegions", want: Allowed,
			target:  func(x *org.Index, a org.Account) string { return x.Root().ID },
			account: func(x *org.Index, a org.Account) string { return a.ID }},
		{name: "the management account is exempt from a deny-all on the root", content: denyAll, action: "sts:AssumeRole", want: Allowed,
			target:  func(x *org.Index, a org.Account) string { return x.Root().ID },
			account: func(x *org.Index, a org.Account) string { return x.Snapshot().Organization.ManagementAccountID }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := sim.New(generated(t), sim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := o.Snapshot(ctx)
			x := org.MustIndex(s)
			a := member(t, x)
			if tt.content != "" {
				p, err := o.CreatePolicy(ctx, org.PolicySpec{Name: "t", Type: org.ServiceControlPolicy, Content: tt.content})
				if err != nil {
					t.Fatal(err)
				}
				if err := o.AttachPolicy(ctx, p.ID, tt.target(x, a)); err != nil {
					t.Fatal(err)
				}
			}
			acct := tt.account(x, a)
			c := Check{AccountID: acct, Principal: DefaultConfig().PrincipalARN(acct), Action: tt.action, Resource: "*", Expect: tt.want}
			rs, err := (&Engine{Reader: o}).Probe(ctx, []Check{c})
			if err != nil {
				t.Fatal(err)
			}
			if rs[0].Observed != tt.want || !rs[0].OK {
				t.Errorf("Probe(%s in %s) = %s (%s), want %s", tt.action, acct, rs[0].Observed, rs[0].Detail, tt.want)
			}
		})
	}
	t.Run("an unknown account is an error result, never OK", func(t *testing.T) {
		o, _ := sim.New(generated(t), sim.Options{})
		rs, err := (&Engine{Reader: o}).Probe(ctx, []Check{{AccountID: "000000000000", Principal: "arn:aws:iam::000000000000:role/x", Action: "sts:AssumeRole", Expect: Allowed}})
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].OK || rs[0].Err == "" {
			t.Errorf("result %+v, want an error", rs[0])
		}
	})
}

func TestSpread(t *testing.T) {
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	tests := []struct {
		name string
		n    int
		want []string
	}{
		{name: "zero picks nothing", n: 0, want: nil},
		{name: "one picks the first", n: 1, want: []string{"a"}},
		{name: "three pick first, middle and last", n: 3, want: []string{"a", "e", "j"}},
		{name: "more than there are picks all", n: 20, want: ids},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(spread(ids, tt.n), tt.want); diff != "" {
				t.Errorf("spread(%d) (-got +want):\n%s", tt.n, diff)
			}
		})
	}
}

// TestSelectAndChecks: the sample covers affected and unaffected accounts,
// never the management account, and the expectations follow the expected
// state: the intended denial in an affected account, allowed elsewhere.
func TestSelectAndChecks(t *testing.T) {
	ctx := context.Background()
	base := generated(t)
	bx := org.MustIndex(base)
	a := member(t, bx)
	o, _ := sim.New(base.Clone(), sim.Options{})
	p, _ := o.CreatePolicy(ctx, org.PolicySpec{Name: "q", Type: org.ServiceControlPolicy, Content: denyAll})
	if err := o.AttachPolicy(ctx, p.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	after, _ := o.Snapshot(ctx)
	r := &impact.Report{Accounts: []impact.AccountImpact{{ID: a.ID, Name: a.Name}}}
	cfg := DefaultConfig()
	cfg.Unaffected = 3
	cfg.Denials = []string{"s3:GetObject"}
	s := Select(cfg, r, bx, nil)
	if !slices.Equal(s.Affected, []string{a.ID}) {
		t.Errorf("affected sample %v, want [%s]", s.Affected, a.ID)
	}
	if len(s.Unaffected) != 3 || slices.Contains(s.Unaffected, a.ID) || slices.Contains(s.Unaffected, base.Organization.ManagementAccountID) {
		t.Errorf("unaffected sample %v", s.Unaffected)
	}
	checks, err := Checks(NewEvaluator(nil), org.MustIndex(after), cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(cfg.Actions)*4 + 1; len(checks) != want {
		t.Errorf("%d checks, want %d", len(checks), want)
	}
	for _, c := range checks {
		want := Allowed
		if c.AccountID == a.ID {
			want = Denied
		}
		if c.Expect != want {
			t.Errorf("check %s: expect %s, want %s", c, c.Expect, want)
		}
		if c.AccountID == a.ID && c.Why != "intended denial of the plan" {
			t.Errorf("check %s: why %q", c, c.Why)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{name: "the defaults are valid", edit: func(*Config) {}},
		{name: "an action without a service is refused", edit: func(c *Config) { c.Actions = []string{"AssumeRole"} }, want: "probes.actions[0]"},
		{name: "a wildcard denial is refused", edit: func(c *Config) { c.Denials = []string{"iam:*"} }, want: "probes.denials[0]"},
		{name: "a negative sample is refused", edit: func(c *Config) { c.Affected = -1 }, want: "negative"},
		{name: "a role ARN instead of a name is refused", edit: func(c *Config) { c.Role = "arn:aws:iam::1:role/x" }, want: "probes.role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}
