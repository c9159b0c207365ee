package change

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/sim"
)

// Op names an operation an operator asks for. Most are one API write; the
// composite ones (quarantine, release, delete-policy) expand into several.
type Op string

// The operations.
const (
	OpAttachPolicy      Op = "attach-policy"
	OpDetachPolicy      Op = "detach-policy"
	OpCreatePolicy      Op = "create-policy"
	OpUpdatePolicy      Op = "update-policy"
	OpDeletePolicy      Op = "delete-policy"
	OpCreateOU          Op = "create-ou"
	OpMoveAccount       Op = "move-account"
	OpEnablePolicyType  Op = "enable-policy-type"
	OpDisablePolicyType Op = "disable-policy-type"
	OpQuarantine        Op = "quarantine"
	OpRelease           Op = "release"
)

// Ops lists every operation, in a new slice the caller may keep or change.
func Ops() []Op {
	return []Op{OpAttachPolicy, OpDetachPolicy, OpCreatePolicy, OpUpdatePolicy, OpDeletePolicy,
		OpCreateOU, OpMoveAccount, OpEnablePolicyType, OpDisablePolicyType, OpQuarantine, OpRelease}
}

// Operation is one thing an operator asks for, with names as the operator
// gave them (IDs or names); the planner resolves them.
type Operation struct {
	Op          Op       `json:"op" yaml:"op"`
	Policy      string   `json:"policy,omitempty" yaml:"policy"`           // id or name
	Target      string   `json:"target,omitempty" yaml:"target"`           // node: id, Root, /OU/Path, account name
	Accounts    []string `json:"accounts,omitempty" yaml:"accounts"`       // move-account, quarantine, release
	To          string   `json:"to,omitempty" yaml:"to"`                   // move-account, release: destination parent
	Parent      string   `json:"parent,omitempty" yaml:"parent"`           // create-ou
	Name        string   `json:"name,omitempty" yaml:"name"`               // create-ou, create-policy
	Type        string   `json:"type,omitempty" yaml:"type"`               // create-policy, enable/disable-policy-type: SCP or RCP
	Description string   `json:"description,omitempty" yaml:"description"` // create/update-policy
	Content     string   `json:"content,omitempty" yaml:"content"`         // create/update-policy: the policy JSON

	// Where the operation came from, for messages ("change.yaml:12:3").
	Origin string `json:"-" yaml:"-"`
}

// QuarantineConfig shapes the standard quarantine operation.
type QuarantineConfig struct {
	// OUName is the quarantine OU directly under the root.
	OUName string `yaml:"ou" json:"ou"`
	// PolicyName is the quarantine SCP's name.
	PolicyName string `yaml:"policy" json:"policy"`
	// BreakGlassPrincipals are principal ARN patterns (ArnLike) exempt from
	// the quarantine deny-all, e.g. a forensics role.
	BreakGlassPrincipals []string `yaml:"breakGlassPrincipals" json:"breakGlassPrincipals"`
}

// DefaultQuarantine is the quarantine used when nothing is configured.
func DefaultQuarantine() QuarantineConfig {
	return QuarantineConfig{
		OUName:               "Quarantine",
		PolicyName:           "orgguard-quarantine-deny-all",
		BreakGlassPrincipals: []string{"arn:aws:iam::*:role/OrgGuardForensics"},
	}
}

// Validate checks the quarantine configuration.
func (q QuarantineConfig) Validate() error {
	if strings.TrimSpace(q.OUName) == "" {
		return errors.New("quarantine.ou: empty OU name")
	}
	if strings.TrimSpace(q.PolicyName) == "" {
		return errors.New("quarantine.policy: empty policy name")
	}
	for i, p := range q.BreakGlassPrincipals {
		if !strings.HasPrefix(p, "arn:") {
			return fmt.Errorf("quarantine.breakGlassPrincipals[%d]: %q is not an ARN pattern", i, p)
		}
	}
	return nil
}

