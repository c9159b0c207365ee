// Package org models an AWS Organization: its root, organizational units,
// accounts, policies and the attachments between them, as plain values.
//
// A Snapshot is the whole organization at one moment; it is what the
// backends (the simulated organization and real AWS) produce and what the
// rest of orgguard reads. An Index built from a Snapshot answers tree
// queries: resolving a node by ID or name, the path from the root, the
// accounts under a node and the effective SCP and RCP chains of an account.
// The package does no I/O apart from reading and writing snapshot files.
package org

import (
	"slices"
	"strings"
	"time"
)

// PolicyType is an Organizations policy type. orgguard understands service
// control policies and resource control policies; other types (tag, backup,
// AI opt-out, ...) are carried through snapshots unchanged.
type PolicyType string

// Policy types orgguard evaluates.
const (
	ServiceControlPolicy  PolicyType = "SERVICE_CONTROL_POLICY"
	ResourceControlPolicy PolicyType = "RESOURCE_CONTROL_POLICY"
)

// Short returns the usual abbreviation of t ("SCP", "RCP") or t itself.
func (t PolicyType) Short() string {
	switch t {
	case ServiceControlPolicy:
		return "SCP"
	case ResourceControlPolicy:
		return "RCP"
	}
	return string(t)
}

// ParsePolicyType accepts "SCP", "RCP" (any case) or a full type name.
func ParsePolicyType(s string) (PolicyType, bool) {
	switch strings.ToUpper(s) {
	case "SCP", string(ServiceControlPolicy):
		return ServiceControlPolicy, true
	case "RCP", string(ResourceControlPolicy):
		return ResourceControlPolicy, true
	}
	return "", false
}

// Status values of a policy type at the root.
const (
	PolicyTypeEnabled        = "ENABLED"
	PolicyTypePendingEnable  = "PENDING_ENABLE"
	PolicyTypePendingDisable = "PENDING_DISABLE"
)

// Account status values.
const (
	AccountActive         = "ACTIVE"
	AccountSuspended      = "SUSPENDED"
	AccountPendingClosure = "PENDING_CLOSURE"
)

// IDs of the AWS-managed policies attached by default.
const (
	FullAWSAccessID    = "p-FullAWSAccess"
	RCPFullAWSAccessID = "p-RCPFullAWSAccess"
)

// PolicyTypeStatus says whether a policy type is enabled at the root.
type PolicyTypeStatus struct {
	Type   PolicyType `json:"type"`
	Status string     `json:"status"`
}

// Root is the top of the organization tree.
type Root struct {
	ID          string             `json:"id"`
	ARN         string             `json:"arn"`
	Name        string             `json:"name"`
	PolicyTypes []PolicyTypeStatus `json:"policyTypes"`
	Tags        map[string]string  `json:"tags,omitempty"`
}

// PolicyTypeEnabled reports whether t is enabled at the root.
func (r Root) PolicyTypeEnabled(t PolicyType) bool {
	return slices.ContainsFunc(r.PolicyTypes, func(s PolicyTypeStatus) bool {
		return s.Type == t && s.Status == PolicyTypeEnabled
	})
}

// OU is an organizational unit. ParentID is the root's or another OU's ID.
type OU struct {
	ID       string            `json:"id"`
	ARN      string            `json:"arn"`
	Name     string            `json:"name"`
	ParentID string            `json:"parentId"`
	Tags     map[string]string `json:"tags,omitempty"`
}

// Account is a member account (or the management account). ParentID is the
// root's or an OU's ID.
type Account struct {
	ID       string            `json:"id"`
	ARN      string            `json:"arn"`
	Name     string            `json:"name"`
	Email    string            `json:"email"`
	Status   string            `json:"status"`
	ParentID string            `json:"parentId"`
	JoinedAt time.Time         `json:"joinedAt"`
	Tags     map[string]string `json:"tags,omitempty"`
	// ClosedAt is when CloseAccount was called (zero while open); the
	// simulator counts closures in the last 30 days with it. Not
	// fingerprinted (Status is).
	ClosedAt time.Time `json:"closedAt,omitzero"`
}

