package impact

import (
	"errors"
	"testing"

	"github.com/orgguard/orgguard/internal/org"
)

// FuzzCompute attaches an arbitrary SCP and an arbitrary RCP to a node of
// the small organization and checks that Compute either refuses the input
// with ErrInvalidInput or returns a report that keeps the invariants:
// the classes partition the catalog, RCPs never touch actions outside
// RCP-supported services, adding policies next to FullAWSAccess never
// allows anything new, only accounts under the target change, and the
// management account is never affected.
func FuzzCompute(f *testing.F) {
	for _, seed := range []struct {
		scp, rcp string
		target   uint8
	}{
		{denyAll, rcpEnforceTLS, 0},
		{denyS3, rcpDenyS3Unconditional, 1},
		{denyOutsideRegions, rcpFullAWSAccess, 2},
		{denyEC2Large, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"*","Resource":"*"}]}`, 3},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::x"}}`, `{}`, 4},
		{`not json`, `{"Statement":[]}`, 5},
	} {
		f.Add(seed.scp, seed.rcp, seed.target)
	}
	cat := testCatalog(f)
	rcpActs := fromSet(cat.RCPActions(), cat.Len())
	f.Fuzz(func(t *testing.T, scp, rcp string, target uint8) {
		before := smallOrg()
		targets := []string{rootID, ouProd, ouTeam, ouDev, ouSandbox, prodA, devA, mgmtAcct}
		tgt := targets[int(target)%len(targets)]
		after := apply(before,
			addPolicy("p-fuzzscp", org.ServiceControlPolicy, scp), attach("p-fuzzscp", tgt),
			addPolicy("p-fuzzrcp", org.ResourceControlPolicy, rcp), attach("p-fuzzrcp", tgt))
		im, err := Compute(before, after, cat, Options{})
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("Compute() = %v, want nil or an error wrapping ErrInvalidInput", err)
			}
			return
		}
		if im.AccountsTotal != 5 || im.ManagementAccountAffected || !im.RecoveryPathIntact {
			t.Fatalf("AccountsTotal %d, ManagementAccountAffected %v, RecoveryPathIntact %v", im.AccountsTotal, im.ManagementAccountAffected, im.RecoveryPathIntact)
		}
		x := org.MustIndex(after)
		under := map[string]bool{}
		for _, a := range x.AccountsUnder(tgt) {
			under[a.ID] = true
		}
		for _, a := range im.Accounts {
			if !under[a.ID] {
				t.Errorf("account %s is affected but not under %s", a.ID, tgt)
			}
			if a.NewlyAllowed != 0 || a.SCP.NewlyAllowed != 0 || a.RCP.NewlyAllowed != 0 {
				t.Errorf("account %s: newly allowed actions after only adding policies: %+v", a.ID, a)
			}
			_, f, _ := im.Account(a.ID)
			for _, d := range []Dimension{SCPDimension, RCPDimension, CombinedDimension} {
				c := f.Get(d)
				if c.Allowed.Intersects(c.Conditional) || c.Allowed.Intersects(c.Denied) || c.Conditional.Intersects(c.Denied) ||
					c.Allowed.Count()+c.Conditional.Count()+c.Denied.Count() != cat.Len() {
					t.Fatalf("account %s %s: classes do not partition the catalog", a.ID, d)
				}
			}
			notRCP := fromSet(f.RCP.Allowed, cat.Len())
			if !containsAll(notRCP, complementIn(rcpActs, fullBitset(cat.Len()))) {
				t.Errorf("account %s: an RCP restricts an action of a service without RCP support", a.ID)
			}
		}
	})
}