// PolicyContent is the quarantine SCP: deny everything to every principal
// of the account except the break-glass principals.
func (q QuarantineConfig) PolicyContent() string {
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Statement":[{"Sid":"OrgGuardQuarantineDenyAll","Effect":"Deny","Action":"*","Resource":"*"`)
	if len(q.BreakGlassPrincipals) > 0 {
		b.WriteString(`,"Condition":{"ArnNotLike":{"aws:PrincipalArn":[`)
		for i, p := range q.BreakGlassPrincipals {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q", p)
		}
		b.WriteString(`]}}`)
	}
	b.WriteString(`}]}`)
	return b.String()
}

// Plan is the result of planning: the steps with their inverses, the
// organization as it will be afterwards, and what the operations touch.
type Plan struct {
	Steps []Planned
	// After is the organization after every step, as the simulated
	// organization computed it with AWS's rules, without its fingerprint
	// (org.ComputeFingerprint). Its tag maps are shared with the base's
	// where unchanged: neither is to be changed in place.
	After *org.Snapshot
	// Targets are the IDs (in After) of the nodes whose access the steps
	// change directly: policy targets, moved accounts, the nodes an updated
	// policy is attached to, the root for a policy type.
	Targets []string
	// Quarantined lists the accounts a quarantine or release names: the
	// declared intent of such a plan.
	Quarantined []string
	// IsQuarantine is true when every operation is a quarantine or release.
	IsQuarantine bool
	// QuarantineOU is the quarantine OU's ID in After (when planned).
	QuarantineOU string
	// Warnings are findings about the policies the plan creates or
	// updates that do not stop it, as "policy NAME:line:col: warning: …":
	// actions that are not in the catalog, with the nearest names.
	Warnings []string
	// Bindings map the references of created objects to their IDs in After.
	Bindings Bindings
	// BaseIndex and AfterIndex index the snapshots before and after, for
	// callers that go on querying them.
	BaseIndex, AfterIndex *org.Index
}

// RejectedError is returned when AWS would reject a step (a limit, a
// missing object): the plan is refused at plan time with AWS's reason.
type RejectedError struct {
	Operation Operation
	Step      Step
	Err       error
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("%s%s: AWS would reject it: %v", e.Operation.where(), e.Step.Summary, e.Err)
}
func (e *RejectedError) Unwrap() error { return e.Err }

// InputError is returned for operations that name unknown or ambiguous
// things or miss required fields.
type InputError struct {
	Operation Operation
	Err       error
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%s%s: %v", e.Operation.where(), e.Operation.Op, e.Err)
}
func (e *InputError) Unwrap() error { return e.Err }

// where prefixes messages with the operation's origin ("change.yaml:7:5: ").
func (o Operation) where() string {
	if o.Origin == "" {
		return ""
	}
	return o.Origin + ": "
}

// Replica returns a simulated copy of base on which a plan's steps are run:
// by planning, and by apply to compute the state expected after each step.
// It owns the replay contract: the copy draws the IDs of created objects
// from one fixed seeded source, so the same steps on the same base create
// the same IDs — the ones behind a plan's afterFingerprint. Every replay of
// a plan must go through here.
func Replica(base *org.Snapshot) (*sim.Org, error) {
	// sim.New copies what it keeps and does not change base.
	return sim.New(base, replicaOptions())
}

// replicaOf is Replica for the snapshot x indexes, already validated.
func replicaOf(x *org.Index) *sim.Org {
	so, err := sim.FromIndex(x, replicaOptions())
	if err != nil {
		panic(fmt.Sprintf("a simulated copy in memory cannot fail: %v", err))
	}
	return so
}

// replicaOptions fix the source of the IDs a replica assigns.
func replicaOptions() sim.Options { return sim.Options{IDs: rand.New(rand.NewPCG(1, 2))} }

// Planner expands operations into steps against a base snapshot.
type Planner struct {
	Quarantine QuarantineConfig
}

