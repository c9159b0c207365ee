package org

import (
	"context"
	"errors"
	"strings"
)

// Reader reads the whole organization.
type Reader interface {
	Snapshot(ctx context.Context) (*Snapshot, error)
}

// Writer makes one change to the organization per call. Errors are
// *APIError values shaped like AWS's.
type Writer interface {
	AttachPolicy(ctx context.Context, policyID, targetID string) error
	DetachPolicy(ctx context.Context, policyID, targetID string) error
	MoveAccount(ctx context.Context, accountID, sourceParentID, destinationParentID string) error
	CreatePolicy(ctx context.Context, spec PolicySpec) (Policy, error)
	UpdatePolicy(ctx context.Context, policyID string, upd PolicyUpdate) (Policy, error)
	DeletePolicy(ctx context.Context, policyID string) error
	CreateOU(ctx context.Context, parentID, name string) (OU, error)
	DeleteOU(ctx context.Context, ouID string) error
	EnablePolicyType(ctx context.Context, rootID string, t PolicyType) error
	DisablePolicyType(ctx context.Context, rootID string, t PolicyType) error
}

// Backend reads and writes an organization: the simulated one or real AWS.
type Backend interface {
	Reader
	Writer
}

// PolicySpec describes a policy to create.
type PolicySpec struct {
	Name        string
	Description string
	Content     string
	Type        PolicyType
	Tags        map[string]string
}

// PolicyUpdate changes the fields that are non-nil.
type PolicyUpdate struct {
	Name        *string
	Description *string
	Content     *string
}

// Sentinel errors. An *APIError matches them with errors.Is according to
// its code (see APIError.Is).
var (
	ErrNotFound               = errors.New("not found")
	ErrDuplicate              = errors.New("already exists")
	ErrConstraintViolation    = errors.New("constraint violation")
	ErrPolicyTypeNotEnabled   = errors.New("policy type not enabled")
	ErrThrottled              = errors.New("throttled")
	ErrConcurrentModification = errors.New("concurrent modification")
	ErrAccessDenied           = errors.New("access denied")
	ErrInvalidInput           = errors.New("invalid input")
)

// AWS Organizations error codes used by orgguard.
const (
	CodeAccessDenied                 = "AccessDeniedException"
	CodeAccountNotFound              = "AccountNotFoundException"
	CodeChildNotFound                = "ChildNotFoundException"
	CodeConcurrentModification       = "ConcurrentModificationException"
	CodeConstraintViolation          = "ConstraintViolationException"
	CodeDestinationParentNotFound    = "DestinationParentNotFoundException"
	CodeDuplicateAccount             = "DuplicateAccountException"
	CodeDuplicateOrganizationalUnit  = "DuplicateOrganizationalUnitException"
	CodeDuplicatePolicy              = "DuplicatePolicyException"
	CodeDuplicatePolicyAttachment    = "DuplicatePolicyAttachmentException"
	CodeInvalidInput                 = "InvalidInputException"
	CodeMalformedPolicyDocument      = "MalformedPolicyDocumentException"
	CodeOrganizationalUnitNotEmpty   = "OrganizationalUnitNotEmptyException"
	CodeOrganizationalUnitNotFound   = "OrganizationalUnitNotFoundException"
	CodeParentNotFound               = "ParentNotFoundException"
	CodePolicyChangesInProgress      = "PolicyChangesInProgressException"
	CodePolicyInUse                  = "PolicyInUseException"
	CodePolicyNotAttached            = "PolicyNotAttachedException"
	CodePolicyNotFound               = "PolicyNotFoundException"
	CodePolicyTypeAlreadyEnabled     = "PolicyTypeAlreadyEnabledException"
	CodePolicyTypeNotAvailableForOrg = "PolicyTypeNotAvailableForOrganizationException"
	CodePolicyTypeNotEnabled         = "PolicyTypeNotEnabledException"
	CodeRootNotFound                 = "RootNotFoundException"
	CodeService                      = "ServiceException"
	CodeSourceParentNotFound         = "SourceParentNotFoundException"
	CodeTargetNotFound               = "TargetNotFoundException"
	CodeTooManyRequests              = "TooManyRequestsException"
	CodeUnsupportedAPIEndpoint       = "UnsupportedAPIEndpointException"
	CodeAWSOrganizationsNotInUse     = "AWSOrganizationsNotInUseException"
	CodeAccountOwnerNotVerified      = "AccountOwnerNotVerifiedException"
	CodeOrganizationNotEmpty         = "OrganizationNotEmptyException"
	CodeEffectivePolicyNotFound      = "EffectivePolicyNotFoundException"
)

