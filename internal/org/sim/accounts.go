package sim

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

// The account lifecycle: CreateAccount and its status, CloseAccount,
// RemoveAccountFromOrganization, and invitations (handshakes). Every
// caller is the management account, so an invitation is never accepted:
// it stays OPEN until it expires.

// Codes and reasons of the errors of these operations that package org
// does not name.
const (
	CodeAccountAlreadyClosed         = "AccountAlreadyClosedException"
	CodeCreateAccountStatusNotFound  = "CreateAccountStatusNotFoundException"
	CodeMasterCannotLeave            = "MasterCannotLeaveOrganizationException"
	CodeDuplicateHandshake           = "DuplicateHandshakeException"
	CodeHandshakeConstraintViolation = "HandshakeConstraintViolationException"
	ReasonCannotCloseManagement      = "CANNOT_CLOSE_MANAGEMENT_ACCOUNT"
	ReasonCloseAccountQuota          = "CLOSE_ACCOUNT_QUOTA_EXCEEDED"
	ReasonCannotRemoveDelegated      = "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG"
	ReasonAlreadyInOrganization      = "ALREADY_IN_AN_ORGANIZATION"
	ReasonHandshakeRateLimit         = "HANDSHAKE_RATE_LIMIT_EXCEEDED"
	ReasonInvalidEmailAddressTarget  = "INVALID_EMAIL_ADDRESS_TARGET"
	ReasonInvalidRoleName            = "INVALID_ROLE_NAME"
	FailureEmailAlreadyExists        = "EMAIL_ALREADY_EXISTS"
	HandshakeOpen                    = "OPEN"
	HandshakeExpired                 = "EXPIRED"
	HandshakeActionInvite            = "INVITE"
	handshakeLifetime                = 15 * 24 * time.Hour // invitations expire after 15 days
	handshakeListedFor               = 30 * 24 * time.Hour // ended handshakes are listed for 30 days
	closeWindow                      = 30 * 24 * time.Hour
)

// Limits of the account lifecycle.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
const (
	MaxInvitationsPerDay    = 20
	MaxCreateAccountName    = 50
	MaxHandshakeNotes       = 1024
	minCloseQuota           = 10
	maxCloseQuota           = 1000
	closeQuotaPercent       = 10
	createAccountStatusKept = 90 * 24 * time.Hour
)

var (
	// Email (6 to 64 characters): [^\s@]+@[^\s@]+\.[^\s@]+
	emailPattern = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	// RoleName: [\w+=,.@-]{1,64}
	roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	// CreateAccountName: [\u0020-\u007E]+, 1 to 50 characters
	accountNamePattern = regexp.MustCompile(`^[\x20-\x7e]+$`)
	// CreateAccountRequestId: car-[a-z0-9]{8,32}
	createRequestIDPattern = regexp.MustCompile(`^car-[a-z0-9]{8,32}$`)
)

// AccountSpec is a CreateAccount request.
type AccountSpec struct {
	Email                  string
	Name                   string
	RoleName               string // "" = OrganizationAccountAccessRole
	IAMUserAccessToBilling string // "", "ALLOW" or "DENY"
	Tags                   map[string]string
}