// Plan expands ops into steps with inverses, checking each against a
// simulated copy of base with AWS's rules. base is not modified.
func (p *Planner) Plan(ctx context.Context, base *org.Snapshot, ops []Operation) (*Plan, error) {
	if len(ops) == 0 {
		return nil, errors.New("planning: no operations given")
	}
	q := p.Quarantine
	if q.OUName == "" && q.PolicyName == "" {
		q = DefaultQuarantine()
	}
	baseIdx, err := org.NewIndex(base)
	if err != nil {
		return nil, fmt.Errorf("planning: starting the simulated organization: %w", err)
	}
	so := replicaOf(baseIdx)
	st := &planState{ctx: ctx, sim: so, bind: Bindings{}, q: q, touched: map[string]bool{}, idx: baseIdx}
	out := &Plan{IsQuarantine: true, BaseIndex: baseIdx}
	for _, op := range ops {
		if op.Op != OpQuarantine && op.Op != OpRelease {
			out.IsQuarantine = false
		}
		if err := st.expand(op); err != nil {
			return nil, err
		}
	}
	out.Steps = st.steps
	out.After, err = so.SnapshotShared(ctx)
	if err != nil {
		return nil, fmt.Errorf("planning: reading the simulated result: %w", err)
	}
	out.After.Source = base.Source
	if out.AfterIndex, err = org.NewIndex(out.After); err != nil {
		return nil, fmt.Errorf("planning: indexing the result: %w", err)
	}
	out.Targets = sortedKeys(st.touched)
	out.Quarantined = st.quarantined
	out.Warnings = st.warnings
	out.Bindings = st.bind
	if st.quarantineOU != "" {
		out.QuarantineOU, _ = st.bind.resolve(st.quarantineOU)
	}
	return out, nil
}

// PlanSteps plans raw steps (IDs already resolved, as a rollback of an
// applied change gives them) against base: each step gets its inverse from
// the state just before it and is checked on a simulated copy with AWS's
// rules, as Plan does for operations. Steps keep their Ref, so a step that
// re-creates an object binds it for the later ones.
func (p *Planner) PlanSteps(ctx context.Context, base *org.Snapshot, steps []Step) (*Plan, error) {
	if len(steps) == 0 {
		return nil, errors.New("planning: no steps given")
	}
	so, err := Replica(base)
	if err != nil {
		return nil, fmt.Errorf("planning: %w", err)
	}
	baseIdx, err := org.NewIndex(base)
	if err != nil {
		return nil, fmt.Errorf("planning: %w", err)
	}
	st := &planState{ctx: ctx, sim: so, bind: Bindings{}, q: p.Quarantine, touched: map[string]bool{}, idx: baseIdx}
	for i, s := range steps {
		op := Operation{Op: Op(s.Kind), Origin: fmt.Sprintf("step %d", i+1)}
		if err := st.add(op, s); err != nil {
			return nil, err
		}
	}
	out := &Plan{Steps: st.steps, Bindings: st.bind, BaseIndex: baseIdx}
	out.After, err = so.SnapshotShared(ctx)
	if err != nil {
		return nil, fmt.Errorf("planning: reading the simulated result: %w", err)
	}
	out.After.Source = base.Source
	if out.AfterIndex, err = org.NewIndex(out.After); err != nil {
		return nil, fmt.Errorf("planning: indexing the result: %w", err)
	}
	out.Targets = sortedKeys(st.touched)
	return out, nil
}

const (
	quarantineOURef  = "quarantine-ou"
	quarantineSCPRef = "quarantine-scp"
)

// planState carries the simulated organization through the expansion.
type planState struct {
	ctx          context.Context
	sim          *sim.Org
	bind         Bindings
	q            QuarantineConfig
	steps        []Planned
	touched      map[string]bool
	quarantined  []string
	quarantineOU string
	warnings     []string

	idx *org.Index // index of the current simulated state; nil when stale
}

func (st *planState) index() (*org.Index, error) {
	if st.idx != nil {
		return st.idx, nil
	}
	s, err := st.sim.SnapshotShared(st.ctx) // only read, by the index
	if err != nil {
		return nil, err
	}
	x, err := org.NewIndex(s)
	if err != nil {
		return nil, err
	}
	st.idx = x
	return x, nil
}

