package impact

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/policy"
)

// engineOracle evaluates single requests with the policy engine, the exact
// (and slow) path the classification must agree with.
type engineOracle struct {
	t        *testing.T
	cat      *catalog.Catalog
	x        *org.Index
	compiled map[string]*policy.Policy
	allowAll *policy.Policy // identity: Allow * on *
	resAll   *policy.Policy // resource policy: Allow * to Principal *
}

func newOracle(t *testing.T, cat *catalog.Catalog, s *org.Snapshot) *engineOracle {
	t.Helper()
	x, err := org.NewIndex(s)
	if err != nil {
		t.Fatalf("org.NewIndex() = %v", err)
	}
	o := &engineOracle{t: t, cat: cat, x: x, compiled: map[string]*policy.Policy{}}
	o.allowAll = o.load(fullAWSAccess, policy.KindIdentity, "allow-all")
	o.resAll = o.load(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, policy.KindResource, "resource-allow-all")
	return o
}

func (o *engineOracle) load(content string, k policy.Kind, name string) *policy.Policy {
	o.t.Helper()
	p, _, err := policy.Load([]byte(content), policy.Source{File: name}, k, name)
	if err != nil {
		o.t.Fatalf("policy.Load(%s) = %v", name, err)
	}
	return p
}

// chain returns the engine's levels for an account and policy type.
func (o *engineOracle) chain(account string, t org.PolicyType) []policy.Level {
	o.t.Helper()
	levels, err := o.x.EffectiveChain(account, t)
	if err != nil {
		return nil // the type is not enabled: it restricts nothing
	}
	kind := policy.KindSCP
	if t == org.ResourceControlPolicy {
		kind = policy.KindRCP
	}
	out := make([]policy.Level, len(levels))
	for i, l := range levels {
		out[i].ID = l.NodeID
		for _, p := range l.Policies {
			cp, ok := o.compiled[p.ID]
			if !ok {
				cp = o.load(p.Content, kind, p.Name)
				o.compiled[p.ID] = cp
			}
			out[i].Policies = append(out[i].Policies, cp)
		}
	}
	return out
}

// decide evaluates action for dimension d of account: for SCPs a role of
// the account acting on "*" in its own account; for RCPs a role of another
// account acting on a resource of the account (the resource policy allows
// everyone); combined, a role of the account on its own resource with both
// chains. Identity policies allow everything; no request context is given.
func (o *engineOracle) decide(account string, d Dimension, scps, rcps []policy.Level, action string) policy.Decision {
	o.t.Helper()
	principal := "arn:aws:iam::" + account + ":role/Probe"
	set := &policy.PolicySet{
		Identity:    []*policy.Policy{o.allowAll},
		Resource:    o.resAll,
		Org:         &policy.Org{ID: o.x.Snapshot().Organization.ID, ManagementAccount: o.x.Snapshot().Organization.ManagementAccountID},
		RCPServices: o.cat.RCPSupported,
	}
	switch d {
	case SCPDimension:
		set.SCPs = scps
	case RCPDimension:
		principal = "arn:aws:iam::999999999999:role/Outsider"
		set.RCPs = rcps
	case CombinedDimension:
		set.SCPs, set.RCPs = scps, rcps
	}
	rc, err := policy.NewRequestContext(policy.Request{Principal: principal, Action: action, Resource: "*", ResourceAccount: account}, set.Org)
	if err != nil {
		o.t.Fatalf("NewRequestContext(%s) = %v", action, err)
	}
	return policy.Evaluate(rc, set).Decision
}