// CreateAccount creates a member account under the root with the default
// policies of every enabled type. AWS creates accounts asynchronously:
// the answer is the request in state IN_PROGRESS, and
// DescribeCreateAccountStatus tells the outcome — SUCCEEDED with the
// account's ID, or FAILED with a reason such as EMAIL_ALREADY_EXISTS. The
// simulator decides the outcome at once.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccount.html
func (o *Org) CreateAccount(ctx context.Context, spec AccountSpec) (org.CreateAccountStatus, error) {
	switch {
	case len(spec.Email) < 6 || len(spec.Email) > 64:
		return org.CreateAccountStatus{}, org.NewInvalidInput(org.ReasonMaxLengthExceeded, "Email must be 6 to 64 characters long.")
	case !emailPattern.MatchString(spec.Email):
		return org.CreateAccountStatus{}, org.NewInvalidInput(ReasonInvalidPattern, fmt.Sprintf("%q is not an email address.", spec.Email))
	case spec.Name == "" || len(spec.Name) > MaxCreateAccountName:
		return org.CreateAccountStatus{}, org.NewInvalidInput(org.ReasonMaxLengthExceeded, fmt.Sprintf("AccountName must be 1 to %d characters long.", MaxCreateAccountName))
	case !accountNamePattern.MatchString(spec.Name):
		return org.CreateAccountStatus{}, org.NewInvalidInput(ReasonInvalidPattern, "AccountName may contain printable ASCII characters only.")
	case spec.RoleName != "" && !roleNamePattern.MatchString(spec.RoleName):
		return org.CreateAccountStatus{}, org.NewInvalidInput(ReasonInvalidRoleName, fmt.Sprintf("RoleName %q must be 1 to 64 letters, digits and +=,.@-_ characters.", spec.RoleName))
	case spec.IAMUserAccessToBilling != "" && spec.IAMUserAccessToBilling != "ALLOW" && spec.IAMUserAccessToBilling != "DENY":
		return org.CreateAccountStatus{}, org.NewInvalidInput(org.ReasonInvalidEnum, fmt.Sprintf("IamUserAccessToBilling must be ALLOW or DENY, not %q.", spec.IAMUserAccessToBilling))
	case len(spec.Tags) > MaxTagsPerResource:
		return org.CreateAccountStatus{}, org.NewConstraintViolation(org.ReasonMaxTagLimit, fmt.Sprintf("A resource can have at most %d tags.", MaxTagsPerResource))
	}
	if err := o.lockWrite(ctx); err != nil {
		return org.CreateAccountStatus{}, err
	}
	defer o.unlockWrite()
	now := o.opts.Now().UTC()
	st := org.CreateAccountStatus{ID: o.newCreateRequestID(), AccountName: spec.Name, State: org.CreateAccountSucceeded, RequestedAt: now, CompletedAt: now}
	var acct *org.Account
	if o.emailTaken(spec.Email) {
		st.State, st.FailureReason = org.CreateAccountFailed, FailureEmailAlreadyExists
	} else {
		id := o.newAccountID()
		acct = &org.Account{
			ID: id, ARN: org.AccountARN(o.organization.ManagementAccountID, o.organization.ID, id),
			Name: spec.Name, Email: spec.Email, Status: org.AccountActive, ParentID: o.root.ID, JoinedAt: now,
			Tags: cloneTags(spec.Tags),
		}
		st.AccountID = id
		o.accounts[id] = acct
		addTo(o.children, o.root.ID, id)
		o.attachDefaults(id)
	}
	prevStatuses := o.createStatuses
	o.createStatuses = append(o.pruneCreateStatuses(now), st)
	if err := o.commit(func() {
		o.createStatuses = prevStatuses
		if acct != nil {
			o.detachAll(acct.ID)
			removeFrom(o.children, o.root.ID, acct.ID)
			delete(o.accounts, acct.ID)
		}
	}); err != nil {
		return org.CreateAccountStatus{}, err
	}
	// The answer describes the request as just accepted.
	return org.CreateAccountStatus{ID: st.ID, AccountName: st.AccountName, State: org.CreateAccountInProgress, RequestedAt: now}, nil
}

func (o *Org) emailTaken(email string) bool {
	for _, a := range o.accounts {
		if strings.EqualFold(a.Email, email) {
			return true
		}
	}
	return false
}

// pruneCreateStatuses drops the records AWS no longer shows (older than
// 90 days).
func (o *Org) pruneCreateStatuses(now time.Time) []org.CreateAccountStatus {
	return slices.DeleteFunc(slices.Clone(o.createStatuses), func(c org.CreateAccountStatus) bool {
		return now.Sub(c.RequestedAt) > createAccountStatusKept
	})
}

func (o *Org) newCreateRequestID() string {
	for {
		id := "car-" + o.randomString(10)
		if !slices.ContainsFunc(o.createStatuses, func(c org.CreateAccountStatus) bool { return c.ID == id }) {
			return id
		}
	}
}

// DescribeCreateAccountStatus returns the record of a CreateAccount
// request.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeCreateAccountStatus.html
func (o *Org) DescribeCreateAccountStatus(ctx context.Context, requestID string) (org.CreateAccountStatus, error) {
	if !createRequestIDPattern.MatchString(requestID) {
		return org.CreateAccountStatus{}, org.NewInvalidInput(ReasonInvalidPattern, fmt.Sprintf("CreateAccountRequestId %q must be car- followed by 8 to 32 lowercase letters or digits.", requestID))
	}
	if err := o.lockRead(ctx); err != nil {
		return org.CreateAccountStatus{}, err
	}
	defer o.mu.RUnlock()
	for _, c := range o.createStatuses {
		if c.ID == requestID {
			return c, nil
		}
	}
	return org.CreateAccountStatus{}, org.NewAPIError(CodeCreateAccountStatusNotFound, fmt.Sprintf("We can't find a create account request with the ID %s.", requestID))
}

