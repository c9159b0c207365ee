package org

import (
	"slices"
	"strings"
	"time"
)

// The parts of an organization beyond its tree and its policies: the AWS
// services trusted to work with it, their delegated administrators, the
// organization's resource-based delegation policy, and the records of
// account creations and invitations. Snapshots taken by the simulated
// organization carry them; they are not part of the fingerprint (which
// covers what orgguard evaluates: the tree, the policies and their
// attachments).

// ServiceAccess records that an AWS service is trusted to work with the
// organization (EnableAWSServiceAccess).
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_EnabledServicePrincipal.html
type ServiceAccess struct {
	ServicePrincipal string    `json:"servicePrincipal"`
	EnabledAt        time.Time `json:"enabledAt"`
}

// DelegatedAdministrator records that a member account administers an AWS
// service for the organization (RegisterDelegatedAdministrator).
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DelegatedAdministrator.html
type DelegatedAdministrator struct {
	AccountID        string    `json:"accountId"`
	ServicePrincipal string    `json:"servicePrincipal"`
	DelegatedAt      time.Time `json:"delegatedAt"`
}

// ResourcePolicy is the organization's resource-based delegation policy
// (PutResourcePolicy).
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ResourcePolicy.html
type ResourcePolicy struct {
	ID      string            `json:"id"`
	ARN     string            `json:"arn"`
	Content string            `json:"content"`
	Tags    map[string]string `json:"tags,omitempty"`
}

// States of an account creation request.
const (
	CreateAccountInProgress = "IN_PROGRESS"
	CreateAccountSucceeded  = "SUCCEEDED"
	CreateAccountFailed     = "FAILED"
)

// CreateAccountStatus is the record of one CreateAccount request.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccountStatus.html
type CreateAccountStatus struct {
	ID            string    `json:"id"` // car-...
	AccountName   string    `json:"accountName"`
	State         string    `json:"state"`
	RequestedAt   time.Time `json:"requestedAt"`
	CompletedAt   time.Time `json:"completedAt,omitzero"`
	AccountID     string    `json:"accountId,omitempty"`
	FailureReason string    `json:"failureReason,omitempty"`
}

// HandshakeParty is a participant of a handshake.
type HandshakeParty struct {
	ID   string `json:"id"`
	Type string `json:"type"` // ACCOUNT, ORGANIZATION or EMAIL
}

// HandshakeResource is a detail of a handshake (the organization, the
// sender's email, the notes, ...).
type HandshakeResource struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Handshake is an invitation or another request between accounts.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_Handshake.html
type Handshake struct {
	ID          string              `json:"id"` // h-...
	ARN         string              `json:"arn"`
	Action      string              `json:"action"` // INVITE, ...
	State       string              `json:"state"`  // REQUESTED, OPEN, CANCELED, ACCEPTED, DECLINED, EXPIRED
	Parties     []HandshakeParty    `json:"parties"`
	Resources   []HandshakeResource `json:"resources,omitempty"`
	RequestedAt time.Time           `json:"requestedAt"`
	ExpiresAt   time.Time           `json:"expiresAt"`
	Tags        map[string]string   `json:"tags,omitempty"`
}

// normalizeServices sorts the service lists of s; called by Normalize.
func (s *Snapshot) normalizeServices() {
	slices.SortFunc(s.ServiceAccess, func(a, b ServiceAccess) int { return strings.Compare(a.ServicePrincipal, b.ServicePrincipal) })
	slices.SortFunc(s.DelegatedAdministrators, func(a, b DelegatedAdministrator) int {
		if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		return strings.Compare(a.ServicePrincipal, b.ServicePrincipal)
	})
	slices.SortFunc(s.CreateAccountStatuses, func(a, b CreateAccountStatus) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Handshakes, func(a, b Handshake) int { return strings.Compare(a.ID, b.ID) })
	for i := range s.Accounts {
		s.Accounts[i].ClosedAt = utc(s.Accounts[i].ClosedAt)
	}
	for i := range s.ServiceAccess {
		s.ServiceAccess[i].EnabledAt = utc(s.ServiceAccess[i].EnabledAt)
	}
	for i := range s.DelegatedAdministrators {
		s.DelegatedAdministrators[i].DelegatedAt = utc(s.DelegatedAdministrators[i].DelegatedAt)
	}
	for i := range s.CreateAccountStatuses {
		c := &s.CreateAccountStatuses[i]
		c.RequestedAt, c.CompletedAt = utc(c.RequestedAt), utc(c.CompletedAt)
	}
	for i := range s.Handshakes {
		h := &s.Handshakes[i]
		h.RequestedAt, h.ExpiresAt = utc(h.RequestedAt), utc(h.ExpiresAt)
	}
}

// cloneServices deep-copies the service lists of s into c; called by Clone.
func (s *Snapshot) cloneServices(c *Snapshot) {
	c.ServiceAccess = slices.Clone(s.ServiceAccess)
	c.DelegatedAdministrators = slices.Clone(s.DelegatedAdministrators)
	if s.ResourcePolicy != nil {
		rp := *s.ResourcePolicy
		rp.Tags = cloneTags(rp.Tags)
		c.ResourcePolicy = &rp
	}
	c.CreateAccountStatuses = slices.Clone(s.CreateAccountStatuses)
	c.Handshakes = slices.Clone(s.Handshakes)
	for i := range c.Handshakes {
		c.Handshakes[i] = c.Handshakes[i].Clone()
	}
}

// Clone returns a deep copy of h.
func (h Handshake) Clone() Handshake {
	h.Parties = slices.Clone(h.Parties)
	h.Resources = slices.Clone(h.Resources)
	h.Tags = cloneTags(h.Tags)
	return h
}
