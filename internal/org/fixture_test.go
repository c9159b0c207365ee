package org

import (
	"time"
)

// fixture returns a small organization:
//
//	Root r-ab12                      SCP FullAWSAccess, deny-leave  RCP RCPFullAWSAccess
//	├── Customers ou-ab12-11111111   SCP FullAWSAccess
//	│   ├── Acme ou-ab12-22222222    SCP FullAWSAccess, region-lock
//	│   │   ├── Prod ou-ab12-33333333 SCP FullAWSAccess
//	│   │   │   └── acme-prod 111111111111
//	│   │   └── acme-dev 222222222222
//	│   └── Beta ou-ab12-44444444    SCP allow-list (no FullAWSAccess)
//	│       └── Prod ou-ab12-55555555
//	│           └── beta-prod 333333333333
//	├── Sandbox ou-ab12-66666666
//	│   └── shared 444444444444
//	├── Security ou-ab12-77777777
//	│   └── shared 555555555555       (a second account named "shared")
//	└── management 999999999999
func fixture() *Snapshot {
	const root = "r-ab12"
	ou := func(id, name, parent string) OU {
		return OU{ID: id, ARN: OUARN("999999999999", "o-abcdefghij", id), Name: name, ParentID: parent}
	}
	acct := func(id, name, parent string) Account {
		return Account{ID: id, ARN: AccountARN("999999999999", "o-abcdefghij", id), Name: name, Email: name + "@example.com",
			Status: AccountActive, ParentID: parent, JoinedAt: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	}
	s := &Snapshot{
		FormatVersion: FormatVersion,
		TakenAt:       time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		Source:        "test",
		Organization: Organization{ID: "o-abcdefghij", ARN: OrganizationARN("999999999999", "o-abcdefghij"), FeatureSet: "ALL",
			ManagementAccountID: "999999999999", ManagementAccountEmail: "management@example.com"},
		Root: Root{ID: root, Name: "Root", PolicyTypes: []PolicyTypeStatus{
			{Type: ServiceControlPolicy, Status: PolicyTypeEnabled}, {Type: ResourceControlPolicy, Status: PolicyTypeEnabled}}},
		OUs: []OU{
			ou("ou-ab12-11111111", "Customers", root),
			ou("ou-ab12-22222222", "Acme", "ou-ab12-11111111"),
			ou("ou-ab12-33333333", "Prod", "ou-ab12-22222222"),
			ou("ou-ab12-44444444", "Beta", "ou-ab12-11111111"),
			ou("ou-ab12-55555555", "Prod", "ou-ab12-44444444"),
			ou("ou-ab12-66666666", "Sandbox", root),
			ou("ou-ab12-77777777", "Security", root),
		},
		Accounts: []Account{
			acct("111111111111", "acme-prod", "ou-ab12-33333333"),
			acct("222222222222", "acme-dev", "ou-ab12-22222222"),
			acct("333333333333", "beta-prod", "ou-ab12-55555555"),
			acct("444444444444", "shared", "ou-ab12-66666666"),
			acct("555555555555", "shared", "ou-ab12-77777777"),
			acct("999999999999", "management", root),
		},
		Policies: []Policy{
			FullAWSAccessPolicy(),
			RCPFullAWSAccessPolicy(),
			{ID: "p-denyleave", Name: "deny-leave", Type: ServiceControlPolicy, Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`},
			{ID: "p-regionlk", Name: "region-lock", Type: ServiceControlPolicy, Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`},
			{ID: "p-allowlst", Name: "allow-list", Type: ServiceControlPolicy, Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","ec2:*"],"Resource":"*"}]}`},
			{ID: "p-unused00", Name: "unused", Type: ServiceControlPolicy, Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`},
		},
	}
	targets := []string{root}
	for _, o := range s.OUs {
		targets = append(targets, o.ID)
	}
	for _, a := range s.Accounts {
		targets = append(targets, a.ID)
	}
	for _, t := range targets {
		if t != "ou-ab12-44444444" {
			s.Attachments = append(s.Attachments, Attachment{PolicyID: FullAWSAccessID, TargetID: t})
		}
		s.Attachments = append(s.Attachments, Attachment{PolicyID: RCPFullAWSAccessID, TargetID: t})
	}
	s.Attachments = append(s.Attachments,
		Attachment{PolicyID: "p-denyleave", TargetID: root},
		Attachment{PolicyID: "p-regionlk", TargetID: "ou-ab12-22222222"},
		Attachment{PolicyID: "p-allowlst", TargetID: "ou-ab12-44444444"},
	)
	s.Normalize()
	return s
}
