// Package generate writes synthetic organizations shaped like a managed
// service provider's: a management account; Security and Infrastructure
// OUs; a Customers OU with an OU per customer (some nested to depth 4)
// holding 1 to 30 accounts each; Sandbox and Suspended OUs; a few dozen
// SCPs of the kinds real organizations use attached at different levels,
// and a few RCPs. The same options always give the same organization, byte
// for byte once encoded.
package generate

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

// Options say what to generate.
type Options struct {
	Accounts int    // total accounts, the management account included; at least 1
	Seed     uint64 // the same seed gives the same organization
}

// MaxAccounts is the largest organization Generate writes (the highest
// account quota AWS grants).
const MaxAccounts = 50000

// Epoch is the fixed capture time of generated snapshots; accounts joined
// during the five years before it.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrBadOptions is returned for options Generate cannot honour.
var ErrBadOptions = errors.New("bad generator options")

// gen carries the generator's state for one run.
type gen struct {
	rng      *rand.Rand
	s        *org.Snapshot
	mgmt     string
	orgID    string
	usedIDs  map[string]bool
	names    map[string]bool
	policies map[string]string // short name -> policy ID
	attached map[string]int    // target ID -> number of SCPs attached
}

// Organization generates an organization.
func Organization(o Options) (*org.Snapshot, error) {
	if o.Accounts < 1 || o.Accounts > MaxAccounts {
		return nil, fmt.Errorf("generating an organization of %d accounts: %w: the number of accounts must be between 1 and %d", o.Accounts, ErrBadOptions, MaxAccounts)
	}
	g := &gen{
		rng:      rand.New(rand.NewPCG(o.Seed, 0x6f7267677561)),
		usedIDs:  map[string]bool{},
		names:    map[string]bool{},
		policies: map[string]string{},
		attached: map[string]int{},
	}
	g.build(o.Accounts)
	g.s.Normalize()
	g.s.Fingerprint = org.ComputeFingerprint(g.s)
	return g.s, nil
}

const idChars = "abcdefghijklmnopqrstuvwxyz0123456789"

func (g *gen) str(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idChars[g.rng.IntN(len(idChars))]
	}
	return string(b)
}

func (g *gen) unique(f func() string) string {
	for {
		id := f()
		if !g.usedIDs[id] {
			g.usedIDs[id] = true
			return id
		}
	}
}

func (g *gen) accountID() string {
	return g.unique(func() string { return fmt.Sprintf("%012d", 100000000000+g.rng.Int64N(900000000000)) })
}

