// Package policy implements the AWS IAM policy language as AWS Organizations
// and IAM use it: parsing with positions (file, line, column and JSON path for
// every element), validation per policy kind (identity, resource, role trust,
// permissions boundary, session, SCP, RCP), compilation into precompiled
// matchers, and evaluation of requests following AWS's policy evaluation
// logic, with an explanation of every decision.
//
// The package is pure: it does no I/O, keeps no package-level mutable state
// and imports neither the AWS SDK nor net/http. Policies are parsed once,
// compiled once and evaluated many times; Evaluate does not allocate on the
// common path.
//
// Typical use:
//
//	p, findings, err := policy.Load(data, policy.Source{File: "scp.json"}, policy.KindSCP, "DenyS3")
//	rc, err := policy.NewRequestContext(policy.Request{Principal: arn, Action: "s3:GetObject", Resource: res}, nil)
//	res := policy.Evaluate(rc, &policy.PolicySet{Identity: []*policy.Policy{id}, SCPs: chain})
//	fmt.Println(res.Decision, res.Explain())
package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/orgguard/orgguard/internal/source"
)

// Kind is the kind of a policy, which decides the rules it is validated
// against and the place it takes in evaluation.
type Kind uint8

// The policy kinds.
const (
	KindIdentity    Kind = iota + 1 // identity-based policy of a user, group or role
	KindResource                    // resource-based policy (bucket policy, key policy, ...)
	KindTrust                       // role trust policy
	KindBoundary                    // permissions boundary
	KindSession                     // session policy passed when assuming a role or federating
	KindSCP                         // AWS Organizations service control policy
	KindRCP                         // AWS Organizations resource control policy
	KindVPCEndpoint                 // VPC endpoint policy
)

var kindNames = [...]string{
	KindIdentity: "identity", KindResource: "resource", KindTrust: "trust", KindBoundary: "boundary",
	KindSession: "session", KindSCP: "scp", KindRCP: "rcp", KindVPCEndpoint: "vpc-endpoint",
}

// ErrUnknownKind is returned by ParseKind for a name that is not a policy kind.
var ErrUnknownKind = errors.New("unknown policy kind")

// ParseKind returns the kind named s: "identity", "resource", "trust",
// "boundary", "session", "scp", "rcp" or "vpc-endpoint" (case-insensitive).
func ParseKind(s string) (Kind, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	for k, n := range kindNames {
		if n != "" && n == l {
			return Kind(k), nil
		}
	}
	return 0, fmt.Errorf("parsing policy kind %q: %w (want one of identity, resource, trust, boundary, session, scp, rcp, vpc-endpoint)", s, ErrUnknownKind)
}

// String returns the name ParseKind accepts.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Source says where a policy's bytes sit: the file, the line and column of
// its first byte in that file (Line 0 means 1), and a JSON path prefix for
// policies embedded in a bigger document, e.g. "cases[3].scps[0][1]".
type Source struct {
	File      string
	Line, Col int
	Path      string
}

// Pos is the place of a policy element: file, line, column (1-based, in
// runes) and JSON path such as "Statement[2].Condition.StringLike". It is
// the position type every orgguard file reader uses (source.Pos), so that
// a finding's place and a case file's or configuration's problem are the
// same kind of value.
type Pos = source.Pos

// Severity grades a finding.
type Severity uint8

// The severities. An error finding makes the policy unusable (AWS would
// reject it); a warning points at something legal but probably unintended.
const (
	SeverityError Severity = iota + 1
	SeverityWarning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText makes severities readable in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one problem found in a policy.
type Finding struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"` // stable identifier, e.g. "unknown-element"
	Message  string   `json:"message"`
}

// String formats the finding as "file:line:col: error: message (path) [code]".
func (f Finding) String() string {
	var b strings.Builder
	if f.Pos.File != "" {
		b.WriteString(f.Pos.File)
		b.WriteByte(':')
	}
	b.WriteString(strconv.Itoa(f.Pos.Line))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(f.Pos.Col))
	b.WriteString(": ")
	b.WriteString(f.Severity.String())
	b.WriteString(": ")
	b.WriteString(f.Message)
	if f.Pos.Path != "" {
		b.WriteString(" (at ")
		b.WriteString(f.Pos.Path)
		b.WriteByte(')')
	}
	if f.Code != "" {
		b.WriteString(" [")
		b.WriteString(f.Code)
		b.WriteByte(']')
	}
	return b.String()
}

// ErrInvalidPolicy is matched (errors.Is) by every *Error.
var ErrInvalidPolicy = errors.New("invalid policy")

// Error is the error returned for a malformed or invalid policy; it carries
// every finding (errors and warnings) found.
type Error struct {
	Findings []Finding
}

