package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotCompilable is wrapped by Compile when a document has error
// findings in its language (actions, ARNs, operators, condition values).
var ErrNotCompilable = errors.New("policy cannot be compiled")

// Policy is a compiled policy: every action, resource, principal and
// condition turned into a precompiled matcher. A Policy is immutable and
// safe for concurrent use.
type Policy struct {
	name  string
	doc   *Document
	kind  Kind
	stmts []cstmt
}

// cstmt is a compiled statement.
type cstmt struct {
	src          *Statement
	deny         bool
	actions      []actionPattern
	notAction    bool
	hasResource  bool
	resources    []resPattern
	notResource  bool
	principal    *principalMatcher // nil when the statement has no Principal/NotPrincipal
	notPrincipal bool
	conds        []ccond
}

// Name returns the name given to Compile or Load.
func (p *Policy) Name() string { return p.name }

// Document returns the parsed document the policy was compiled from.
func (p *Policy) Document() *Document { return p.doc }

// Kind returns the kind given to Load (0 after Compile).
func (p *Policy) Kind() Kind { return p.kind }

// Compile compiles d. It fails with an *Error (matching ErrInvalidPolicy)
// when the language of d has errors: malformed actions, unknown condition
// operators, condition values the operator cannot read. The rules of a
// policy kind are checked by Validate, not here.
func Compile(d *Document, name string) (*Policy, error) {
	if d == nil {
		return nil, fmt.Errorf("compiling policy %q: nil document: %w", name, ErrNotCompilable)
	}
	if fs := d.languageFindings(); HasErrors(fs) {
		return nil, fmt.Errorf("compiling policy %q: %w", name, &Error{Findings: fs})
	}
	vars := d.Variables()
	p := &Policy{name: name, doc: d, stmts: make([]cstmt, 0, len(d.Statements))}
	for _, s := range d.Statements {
		cs := cstmt{
			src:          s,
			deny:         s.Effect == Deny,
			notAction:    s.NotAction,
			hasResource:  s.HasResource,
			notResource:  s.NotResource,
			notPrincipal: s.NotPrincipal,
		}
		for _, a := range s.Actions {
			cs.actions = append(cs.actions, compileAction(a.S))
		}
		for _, r := range s.Resources {
			cs.resources = append(cs.resources, compileResource(r.S, vars))
		}
		if s.Principal != nil {
			cs.principal = compilePrincipal(s.Principal)
		}
		for _, c := range s.Conditions {
			spec, err := parseOperator(c.Operator)
			if err != nil {
				return nil, fmt.Errorf("compiling policy %q: %w", name, err) // unreachable: languageFindings reports it
			}
			for _, k := range c.Keys {
				cc := ccond{spec: spec, key: strings.ToLower(k.Key)}
				for _, v := range k.Values {
					cv, err := compileCondValue(spec.info, v.S, vars)
					if err != nil {
						return nil, fmt.Errorf("compiling policy %q at %s: %w", name, v.Pos, err)
					}
					cc.vals = append(cc.vals, cv)
				}
				cs.conds = append(cs.conds, cc)
			}
		}
		p.stmts = append(p.stmts, cs)
	}
	return p, nil
}

// Load parses, validates (for kind k) and compiles a policy. It returns
// every finding; the error is an *Error when any finding is an error.
func Load(data []byte, src Source, k Kind, name string) (*Policy, []Finding, error) {
	d, err := Parse(data, src)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe.Findings, err
		}
		return nil, nil, err
	}
	fs := d.Validate(k)
	if HasErrors(fs) {
		return nil, fs, &Error{Findings: fs}
	}
	p, err := Compile(d, name)
	if err != nil {
		return nil, fs, err
	}
	p.kind = k
	return p, fs, nil
}

// WithKind returns a copy of p marked as kind k (the evaluation treats a
// resource policy of kind KindTrust as a role trust policy).
func (p *Policy) WithKind(k Kind) *Policy {
	q := *p
	q.kind = k
	return &q
}

