package policy

// ConditionOutcome is the value of a statement's Condition block when only
// some request context keys are known.
type ConditionOutcome uint8

// Condition outcomes.
const (
	// ConditionsHold: every condition holds (or the block is empty).
	ConditionsHold ConditionOutcome = iota
	// ConditionsFail: some condition on a known key fails, so the
	// statement does not apply whatever the unknown keys are.
	ConditionsFail
	// ConditionsUnknown: the outcome depends on keys that are not known.
	ConditionsUnknown
)

func (o ConditionOutcome) String() string {
	switch o {
	case ConditionsHold:
		return "hold"
	case ConditionsFail:
		return "fail"
	}
	return "unknown"
}

// EvalConditions evaluates the Condition block of statement i (in document
// order) for rc, where known reports (for a lowercased key name) whether
// the key's presence and value in rc are the whole truth for the requests
// being reasoned about. Conditions are ANDed: one failing condition on
// known keys decides ConditionsFail; otherwise any condition on an unknown
// key, or whose values use policy variables, makes the outcome unknown.
// The blast-radius computation uses it to settle conditions on principal
// keys (aws:PrincipalArn exceptions and the like) for an ordinary principal
// while leaving conditions on request keys open.
func (p *Policy) EvalConditions(i int, rc *RequestContext, known func(lowerKey string) bool) ConditionOutcome {
	if i < 0 || i >= len(p.stmts) {
		return ConditionsUnknown
	}
	st := &evalState{rc: rc, principalInOrg: true, resourceInOrg: true}
	out := ConditionsHold
	for j := range p.stmts[i].conds {
		c := &p.stmts[i].conds[j]
		if !known(c.key) || c.usesVariables() {
			out = ConditionsUnknown
			continue
		}
		if !c.eval(st) {
			return ConditionsFail
		}
	}
	return out
}

// usesVariables reports whether any of the condition's values holds a
// policy variable.
func (c *ccond) usesVariables() bool {
	for i := range c.vals {
		if c.vals[i].tmpl != nil {
			return true
		}
	}
	return false
}