// Reasons carried by ConstraintViolationException (a subset).
const (
	ReasonMaxPolicyTypeAttachment = "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
	ReasonMinPolicyTypeAttachment = "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
	ReasonOUDepth                 = "OU_DEPTH_LIMIT_EXCEEDED"
	ReasonOUNumber                = "OU_NUMBER_LIMIT_EXCEEDED"
	ReasonPolicyContent           = "POLICY_CONTENT_LIMIT_EXCEEDED"
	ReasonPolicyNumber            = "POLICY_NUMBER_LIMIT_EXCEEDED"
	ReasonTagPolicyViolation      = "TAG_POLICY_VIOLATION"
	ReasonMaxTagLimit             = "MAX_TAG_LIMIT_EXCEEDED"
	ReasonCannotRemoveMgmtAccount = "CANNOT_REMOVE_MANAGEMENT_ACCOUNT_FROM_ORG"
)

// Reasons carried by InvalidInputException (a subset).
const (
	ReasonImmutablePolicy        = "IMMUTABLE_POLICY"
	ReasonInvalidPartyType       = "INVALID_PARTY_TYPE_TARGET"
	ReasonInvalidSyntaxPolicy    = "INVALID_SYNTAX_POLICY_ID"
	ReasonInvalidName            = "INVALID_INPUT"
	ReasonInputRequired          = "INPUT_REQUIRED"
	ReasonMaxLengthExceeded      = "MAX_LENGTH_EXCEEDED"
	ReasonMinLengthExceeded      = "MIN_LENGTH_EXCEEDED"
	ReasonInvalidEnum            = "INVALID_ENUM"
	ReasonDuplicateTagKey        = "DUPLICATE_TAG_KEY"
	ReasonMaxLimitExceededFilter = "MAX_LIMIT_EXCEEDED_FILTER"
)

// APIError is an error shaped like an AWS Organizations error response.
// The simulated organization returns these; the AWS backend maps SDK errors
// to them.
type APIError struct {
	Code      string // e.g. "ConstraintViolationException"
	Reason    string // e.g. "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"; may be empty
	Message   string
	RequestID string // may be empty
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Reason != "" {
		b.WriteString(" (" + e.Reason + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// Is lets errors.Is(err, ErrNotFound) and the other sentinels match by code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return strings.HasSuffix(e.Code, "NotFoundException")
	case ErrDuplicate:
		return strings.HasPrefix(e.Code, "Duplicate") || e.Code == CodePolicyTypeAlreadyEnabled
	case ErrConstraintViolation:
		return e.Code == CodeConstraintViolation
	case ErrPolicyTypeNotEnabled:
		return e.Code == CodePolicyTypeNotEnabled
	case ErrThrottled:
		return e.Code == CodeTooManyRequests
	case ErrConcurrentModification:
		return e.Code == CodeConcurrentModification
	case ErrAccessDenied:
		return e.Code == CodeAccessDenied
	case ErrInvalidInput:
		return e.Code == CodeInvalidInput || e.Code == CodeMalformedPolicyDocument
	}
	return false
}

// Retryable reports whether the request can be retried unchanged after a
// pause: throttling, concurrent modification and service errors.
func (e *APIError) Retryable() bool {
	switch e.Code {
	case CodeTooManyRequests, CodeConcurrentModification, CodeService:
		return true
	}
	return false
}

// NewAPIError returns an *APIError with code and message.
func NewAPIError(code, message string) *APIError {
	return &APIError{Code: code, Message: message}
}

// NewInvalidInput returns an InvalidInputException with reason.
func NewInvalidInput(reason, message string) *APIError {
	return &APIError{Code: CodeInvalidInput, Reason: reason, Message: message}
}

// NewConstraintViolation returns a ConstraintViolationException with reason.
func NewConstraintViolation(reason, message string) *APIError {
	return &APIError{Code: CodeConstraintViolation, Reason: reason, Message: message}
}