// CloseAccount closes a member account: it stays in the organization with
// status SUSPENDED (AWS passes through PENDING_CLOSURE first; the
// simulator closes at once). At most 10% of the member accounts, but at
// least 10 and at most 1,000, can be closed in any 30 days.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html
func (o *Org) CloseAccount(ctx context.Context, accountID string) error {
	if !org.IsAccountID(accountID) {
		return org.NewInvalidInput(ReasonInvalidPattern, fmt.Sprintf("AccountId %q must be 12 digits.", accountID))
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	a := o.accounts[accountID]
	switch {
	case a == nil:
		return notFound(org.CodeAccountNotFound, "We can't find an AWS account with the AccountId %s.", accountID)
	case accountID == o.organization.ManagementAccountID:
		return org.NewConstraintViolation(ReasonCannotCloseManagement, "You can't close the management account with CloseAccount.")
	case a.Status != org.AccountActive:
		return org.NewAPIError(CodeAccountAlreadyClosed, fmt.Sprintf("The account %s is already closed (%s).", accountID, a.Status))
	}
	if err := o.allFeatures(); err != nil {
		return err
	}
	now := o.opts.Now().UTC()
	closed, members := 0, 0
	for _, x := range o.accounts {
		if x.ID != o.organization.ManagementAccountID {
			members++
		}
		if !x.ClosedAt.IsZero() && now.Sub(x.ClosedAt) < closeWindow {
			closed++
		}
	}
	quota := min(max(members*closeQuotaPercent/100, minCloseQuota), maxCloseQuota)
	if closed >= quota {
		return org.NewConstraintViolation(ReasonCloseAccountQuota, fmt.Sprintf("%d accounts were closed in the last 30 days; the quota is %d.", closed, quota))
	}
	prev := *a
	a.Status, a.ClosedAt = org.AccountSuspended, now
	return o.commit(func() { *a = prev })
}

// RemoveAccountFromOrganization removes a member account: it leaves the
// organization with its attachments and tags. The management account and
// delegated administrators cannot be removed.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_RemoveAccountFromOrganization.html
func (o *Org) RemoveAccountFromOrganization(ctx context.Context, accountID string) error {
	if !org.IsAccountID(accountID) {
		return org.NewInvalidInput(ReasonInvalidPattern, fmt.Sprintf("AccountId %q must be 12 digits.", accountID))
	}
	if err := o.lockWrite(ctx); err != nil {
		return err
	}
	defer o.unlockWrite()
	a := o.accounts[accountID]
	switch {
	case a == nil:
		return notFound(org.CodeAccountNotFound, "We can't find an AWS account with the AccountId %s.", accountID)
	case accountID == o.organization.ManagementAccountID:
		return org.NewAPIError(CodeMasterCannotLeave, "You can't remove the management account from the organization; delete the organization instead.")
	case o.isDelegated(accountID, ""):
		return org.NewConstraintViolation(ReasonCannotRemoveDelegated, fmt.Sprintf("The account %s is a delegated administrator; deregister it first.", accountID))
	}
	pids := maps.Clone(o.attached[accountID])
	o.detachAll(accountID)
	delete(o.accounts, accountID)
	removeFrom(o.children, a.ParentID, accountID)
	return o.commit(func() {
		o.accounts[accountID] = a
		addTo(o.children, a.ParentID, accountID)
		o.restoreAttachments(accountID, pids)
	})
}

// InviteAccountToOrganization sends an invitation (a handshake with action
// INVITE) to an account, by ID (targetType ACCOUNT) or by email address
// (EMAIL). At most 20 invitations a day; one open invitation per target.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_InviteAccountToOrganization.html
func (o *Org) InviteAccountToOrganization(ctx context.Context, targetID, targetType, notes string, tags map[string]string) (org.Handshake, error) {
	switch targetType {
	case "ACCOUNT":
		if !org.IsAccountID(targetID) {
			return org.Handshake{}, org.NewInvalidInput(ReasonInvalidPattern, fmt.Sprintf("Target %q must be a 12-digit account ID.", targetID))
		}
	case "EMAIL":
		if len(targetID) < 6 || len(targetID) > 64 || !emailPattern.MatchString(targetID) {
			return org.Handshake{}, org.NewInvalidInput(ReasonInvalidEmailAddressTarget, fmt.Sprintf("Target %q is not an email address.", targetID))
		}
	default:
		return org.Handshake{}, org.NewInvalidInput(org.ReasonInvalidPartyType, fmt.Sprintf("Target type %q: invite an ACCOUNT or an EMAIL.", targetType))
	}
	if len([]rune(notes)) > MaxHandshakeNotes {
		return org.Handshake{}, org.NewInvalidInput(org.ReasonMaxLengthExceeded, fmt.Sprintf("Notes are limited to %d characters.", MaxHandshakeNotes))
	}
	if len(tags) > MaxTagsPerResource {
		return org.Handshake{}, org.NewConstraintViolation(org.ReasonMaxTagLimit, fmt.Sprintf("A resource can have at most %d tags.", MaxTagsPerResource))
	}
	if err := o.lockWrite(ctx); err != nil {
		return org.Handshake{}, err
	}
	defer o.unlockWrite()
	if (targetType == "ACCOUNT" && o.accounts[targetID] != nil) || (targetType == "EMAIL" && o.emailTaken(targetID)) {
		return org.Handshake{}, &org.APIError{Code: CodeHandshakeConstraintViolation, Reason: ReasonAlreadyInOrganization, Message: fmt.Sprintf("%s is already a member of this organization.", targetID)}
	}
	now := o.opts.Now().UTC()
	today := 0
	for _, h := range o.handshakes {
		if h.Action != HandshakeActionInvite {
			continue
		}
		if now.Sub(h.RequestedAt) < 24*time.Hour {
			today++
		}
		if h.State == HandshakeOpen && now.Before(h.ExpiresAt) && slices.ContainsFunc(h.Parties, func(p org.HandshakeParty) bool {
			return p.Type == targetType && strings.EqualFold(p.ID, targetID)
		}) {
			return org.Handshake{}, org.NewAPIError(CodeDuplicateHandshake, fmt.Sprintf("An open invitation to %s already exists (%s).", targetID, h.ID))
		}
	}
	if today >= MaxInvitationsPerDay {
		return org.Handshake{}, &org.APIError{Code: CodeHandshakeConstraintViolation, Reason: ReasonHandshakeRateLimit, Message: fmt.Sprintf("%d invitations were sent in the last 24 hours; the limit is %d a day.", today, MaxInvitationsPerDay)}
	}
	id := o.newHandshakeID()
	h := org.Handshake{
		ID:     id,
		ARN:    "arn:aws:organizations::" + o.organization.ManagementAccountID + ":handshake/" + o.organization.ID + "/invite/" + id,
		Action: HandshakeActionInvite,
		State:  HandshakeOpen,
		Parties: []org.HandshakeParty{
			{ID: strings.TrimPrefix(o.organization.ID, "o-"), Type: "ORGANIZATION"},
			{ID: targetID, Type: targetType},
		},
		Resources: []org.HandshakeResource{
			{Type: "ORGANIZATION", Value: o.organization.ID},
			{Type: "MASTER_EMAIL", Value: o.organization.ManagementAccountEmail},
			{Type: "ORGANIZATION_FEATURE_SET", Value: o.organization.FeatureSet},
			{Type: targetType, Value: targetID},
		},
		RequestedAt: now,
		ExpiresAt:   now.Add(handshakeLifetime),
		Tags:        cloneTags(tags),
	}
	if notes != "" {
		h.Resources = append(h.Resources, org.HandshakeResource{Type: "NOTES", Value: notes})
	}
	prev := o.handshakes
	o.handshakes = append(slices.DeleteFunc(slices.Clone(prev), func(x org.Handshake) bool {
		return now.Sub(x.ExpiresAt) > handshakeListedFor
	}), h)
	if err := o.commit(func() { o.handshakes = prev }); err != nil {
		return org.Handshake{}, err
	}
	return h.Clone(), nil
}

func (o *Org) newHandshakeID() string {
	for {
		id := "h-" + o.randomString(10)
		if !slices.ContainsFunc(o.handshakes, func(h org.Handshake) bool { return h.ID == id }) {
			return id
		}
	}
}

// ListHandshakesForOrganization returns the organization's handshakes of
// the last 30 days, in ID order, optionally only those with one action
// (INVITE, ...) or one parent handshake. An open handshake past its
// expiry is EXPIRED.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListHandshakesForOrganization.html
func (o *Org) ListHandshakesForOrganization(ctx context.Context, action, parentHandshakeID string) ([]org.Handshake, error) {
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	defer o.mu.RUnlock()
	now := o.opts.Now()
	var out []org.Handshake
	for _, h := range o.handshakes {
		if (action != "" && h.Action != action) || parentHandshakeID != "" || now.Sub(h.ExpiresAt) > handshakeListedFor {
			continue // no handshake of the simulator has a parent
		}
		c := h.Clone()
		if c.State == HandshakeOpen && !now.Before(c.ExpiresAt) {
			c.State = HandshakeExpired
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b org.Handshake) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
