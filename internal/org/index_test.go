package org

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	x := MustIndex(fixture())
	tests := []struct {
		name, ref string
		wantID    string
	}{
		{"an account ID resolves to the account", "111111111111", "111111111111"},
		{"an OU ID resolves to the OU", "ou-ab12-22222222", "ou-ab12-22222222"},
		{"the root ID resolves to the root", "r-ab12", "r-ab12"},
		{"the word Root resolves to the root", "Root", "r-ab12"},
		{"root in lower case resolves to the root", "root", "r-ab12"},
		{"a slash resolves to the root", "/", "r-ab12"},
		{"an OU path resolves to the OU", "/Customers/Acme", "ou-ab12-22222222"},
		{"an OU path ignores case and a trailing slash", "/customers/acme/", "ou-ab12-22222222"},
		{"a nested OU path resolves", "/Customers/Beta/Prod", "ou-ab12-55555555"},
		{"an account path resolves to the account", "/Customers/Acme/Prod/acme-prod", "111111111111"},
		{"an account path at the root resolves", "/management", "999999999999"},
		{"a unique OU name resolves", "Sandbox", "ou-ab12-66666666"},
		{"a unique account name resolves", "acme-dev", "222222222222"},
		{"an account name ignores case", "ACME-DEV", "222222222222"},
		{"a path disambiguates a duplicated account name", "/Security/shared", "555555555555"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := x.Resolve(tt.ref)
			if err != nil || n.ID != tt.wantID {
				t.Errorf("Resolve(%q) = %v, %v, want %s", tt.ref, n.ID, err, tt.wantID)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	x := MustIndex(fixture())
	tests := []struct {
		name, ref     string
		wantAmbiguous bool
		wantInMessage []string
	}{
		{"a name shared by two OUs is ambiguous and lists both paths", "Prod", true,
			[]string{"/Customers/Acme/Prod (ou-ab12-33333333)", "/Customers/Beta/Prod (ou-ab12-55555555)"}},
		{"a name shared by two accounts is ambiguous and lists both", "shared", true,
			[]string{"444444444444", "555555555555"}},
		{"an unknown name suggests close names", "acme-prd", false, []string{"acme-prod"}},
		{"an unknown path suggests close paths", "/Customers/Acmee", false, []string{"/Customers/Acme"}},
		{"an unknown ID is unknown", "ou-ab12-99999999", false, []string{`"ou-ab12-99999999"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := x.Resolve(tt.ref)
			var re *ResolveError
			if !errors.As(err, &re) {
				t.Fatalf("Resolve(%q) error = %v, want a *ResolveError", tt.ref, err)
			}
			if re.Ambiguous != tt.wantAmbiguous {
				t.Errorf("Resolve(%q) ambiguous = %v, want %v", tt.ref, re.Ambiguous, tt.wantAmbiguous)
			}
			want := ErrUnknownNode
			if tt.wantAmbiguous {
				want = ErrAmbiguousNode
			}
			if !errors.Is(err, want) {
				t.Errorf("errors.Is(%v, %v) = false", err, want)
			}
			for _, s := range tt.wantInMessage {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Resolve(%q) error %q does not mention %q", tt.ref, err, s)
				}
			}
		})
	}
}

func TestPathAndDepth(t *testing.T) {
	x := MustIndex(fixture())
	p, err := x.Path("111111111111")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range p {
		ids = append(ids, n.ID)
	}
	want := []string{"r-ab12", "ou-ab12-11111111", "ou-ab12-22222222", "ou-ab12-33333333", "111111111111"}
	if diff := cmp.Diff(ids, want); diff != "" {
		t.Errorf("Path(acme-prod) (-got +want):\n%s", diff)
	}
	if got := x.PathString("111111111111"); got != "/Customers/Acme/Prod/acme-prod" {
		t.Errorf("PathString(acme-prod) = %q", got)
	}
	if got := x.Depth("ou-ab12-33333333"); got != 3 {
		t.Errorf("Depth(Prod) = %d, want 3", got)
	}
	if got := x.Depth("r-ab12"); got != 0 {
		t.Errorf("Depth(root) = %d, want 0", got)
	}
	if _, err := x.Path("000000000000"); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("Path(unknown) error = %v, want ErrUnknownNode", err)
	}
}

func TestAccountsUnder(t *testing.T) {
	x := MustIndex(fixture())
	tests := []struct {
		name, id string
		want     []string
	}{
		{"the root holds every account", "r-ab12", []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "999999999999"}},
		{"an OU holds the accounts of its sub-OUs", "ou-ab12-11111111", []string{"111111111111", "222222222222", "333333333333"}},
		{"an account is under itself", "222222222222", []string{"222222222222"}},
		{"an unknown node holds nothing", "ou-nope-00000000", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, a := range x.AccountsUnder(tt.id) {
				got = append(got, a.ID)
			}
			slices.Sort(got)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("AccountsUnder(%s) (-got +want):\n%s", tt.id, diff)
			}
			members := len(tt.want)
			if slices.Contains(tt.want, "999999999999") {
				members-- // the management account
			}
			if n := x.MemberAccountsUnder(tt.id); n != members {
				t.Errorf("MemberAccountsUnder(%s) = %d, want %d", tt.id, n, members)
			}
		})
	}
}

func TestEffectiveChain(t *testing.T) {
	x := MustIndex(fixture())
	type level struct {
		Node     string
		Policies []string
	}
	chain := func(acct string, pt PolicyType) []level {
		t.Helper()
		c, err := x.EffectiveChain(acct, pt)
		if err != nil {
			t.Fatalf("EffectiveChain(%s, %s): %v", acct, pt, err)
		}
		var out []level
		for _, l := range c {
			var ps []string
			for _, p := range l.Policies {
				ps = append(ps, p.Name)
			}
			out = append(out, level{l.NodeID, ps})
		}
		return out
	}
	t.Run("the SCP chain runs from the root to the account with each level's policies", func(t *testing.T) {
		got := chain("111111111111", ServiceControlPolicy)
		want := []level{
			{"r-ab12", []string{"FullAWSAccess", "deny-leave"}},
			{"ou-ab12-11111111", []string{"FullAWSAccess"}},
			{"ou-ab12-22222222", []string{"FullAWSAccess", "region-lock"}},
			{"ou-ab12-33333333", []string{"FullAWSAccess"}},
			{"111111111111", []string{"FullAWSAccess"}},
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("chain (-got +want):\n%s", diff)
		}
	})
	t.Run("an allow-list OU appears without FullAWSAccess", func(t *testing.T) {
		got := chain("333333333333", ServiceControlPolicy)
		if diff := cmp.Diff(got[2], level{"ou-ab12-44444444", []string{"allow-list"}}); diff != "" {
			t.Errorf("Beta level (-got +want):\n%s", diff)
		}
	})
	t.Run("the RCP chain holds only RCPs", func(t *testing.T) {
		got := chain("222222222222", ResourceControlPolicy)
		for _, l := range got {
			if diff := cmp.Diff(l.Policies, []string{"RCPFullAWSAccess"}); diff != "" {
				t.Errorf("level %s (-got +want):\n%s", l.Node, diff)
			}
		}
		if len(got) != 4 {
			t.Errorf("RCP chain has %d levels, want 4", len(got))
		}
	})
	t.Run("a disabled policy type gives ErrPolicyTypeNotEnabled", func(t *testing.T) {
		s := fixture()
		s.Root.PolicyTypes = []PolicyTypeStatus{{Type: ServiceControlPolicy, Status: PolicyTypeEnabled}}
		_, err := MustIndex(s).EffectiveChain("111111111111", ResourceControlPolicy)
		if !errors.Is(err, ErrPolicyTypeNotEnabled) {
			t.Errorf("EffectiveChain with RCPs disabled: error = %v, want ErrPolicyTypeNotEnabled", err)
		}
	})
	t.Run("an OU is not an account", func(t *testing.T) {
		if _, err := x.EffectiveChain("ou-ab12-11111111", ServiceControlPolicy); !errors.Is(err, ErrUnknownNode) {
			t.Errorf("EffectiveChain(OU) error = %v, want ErrUnknownNode", err)
		}
	})
	t.Run("the management account is recognised", func(t *testing.T) {
		if !x.IsManagementAccount("999999999999") || x.IsManagementAccount("111111111111") {
			t.Error("IsManagementAccount is wrong")
		}
	})
}

func TestChildrenOrder(t *testing.T) {
	x := MustIndex(fixture())
	var got []string
	for _, n := range x.Children("r-ab12") {
		got = append(got, n.Name)
	}
	want := []string{"Customers", "Sandbox", "Security", "management"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("Children(root) (-got +want):\n%s", diff)
	}
}

func TestIDShapes(t *testing.T) {
	tests := []struct {
		id   string
		f    func(string) bool
		want bool
	}{
		{"r-ab12", IsRootID, true},
		{"r-AB12", IsRootID, false},
		{"ou-ab12-abcdefgh", IsOUID, true},
		{"ou-ab12-abc", IsOUID, false},
		{"123456789012", IsAccountID, true},
		{"12345678901", IsAccountID, false},
		{"p-FullAWSAccess", IsPolicyID, true},
		{"p-abc", IsPolicyID, false},
	}
	for _, tt := range tests {
		if got := tt.f(tt.id); got != tt.want {
			t.Errorf("shape check of %q = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// TestNewIndexRefusesWhatValidateRefuses holds NewIndex's own checks to
// Validate: on snapshots with random damage, NewIndex fails exactly when
// Validate does, with Validate's error.
func TestNewIndexRefusesWhatValidateRefuses(t *testing.T) {
	damage := []func(s *Snapshot, r *rand.Rand){
		func(s *Snapshot, r *rand.Rand) { s.FormatVersion = r.IntN(3) },
		func(s *Snapshot, r *rand.Rand) { s.Root.ID = pick(r, "", "x-ab12", "r-ab12", "r-zz99") },
		func(s *Snapshot, r *rand.Rand) { s.Root.PolicyTypes = append(s.Root.PolicyTypes, PolicyTypeStatus{}) },
		func(s *Snapshot, r *rand.Rand) {
			o := &s.OUs[r.IntN(len(s.OUs))]
			o.ID = pick(r, "", "ou-x", "xx-ab12-11111111", s.OUs[r.IntN(len(s.OUs))].ID, s.Accounts[0].ID, "p-denyleave", "r-ab12")
		},
		func(s *Snapshot, r *rand.Rand) { s.OUs[r.IntN(len(s.OUs))].Name = "" },
		func(s *Snapshot, r *rand.Rand) {
			o := &s.OUs[r.IntN(len(s.OUs))]
			o.ParentID = pick(r, "", "r-ab12", "ou-nowhere", s.OUs[r.IntN(len(s.OUs))].ID, s.Accounts[0].ID, "p-denyleave")
		},
		func(s *Snapshot, r *rand.Rand) {
			a := &s.Accounts[r.IntN(len(s.Accounts))]
			a.ID = pick(r, "", "12345", "12345678901x", s.Accounts[r.IntN(len(s.Accounts))].ID, "ou-ab12-11111111", "888888888888")
		},
		func(s *Snapshot, r *rand.Rand) {
			a := &s.Accounts[r.IntN(len(s.Accounts))]
			a.ParentID = pick(r, "", "r-ab12", "ou-nowhere", s.OUs[r.IntN(len(s.OUs))].ID, s.Accounts[0].ID, "p-denyleave")
		},
		func(s *Snapshot, r *rand.Rand) {
			p := &s.Policies[r.IntN(len(s.Policies))]
			p.ID = pick(r, "", "x-1", s.Policies[r.IntN(len(s.Policies))].ID, "r-ab12", s.Accounts[0].ID)
		},
		func(s *Snapshot, r *rand.Rand) { s.Policies[r.IntN(len(s.Policies))].Type = "" },
		func(s *Snapshot, r *rand.Rand) {
			s.Organization.ManagementAccountID = pick(r, "", "888888888888", "r-ab12", s.OUs[0].ID, s.Accounts[r.IntN(len(s.Accounts))].ID)
		},
		func(s *Snapshot, r *rand.Rand) {
			at := Attachment{PolicyID: s.Policies[r.IntN(len(s.Policies))].ID, TargetID: s.Accounts[r.IntN(len(s.Accounts))].ID}
			switch r.IntN(4) {
			case 0:
				at.PolicyID = "p-missing1"
			case 1:
				at.TargetID = pick(r, "123412341234", "ou-nowhere", "p-denyleave", "")
			case 2:
				at = s.Attachments[r.IntN(len(s.Attachments))]
			}
			s.Attachments = append(s.Attachments, at)
		},
		func(s *Snapshot, r *rand.Rand) {
			s.OUs = append(s.OUs, OU{ID: pick(r, "ou-ab12-88888888", s.OUs[0].ID), Name: "New", ParentID: pick(r, "r-ab12", "ou-ab12-88888888")})
		},
	}
	validN := 0
	defer func() { t.Logf("%d of 3000 damaged snapshots were still valid", validN) }()
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 3000 {
		s := fixture()
		for range 1 + r.IntN(3) {
			damage[r.IntN(len(damage))](s, r)
		}
		want := Validate(s)
		if want == nil {
			validN++
		}
		x, err := NewIndex(s)
		switch {
		case want == nil && err != nil:
			t.Fatalf("case %d: NewIndex = %v, Validate found nothing", i, err)
		case want != nil && err == nil:
			t.Fatalf("case %d: NewIndex succeeded, Validate = %v", i, want)
		case want != nil && err.Error() != want.Error():
			t.Fatalf("case %d: NewIndex = %v, want Validate's %v", i, err, want)
		case want == nil:
			for _, a := range s.Accounts {
				if _, err := x.Path(a.ID); err != nil {
					t.Fatalf("case %d: Path(%s) = %v", i, a.ID, err)
				}
			}
		}
	}
}

func pick(r *rand.Rand, choices ...string) string { return choices[r.IntN(len(choices))] }