// add computes the inverse of s from the current state, runs s on the
// simulated organization and records both.
func (st *planState) add(op Operation, s Step) error {
	if err := s.Validate(); err != nil {
		return &InputError{Operation: op, Err: err}
	}
	inv, err := st.inverse(s)
	if err != nil {
		return &InputError{Operation: op, Err: err}
	}
	if _, err := Run(st.ctx, st.sim, s, st.bind); err != nil {
		var ae *org.APIError
		if errors.As(err, &ae) {
			return &RejectedError{Operation: op, Step: s, Err: ae}
		}
		return fmt.Errorf("planning %s: %w", s.Summary, err)
	}
	st.idx = nil
	st.steps = append(st.steps, Planned{Step: s, Inverse: inv})
	for _, id := range st.accessTargets(s) {
		st.touched[id] = true
	}
	return nil
}

// accessTargets returns the nodes whose access s changes directly: where a
// policy is attached or detached, the account moved, the nodes a changed
// policy is attached to, the root for a policy type. Creating an OU or a
// policy changes no one's access by itself. IDs are resolved.
func (st *planState) accessTargets(s Step) []string {
	r, err := s.Resolve(st.bind)
	if err != nil {
		return nil
	}
	switch s.Kind {
	case AttachPolicy, DetachPolicy:
		return []string{r.TargetID}
	case MoveAccount:
		return []string{r.AccountID}
	case UpdatePolicy:
		if x, err := st.index(); err == nil {
			return x.TargetsOf(r.PolicyID)
		}
	case EnablePolicyType, DisablePolicyType:
		return []string{r.RootID}
	case CreatePolicy, DeletePolicy, CreateOU, DeleteOU:
	}
	return nil
}

// inverse returns the steps that undo s, from the state before s.
func (st *planState) inverse(s Step) ([]Step, error) {
	x, err := st.index()
	if err != nil {
		return nil, err
	}
	r, err := s.Resolve(st.bind)
	if err != nil {
		return nil, err
	}
	switch s.Kind {
	case AttachPolicy:
		return []Step{{Kind: DetachPolicy, PolicyID: s.PolicyID, TargetID: s.TargetID,
			Summary: "detach " + policyLabel(x, r.PolicyID, s.PolicyID) + " from " + describe(x, r.TargetID)}}, nil
	case DetachPolicy:
		return []Step{{Kind: AttachPolicy, PolicyID: s.PolicyID, TargetID: s.TargetID,
			Summary: "attach " + policyLabel(x, r.PolicyID, s.PolicyID) + " to " + describe(x, r.TargetID)}}, nil
	case CreatePolicy:
		return []Step{{Kind: DeletePolicy, PolicyID: RefPrefix + s.Ref, Summary: "delete policy " + s.Name}}, nil
	case UpdatePolicy:
		prev, ok := x.Policy(r.PolicyID)
		if !ok {
			return nil, fmt.Errorf("policy %s not found", r.PolicyID)
		}
		return []Step{{Kind: UpdatePolicy, PolicyID: s.PolicyID, Name: prev.Name, Description: prev.Description,
			Content: prev.Content, Summary: "restore the previous content of policy " + prev.Name}}, nil
	case DeletePolicy:
		prev, ok := x.Policy(r.PolicyID)
		if !ok {
			return nil, fmt.Errorf("policy %s not found", r.PolicyID)
		}
		return []Step{{Kind: CreatePolicy, Ref: restorePrefix + r.PolicyID, Name: prev.Name, Description: prev.Description,
			PolicyType: prev.Type, Content: prev.Content, Summary: "re-create policy " + prev.Name}}, nil
	case CreateOU:
		return []Step{{Kind: DeleteOU, OUID: RefPrefix + s.Ref, Summary: "delete OU " + s.Name}}, nil
	case DeleteOU:
		// Only rollbacks delete OUs (of OUs their change created). The
		// inverse re-creates the OU under the same parent with the same
		// name — a new ID, bound to the old one for later steps — and
		// re-attaches its policies besides the defaults AWS attaches.
		ou, ok := x.OU(r.OUID)
		if !ok {
			return nil, fmt.Errorf("OU %s not found", r.OUID)
		}
		inv := []Step{{Kind: CreateOU, Ref: restorePrefix + r.OUID, ParentID: ou.ParentID, Name: ou.Name,
			Summary: "re-create OU " + ou.Name + " under " + describe(x, ou.ParentID)}}
		for _, p := range x.PoliciesAttached(r.OUID, "") {
			if def, ok := org.DefaultPolicy(p.Type); ok && def.ID == p.ID {
				continue
			}
			inv = append(inv, Step{Kind: AttachPolicy, PolicyID: p.ID, TargetID: r.OUID,
				Summary: "attach " + p.Name + " to the re-created OU " + ou.Name})
		}
		return inv, nil
	case MoveAccount:
		return []Step{{Kind: MoveAccount, AccountID: s.AccountID, SourceParentID: s.DestinationParentID,
			DestinationParentID: s.SourceParentID, Summary: "move " + describe(x, r.AccountID) + " back to " + describe(x, r.SourceParentID)}}, nil
	case EnablePolicyType:
		return []Step{{Kind: DisablePolicyType, RootID: s.RootID, PolicyType: s.PolicyType,
			Summary: "disable " + s.PolicyType.Short() + "s at the root"}}, nil
	case DisablePolicyType:
		return disableInverse(x, r), nil
	}
	return nil, fmt.Errorf("unknown step kind %q", s.Kind)
}

