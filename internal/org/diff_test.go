package org

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiff(t *testing.T) {
	t.Run("identical snapshots have no changes", func(t *testing.T) {
		if got := Diff(MustIndex(fixture()), MustIndex(fixture())); len(got) != 0 {
			t.Errorf("Diff(fixture, fixture) = %v, want none", got)
		}
	})
	b := fixture()
	b.Accounts[0].ParentID = "ou-ab12-66666666" // acme-prod to Sandbox
	b.Accounts[1].Name = "acme-development"     // renamed
	b.Accounts[2].Status = AccountSuspended
	b.OUs[3].Name = "Beta Corp"            // renamed OU
	b.OUs[6].ParentID = "ou-ab12-11111111" // Security moved under Customers
	b.OUs = append(b.OUs, OU{ID: "ou-ab12-88888888", Name: "New", ParentID: "r-ab12"})
	b.Accounts = b.Accounts[:len(b.Accounts)-1] // removed: management? no — see below
	b.Organization.ManagementAccountID = ""     // (the management account is removed too)
	for i := range b.Policies {
		switch b.Policies[i].ID {
		case "p-regionlk":
			b.Policies[i].Content = `{"Version":"2012-10-17","Statement":[]}`
		case "p-unused00":
			b.Policies[i].Name = "unused-renamed"
		}
	}
	b.Policies = append(b.Policies, Policy{ID: "p-newpolcy", Name: "new", Type: ServiceControlPolicy, Content: "{}"})
	b.Attachments = append(b.Attachments, Attachment{PolicyID: "p-unused00", TargetID: "ou-ab12-66666666"})
	var kept []Attachment
	for _, a := range b.Attachments {
		if a.TargetID == "999999999999" {
			continue // the removed account's attachments go with it
		}
		if a.PolicyID == "p-regionlk" {
			continue
		}
		kept = append(kept, a)
	}
	b.Attachments = kept
	b.Root.PolicyTypes = []PolicyTypeStatus{{Type: ServiceControlPolicy, Status: PolicyTypeEnabled}}
	// RCP attachments disappear with the type.
	kept = nil
	for _, a := range b.Attachments {
		if a.PolicyID != RCPFullAWSAccessID {
			kept = append(kept, a)
		}
	}
	b.Attachments = kept
	b.Normalize()
	xa, xb := MustIndex(fixture()), MustIndex(b)
	got := Diff(xa, xb)
	var kinds []string
	count := map[ChangeKind]int{}
	for _, c := range got {
		if c.Kind == AttachmentRemoved && c.ID == RCPFullAWSAccessID {
			count[c.Kind]++
			continue
		}
		kinds = append(kinds, string(c.Kind)+" "+c.ID+" "+c.From+" -> "+c.To+" "+c.Target)
	}
	want := []string{
		"policy-type-disabled RESOURCE_CONTROL_POLICY  ->  ",
		"ou-added ou-ab12-88888888  -> /New ",
		"ou-moved ou-ab12-77777777 / -> /Customers ",
		"ou-renamed ou-ab12-44444444 Beta -> Beta Corp ",
		"account-removed 999999999999 /management ->  ",
		"account-moved 111111111111 /Customers/Acme/Prod -> /Sandbox ",
		"account-renamed 222222222222 acme-dev -> acme-development ",
		"account-status-changed 333333333333 ACTIVE -> SUSPENDED ",
		"policy-added p-newpolcy  -> SCP ",
		"policy-renamed p-unused00 unused -> unused-renamed ",
		"policy-content-changed p-regionlk 159 characters -> 39 characters ",
		"attachment-added p-unused00  ->  ou-ab12-66666666",
		"attachment-removed p-FullAWSAccess  ->  999999999999",
		"attachment-removed p-regionlk  ->  ou-ab12-22222222",
	}
	if diff := cmp.Diff(kinds, want); diff != "" {
		t.Errorf("Diff (-got +want):\n%s", diff)
	}
	if n := count[AttachmentRemoved]; n != 14 {
		t.Errorf("RCPFullAWSAccess detachments = %d, want 14 (root, 7 OUs, 6 accounts)", n)
	}
}