func (g *gen) build(total int) {
	g.mgmt = g.accountID()
	g.orgID = "o-" + g.str(10)
	rootID := "r-" + g.str(4)
	g.s = &org.Snapshot{
		FormatVersion: org.FormatVersion,
		TakenAt:       epoch,
		Source:        "generated",
		Organization: org.Organization{
			ID: g.orgID, ARN: org.OrganizationARN(g.mgmt, g.orgID), FeatureSet: "ALL",
			ManagementAccountID: g.mgmt, ManagementAccountARN: org.AccountARN(g.mgmt, g.orgID, g.mgmt),
			ManagementAccountEmail: "aws-management@cloudkeep-msp.example",
		},
		Root: org.Root{
			ID: rootID, ARN: org.RootARN(g.mgmt, g.orgID, rootID), Name: "Root",
			PolicyTypes: []org.PolicyTypeStatus{
				{Type: org.ServiceControlPolicy, Status: org.PolicyTypeEnabled},
				{Type: org.ResourceControlPolicy, Status: org.PolicyTypeEnabled},
			},
		},
	}
	g.s.Policies = append(g.s.Policies, org.FullAWSAccessPolicy(), org.RCPFullAWSAccessPolicy())
	g.policies["FullAWSAccess"] = org.FullAWSAccessID
	g.policies["RCPFullAWSAccess"] = org.RCPFullAWSAccessID
	g.attachDefaults(rootID)
	g.createPolicies()

	// Root-level guardrails.
	g.attach("deny-leave-organization", rootID)
	g.attach("deny-root-user", rootID)
	g.attach("protect-security-services", rootID)
	g.attach("rcp-enforce-tls", rootID)

	left := total
	addAcct := func(name, parent, status string, tags map[string]string) {
		if left == 0 {
			return
		}
		left--
		g.account(g.accountID(), name, parent, status, tags)
	}
	// The management account sits at the root.
	left--
	g.account(g.mgmt, "management", rootID, org.AccountActive, map[string]string{"Owner": "platform"})

	security := g.ou("Security", rootID)
	g.attach("protect-kms-keys", security)
	g.attach("protect-security-hub", security)
	g.attach("rcp-protect-kms", security)
	for _, n := range []string{"log-archive", "audit", "security-tooling"} {
		addAcct(n, security, org.AccountActive, map[string]string{"Owner": "security", "Environment": "prod"})
	}
	infra := g.ou("Infrastructure", rootID)
	g.attach("deny-network-changes", infra)
	g.attach("protect-backups", infra)
	for _, n := range []string{"network-hub", "shared-services", "backup", "identity", "cicd"} {
		addAcct(n, infra, org.AccountActive, map[string]string{"Owner": "platform", "Environment": "prod"})
	}
	customers := g.ou("Customers", rootID)
	for _, p := range []string{"deny-iam-users", "require-imdsv2", "deny-public-s3", "deny-billing-changes"} {
		g.attach(p, customers)
	}
	g.attach("rcp-deny-external-access", customers)
	sandbox := g.ou("Sandbox", rootID)
	// Allow-list replaces FullAWSAccess on the Sandbox OU.
	g.attach("sandbox-allow-list", sandbox)
	g.detach("FullAWSAccess", sandbox)
	g.attach("deny-expensive-instances", sandbox)
	g.attach("require-cost-tags", sandbox)
	g.attach("deny-marketplace", sandbox)
	suspended := g.ou("Suspended", rootID)
	g.attach("deny-all", suspended)
	g.detach("FullAWSAccess", suspended)

	// Sandbox ~3%, Suspended ~2%, the rest to customers.
	nSandbox := left * 3 / 100
	nSuspended := left * 2 / 100
	if left > 0 && nSandbox == 0 && left > 2 {
		nSandbox = 1
	}
	if left > 0 && nSuspended == 0 && left > 3 {
		nSuspended = 1
	}
	nCustomers := left - nSandbox - nSuspended
	for i := range nSandbox {
		addAcct(fmt.Sprintf("sandbox-%s-%03d", pick(g.rng, firstNames), i+1), sandbox, org.AccountActive, map[string]string{"Environment": "sandbox", "Owner": "engineering"})
	}
	for i := range nSuspended {
		addAcct(fmt.Sprintf("closed-%s-%03d", strings.ToLower(pick(g.rng, words)), i+1), suspended, org.AccountSuspended, nil)
	}
	g.customers(customers, nCustomers)
	left -= nCustomers
	// Rounding leftovers (small organizations) go to the Sandbox.
	for left > 0 {
		addAcct(fmt.Sprintf("sandbox-extra-%03d", left), sandbox, org.AccountActive, map[string]string{"Environment": "sandbox"})
	}
}