// disableInverse re-enables a policy type and restores every attachment of
// that type as it was, removing the default policy where it was not
// attached before (AWS attaches it everywhere on enable).
func disableInverse(x *org.Index, s Step) []Step {
	inv := []Step{{Kind: EnablePolicyType, RootID: s.RootID, PolicyType: s.PolicyType,
		Summary: "enable " + s.PolicyType.Short() + "s at the root"}}
	def, hasDef := org.DefaultPolicy(s.PolicyType)
	snap := x.Snapshot()
	targets := append([]string{snap.Root.ID}, nodeIDs(snap)...)
	var detachDefault []Step
	for _, t := range targets {
		hadDefault := false
		for _, p := range x.PoliciesAttached(t, s.PolicyType) {
			if hasDef && p.ID == def.ID {
				hadDefault = true
				continue
			}
			inv = append(inv, Step{Kind: AttachPolicy, PolicyID: p.ID, TargetID: t,
				Summary: "attach " + p.Name + " to " + describe(x, t)})
		}
		if hasDef && !hadDefault {
			detachDefault = append(detachDefault, Step{Kind: DetachPolicy, PolicyID: def.ID, TargetID: t,
				Summary: "detach " + def.Name + " from " + describe(x, t)})
		}
	}
	return append(inv, detachDefault...)
}

// policyLabel names a policy for people: "SCP deny-all (p-123)"; ref is
// how the plan refers to it (a reference for policies it creates).
func policyLabel(x *org.Index, id, ref string) string {
	p, ok := x.Policy(id)
	switch {
	case ok && strings.HasPrefix(ref, RefPrefix):
		return fmt.Sprintf("%s %s (created by this plan)", p.Type.Short(), p.Name)
	case ok:
		return fmt.Sprintf("%s %s (%s)", p.Type.Short(), p.Name, p.ID)
	}
	return ref
}

func nodeIDs(s *org.Snapshot) []string {
	ids := make([]string, 0, len(s.OUs)+len(s.Accounts))
	for _, ou := range s.OUs {
		ids = append(ids, ou.ID)
	}
	for _, a := range s.Accounts {
		ids = append(ids, a.ID)
	}
	return ids
}

// describe names a node for people: "Root r-ab12", "OU /Customers/Acme
// (ou-...)", "account acme-prod (111122223333)".
func describe(x *org.Index, id string) string {
	if x == nil {
		return id
	}
	return x.Describe(id)
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
