package policy

import "errors"

// ErrNotImplemented is returned by parts of the engine still being built.
var ErrNotImplemented = errors.New("not implemented yet")

// Policy is a compiled policy.
type Policy struct {
	name string
	doc  *Document
	kind Kind
}

// Name returns the name given to Compile or Load.
func (p *Policy) Name() string { return p.name }

// Document returns the parsed document the policy was compiled from.
func (p *Policy) Document() *Document { return p.doc }

// Kind returns the kind given to Load (0 after Compile).
func (p *Policy) Kind() Kind { return p.kind }

// StatementInfo summarises one statement for tools that classify
// statements (the blast-radius computation).
type StatementInfo struct {
	Index        int
	Sid          string
	Pos          Pos
	Effect       Effect
	Actions      []string
	NotAction    bool
	Resources    []string // nil when the statement has no Resource element
	NotResource  bool
	HasCondition bool
	Principal    PrincipalInfo
}

// PrincipalInfo summarises a Principal or NotPrincipal element.
type PrincipalInfo struct {
	Present       bool
	Not           bool // NotPrincipal
	Any           bool // "*" or {"AWS": "*"}
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Statements summarises the statements of the policy.
func (p *Policy) Statements() []StatementInfo { return nil }

// Validate checks d against the rules of kind k.
func (d *Document) Validate(k Kind) []Finding { return nil }

// Compile compiles d.
func Compile(d *Document, name string) (*Policy, error) { return nil, ErrNotImplemented }

// Load parses, validates and compiles.
func Load(data []byte, src Source, k Kind, name string) (*Policy, []Finding, error) {
	return nil, nil, ErrNotImplemented
}

// RequestContext is a request prepared for evaluation.
type RequestContext struct{ r Request }

// NewRequestContext prepares r.
func NewRequestContext(r Request, org *Org) (*RequestContext, error) { return nil, ErrNotImplemented }

// Result is the outcome of Evaluate.
type Result struct {
	Decision Decision
}

// Evaluate decides rc against set.
func Evaluate(rc *RequestContext, set *PolicySet) Result { return Result{} }

// Explanation says why a decision was taken.
type Explanation struct {
	Decision Decision
}

// Explain explains r.
func (r Result) Explain() Explanation { return Explanation{Decision: r.Decision} }
