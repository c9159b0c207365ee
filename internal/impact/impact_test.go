package impact

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/org"
)

// AWS documentation pinned by these tests:
//
//   - SCP evaluation (an Allow needed at every level, a Deny anywhere wins):
//     https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
//   - SCPs do not affect the management account nor service-linked roles:
//     https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
//   - SCP syntax (Allow and Deny with Action/NotAction, Resource/NotResource, Condition):
//     https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_syntax.html
//   - RCPs: RCPFullAWSAccess attached everywhere and not detachable, customer
//     RCPs Deny only, only RCP-supported services, not the management account:
//     https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
//     https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html
//     https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html

func testCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Load()
	if err != nil {
		t.Fatalf("catalog.Load() = %v", err)
	}
	return c
}

// Account IDs of the small test organization.
const (
	mgmtAcct  = "111111111111"
	prodA     = "222222222201"
	prodB     = "222222222202"
	devA      = "222222222203"
	sandboxA  = "222222222204"
	rootAcct  = "222222222205" // directly under the root
	rootID    = "r-root"
	ouProd    = "ou-root-prod0001"
	ouDev     = "ou-root-dev00001"
	ouSandbox = "ou-root-sand0001"
	ouTeam    = "ou-root-team0001" // under Prod
)

// smallOrg is a hand-checkable organization:
//
//	Root
//	├── management (111111111111)
//	├── loose (222222222205)
//	├── Prod
//	│   ├── prod-a
//	│   └── Team
//	│       └── prod-b
//	├── Dev
//	│   └── dev-a
//	└── Sandbox
//	    └── sandbox-a
//
// FullAWSAccess and RCPFullAWSAccess are attached to every node, as AWS
// does when the policy types are enabled.
func smallOrg() *org.Snapshot {
	s := &org.Snapshot{
		FormatVersion: org.FormatVersion,
		Organization:  org.Organization{ID: "o-testorg001", FeatureSet: "ALL", ManagementAccountID: mgmtAcct},
		Root: org.Root{ID: rootID, Name: "Root", PolicyTypes: []org.PolicyTypeStatus{
			{Type: org.ServiceControlPolicy, Status: org.PolicyTypeEnabled},
			{Type: org.ResourceControlPolicy, Status: org.PolicyTypeEnabled},
		}},
		OUs: []org.OU{
			{ID: ouProd, Name: "Prod", ParentID: rootID},
			{ID: ouTeam, Name: "Team", ParentID: ouProd},
			{ID: ouDev, Name: "Dev", ParentID: rootID},
			{ID: ouSandbox, Name: "Sandbox", ParentID: rootID},
		},
		Accounts: []org.Account{
			{ID: mgmtAcct, Name: "management", ParentID: rootID, Status: org.AccountActive},
			{ID: rootAcct, Name: "loose", ParentID: rootID, Status: org.AccountActive},
			{ID: prodA, Name: "prod-a", ParentID: ouProd, Status: org.AccountActive},
			{ID: prodB, Name: "prod-b", ParentID: ouTeam, Status: org.AccountActive},
			{ID: devA, Name: "dev-a", ParentID: ouDev, Status: org.AccountActive},
			{ID: sandboxA, Name: "sandbox-a", ParentID: ouSandbox, Status: org.AccountActive},
		},
		Policies: []org.Policy{
			{ID: org.FullAWSAccessID, Name: "FullAWSAccess", Type: org.ServiceControlPolicy, AWSManaged: true, Content: fullAWSAccess},
			{ID: org.RCPFullAWSAccessID, Name: "RCPFullAWSAccess", Type: org.ResourceControlPolicy, AWSManaged: true, Content: rcpFullAWSAccess},
		},
	}
	for _, id := range []string{rootID, ouProd, ouTeam, ouDev, ouSandbox, mgmtAcct, rootAcct, prodA, prodB, devA, sandboxA} {
		s.Attachments = append(s.Attachments,
			org.Attachment{PolicyID: org.FullAWSAccessID, TargetID: id},
			org.Attachment{PolicyID: org.RCPFullAWSAccessID, TargetID: id})
	}
	s.Normalize()
	return s
}

