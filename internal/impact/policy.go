package impact

import (
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/policy"
)

// OrdinaryPrincipal is the principal whose permissions the classes
// describe: an IAM role session in a member account of the organization,
// named by no policy. Conditions on principal keys (aws:PrincipalArn
// exceptions for a break-glass role, deny-root-user guardrails, the
// organization ID) are settled for it; conditions on anything else
// (regions, tags, request keys) leave an action conditional. Its account ID
// is a placeholder: a policy naming one account's principals is read as
// not naming this one.
const OrdinaryPrincipal = "arn:aws:sts::000000000000:assumed-role/orgguard-ordinary-principal/orgguard"

// principalKeys are the context keys whose values are known for the
// ordinary principal (lowercased).
var principalKeys = map[string]bool{
	"aws:principalarn":              true,
	"aws:principaltype":             true,
	"aws:principalisawsservice":     true,
	"aws:principalservicename":      true,
	"aws:principalservicenameslist": true,
}

// ordinaryContext is the request context of the ordinary principal in the
// organization orgID (aws:PrincipalOrgID is known only when orgID is).
func ordinaryContext(orgID string) (*policy.RequestContext, func(string) bool, error) {
	var o *policy.Org
	if orgID != "" {
		o = &policy.Org{ID: orgID}
	}
	rc, err := policy.NewRequestContext(policy.Request{Principal: OrdinaryPrincipal, Action: "sts:GetCallerIdentity", Resource: "*"}, o)
	if err != nil {
		return nil, nil, err
	}
	known := func(k string) bool { return principalKeys[k] || (orgID != "" && k == "aws:principalorgid") }
	return rc, known, nil
}

// readPolicy parses and compiles an organization policy's document and
// returns the statements the classification reads, with conditions on
// principal keys settled for the ordinary principal of organization orgID.
// The document was accepted by AWS (or by the simulator) already, so the
// rules of its kind are not checked again here: only that the policy
// engine can read it.
func readPolicy(dim dimension, p *org.Policy, orgID string) ([]statement, error) {
	doc, err := policy.Parse([]byte(p.Content), policy.Source{File: "policy " + p.ID})
	if err != nil {
		return nil, err
	}
	cp, err := policy.Compile(doc, p.Name)
	if err != nil {
		return nil, err
	}
	rc, known, err := ordinaryContext(orgID)
	if err != nil {
		return nil, err
	}
	infos := cp.Statements()
	out := make([]statement, 0, len(infos))
	for i, st := range infos {
		s := statement{
			deny:        st.Effect == policy.Deny,
			actions:     st.Actions,
			notAction:   st.NotAction,
			resources:   st.Resources,
			notResource: st.NotResource,
		}
		if st.HasCondition {
			switch cp.EvalConditions(i, rc, known) {
			case policy.ConditionsFail:
				continue // never applies to the ordinary principal
			case policy.ConditionsUnknown:
				s.conditional = true
			case policy.ConditionsHold:
			}
		}
		if s.resources == nil {
			// No Resource element: the statement applies to every
			// resource, as the engine evaluates it.
			s.resources = []string{"*"}
		}
		if dim == dimRCP && st.Principal.Present && (st.Principal.Not || !st.Principal.Any) {
			// An RCP statement scoped to some principals restricts only them.
			s.conditional = true
		}
		out = append(out, s)
	}
	return out, nil
}
