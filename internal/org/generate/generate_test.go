package generate

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/orgguard/orgguard/internal/org"
)

func TestDeterministic(t *testing.T) {
	encode := func(seed uint64) []byte {
		s, err := Organization(Options{Accounts: 1500, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		data, err := org.MarshalSnapshot(s)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	a, b := encode(3), encode(3)
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different output")
	}
	if bytes.Equal(a, encode(4)) {
		t.Error("different seeds gave the same output")
	}
}

func TestShape(t *testing.T) {
	for _, n := range []int{1, 5, 12, 100, 1000, 10000} {
		t.Run("an organization of "+itoa(n)+" accounts has the expected shape", func(t *testing.T) {
			if n == 10000 && testing.Short() {
				t.Skip("large")
			}
			s, err := Organization(Options{Accounts: n, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			checkShape(t, s, n)
		})
	}
}

func itoa(n int) string {
	data, _ := json.Marshal(n)
	return string(data)
}

func checkShape(t *testing.T, s *org.Snapshot, n int) {
	t.Helper()
	x, err := org.NewIndex(s)
	if err != nil {
		t.Fatalf("generated snapshot is invalid: %v", err)
	}
	if len(s.Accounts) != n {
		t.Errorf("accounts = %d, want %d", len(s.Accounts), n)
	}
	if _, ok := x.Account(s.Organization.ManagementAccountID); !ok {
		t.Error("no management account")
	}
	if len(s.OUs) > 2000 {
		t.Errorf("%d OUs, AWS allows 2,000", len(s.OUs))
	}
	emails := map[string]bool{}
	for _, a := range s.Accounts {
		if emails[a.Email] {
			t.Errorf("email %s used twice", a.Email)
		}
		emails[a.Email] = true
	}
	// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
	targets := []string{s.Root.ID}
	for _, o := range s.OUs {
		if d := x.Depth(o.ID); d > 5 {
			t.Errorf("OU %s at depth %d, the limit is 5", x.PathString(o.ID), d)
		}
		targets = append(targets, o.ID)
	}
	for _, a := range s.Accounts {
		targets = append(targets, a.ID)
	}
	for _, id := range targets {
		scps := x.PoliciesAttached(id, org.ServiceControlPolicy)
		if len(scps) < 1 || len(scps) > 5 {
			t.Errorf("%s has %d SCPs, want 1 to 5", x.Describe(id), len(scps))
		}
		rcps := x.PoliciesAttached(id, org.ResourceControlPolicy)
		if len(rcps) < 1 || len(rcps) > 5 || rcps[0].ID != org.RCPFullAWSAccessID && !hasPolicy(rcps, org.RCPFullAWSAccessID) {
			t.Errorf("%s has RCPs %v, want RCPFullAWSAccess and at most 4 more", x.Describe(id), names(rcps))
		}
	}
	for _, p := range s.Policies {
		if c := utf8.RuneCountInString(p.Content); c > 5120 {
			t.Errorf("policy %s is %d characters, the limit is 5,120", p.Name, c)
		}
		var doc struct {
			Version   string
			Statement []struct{ Effect string }
		}
		if err := json.Unmarshal([]byte(p.Content), &doc); err != nil || doc.Version != "2012-10-17" || len(doc.Statement) == 0 {
			t.Errorf("policy %s is not a valid policy document: %v", p.Name, err)
		}
		if p.Type == org.ResourceControlPolicy && !p.AWSManaged {
			for _, st := range doc.Statement {
				if st.Effect != "Deny" {
					t.Errorf("customer RCP %s has a %s statement; RCPs are Deny-only", p.Name, st.Effect)
				}
			}
		}
	}
}

func hasPolicy(ps []org.Policy, id string) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}

func names(ps []org.Policy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestMSPShape(t *testing.T) {
	s, err := Organization(Options{Accounts: 3000, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	x := org.MustIndex(s)
	for _, path := range []string{"/Security", "/Infrastructure", "/Customers", "/Sandbox", "/Suspended"} {
		if _, err := x.Resolve(path); err != nil {
			t.Errorf("no %s OU: %v", path, err)
		}
	}
	customers, _ := x.Resolve("/Customers")
	depth4, maxSize, minSize := 0, 0, 1<<30
	for _, c := range x.Children(customers.ID) {
		if c.Kind != org.KindOU {
			continue
		}
		n := len(x.AccountsUnder(c.ID))
		maxSize, minSize = max(maxSize, n), min(minSize, n)
	}
	for _, o := range s.OUs {
		if x.Depth(o.ID) == 4 {
			depth4++
		}
	}
	if minSize < 1 || maxSize > 30 {
		t.Errorf("customer sizes range %d..%d, want within 1..30", minSize, maxSize)
	}
	if depth4 == 0 {
		t.Error("no OU nested to depth 4")
	}
	sandbox, _ := x.Resolve("/Sandbox")
	if hasPolicy(x.PoliciesAttached(sandbox.ID, org.ServiceControlPolicy), org.FullAWSAccessID) {
		t.Error("the Sandbox OU keeps FullAWSAccess; its allow-list should replace it")
	}
	suspended, _ := x.Resolve("/Suspended")
	for _, a := range x.AccountsUnder(suspended.ID) {
		if a.Status != org.AccountSuspended {
			t.Errorf("account %s in Suspended is %s", a.Name, a.Status)
		}
	}
	scps := 0
	want := map[string]bool{"region-lock-eu": false, "deny-leave-organization": false, "deny-root-user": false,
		"protect-security-services": false, "sandbox-allow-list": false, "rcp-enforce-tls": false, "rcp-deny-external-access": false}
	for _, p := range s.Policies {
		if p.Type == org.ServiceControlPolicy {
			scps++
		}
		if _, ok := want[p.Name]; ok {
			want[p.Name] = true
		}
	}
	for name, found := range want {
		if !found {
			t.Errorf("no policy %s", name)
		}
	}
	if scps < 24 {
		t.Errorf("%d SCPs, want a few dozen", scps)
	}
	root := x.PoliciesAttached(s.Root.ID, org.ServiceControlPolicy)
	if !strings.Contains(strings.Join(names(root), ","), "deny-root-user") {
		t.Errorf("root SCPs %v lack deny-root-user", names(root))
	}
	for _, p := range s.Policies {
		if p.Name == "deny-root-user" && !strings.Contains(p.Content, "arn:aws:iam::*:root") {
			t.Error("deny-root-user does not match the root principal ARN")
		}
		if p.Name == "rcp-deny-external-access" && !strings.Contains(p.Content, s.Organization.ID) {
			t.Error("rcp-deny-external-access does not name the organization ID")
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, n := range []int{0, -1, MaxAccounts + 1} {
		if _, err := Organization(Options{Accounts: n}); !errors.Is(err, ErrBadOptions) {
			t.Errorf("Organization(%d accounts) error = %v, want ErrBadOptions", n, err)
		}
	}
}

func BenchmarkGenerateTenThousandAccounts(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Organization(Options{Accounts: 10000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
