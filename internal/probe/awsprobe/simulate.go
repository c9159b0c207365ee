package awsprobe

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/orgguard/orgguard/internal/probe"
)

// allowAll is added to the probe role's own policies in a simulation, so
// that the identity layer allows every action as the engine's model of
// the probe role does: what remains to deny is the role's own explicit
// denies, its permissions boundary and the organization's SCPs.
const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// simulatedNote ends the Detail of every simulated result.
const simulatedNote = "simulated by the IAM policy simulator, not a real call: it evaluates SCPs but not RCPs, and SCP conditions without the request's context"

// simulate answers c with iam:SimulatePrincipalPolicy on the probe role,
// called as the probe role itself (so the call is itself subject to SCPs:
// a denial of iam:SimulatePrincipalPolicy makes the check an error).
//
// What the simulator observes
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html):
// the role's identity policies (plus allowAll), its permissions boundary,
// and the SCPs of the account, whose verdict it reports in
// OrganizationsDecisionDetail "only if the simulated user's account is
// part of an organization" and only for resources that support
// organization-level evaluation. It does not report RCPs, and context keys
// SCP conditions use are not requested (MissingContextValues excludes
// them). Hence: a result without OrganizationsDecisionDetail did not
// observe SCPs and is never OK; a denial that the organization did not
// cause (AllowedByOrganizations true) comes from the probe role itself
// and is an error.
func (p *Prober) simulate(ctx context.Context, s *session, c probe.Check) probe.Result {
	r := probe.Result{Check: c}
	in := &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(s.role),
		ActionNames:     []string{c.Action},
		PolicyInputList: []string{allowAll},
	}
	if c.Resource != "" && c.Resource != "*" {
		in.ResourceArns = []string{c.Resource}
	}
	cctx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	defer cancel()
	out, err := s.iam().SimulatePrincipalPolicy(cctx, in)
	const name = "iam SimulatePrincipalPolicy"
	if err != nil {
		id := requestIDOf(err)
		code, msg := errorCode(err)
		if v, _ := Classify(code, msg); v != NotDenied {
			r.Err = fmt.Sprintf("%s in %s: %s has no read call and the simulator could not be asked: %s: %s%s",
				name, c.AccountID, c.Action, code, shorten(msg), requestSuffix(id))
			return r
		}
		r.Err = fmt.Sprintf("%s in %s for %s: %v%s", name, c.AccountID, c.Action, err, errRequestSuffix(err, id))
		return r
	}
	id := requestIDOfOutput(out.ResultMetadata)
	var ev *types.EvaluationResult
	for i := range out.EvaluationResults {
		if strings.EqualFold(aws.ToString(out.EvaluationResults[i].EvalActionName), c.Action) {
			ev = &out.EvaluationResults[i]
			break
		}
	}
	if ev == nil {
		r.Err = fmt.Sprintf("%s in %s: no evaluation result for %s%s", name, c.AccountID, c.Action, requestSuffix(id))
		return r
	}
	decision := probe.Denied
	if ev.EvalDecision == types.PolicyEvaluationDecisionTypeAllowed {
		decision = probe.Allowed
	}
	org := ev.OrganizationsDecisionDetail
	switch {
	case org == nil:
		r.Observed = decision
		r.Detail = fmt.Sprintf("%s: %s, but the simulator returned no organizations decision, so SCPs were not observed; not counted as OK (%s)%s",
			name, ev.EvalDecision, simulatedNote, requestSuffix(id))
		return r
	case decision == probe.Denied && org.AllowedByOrganizations:
		by := "its own policies"
		if b := ev.PermissionsBoundaryDecisionDetail; b != nil && !b.AllowedByPermissionsBoundary {
			by = "its permissions boundary"
		}
		r.Err = fmt.Sprintf("%s in %s: %s %s by the probe role's %s, not by the organization: fix the probe role (see docs/probes-aws.md)%s",
			name, c.AccountID, c.Action, ev.EvalDecision, by, requestSuffix(id))
		return r
	}
	r.Observed = decision
	if decision == probe.Allowed {
		r.Detail = fmt.Sprintf("%s: allowed (%s)%s", name, simulatedNote, requestSuffix(id))
	} else {
		r.Detail = fmt.Sprintf("%s: %s by the SCPs (%s)%s", name, ev.EvalDecision, simulatedNote, requestSuffix(id))
	}
	r.OK = r.Observed == c.Expect
	return r
}