// change is one edit of a snapshot, for building the "after" side.
type change func(s *org.Snapshot)

func addPolicy(id string, t org.PolicyType, content string) change {
	return func(s *org.Snapshot) {
		s.Policies = append(s.Policies, org.Policy{ID: id, Name: id, Type: t, Content: content})
	}
}

func attach(policyID, target string) change {
	return func(s *org.Snapshot) {
		s.Attachments = append(s.Attachments, org.Attachment{PolicyID: policyID, TargetID: target})
	}
}

func detach(policyID, target string) change {
	return func(s *org.Snapshot) {
		s.Attachments = slices.DeleteFunc(s.Attachments, func(a org.Attachment) bool {
			return a.PolicyID == policyID && a.TargetID == target
		})
	}
}

func moveAccount(id, parent string) change {
	return func(s *org.Snapshot) {
		for i := range s.Accounts {
			if s.Accounts[i].ID == id {
				s.Accounts[i].ParentID = parent
			}
		}
	}
}

func setContent(policyID, content string) change {
	return func(s *org.Snapshot) {
		for i := range s.Policies {
			if s.Policies[i].ID == policyID {
				s.Policies[i].Content = content
			}
		}
	}
}

func disableType(t org.PolicyType) change {
	return func(s *org.Snapshot) {
		s.Root.PolicyTypes = slices.DeleteFunc(s.Root.PolicyTypes, func(p org.PolicyTypeStatus) bool { return p.Type == t })
	}
}

func apply(s *org.Snapshot, cs ...change) *org.Snapshot {
	c := s.Clone()
	for _, f := range cs {
		f(c)
	}
	c.Normalize()
	return c
}

// expand returns the catalog actions of the patterns (union).
func expand(c *catalog.Catalog, patterns ...string) catalog.Set {
	s := c.NewSet()
	for _, p := range patterns {
		s.UnionWith(c.Expand(p))
	}
	return s
}

func names(c *catalog.Catalog, s catalog.Set) []string {
	var out []string
	s.ForEach(func(i int) { out = append(out, c.Name(i)) })
	return out
}