// customers creates customer OUs until n accounts are placed. When the
// OU budget runs out (beyond about 15,000 accounts) the remaining accounts
// are spread over the existing customers, which then exceed 30 accounts.
func (g *gen) customers(parent string, n int) {
	const ouBudget = 1900 // AWS allows 2,000 OUs; keep some room for users' own
	type leaf struct {
		id, slug string
		tags     map[string]string
	}
	var leaves []leaf
	customGuardrails := 0
	for i := 0; n > 0; i++ {
		if len(g.s.OUs) >= ouBudget-1 && len(leaves) > 0 {
			for j := 0; n > 0; j++ {
				l := leaves[j%len(leaves)]
				g.place(l.id, fmt.Sprintf("%s-extra%d", l.slug, j/len(leaves)+1), 1, l.tags, "prod")
				n--
			}
			return
		}
		size := min(g.customerSize(), n)
		n -= size
		name := g.customerName()
		slug := slugify(name)
		c := g.ou(name, parent)
		rs := regionSets[g.rng.IntN(len(regionSets))]
		g.attach("region-lock-"+rs.name, c)
		switch r := g.rng.IntN(100); {
		case r < 8:
			// A regulated customer: an allow-list replaces FullAWSAccess.
			g.attach("regulated-allow-list", c)
			g.detach("FullAWSAccess", c)
			g.attach("deny-unencrypted-storage", c)
		case r < 20 && customGuardrails < 15:
			customGuardrails++
			pname := "customer-" + slug + "-guardrails"
			g.policy(pname, "Guardrails agreed with "+name, org.ServiceControlPolicy, customerGuardrail(slug, g.rng.IntN))
			g.attach(pname, c)
		case r < 30:
			g.attach("deny-ai-services", c)
		}
		tags := map[string]string{"Customer": name, "CostCenter": fmt.Sprintf("CC-%04d", 1000+i)}
		// Some larger customers are nested: per environment, and sometimes
		// per business unit as well (depth 4 below the root).
		switch {
		case size >= 12 && g.rng.IntN(8) == 0 && len(g.s.OUs) < ouBudget-8:
			for _, bu := range []string{"Retail", "Corporate"} {
				b := g.ou(bu, c)
				part := size / 2
				if bu == "Corporate" {
					part = size - size/2
				}
				busSlug := slug + "-" + strings.ToLower(bu)
				prod, non := g.environments(b, busSlug, part, tags)
				leaves = append(leaves, leaf{prod, busSlug, tags}, leaf{non, busSlug, tags})
			}
		case size >= 4 && g.rng.IntN(6) == 0 && len(g.s.OUs) < ouBudget-4:
			prod, non := g.environments(c, slug, size, tags)
			leaves = append(leaves, leaf{prod, slug, tags}, leaf{non, slug, tags})
		default:
			g.place(c, slug, size, tags, "")
			leaves = append(leaves, leaf{c, slug, tags})
		}
	}
}

// environments splits accounts into Prod and NonProd OUs under parent.
func (g *gen) environments(parent, slug string, size int, tags map[string]string) (prodID, nonProdID string) {
	prod := g.ou("Prod", parent)
	g.attach("deny-prod-data-deletion", prod)
	non := g.ou("NonProd", parent)
	g.attach("deny-expensive-instances", non)
	nProd := (size + 1) / 2
	g.place(prod, slug, nProd, tags, "prod")
	g.place(non, slug, size-nProd, tags, "nonprod")
	return prod, non
}

var envNames = []string{"prod", "staging", "dev", "data", "shared", "dr", "analytics", "test"}

// place adds size accounts for a customer under parent.
func (g *gen) place(parent, slug string, size int, tags map[string]string, env string) {
	for i := range size {
		var name, e string
		switch {
		case env == "prod":
			name, e = fmt.Sprintf("%s-prod-%02d", slug, i+1), "prod"
		case env == "nonprod":
			e = []string{"dev", "staging", "test"}[i%3]
			name = fmt.Sprintf("%s-%s-%02d", slug, e, i/3+1)
		case i < len(envNames):
			name, e = slug+"-"+envNames[i], envNames[i]
		default:
			name, e = fmt.Sprintf("%s-workload-%02d", slug, i-len(envNames)+1), "prod"
		}
		t := map[string]string{"Environment": e}
		for k, v := range tags {
			t[k] = v
		}
		id := g.accountID()
		g.account(id, name, parent, org.AccountActive, t)
		if e == "prod" && g.rng.IntN(25) == 0 {
			g.attach("deny-prod-data-deletion", id)
		}
	}
}

// customerSize draws 1..30, skewed towards small customers.
func (g *gen) customerSize() int {
	switch r := g.rng.IntN(100); {
	case r < 30:
		return 1 + g.rng.IntN(3)
	case r < 70:
		return 4 + g.rng.IntN(7)
	case r < 90:
		return 11 + g.rng.IntN(10)
	default:
		return 21 + g.rng.IntN(10)
	}
}