// Error lists the error findings, one per line.
func (e *Error) Error() string {
	var lines []string
	for _, f := range e.Findings {
		if f.Severity == SeverityError {
			lines = append(lines, f.String())
		}
	}
	if len(lines) == 0 {
		return "invalid policy"
	}
	return "invalid policy: " + strings.Join(lines, "\n")
}

// Is reports whether target is ErrInvalidPolicy.
func (e *Error) Is(target error) bool { return target == ErrInvalidPolicy }

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Request is one request to evaluate.
type Request struct {
	Principal       string              // ARN, service principal ("s3.amazonaws.com"), or "anonymous"
	Action          string              // "s3:GetObject"
	Resource        string              // ARN or "*"
	ResourceAccount string              // 12 digits; "" = the principal's account
	Context         map[string][]string // request context keys (names case-insensitive)
}

// Org describes the organization when known.
type Org struct {
	ID                string // o-xxxxxxxxxx
	ManagementAccount string // 12 digits
}

// Level is one level of an SCP or RCP chain: the root, an OU or the account,
// with the policies attached to it.
type Level struct {
	ID       string
	Policies []*Policy
}

// VPCEndpoint is a VPC endpoint a request goes through, with its endpoint
// policy. An endpoint policy never grants on its own: an explicit Deny in it
// denies, and without an Allow in it the request is implicitly denied.
// https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
type VPCEndpoint struct {
	ID     string  // optional (vpce-...); shown in explanations instead of the policy name
	Policy *Policy // the endpoint policy; nil means the default policy (full access)
	// Gateway marks a gateway endpoint (Amazon S3, DynamoDB): there an AWS
	// principal given as an account ("123456789012" or
	// "arn:aws:iam::123456789012:root") names that account's root user
	// only, not every principal of the account.
	Gateway bool
}

// Name returns the endpoint's ID, or the name of its policy.
func (e VPCEndpoint) Name() string {
	if e.ID != "" || e.Policy == nil {
		return e.ID
	}
	return e.Policy.name
}

// PolicySet holds every policy that applies to one request.
type PolicySet struct {
	Identity []*Policy // identity-based policies of the principal
	// Boundary is the permissions boundary: nil or empty = none. AWS sets a
	// boundary from one managed policy, so it has at most one element in
	// practice; several are all required to allow.
	Boundary []*Policy
	// Session holds the session policies: nil or empty = none (a
	// federated-user session without one has no permissions).
	Session  []*Policy
	Resource *Policy // nil = no resource-based policy given (see ResourceGrantsNothing)
	// ResourceGrantsNothing says that the resource has a resource-based
	// policy that grants nothing, rather than that it is unknown. It matters
	// for KMS keys, which always have a key policy: when Resource is nil
	// and this is false, the engine assumes AWS's default key policy.
	ResourceGrantsNothing bool
	// VPCEndpoints are the VPC endpoints the request goes through (usually
	// none or one); each endpoint policy must allow the request.
	VPCEndpoints []VPCEndpoint
	SCPs         []Level // principal's account chain, root first, account last; empty = not in an organization
	RCPs         []Level // resource account's chain, root first; RCPFullAWSAccess is implied at every level
	Org          *Org    // optional; overrides the Org given to NewRequestContext for exemptions

	// RCPServices reports whether a service prefix ("s3") supports RCPs.
	// The catalog package supplies the real list; nil means the small
	// built-in fallback list (see FallbackRCPServices).
	RCPServices func(service string) bool
}

// Decision is the outcome of an evaluation.
type Decision uint8

// The decisions. The zero value is ImplicitlyDenied. RefusedByService is
// not a policy decision: the policies allow the request, but the service
// refuses it whatever the policies say (an AWS managed policy, a
// service-linked role's permissions, a reserved KMS alias).
const (
	ImplicitlyDenied Decision = iota
	Allowed
	ExplicitlyDenied
	RefusedByService
)

// String returns "Allowed", "ImplicitlyDenied" or "ExplicitlyDenied".
func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allowed"
	case ImplicitlyDenied:
		return "ImplicitlyDenied"
	case ExplicitlyDenied:
		return "ExplicitlyDenied"
	case RefusedByService:
		return "RefusedByService"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// MarshalText makes decisions readable in JSON.
func (d Decision) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ParseDecision parses the words String returns.
func ParseDecision(s string) (Decision, error) {
	switch s {
	case "Allowed":
		return Allowed, nil
	case "ImplicitlyDenied":
		return ImplicitlyDenied, nil
	case "ExplicitlyDenied":
		return ExplicitlyDenied, nil
	case "RefusedByService":
		return RefusedByService, nil
	}
	return 0, fmt.Errorf("parsing decision %q: want Allowed, ImplicitlyDenied, ExplicitlyDenied or RefusedByService", s)
}
