package policy

// Effect is the Effect of a statement.
type Effect uint8

// The effects.
const (
	Allow Effect = iota + 1
	Deny
)

// String returns "Allow" or "Deny".
func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "Effect(?)"
}

// MarshalText makes effects readable in JSON.
func (e Effect) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// Version values.
const (
	Version2012 = "2012-10-17" // current language version: policy variables are supported
	Version2008 = "2008-10-17" // old version (also what a missing Version means): no policy variables
)

// Document is a parsed policy: its structure with the position of every
// element. Parse checks the structure; Validate checks the rules of a kind.
type Document struct {
	Version    string // as written; "" when missing
	HasVersion bool
	ID         string
	HasID      bool
	Statements []*Statement
	// Size is the number of characters (runes) of the policy text, the
	// measure AWS applies to the SCP and RCP size limit (white space counts).
	Size int
	Pos  Pos // the position of the document itself

	// element positions, for findings
	versionPos, idPos, statementPos Pos
	statementIsObject               bool
	warnings                        []Finding // structural warnings found by Parse
}

// Variables reports whether policy variables are substituted in this
// document: only with Version 2012-10-17. Under 2008-10-17, or without a
// Version, "${...}" is literal text.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
func (d *Document) Variables() bool { return d.Version == Version2012 }

// Statement is one statement of a policy.
type Statement struct {
	Index  int // 0-based index in the Statement array
	Pos    Pos // position of the statement object
	Sid    string
	HasSid bool
	Effect Effect

	Principal    *Principal // Principal or NotPrincipal; nil when neither
	NotPrincipal bool

	Actions   []Value // Action or NotAction
	NotAction bool
	HasAction bool

	Resources   []Value // Resource or NotResource
	NotResource bool
	HasResource bool

	Conditions []*Condition // in document order

	sidPos, effectPos, actionPos, resourcePos, principalPos, conditionPos Pos
}

// Value is a string element value with its position.
type Value struct {
	S   string
	Pos Pos
}

// Principal is the value of a Principal or NotPrincipal element.
type Principal struct {
	Any     bool             // "*" written as the whole element
	Entries []PrincipalEntry // typed entries, in document order
	Pos     Pos
}

// PrincipalEntry is one principal of a type: AWS, Service, Federated or
// CanonicalUser. A bare 12-digit account id under AWS is kept as written;
// compiled matchers treat it as arn:aws:iam::ID:root.
type PrincipalEntry struct {
	Type  string // "AWS", "Service", "Federated", "CanonicalUser"
	Value string
	Pos   Pos
}

// Condition is one condition operator block: operator -> key -> values.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Pos      Pos
	Keys     []*ConditionKey
}

// ConditionKey is one key of a condition block with its values. Numbers and
// booleans are kept as their JSON text ("10", "true").
type ConditionKey struct {
	Key    string
	Pos    Pos
	Values []Value
	// ValueKinds records the JSON kinds of the values ("string", "number",
	// "boolean"), for validation.
	ValueKinds []string
}