// StatementInfo summarises one statement for tools that classify
// statements (the blast-radius computation).
type StatementInfo struct {
	Index        int           `json:"index"`
	Sid          string        `json:"sid,omitempty"`
	Pos          Pos           `json:"pos"`
	Effect       Effect        `json:"effect"`
	Actions      []string      `json:"actions"` // patterns as written
	NotAction    bool          `json:"notAction,omitempty"`
	Resources    []string      `json:"resources,omitempty"` // nil when the statement has no Resource element
	NotResource  bool          `json:"notResource,omitempty"`
	HasCondition bool          `json:"hasCondition,omitempty"`
	Principal    PrincipalInfo `json:"principal"`
}

// PrincipalInfo summarises a Principal or NotPrincipal element.
type PrincipalInfo struct {
	Present       bool     `json:"present"`
	Not           bool     `json:"not,omitempty"` // NotPrincipal
	Any           bool     `json:"any,omitempty"` // "*" or {"AWS": "*"}
	AWS           []string `json:"aws,omitempty"`
	Service       []string `json:"service,omitempty"`
	Federated     []string `json:"federated,omitempty"`
	CanonicalUser []string `json:"canonicalUser,omitempty"`
}

// Statements summarises the statements of the policy, in order.
func (p *Policy) Statements() []StatementInfo {
	out := make([]StatementInfo, 0, len(p.doc.Statements))
	for _, s := range p.doc.Statements {
		si := StatementInfo{
			Index:        s.Index,
			Sid:          s.Sid,
			Pos:          s.Pos,
			Effect:       s.Effect,
			NotAction:    s.NotAction,
			NotResource:  s.NotResource,
			HasCondition: len(s.Conditions) > 0,
		}
		for _, a := range s.Actions {
			si.Actions = append(si.Actions, a.S)
		}
		if s.HasResource {
			si.Resources = make([]string, 0, len(s.Resources))
			for _, r := range s.Resources {
				si.Resources = append(si.Resources, r.S)
			}
		}
		if s.Principal != nil {
			pi := PrincipalInfo{Present: true, Not: s.NotPrincipal, Any: s.Principal.Any}
			for _, e := range s.Principal.Entries {
				switch e.Type {
				case "AWS":
					pi.AWS = append(pi.AWS, e.Value)
					if e.Value == "*" {
						pi.Any = true
					}
				case "Service":
					pi.Service = append(pi.Service, e.Value)
				case "Federated":
					pi.Federated = append(pi.Federated, e.Value)
				case "CanonicalUser":
					pi.CanonicalUser = append(pi.CanonicalUser, e.Value)
				}
			}
			si.Principal = pi
		}
		out = append(out, si)
	}
	return out
}

// applies reports whether the statement applies to the request, leaving
// the principal aside: action, resource and conditions.
func (s *cstmt) applies(st *evalState) bool {
	rc := st.rc
	m := false
	for i := range s.actions {
		if s.actions[i].match(rc.action) {
			m = true
			break
		}
	}
	if m == s.notAction {
		return false
	}
	if s.hasResource {
		m = false
		for i := range s.resources {
			if s.resources[i].match(st) {
				m = true
				break
			}
		}
		if m == s.notResource {
			return false
		}
	}
	for i := range s.conds {
		if !s.conds[i].eval(st) {
			return false
		}
	}
	return true
}

// principalGrant returns how the statement's Principal names the
// requester: grantWildcard when the statement has no Principal element
// (identity-side policies), grantNone when it does not apply.
func (s *cstmt) principalGrant(st *evalState) grant {
	if s.principal == nil {
		return grantWildcard
	}
	p := &st.rc.principal
	if s.notPrincipal {
		// A Deny with NotPrincipal always denies an IAM principal that has
		// a permissions boundary, whatever NotPrincipal lists.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
		if s.deny && st.hasBoundary && p.isIAM() {
			return grantWildcard
		}
		if s.principal.lists(p) {
			return grantNone
		}
		return grantWildcard
	}
	return s.principal.match(p, st.gateway)
}