func (g *gen) customerName() string {
	for tries := 0; ; tries++ {
		name := pick(g.rng, words) + " " + pick(g.rng, nouns)
		if tries > 50 {
			name = fmt.Sprintf("%s %d", name, tries)
		}
		if !g.names[name] {
			g.names[name] = true
			return name
		}
	}
}

func (g *gen) ou(name, parent string) string {
	id := g.unique(func() string { return "ou-" + strings.TrimPrefix(g.s.Root.ID, "r-") + "-" + g.str(8) })
	g.s.OUs = append(g.s.OUs, org.OU{ID: id, ARN: org.OUARN(g.mgmt, g.orgID, id), Name: name, ParentID: parent})
	g.attachDefaults(id)
	return id
}

func (g *gen) account(id, name, parent, status string, tags map[string]string) {
	// Emails are unique: the name plus the account ID's last digits.
	email := fmt.Sprintf("aws+%s-%s@cloudkeep-msp.example", name, id[8:])
	joined := epoch.Add(-time.Duration(g.rng.Int64N(int64(5*365*24*time.Hour))) - time.Hour).Truncate(time.Second)
	if len(tags) == 0 {
		tags = nil
	}
	g.s.Accounts = append(g.s.Accounts, org.Account{
		ID: id, ARN: org.AccountARN(g.mgmt, g.orgID, id), Name: name, Email: email,
		Status: status, ParentID: parent, JoinedAt: joined, Tags: tags,
	})
	g.attachDefaults(id)
}

func (g *gen) attachDefaults(target string) {
	g.s.Attachments = append(g.s.Attachments,
		org.Attachment{PolicyID: org.FullAWSAccessID, TargetID: target},
		org.Attachment{PolicyID: org.RCPFullAWSAccessID, TargetID: target})
	g.attached[target]++
}

func (g *gen) policy(name, desc string, t org.PolicyType, content string) {
	id := g.unique(func() string { return "p-" + g.str(8) })
	g.s.Policies = append(g.s.Policies, org.Policy{
		ID: id, ARN: org.PolicyARN(g.mgmt, g.orgID, t, id), Name: name, Description: desc,
		Type: t, Content: content,
	})
	g.policies[name] = id
}

// attach attaches a policy by short name. SCPs beyond the limit of five
// per target are skipped, so the result is always valid.
func (g *gen) attach(name, target string) {
	id, ok := g.policies[name]
	if !ok {
		panic("generate: unknown policy " + name) // a bug in this package
	}
	isSCP := !strings.HasPrefix(name, "rcp-")
	if isSCP {
		if g.attached[target] >= 5 {
			return
		}
		g.attached[target]++
	}
	g.s.Attachments = append(g.s.Attachments, org.Attachment{PolicyID: id, TargetID: target})
}

// detach removes an attachment made earlier (FullAWSAccess, to make an
// allow-list replace it). The caller has attached another SCP first.
func (g *gen) detach(name, target string) {
	id := g.policies[name]
	for i, a := range g.s.Attachments {
		if a.PolicyID == id && a.TargetID == target {
			g.s.Attachments = append(g.s.Attachments[:i], g.s.Attachments[i+1:]...)
			g.attached[target]--
			return
		}
	}
}