// TestAgreesWithPolicyEngine checks the fast classification against the
// policy engine on a sample of accounts and actions, before and after a
// change: every action classified allowed must be Allowed by the engine,
// every action classified denied must be denied. Conditional actions depend
// on the request and are not checked.
func TestAgreesWithPolicyEngine(t *testing.T) {
	cat := testCatalog(t)
	t.Run("on a generated organization with a deny-all on the root, an SCP on an OU and an RCP on another", func(t *testing.T) {
		before, err := generate.Organization(generate.Options{Accounts: 400, Seed: 7})
		if err != nil {
			t.Fatalf("generate.Organization() = %v", err)
		}
		var denyAllID, customer, sandbox string
		for _, p := range before.Policies {
			if p.Name == "deny-all" {
				denyAllID = p.ID
			}
		}
		for _, ou := range before.OUs {
			if ou.Name == "Sandbox" {
				sandbox = ou.ID
			}
		}
		for _, ou := range before.OUs {
			if ou.ParentID != before.Root.ID && ou.ParentID != sandbox && customer == "" {
				customer = ou.ID
			}
		}
		after := apply(before,
			addPolicy("p-xcheckdenys3", org.ServiceControlPolicy, denyS3), attach("p-xcheckdenys3", customer),
			addPolicy("p-xcheckrcps3", org.ResourceControlPolicy, rcpDenyS3Unconditional), attach("p-xcheckrcps3", sandbox),
			attach(denyAllID, before.Root.ID))
		crossCheck(t, cat, before, after, 40, []string{sandbox, customer}, []string{"scp denied", "rcp allowed", "rcp denied", "combined denied"})
	})
	t.Run("on the small organization with allow-lists, conditions, NotAction and RCPs", func(t *testing.T) {
		before := smallOrg()
		after := apply(before,
			addPolicy("p-denys3", org.ServiceControlPolicy, denyS3), attach("p-denys3", ouTeam),
			addPolicy("p-allowlist", org.ServiceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*","cloudwatch:*","sts:*"],"Resource":"*"},
				{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`),
			attach("p-allowlist", ouSandbox), detach(org.FullAWSAccessID, ouSandbox),
			addPolicy("p-regions", org.ServiceControlPolicy, denyOutsideRegions), attach("p-regions", ouDev),
			addPolicy("p-rcptls", org.ResourceControlPolicy, rcpEnforceTLS), attach("p-rcptls", ouProd),
			addPolicy("p-rcps3", org.ResourceControlPolicy, rcpDenyS3Unconditional), attach("p-rcps3", devA),
			addPolicy("p-rcpall", org.ResourceControlPolicy,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`), attach("p-rcpall", rootAcct),
			addPolicy("p-denyall", org.ServiceControlPolicy, denyAll), attach("p-denyall", mgmtAcct))
		crossCheck(t, cat, before, after, 100, nil, []string{"scp allowed", "scp denied", "rcp allowed", "rcp denied", "combined allowed", "combined denied"})
	})
}

// crossCheck compares the classes of im with the engine for a random
// sample of n accounts plus the management account and the accounts
// directly under the given parents, and requires each of the named
// "dimension class" pairs to have been checked at least once.
func crossCheck(t *testing.T, cat *catalog.Catalog, before, after *org.Snapshot, n int, parents []string, need []string) {
	im, err := Compute(before, after, cat, Options{})
	if err != nil {
		t.Fatalf("Compute() = %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	checked := map[string]int{}
	for _, side := range []struct {
		name string
		snap *org.Snapshot
	}{{"before", before}, {"after", after}} {
		o := newOracle(t, cat, side.snap)
		accts := side.snap.Accounts
		sample := []org.Account{}
		for _, i := range rng.Perm(len(accts))[:min(n, len(accts))] {
			sample = append(sample, accts[i])
		}
		for _, a := range accts {
			// Always check the exemption, and the accounts under the changes.
			if a.ID == side.snap.Organization.ManagementAccountID || slices.Contains(parents, a.ParentID) {
				sample = append(sample, a)
			}
		}
		for _, a := range sample {
			b, f, ok := im.Account(a.ID)
			if !ok {
				t.Fatalf("Account(%s) not found", a.ID)
			}
			classes := b
			if side.name == "after" {
				classes = f
			}
			mgmt := a.ID == side.snap.Organization.ManagementAccountID
			scps, rcps := o.chain(a.ID, org.ServiceControlPolicy), o.chain(a.ID, org.ResourceControlPolicy)
			for _, d := range []Dimension{SCPDimension, RCPDimension, CombinedDimension} {
				cl := classes.Get(d)
				// A random sample of the catalog, plus a few of each class.
				idx := []int{}
				for range 60 {
					idx = append(idx, rng.IntN(cat.Len()))
				}
				for _, s := range []catalog.Set{cl.Allowed, cl.Denied, cl.Conditional} {
					k := 0
					for i := range s.All() {
						if k++; k > 8 {
							break
						}
						idx = append(idx, i)
					}
				}
				for _, i := range idx {
					want := cl.Class(i)
					if want == Conditional {
						checked["conditional (skipped)"]++
						continue
					}
					action := cat.Name(i)
					got := o.decide(a.ID, d, scps, rcps, action)
					if !mgmt {
						checked[fmt.Sprintf("%s %s", d, want)]++
					}
					if (want == Allowed) != (got == policy.Allowed) {
						t.Errorf("%s: account %s (%s) %s %s: classified %s, engine says %s",
							side.name, a.ID, a.Name, d, action, want, got)
					}
				}
			}
		}
	}
	t.Logf("checked (member accounts): %v", checked)
	for _, k := range need {
		if checked[k] == 0 {
			t.Errorf("no %q case was checked on a member account; the sample is too narrow", k)
		}
	}
}