// Policy is an Organizations policy and its JSON document.
type Policy struct {
	ID          string            `json:"id"`
	ARN         string            `json:"arn"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Type        PolicyType        `json:"type"`
	AWSManaged  bool              `json:"awsManaged"`
	Content     string            `json:"content"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// Attachment says that a policy is attached directly to a target (the root,
// an OU or an account).
type Attachment struct {
	PolicyID string `json:"policyId"`
	TargetID string `json:"targetId"`
}

// Organization describes the organization itself.
type Organization struct {
	ID                     string `json:"id"`
	ARN                    string `json:"arn"`
	FeatureSet             string `json:"featureSet"` // "ALL" or "CONSOLIDATED_BILLING"
	ManagementAccountID    string `json:"managementAccountId"`
	ManagementAccountARN   string `json:"managementAccountArn"`
	ManagementAccountEmail string `json:"managementAccountEmail"`
}

// FormatVersion is the snapshot format version this package reads and writes.
const FormatVersion = 1

// Snapshot is a whole organization at one moment. Slices are kept sorted by
// ID (attachments by policy, then target) by Normalize; the fingerprint does
// not depend on their order, on TakenAt or on Source.
type Snapshot struct {
	FormatVersion int          `json:"formatVersion"`
	TakenAt       time.Time    `json:"takenAt"`
	Source        string       `json:"source"` // e.g. "sim:./.orgguard/sim-state.json", "aws:profile/us-east-1"
	Fingerprint   string       `json:"fingerprint,omitempty"`
	Organization  Organization `json:"organization"`
	Root          Root         `json:"root"`
	OUs           []OU         `json:"organizationalUnits"`
	Accounts      []Account    `json:"accounts"`
	Policies      []Policy     `json:"policies"`
	Attachments   []Attachment `json:"attachments"`

	// The organization beyond its tree and policies (see services.go);
	// absent from snapshots of real AWS for now and not fingerprinted.
	ServiceAccess           []ServiceAccess          `json:"serviceAccess,omitempty"`
	DelegatedAdministrators []DelegatedAdministrator `json:"delegatedAdministrators,omitempty"`
	ResourcePolicy          *ResourcePolicy          `json:"resourcePolicy,omitempty"`
	CreateAccountStatuses   []CreateAccountStatus    `json:"createAccountStatuses,omitempty"`
	Handshakes              []Handshake              `json:"handshakes,omitempty"`
}

// Normalize sorts every list into the canonical order and replaces nil
// slices with empty ones, in place.
func (s *Snapshot) Normalize() {
	if s.OUs == nil {
		s.OUs = []OU{}
	}
	if s.Accounts == nil {
		s.Accounts = []Account{}
	}
	if s.Policies == nil {
		s.Policies = []Policy{}
	}
	if s.Attachments == nil {
		s.Attachments = []Attachment{}
	}
	if s.Root.PolicyTypes == nil {
		s.Root.PolicyTypes = []PolicyTypeStatus{}
	}
	slices.SortFunc(s.Root.PolicyTypes, func(a, b PolicyTypeStatus) int { return strings.Compare(string(a.Type), string(b.Type)) })
	slices.SortFunc(s.OUs, func(a, b OU) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Accounts, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	for i := range s.Accounts {
		s.Accounts[i].JoinedAt = utc(s.Accounts[i].JoinedAt)
	}
	s.TakenAt = utc(s.TakenAt)
	slices.SortFunc(s.Policies, func(a, b Policy) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Attachments, compareAttachments)
	s.normalizeServices()
}

// isNormalized reports whether s is in canonical order with UTC times.
func (s *Snapshot) isNormalized() bool {
	return slices.IsSortedFunc(s.Root.PolicyTypes, func(a, b PolicyTypeStatus) int { return strings.Compare(string(a.Type), string(b.Type)) }) &&
		slices.IsSortedFunc(s.OUs, func(a, b OU) int { return strings.Compare(a.ID, b.ID) }) &&
		slices.IsSortedFunc(s.Accounts, func(a, b Account) int { return strings.Compare(a.ID, b.ID) }) &&
		slices.IsSortedFunc(s.Policies, func(a, b Policy) int { return strings.Compare(a.ID, b.ID) }) &&
		slices.IsSortedFunc(s.Attachments, compareAttachments)
}

func compareAttachments(a, b Attachment) int {
	if c := strings.Compare(a.PolicyID, b.PolicyID); c != 0 {
		return c
	}
	return strings.Compare(a.TargetID, b.TargetID)
}

// Clone returns a deep copy of s.
func (s *Snapshot) Clone() *Snapshot {
	c := *s
	c.Root.PolicyTypes = slices.Clone(s.Root.PolicyTypes)
	c.Root.Tags = cloneTags(s.Root.Tags)
	c.OUs = slices.Clone(s.OUs)
	for i := range c.OUs {
		c.OUs[i].Tags = cloneTags(c.OUs[i].Tags)
	}
	c.Accounts = slices.Clone(s.Accounts)
	for i := range c.Accounts {
		c.Accounts[i].Tags = cloneTags(c.Accounts[i].Tags)
	}
	c.Policies = slices.Clone(s.Policies)
	for i := range c.Policies {
		c.Policies[i].Tags = cloneTags(c.Policies[i].Tags)
	}
	c.Attachments = slices.Clone(s.Attachments)
	s.cloneServices(&c)
	return &c
}

func cloneTags(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// ID shapes, as AWS documents them for Organizations.
//
//	root:    r-[0-9a-z]{4,32}
//	OU:      ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}
//	account: [0-9]{12}
//	policy:  p-[0-9a-zA-Z_]{8,128}
//	org:     o-[a-z0-9]{10,32}

// IsRootID reports whether id is shaped like a root ID.
func IsRootID(id string) bool {
	rest, ok := strings.CutPrefix(id, "r-")
	return ok && len(rest) >= 4 && len(rest) <= 32 && allChars(rest, lowerDigit)
}

// IsOUID reports whether id is shaped like an OU ID.
func IsOUID(id string) bool {
	rest, ok := strings.CutPrefix(id, "ou-")
	if !ok {
		return false
	}
	a, b, ok := strings.Cut(rest, "-")
	return ok && len(a) >= 4 && len(a) <= 32 && len(b) >= 8 && len(b) <= 32 &&
		allChars(a, lowerDigit) && allChars(b, lowerDigit)
}

// IsAccountID reports whether id is a 12-digit account ID.
func IsAccountID(id string) bool {
	return len(id) == 12 && allChars(id, func(r rune) bool { return r >= '0' && r <= '9' })
}

// IsPolicyID reports whether id is shaped like a policy ID.
func IsPolicyID(id string) bool {
	rest, ok := strings.CutPrefix(id, "p-")
	return ok && len(rest) >= 8 && len(rest) <= 128 && allChars(rest, func(r rune) bool {
		return lowerDigit(r) || (r >= 'A' && r <= 'Z') || r == '_'
	})
}

func lowerDigit(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') }

func allChars(s string, ok func(rune) bool) bool {
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return true
}

// ARN builders. Organizations ARNs carry the management account ID and the
// organization ID; AWS-managed policies use the "aws" account.

// OrganizationARN returns the ARN of organization orgID managed by mgmt.
func OrganizationARN(mgmt, orgID string) string {
	return "arn:aws:organizations::" + mgmt + ":organization/" + orgID
}

// RootARN returns the ARN of a root.
func RootARN(mgmt, orgID, rootID string) string {
	return "arn:aws:organizations::" + mgmt + ":root/" + orgID + "/" + rootID
}

// OUARN returns the ARN of an OU.
func OUARN(mgmt, orgID, ouID string) string {
	return "arn:aws:organizations::" + mgmt + ":ou/" + orgID + "/" + ouID
}

// AccountARN returns the ARN of an account in the organization.
func AccountARN(mgmt, orgID, accountID string) string {
	return "arn:aws:organizations::" + mgmt + ":account/" + orgID + "/" + accountID
}

// PolicyARN returns the ARN of a customer-managed policy, or of an
// AWS-managed one when mgmt is "aws" (orgID is then ignored).
func PolicyARN(mgmt, orgID string, t PolicyType, policyID string) string {
	kind := strings.ToLower(string(t))
	if mgmt == "aws" {
		return "arn:aws:organizations::aws:policy/" + kind + "/" + policyID
	}
	return "arn:aws:organizations::" + mgmt + ":policy/" + orgID + "/" + kind + "/" + policyID
}

// Contents of the AWS-managed default policies.
const (
	FullAWSAccessContent    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	RCPFullAWSAccessContent = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
)

// FullAWSAccessPolicy returns the AWS-managed SCP attached by default to
// every root, OU and account when SCPs are enabled.
func FullAWSAccessPolicy() Policy {
	return Policy{
		ID: FullAWSAccessID, ARN: PolicyARN("aws", "", ServiceControlPolicy, FullAWSAccessID),
		Name: "FullAWSAccess", Description: "Allows access to every operation",
		Type: ServiceControlPolicy, AWSManaged: true, Content: FullAWSAccessContent,
	}
}

// RCPFullAWSAccessPolicy returns the AWS-managed RCP attached to every
// root, OU and account when RCPs are enabled; it cannot be detached.
func RCPFullAWSAccessPolicy() Policy {
	return Policy{
		ID: RCPFullAWSAccessID, ARN: PolicyARN("aws", "", ResourceControlPolicy, RCPFullAWSAccessID),
		Name: "RCPFullAWSAccess", Description: "Allows access to every operation",
		Type: ResourceControlPolicy, AWSManaged: true, Content: RCPFullAWSAccessContent,
	}
}

// DefaultPolicy returns the AWS-managed default policy of type t, if t has one.
func DefaultPolicy(t PolicyType) (Policy, bool) {
	switch t {
	case ServiceControlPolicy:
		return FullAWSAccessPolicy(), true
	case ResourceControlPolicy:
		return RCPFullAWSAccessPolicy(), true
	}
	return Policy{}, false
}