func accountIDs(r Report) []string {
	var ids []string
	for _, a := range r.Accounts {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestClassificationRules(t *testing.T) {
	cat := testCatalog(t)
	n := cat.Len()
	s3 := cat.Expand("s3:*")
	rcpActs := cat.RCPActions()
	regionExempt := expand(cat, "iam:*", "organizations:*", "sts:*", "support:*", "cloudfront:*", "route53:*")
	allowList := expand(cat, "ec2:*", "s3:*", "cloudwatch:*")
	denyRun := cat.Expand("ec2:RunInstances")
	// sts:GetCallerIdentity needs no permission: no policy can deny it, so
	// it is never in a denied or conditional set and shares count the rest.
	// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
	free := cat.Expand("sts:GetCallerIdentity")
	if free.Count() != 1 {
		t.Fatalf("catalog has %d sts:GetCallerIdentity actions, want 1", free.Count())
	}
	deniable := n - free.Count()

	// want describes the class sets of every affected account in one
	// dimension after the change (the before side is smallOrg: all allowed).
	type want struct {
		affected    []string
		scpDenied   catalog.Set // nil: empty
		scpCond     catalog.Set
		rcpDenied   catalog.Set
		rcpCond     catalog.Set
		servicesOut []string
	}
	tests := []struct {
		name    string
		changes []change
		want    want
	}{
		{
			// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
			name:    "a deny-all SCP on the root denies every action but sts:GetCallerIdentity to every member account but not the management account",
			changes: []change{addPolicy("p-denyall", org.ServiceControlPolicy, denyAll), attach("p-denyall", rootID)},
			want: want{
				affected:  []string{prodA, prodB, devA, sandboxA, rootAcct},
				scpDenied: cat.FullSet(),
			},
		},
		{
			name:    "a Deny s3:* SCP on one OU denies exactly the s3 actions in that subtree only",
			changes: []change{addPolicy("p-denys3", org.ServiceControlPolicy, denyS3), attach("p-denys3", ouProd)},
			want:    want{affected: []string{prodA, prodB}, scpDenied: s3, servicesOut: []string{"s3"}},
		},
		{
			// The classes describe an ordinary principal: a principal
			// exception (ArnNotLike aws:PrincipalArn) does not cover it, so
			// the Deny applies to it in full.
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
			name: "a Deny with an aws:PrincipalArn exception denies the actions to ordinary principals",
			changes: []change{addPolicy("p-denys3except", org.ServiceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*",
				"Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}}]}`), attach("p-denys3except", ouDev)},
			want: want{affected: []string{devA}, scpDenied: s3, servicesOut: []string{"s3"}},
		},
		{
			// A Deny aimed at the root user only (aws:PrincipalArn ArnLike
			// ...:root) never applies to an ordinary principal.
			// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html
			name: "a Deny aimed at the root user changes nothing for ordinary principals",
			changes: []change{addPolicy("p-denyroot", org.ServiceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
				"Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`), attach("p-denyroot", ouDev)},
			want: want{},
		},
		{
			// A condition on a request key (the region) leaves the actions
			// conditional even when a principal exception is ANDed with it.
			name: "a Deny on a request key with a principal exception makes the actions conditional",
			changes: []change{addPolicy("p-denys3region", org.ServiceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*",
				"Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"},"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`), attach("p-denys3region", ouDev)},
			want: want{affected: []string{devA}, scpCond: s3},
		},
		{
			// An allow-list: FullAWSAccess replaced by an SCP that allows a few services.
			name: "an allow-list replacing FullAWSAccess denies every action outside it",
			changes: []change{addPolicy("p-allowlist", org.ServiceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*","cloudwatch:*"],"Resource":"*"}]}`),
				attach("p-allowlist", ouSandbox), detach(org.FullAWSAccessID, ouSandbox)},
			want: want{affected: []string{sandboxA}, scpDenied: allowList.Complement()},
		},
		{
			// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_examples.html
			name:    "an RCP denying s3 (and other services) without TLS makes those RCP actions conditional",
			changes: []change{addPolicy("p-rcptls", org.ResourceControlPolicy, rcpEnforceTLS), attach("p-rcptls", ouDev)},
			want: want{affected: []string{devA},
				rcpCond: expand(cat, "s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:*").Intersect(rcpActs)},
		},
		{
			name:    "an unconditional RCP Deny s3:* denies the s3 actions on the account's resources",
			changes: []change{addPolicy("p-rcps3", org.ResourceControlPolicy, rcpDenyS3Unconditional), attach("p-rcps3", sandboxA)},
			want:    want{affected: []string{sandboxA}, rcpDenied: s3, servicesOut: []string{"s3"}},
		},
		{
			name: "an RCP Deny * restricts only the actions of RCP-supported services",
			changes: []change{addPolicy("p-rcpall", org.ResourceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`), attach("p-rcpall", ouDev)},
			want: want{affected: []string{devA}, rcpDenied: rcpActs},
		},
		{
			name:    "a NotAction Deny with a region condition makes every other action conditional",
			changes: []change{addPolicy("p-regions", org.ServiceControlPolicy, denyOutsideRegions), attach("p-regions", rootID)},
			want: want{affected: []string{prodA, prodB, devA, sandboxA, rootAcct},
				scpCond: regionExempt.Complement()},
		},
		{
			name: "a Deny scoped to some resources makes the action conditional",
			changes: []change{addPolicy("p-denyec2", org.ServiceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*"}]}`),
				attach("p-denyec2", prodB)},
			want: want{affected: []string{prodB}, scpCond: denyRun},
		},
		{
			name: "a Deny with NotResource makes the action conditional",
			changes: []change{addPolicy("p-notres", org.ServiceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::logs/*"}]}`),
				attach("p-notres", prodA)},
			want: want{affected: []string{prodA}, scpCond: s3},
		},
		{
			name: "an Allow with a condition replacing FullAWSAccess leaves its actions conditional and denies the rest",
			changes: []change{addPolicy("p-condallow", org.ServiceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`),
				attach("p-condallow", ouDev), detach(org.FullAWSAccessID, ouDev)},
			want: want{affected: []string{devA}, scpCond: s3, scpDenied: s3.Complement()},
		},
		{
			name: "an unconditional Deny wins over a conditional one on the same actions",
			changes: []change{
				addPolicy("p-denys3", org.ServiceControlPolicy, denyS3),
				addPolicy("p-denyec2", org.ServiceControlPolicy,
					`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["s3:*","ec2:RunInstances"],"Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}`),
				attach("p-denys3", ouSandbox), attach("p-denyec2", sandboxA)},
			want: want{affected: []string{sandboxA}, scpDenied: s3, scpCond: denyRun, servicesOut: []string{"s3"}},
		},
		{
			name:    "a deny-all attached to the management account affects nothing",
			changes: []change{addPolicy("p-denyall", org.ServiceControlPolicy, denyAll), attach("p-denyall", mgmtAcct)},
			want:    want{},
		},
		{
			name:    "moving an account into an OU with a deny-all affects exactly that account",
			changes: []change{addPolicy("p-denyall", org.ServiceControlPolicy, denyAll), attach("p-denyall", ouSandbox), moveAccount(sandboxA, ouDev), moveAccount(devA, ouSandbox)},
			want:    want{affected: []string{devA}, scpDenied: cat.FullSet()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := smallOrg()
			after := apply(before, tt.changes...)
			im, err := Compute(before, after, cat, Options{})
			if err != nil {
				t.Fatalf("Compute() = %v", err)
			}
			if diff := cmp.Diff(tt.want.affected, accountIDs(im.Report), cmp.Comparer(func(a, b []string) bool {
				a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
				return slices.Equal(a, b)
			})); diff != "" {
				t.Errorf("affected accounts (-want +got):\n%s", diff)
			}
			if im.AccountsTotal != 5 || im.AccountsAffected != len(tt.want.affected) {
				t.Errorf("AccountsAffected/AccountsTotal = %d/%d, want %d/5", im.AccountsAffected, im.AccountsTotal, len(tt.want.affected))
			}
			if im.ManagementAccountAffected || !im.RecoveryPathIntact {
				t.Errorf("ManagementAccountAffected, RecoveryPathIntact = %v, %v; want false, true", im.ManagementAccountAffected, im.RecoveryPathIntact)
			}
			orEmpty := func(s catalog.Set) catalog.Set {
				if s.Len() == 0 {
					return cat.NewSet()
				}
				return s.Difference(free)
			}
			for _, a := range im.Accounts {
				b, f, ok := im.Account(a.ID)
				if !ok {
					t.Fatalf("Account(%s) not found", a.ID)
				}
				if !b.SCP.Allowed.IsFull() || !b.RCP.Allowed.IsFull() {
					t.Errorf("account %s before: not everything allowed", a.ID)
				}
				checks := []struct {
					what      string
					got, want catalog.Set
				}{
					{"SCP denied", f.SCP.Denied, orEmpty(tt.want.scpDenied)},
					{"SCP conditional", f.SCP.Conditional, orEmpty(tt.want.scpCond)},
					{"RCP denied", f.RCP.Denied, orEmpty(tt.want.rcpDenied)},
					{"RCP conditional", f.RCP.Conditional, orEmpty(tt.want.rcpCond)},
				}
				for _, c := range checks {
					if !c.got.Equal(c.want) {
						t.Errorf("account %s %s: %d actions, want %d; extra %v; missing %v", a.ID, c.what, c.got.Count(), c.want.Count(),
							head(names(cat, c.got.Difference(c.want))), head(names(cat, c.want.Difference(c.got))))
					}
				}
				wantSCP := Counts{NewlyDenied: orEmpty(tt.want.scpDenied).Count(), NewlyConditional: orEmpty(tt.want.scpCond).Count()}
				wantRCP := Counts{NewlyDenied: orEmpty(tt.want.rcpDenied).Count(), NewlyConditional: orEmpty(tt.want.rcpCond).Count()}
				if a.SCP != wantSCP || a.RCP != wantRCP {
					t.Errorf("account %s counts SCP %+v RCP %+v, want %+v %+v", a.ID, a.SCP, a.RCP, wantSCP, wantRCP)
				}
				denied := orEmpty(tt.want.scpDenied).Union(orEmpty(tt.want.rcpDenied))
				cond := orEmpty(tt.want.scpCond).Union(orEmpty(tt.want.rcpCond)).Difference(denied)
				if wc := (Counts{NewlyDenied: denied.Count(), NewlyConditional: cond.Count()}); a.Counts != wc {
					t.Errorf("account %s combined counts %+v, want %+v", a.ID, a.Counts, wc)
				}
				if got, want := a.NewlyDeniedShare, float64(denied.Count())/float64(deniable); got != want {
					t.Errorf("account %s NewlyDeniedShare = %v, want %v", a.ID, got, want)
				}
				if diff := cmp.Diff(tt.want.servicesOut, a.ServicesLost, cmp.Comparer(func(x, y []string) bool {
					return len(x) == 0 && len(y) == 0 || slices.Equal(x, y)
				})); diff != "" && len(a.ServicesLost) < 50 {
					t.Errorf("account %s ServicesLost (-want +got):\n%s", a.ID, diff)
				}
			}
			if mb, ma, ok := im.Account(mgmtAcct); !ok || !mb.Exempt || !ma.Exempt || !ma.Combined.Allowed.IsFull() {
				t.Errorf("management account classes: exempt %v/%v, all allowed %v; want exempt and all allowed", mb.Exempt, ma.Exempt, ma.Combined.Allowed.IsFull())
			}
		})
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return append(s[:5:5], "...")
	}
	return s
}

func TestReportDetails(t *testing.T) {
	cat := testCatalog(t)
	before := smallOrg()

	t.Run("deny-all on the root loses every critical entry entirely and marks every node", func(t *testing.T) {
		after := apply(before, addPolicy("p-denyall", org.ServiceControlPolicy, denyAll), attach("p-denyall", rootID))
		im, err := Compute(before, after, cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		if im.MaxNewlyDeniedShare != 1 {
			t.Errorf("MaxNewlyDeniedShare = %v, want 1", im.MaxNewlyDeniedShare)
		}
		a := im.Accounts[0]
		var pats []string
		for _, c := range a.CriticalLost {
			pats = append(pats, c.Pattern)
			if !c.All || c.Count != cat.Expand(c.Pattern).Count() || c.Actions != nil {
				t.Errorf("critical %s: All %v, Count %d, %d actions listed; want all %d, none listed", c.Pattern, c.All, c.Count, len(c.Actions), cat.Expand(c.Pattern).Count())
			}
		}
		if diff := cmp.Diff(DefaultCritical(), pats); diff != "" {
			t.Errorf("critical patterns lost (-want +got):\n%s", diff)
		}
		if !a.DeniedEverything || len(a.ServicesLost) != 0 {
			t.Errorf("DeniedEverything = %v with %d services lost listed, want true and none listed", a.DeniedEverything, len(a.ServicesLost))
		}
		var paths []string
		for _, nd := range im.Nodes {
			paths = append(paths, nd.Path)
		}
		if diff := cmp.Diff([]string{"/", "/Dev", "/Prod", "/Prod/Team", "/Sandbox"}, paths); diff != "" {
			t.Errorf("affected nodes (-want +got):\n%s", diff)
		}
		if im.Nodes[0].AccountsAffected != 5 || im.Nodes[0].AccountsTotal != 5 || im.Nodes[2].AccountsAffected != 2 {
			t.Errorf("node counts = %+v", im.Nodes)
		}
	})

	t.Run("a partial critical loss names exactly the lost actions", func(t *testing.T) {
		after := apply(before, addPolicy("p-noassume", org.ServiceControlPolicy,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["sts:AssumeRole","iam:CreateUser","iam:DeleteUser"],"Resource":"*"}]}`),
			attach("p-noassume", prodB))
		im, err := Compute(before, after, cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		want := []CriticalLoss{
			{Pattern: "sts:AssumeRole", Count: 1, All: true},
			{Pattern: "iam:*", Count: 2, Actions: []string{"iam:CreateUser", "iam:DeleteUser"}},
		}
		if len(im.Accounts) != 1 {
			t.Fatalf("affected %v, want [%s]", accountIDs(im.Report), prodB)
		}
		if diff := cmp.Diff(want, im.Accounts[0].CriticalLost); diff != "" {
			t.Errorf("CriticalLost (-want +got):\n%s", diff)
		}
		if got := im.Accounts[0].Path; got != "/Prod/Team/prod-b" {
			t.Errorf("Path = %q, want /Prod/Team/prod-b", got)
		}
	})

	t.Run("detaching a deny counts newly allowed actions", func(t *testing.T) {
		mid := apply(before, addPolicy("p-denys3", org.ServiceControlPolicy, denyS3), attach("p-denys3", ouDev))
		after := apply(mid, detach("p-denys3", ouDev))
		im, err := Compute(mid, after, cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		want := Counts{NewlyAllowed: cat.Expand("s3:*").Count()}
		if len(im.Accounts) != 1 || im.Accounts[0].Counts != want {
			t.Errorf("Accounts = %+v, want one with %+v", im.Accounts, want)
		}
	})

	t.Run("updating a policy's content is seen even with the same policy ID", func(t *testing.T) {
		mid := apply(before, addPolicy("p-custom", org.ServiceControlPolicy, denyS3), attach("p-custom", ouDev))
		after := apply(mid, setContent("p-custom", denyAll))
		im, err := Compute(mid, after, cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		// Every action but s3:* (denied already) and sts:GetCallerIdentity
		// (which no policy can deny).
		want := cat.Len() - cat.Expand("s3:*").Count() - 1
		if len(im.Accounts) != 1 || im.Accounts[0].NewlyDenied != want {
			t.Errorf("Accounts = %+v, want one with %d newly denied", im.Accounts, want)
		}
	})

	t.Run("disabling the SCP type lifts every SCP restriction", func(t *testing.T) {
		mid := apply(before, addPolicy("p-denys3", org.ServiceControlPolicy, denyS3), attach("p-denys3", ouDev))
		after := apply(mid, disableType(org.ServiceControlPolicy))
		im, err := Compute(mid, after, cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		if ids := accountIDs(im.Report); !slices.Equal(ids, []string{devA}) || im.Accounts[0].SCP.NewlyAllowed != cat.Expand("s3:*").Count() {
			t.Errorf("affected %v %+v, want [%s] with s3 newly allowed", ids, im.Accounts, devA)
		}
	})

	t.Run("an account joining the organization under a deny is reported as added", func(t *testing.T) {
		after := apply(before, addPolicy("p-denys3", org.ServiceControlPolicy, denyS3), attach("p-denys3", ouDev),
			func(s *org.Snapshot) {
				s.Accounts = append(s.Accounts, org.Account{ID: "333333333333", Name: "new", ParentID: ouDev})
				s.Attachments = append(s.Attachments, org.Attachment{PolicyID: org.FullAWSAccessID, TargetID: "333333333333"})
			})
		im, err := Compute(before, after, cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		var presence []string
		for _, a := range im.Accounts {
			presence = append(presence, a.ID+":"+a.Presence)
		}
		if diff := cmp.Diff([]string{devA + ":member", "333333333333:added"}, presence); diff != "" {
			t.Errorf("presence (-want +got):\n%s", diff)
		}
		if im.AccountsTotal != 6 {
			t.Errorf("AccountsTotal = %d, want 6", im.AccountsTotal)
		}
	})

	t.Run("moving an account marks both its old and its new OU", func(t *testing.T) {
		after := apply(before, addPolicy("p-denys3", org.ServiceControlPolicy, denyS3), attach("p-denys3", ouSandbox), moveAccount(prodB, ouSandbox))
		im, err := Compute(before, after, cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		var got []string
		for _, nd := range im.Nodes {
			got = append(got, fmt.Sprintf("%s %d/%d", nd.Path, nd.AccountsAffected, nd.AccountsTotal))
		}
		// sandbox-a is affected too (the SCP is on its OU).
		want := []string{"/ 2/5", "/Prod 1/1", "/Prod/Team 1/0", "/Sandbox 2/2"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("nodes (-want +got):\n%s", diff)
		}
	})

	t.Run("an OU gone with its account is still listed as affected", func(t *testing.T) {
		mid := apply(before, addPolicy("p-denys3", org.ServiceControlPolicy, denyS3), attach("p-denys3", ouDev))
		after := apply(mid, detach("p-denys3", ouDev), func(s *org.Snapshot) {
			s.Accounts = slices.DeleteFunc(s.Accounts, func(a org.Account) bool { return a.ID == devA })
			s.OUs = slices.DeleteFunc(s.OUs, func(o org.OU) bool { return o.ID == ouDev })
			s.Attachments = slices.DeleteFunc(s.Attachments, func(a org.Attachment) bool { return a.TargetID == devA || a.TargetID == ouDev })
		})
		im, err := Compute(mid, after, cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		var got []string
		for _, nd := range im.Nodes {
			got = append(got, fmt.Sprintf("%s %d/%d", nd.Path, nd.AccountsAffected, nd.AccountsTotal))
		}
		if diff := cmp.Diff([]string{"/ 1/4", "/Dev 1/0"}, got); diff != "" {
			t.Errorf("nodes (-want +got):\n%s", diff)
		}
		if len(im.Accounts) != 1 || im.Accounts[0].Presence != "removed" || im.Accounts[0].NewlyAllowed != cat.Expand("s3:*").Count() {
			t.Errorf("accounts = %+v, want dev-a removed with s3 newly allowed", im.Accounts)
		}
	})

	t.Run("an analyzer reused for a second computation gives the same report", func(t *testing.T) {
		an, err := NewAnalyzer(cat, Options{})
		if err != nil {
			t.Fatalf("NewAnalyzer() = %v", err)
		}
		after := apply(before, addPolicy("p-denys3", org.ServiceControlPolicy, denyS3), attach("p-denys3", ouProd))
		first, err := an.Compute(before, after)
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		second, err := an.Compute(before, after)
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		fresh, err := Compute(before, after, cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		if diff := cmp.Diff(first.Report, second.Report); diff != "" {
			t.Errorf("second report (-first +second):\n%s", diff)
		}
		if diff := cmp.Diff(fresh.Report, second.Report); diff != "" {
			t.Errorf("reused analyzer's report (-fresh +reused):\n%s", diff)
		}
	})

	t.Run("no change affects nothing", func(t *testing.T) {
		im, err := Compute(before, before.Clone(), cat, Options{})
		if err != nil {
			t.Fatalf("Compute() = %v", err)
		}
		if im.AccountsAffected != 0 || len(im.Nodes) != 0 || im.MaxNewlyDeniedShare != 0 {
			t.Errorf("report = %+v, want nothing affected", im.Report)
		}
	})
}

func TestInvalidInput(t *testing.T) {
	cat := testCatalog(t)
	tests := []struct {
		name   string
		change change
	}{
		{"an account whose parent does not exist is refused", moveAccount(devA, "ou-root-missing01")},
		{"an attachment of an unknown policy is refused", attach("p-missing", ouDev)},
		{"an attachment to an unknown target is refused", attach(org.FullAWSAccessID, "ou-root-missing01")},
		{"an account without an ID is refused", func(s *org.Snapshot) {
			s.Accounts = append(s.Accounts, org.Account{Name: "nameless", ParentID: rootID})
		}},
		{"an OU parent cycle is refused", func(s *org.Snapshot) {
			for i := range s.OUs {
				if s.OUs[i].ID == ouProd {
					s.OUs[i].ParentID = ouTeam
				}
			}
		}},
		{"a policy that is not JSON is refused", func(s *org.Snapshot) {
			addPolicy("p-broken", org.ServiceControlPolicy, `{"Statement": [`)(s)
			attach("p-broken", ouDev)(s)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := smallOrg()
			_, err := Compute(before, apply(before, tt.change), cat, Options{})
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("Compute() = %v, want an error wrapping ErrInvalidInput", err)
			}
			t.Logf("error: %v", err)
		})
	}
	t.Run("a missing snapshot is refused", func(t *testing.T) {
		if _, err := Compute(smallOrg(), nil, cat, Options{}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Compute(s, nil) = %v, want ErrInvalidInput", err)
		}
	})
	t.Run("a critical pattern that matches nothing is refused", func(t *testing.T) {
		_, err := NewAnalyzer(cat, Options{Critical: []string{"nosuchservice:*"}})
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("NewAnalyzer() = %v, want ErrInvalidInput", err)
		}
	})
}

// TestConditionalFromDeniedIsAGain: detaching a deny-all from Root while a
// condition-bearing SCP stays on an OU turns the actions that SCP covers
// from denied into conditional. That is access partly restored, not lost:
// PartlyRestored counts it (not NewlyConditional) so that the guardrails
// (thresholds, near-deny-all) do not refuse the remediation of a deny-all
// as a loss.
func TestConditionalFromDeniedIsAGain(t *testing.T) {
	cat := testCatalog(t)
	an, err := NewAnalyzer(cat, Options{})
	if err != nil {
		t.Fatalf("NewAnalyzer() = %v", err)
	}
	s3 := cat.Expand("s3:*").Count()
	regionDeny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`
	base := apply(smallOrg(), addPolicy("p-s3region", org.ServiceControlPolicy, regionDeny), attach("p-s3region", ouDev))
	withDenyAll := apply(base, addPolicy("p-denyall", org.ServiceControlPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`), attach("p-denyall", rootID))
	for _, tc := range []struct {
		name          string
		before, after *org.Snapshot
		want          Counts // of dev-a
	}{
		{"attaching the deny-all: s3 goes from conditional to denied, the rest from allowed to denied", base, withDenyAll,
			Counts{NewlyDenied: cat.Len() - 1}},
		{"detaching it: s3 goes from denied to conditional (a gain), the rest to allowed", withDenyAll, base,
			Counts{NewlyAllowed: cat.Len() - 1 - s3, PartlyRestored: s3}},
		{"attaching the region deny: s3 goes from allowed to conditional (a loss)", smallOrg(), base,
			Counts{NewlyConditional: s3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im, err := an.Compute(tc.before, tc.after)
			if err != nil {
				t.Fatalf("Compute() = %v", err)
			}
			for _, a := range im.Report.Accounts {
				if a.ID != devA {
					continue
				}
				if a.Counts != tc.want {
					t.Errorf("dev-a counts = %+v, want %+v", a.Counts, tc.want)
				}
				if got, want := a.Counts.Restricted(), tc.want.NewlyDenied+tc.want.NewlyConditional; got != want {
					t.Errorf("Restricted() = %d, want %d", got, want)
				}
				return
			}
			t.Errorf("dev-a is not in the report")
		})
	}
}
