package watch

import (
	"testing"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
)

// TestOutstanding: a resumed remediation applies only what the
// organization still needs; an operation already done (by the interrupted
// apply, or by a person) is dropped.
func TestOutstanding(t *testing.T) {
	s, err := generate.Organization(generate.Options{Accounts: 30, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	x := org.MustIndex(s)
	att := s.Attachments[0]
	var acct org.Account
	for _, a := range s.Accounts {
		if a.ID != s.Organization.ManagementAccountID && a.ParentID != s.Root.ID {
			acct = a
			break
		}
	}
	var pol org.Policy
	for _, p := range s.Policies {
		if !p.AWSManaged {
			pol = p
			break
		}
	}
	for _, tc := range []struct {
		name string
		op   change.Operation
		done bool
	}{
		{"a detach of a policy still attached is outstanding", change.Operation{Op: change.OpDetachPolicy, Policy: att.PolicyID, Target: att.TargetID}, false},
		{"a detach of a policy no longer attached is done", change.Operation{Op: change.OpDetachPolicy, Policy: "p-gone0000", Target: s.Root.ID}, true},
		{"an attach of a policy attached already is done", change.Operation{Op: change.OpAttachPolicy, Policy: att.PolicyID, Target: att.TargetID}, true},
		{"an attach of a policy not attached is outstanding", change.Operation{Op: change.OpAttachPolicy, Policy: "p-gone0000", Target: s.Root.ID}, false},
		{"a move of an account already at its destination is done", change.Operation{Op: change.OpMoveAccount, Accounts: []string{acct.ID}, To: acct.ParentID}, true},
		{"a move of an account elsewhere is outstanding", change.Operation{Op: change.OpMoveAccount, Accounts: []string{acct.ID}, To: s.Root.ID}, false},
		{"restoring a policy's current content is done", change.Operation{Op: change.OpUpdatePolicy, Policy: pol.ID, Content: pol.Content}, true},
		{"restoring other content is outstanding", change.Operation{Op: change.OpUpdatePolicy, Policy: pol.ID, Content: `{"Version":"2012-10-17","Statement":[]}`}, false},
		{"enabling an enabled policy type is done", change.Operation{Op: change.OpEnablePolicyType, Type: "SCP"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Outstanding(x, []change.Operation{tc.op})
			if done := len(got) == 0; done != tc.done {
				t.Errorf("Outstanding(%+v) = %+v, want done %v", tc.op, got, tc.done)
			}
		})
	}
}