func (g *gen) createPolicies() {
	scp := org.ServiceControlPolicy
	rcp := org.ResourceControlPolicy
	g.policy("deny-leave-organization", "Accounts cannot leave the organization", scp, denyLeaveOrganization())
	g.policy("deny-root-user", "No actions as the root user of member accounts", scp, denyRootUser())
	g.policy("protect-security-services", "CloudTrail, GuardDuty and Config cannot be disabled", scp, protectSecurityServices())
	g.policy("deny-iam-users", "No IAM users or access keys outside the admin roles", scp, denyIAMUsers())
	g.policy("require-imdsv2", "EC2 instances must use IMDSv2", scp, requireIMDSv2())
	g.policy("deny-public-s3", "S3 Block Public Access stays on", scp, denyPublicS3())
	g.policy("deny-unencrypted-storage", "EBS volumes and RDS storage must be encrypted", scp, denyUnencryptedVolumes())
	g.policy("deny-expensive-instances", "No very large or GPU instances", scp, denyExpensiveInstances())
	g.policy("require-cost-tags", "Resources must carry a CostCenter tag", scp, requireCostTags())
	g.policy("sandbox-allow-list", "Sandbox accounts may use these services only", scp, sandboxAllowList())
	g.policy("regulated-allow-list", "Regulated customers may use approved services only", scp, regulatedAllowList())
	g.policy("deny-all", "Suspended accounts can do nothing", scp, denyAll())
	g.policy("deny-network-changes", "Only the network team changes VPCs and connectivity", scp, denyNetworkChanges())
	g.policy("protect-kms-keys", "KMS keys cannot be deleted or disabled", scp, denyKeyDeletion())
	g.policy("deny-external-sharing", "No RAM shares outside the organization", scp, denyExternalSharing())
	g.policy("deny-billing-changes", "Billing and account settings are managed centrally", scp, denyBillingChanges())
	g.policy("deny-marketplace", "No Marketplace subscriptions", scp, denyMarketplace())
	g.policy("protect-backups", "Backup vaults and recovery points are protected", scp, protectBackups())
	g.policy("protect-security-hub", "Security Hub, Access Analyzer and Macie stay on", scp, protectSecurityHub())
	g.policy("deny-prod-data-deletion", "Production data stores cannot be deleted", scp, denyProdDataDeletion())
	g.policy("deny-ai-services", "Generative AI services are not approved for this customer", scp, denyAIServices())
	for _, rs := range regionSets {
		g.policy("region-lock-"+rs.name, "Only "+strings.Join(rs.regions, ", ")+" (global services exempt)", scp, regionLock(rs.regions))
	}
	g.policy("rcp-enforce-tls", "Requests to these services must use TLS", rcp, rcpEnforceTLS())
	g.policy("rcp-deny-external-access", "Resources are not reachable from outside the organization", rcp, rcpDenyExternalAccess(g.orgID))
	g.policy("rcp-protect-kms", "KMS keys cannot be used from outside the organization", rcp, rcpProtectKMS(g.orgID))
	// An SCP that exists but is attached nowhere, as in most real organizations.
	g.policy("deny-external-sharing-draft", "Draft, not attached", scp, denyExternalSharing())
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

func slugify(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			b.WriteByte('-')
		}
	}
	return b.String()
}

var words = []string{
	"Acme", "Apex", "Atlas", "Aurora", "Beacon", "Birch", "Blue", "Bright", "Cedar", "Clear",
	"Cobalt", "Coral", "Crest", "Delta", "Eagle", "Echo", "Ember", "Everest", "Falcon", "Fjord",
	"Forest", "Granite", "Harbor", "Helix", "Horizon", "Indigo", "Iron", "Jade", "Juniper", "Keystone",
	"Lumen", "Maple", "Meridian", "Nimbus", "Nova", "Oak", "Onyx", "Orbit", "Pacific", "Pine",
	"Polar", "Prime", "Quartz", "Raven", "Redwood", "River", "Sable", "Sierra", "Silver", "Summit",
	"Terra", "Tidal", "Titan", "Union", "Vector", "Vertex", "Willow", "Zenith", "Northwind", "Solstice",
}

var nouns = []string{
	"Analytics", "Bank", "Bio", "Capital", "Logistics", "Health", "Insurance", "Labs", "Media", "Energy",
	"Foods", "Retail", "Systems", "Games", "Motors", "Pharma", "Telecom", "Travel", "Foundry", "Networks",
	"Robotics", "Studios", "Ventures", "Works", "Mining", "Airlines", "Holdings", "Software", "Clinics", "Freight",
}

var firstNames = []string{
	"alex", "sam", "kim", "jo", "lee", "max", "ria", "noa", "eli", "ana", "ben", "eva", "ivo", "mia", "raj", "zoe",
}
