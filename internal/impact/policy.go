package impact

import (
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/policy"
)

// readPolicy parses and compiles an organization policy's document and
// returns the statements the classification reads. The document was
// accepted by AWS (or by the simulator) already, so the rules of its kind
// are not checked again here: only that the policy engine can read it.
func readPolicy(dim dimension, p *org.Policy) ([]statement, error) {
	doc, err := policy.Parse([]byte(p.Content), policy.Source{File: "policy " + p.ID})
	if err != nil {
		return nil, err
	}
	cp, err := policy.Compile(doc, p.Name)
	if err != nil {
		return nil, err
	}
	infos := cp.Statements()
	out := make([]statement, 0, len(infos))
	for _, st := range infos {
		s := statement{
			deny:        st.Effect == policy.Deny,
			actions:     st.Actions,
			notAction:   st.NotAction,
			resources:   st.Resources,
			notResource: st.NotResource,
			conditional: st.HasCondition,
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
