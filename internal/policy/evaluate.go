package policy

import "strings"

// Evaluation follows AWS's policy evaluation logic:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html

// FallbackRCPServices is the built-in list of service prefixes that
// support RCPs, used only when PolicySet.RCPServices is nil. The catalog
// package supplies the real, dated list; this fallback exists so the engine
// works on its own.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html#rcp-supported-services
var FallbackRCPServices = [...]string{"s3", "sts", "kms", "sqs", "secretsmanager", "cognito-identity", "ecr", "aoss", "dynamodb", "logs"}

func fallbackRCPService(service string) bool {
	for _, s := range FallbackRCPServices {
		if s == service {
			return true
		}
	}
	return false
}

// Reason says which rule decided a request.
type Reason uint8

// The reasons.
const (
	ReasonNone                  Reason = iota
	ReasonExplicitDeny                 // a Deny statement applied
	ReasonSCPNoAllow                   // an SCP level has no Allow for the request
	ReasonResourceDirect               // same account: the resource policy names the user or session itself
	ReasonResourceGrant                // same account: the resource policy allows the principal
	ReasonResourceRequired             // role trust and KMS key policies must allow the principal
	ReasonNoIdentityAllow              // no identity-based policy allows the request
	ReasonBoundary                     // the permissions boundary does not allow the request
	ReasonSession                      // the session policy does not allow the request
	ReasonFederatedNoSession           // a federated user session without a session policy
	ReasonCrossAccount                 // cross-account: the resource policy does not allow the principal
	ReasonIdentityAllow                // identity-based policies allow (with boundary, session, SCPs)
	ReasonRootUser                     // the account root user has full access unless denied
	ReasonPrincipalNoIdentity          // service principals and anonymous callers need the resource policy
	ReasonNoPermissionsRequired        // sts:GetCallerIdentity: allowed whatever the policies say
	ReasonVPCEndpointNoAllow           // a VPC endpoint policy has no Allow for the request
	ReasonResourceWildcard             // same account: the resource policy allows "*" and nothing limits it
	ReasonWildcardBoundary             // same account: a "*" grant limited by the permissions boundary
	ReasonWildcardSession              // same account: a "*" grant limited by the session policy
	ReasonRoleGrantBoundary            // same account: a grant to the role ARN limited by the permissions boundary
	ReasonRoleGrantSession             // same account: a grant to the role ARN limited by the session policy
	ReasonAWSManagedPolicy             // service refusal: AWS managed policies cannot be changed
	ReasonReservedRole                 // service refusal: aws-reserved/ roles belong to IAM Identity Center
	ReasonServiceLinkedRole            // service refusal: a service-linked role's permissions and trust are fixed
	ReasonReservedAlias                // service refusal: alias/aws/ names are reserved for AWS managed keys
)

var reasonText = [...]string{
	ReasonNone:                  "no decision",
	ReasonExplicitDeny:          "an applicable statement denies the request",
	ReasonSCPNoAllow:            "no SCP at this level of the principal's account chain allows the request (every level from the root to the account must allow)",
	ReasonResourceDirect:        "the resource-based policy allows the IAM user or session named directly; within one account this is enough on its own",
	ReasonResourceGrant:         "the resource-based policy allows the principal within the same account",
	ReasonResourceRequired:      "role trust and KMS key policies must themselves allow the principal",
	ReasonNoIdentityAllow:       "no identity-based policy allows the request",
	ReasonBoundary:              "the permissions boundary does not allow the request",
	ReasonSession:               "the session policy does not allow the request",
	ReasonFederatedNoSession:    "a federated user session without a session policy has no permissions",
	ReasonCrossAccount:          "a cross-account request needs the resource-based policy of the resource's account to allow the principal as well",
	ReasonIdentityAllow:         "identity-based policies allow the request and no boundary, session policy or SCP stops it",
	ReasonRootUser:              "the account root user has full access unless a deny or an SCP stops it",
	ReasonPrincipalNoIdentity:   "service principals and anonymous callers are allowed only by a resource-based policy",
	ReasonNoPermissionsRequired: "sts:GetCallerIdentity needs no permissions: AWS allows it to every authenticated caller, even against an explicit deny",
	ReasonVPCEndpointNoAllow:    "the VPC endpoint policy does not allow the request (an endpoint policy never grants, but every request through the endpoint needs its Allow)",
	ReasonResourceWildcard:      "the resource-based policy allows everyone (Principal \"*\") within the same account, and no permissions boundary or session policy limits it",
	ReasonWildcardBoundary:      "the resource-based policy allows everyone (Principal \"*\"), which does not name the user or session itself: within one account such a grant is still limited by an implicit deny in the permissions boundary, which does not allow the request",
	ReasonWildcardSession:       "the resource-based policy allows everyone (Principal \"*\"), which does not name the session itself: within one account such a grant is still limited by an implicit deny in the session policy, which does not allow the request",
	ReasonRoleGrantBoundary:     "the resource-based policy allows the role ARN, not the session itself: within one account such a grant is limited by an implicit deny in the permissions boundary, which does not allow the request",
	ReasonRoleGrantSession:      "the resource-based policy allows the role ARN, not the session itself: within one account such a grant is limited by an implicit deny in the session policy, which does not allow the request",
	ReasonAWSManagedPolicy:      "refused by the service, not by a policy: AWS managed policies (arn:aws:iam::aws:policy/...) can be changed only by AWS",
	ReasonReservedRole:          "refused by the service, not by a policy: roles under the path aws-reserved/ are managed by IAM Identity Center and only its service-linked role may change them",
	ReasonServiceLinkedRole:     "refused by the service, not by a policy: the permissions and trust policy of a service-linked role are defined by its service (only its description can be edited)",
	ReasonReservedAlias:         "refused by the service, not by a policy: alias names beginning with alias/aws/ are reserved for AWS managed keys",
}

// IsServiceRefusal reports whether r is a refusal by the service rather
// than a policy decision.
func (r Reason) IsServiceRefusal() bool {
	switch r {
	case ReasonAWSManagedPolicy, ReasonReservedRole, ReasonServiceLinkedRole, ReasonReservedAlias:
		return true
	}
	return false
}

// String describes the reason in a sentence.
func (r Reason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return "unknown reason"
}

// Result is the outcome of Evaluate: the decision, the policy kind and SCP
// or RCP level that decided it, and what Explain needs to list the matching
// statements. Result is small and built without allocation.
type Result struct {
	Decision  Decision
	DecidedBy Kind   // the kind of policy that decided; 0 for the root user's default access
	Level     int    // index in PolicySet.SCPs or RCPs when DecidedBy is KindSCP or KindRCP, else -1
	Reason    Reason // the rule that decided

	rc  *RequestContext
	set *PolicySet
}

// Evaluate decides the request rc against the policies of set. It does no
// I/O and does not allocate on the common path.
func Evaluate(rc *RequestContext, set *PolicySet) Result {
	return evaluate(rc, set, nil)
}

// tracer records every applicable statement for Explain.
type tracer struct {
	matched []MatchedStatement
}

func (t *tracer) record(kind Kind, level int, levelID string, p *Policy, s *cstmt) {
	t.matched = append(t.matched, MatchedStatement{
		Kind: kind, Level: level, LevelID: levelID, Policy: p.name,
		Sid: s.src.Sid, Index: s.src.Index, Effect: s.src.Effect, Pos: s.src.Pos,
	})
}

// evalState is what one evaluation needs besides the statements; it lives
// on the stack of Evaluate.
type evalState struct {
	rc             *RequestContext
	tr             *tracer // nil on the fast path
	hasBoundary    bool
	gateway        bool // scanning a gateway VPC endpoint policy: an account names its root user only
	principalInOrg bool // derived aws:PrincipalOrgID applies
	resourceInOrg  bool // derived aws:ResourceOrgID applies
	denied         bool // an explicit deny was found
}

// deny records the first explicit deny in r and reports whether evaluation
// can stop (it goes on with a tracer, to list every deny).
func (st *evalState) deny(r *Result, k Kind, level int) bool {
	if !st.denied {
		st.denied = true
		*r = r.with(ExplicitlyDenied, k, level, ReasonExplicitDeny)
	}
	return st.tr == nil
}

// lookup returns the values of a lowercased context key, nil when absent.
func (st *evalState) lookup(lowerKey string) []ctxValue {
	i, ok := st.rc.keys[lowerKey]
	if !ok {
		return nil
	}
	if (i == st.rc.principalOrgIdx && !st.principalInOrg) || (i == st.rc.resourceOrgIdx && !st.resourceInOrg) {
		return nil
	}
	return st.rc.vals[i]
}

// scan looks at every statement of p once and returns the strongest
// principal grant among the Deny statements that apply (grantNone when none
// applies) and among the Allow statements that apply (only when wantAllow).
// Without a tracer it skips statements that cannot change the answer; with
// one it records every applicable statement.
func (st *evalState) scan(p *Policy, wantAllow bool, kind Kind, level int, levelID string) (deny, allow grant) {
	if p == nil {
		return grantNone, grantNone
	}
	tracing := st.tr != nil
	bestGrant := kind == KindResource || kind == KindTrust // the kind of grant matters
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.deny {
			if deny != grantNone && !tracing {
				continue
			}
		} else {
			if !wantAllow {
				continue
			}
			if !tracing && (allow == grantDirect || (allow != grantNone && !bestGrant)) {
				continue
			}
		}
		g := s.principalGrant(st)
		if g == grantNone || !s.applies(st) {
			continue
		}
		if tracing {
			st.tr.record(kind, level, levelID, p, s)
		}
		if s.deny {
			deny = max(deny, g)
		} else {
			allow = max(allow, g)
		}
	}
	return deny, allow
}

// scanAll scans every policy of ps; it reports whether a Deny applies and
// whether an Allow applies.
func (st *evalState) scanAll(ps []*Policy, kind Kind, level int, levelID string) (denied, allowed bool) {
	for _, p := range ps {
		d, a := st.scan(p, !allowed || st.tr != nil, kind, level, levelID)
		if d != grantNone {
			denied = true
			if st.tr == nil {
				return true, allowed
			}
		}
		if a != grantNone {
			allowed = true
		}
	}
	return denied, allowed
}

func evaluate(rc *RequestContext, set *PolicySet, tr *tracer) Result {
	r := decide(rc, set, tr)
	// A service refuses some requests whatever the policies say; when the
	// policies allow such a request, the service's refusal is the outcome.
	if r.Decision == Allowed && rc.refusal != ReasonNone {
		r = r.with(RefusedByService, 0, -1, rc.refusal)
	}
	return r
}

// keyPolicyAssumed reports whether the evaluation assumes AWS's default
// key policy: a request on a KMS key with no key policy given.
func keyPolicyAssumed(rc *RequestContext, set *PolicySet) bool {
	return rc.kmsKey && set.Resource == nil && !set.ResourceGrantsNothing && !rc.noPermissions
}

func decide(rc *RequestContext, set *PolicySet, tr *tracer) Result {
	r := Result{Level: -1, rc: rc, set: set}
	if rc == nil || set == nil {
		return r
	}
	if rc.noPermissions {
		return r.with(Allowed, 0, -1, ReasonNoPermissionsRequired)
	}
	p := &rc.principal
	org := set.Org
	if org == nil {
		org = rc.org
	}
	mgmt := ""
	if org != nil {
		mgmt = org.ManagementAccount
	}
	iam := p.isIAM()
	st := evalState{rc: rc, tr: tr, hasBoundary: len(set.Boundary) > 0}
	// The principal's account is in the organization when its SCP chain is
	// known or it is the management account; the resource's account when
	// its RCP chain is known, it is the management account, or it is the
	// principal's account and that is in the organization.
	st.principalInOrg = p.account != "" && (len(set.SCPs) > 0 || p.account == mgmt)
	st.resourceInOrg = rc.resAcct != "" && (len(set.RCPs) > 0 || rc.resAcct == mgmt || (rc.resAcct == p.account && st.principalInOrg))

	// SCPs affect the IAM principals of member accounts: not the management
	// account, service-linked roles or service principals.
	// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
	scpApply := len(set.SCPs) > 0 && iam && !p.slr && (mgmt == "" || p.account != mgmt)
	// RCPs affect the resources of member accounts, for the services that
	// support them, except requests made by service-linked roles.
	// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
	rcpApply := len(set.RCPs) > 0 && !p.slr && (mgmt == "" || rc.resAcct != mgmt) && rcpService(set, rc.service)
	resKind := KindResource
	if set.Resource != nil && (set.Resource.kind == KindTrust || ResourcePolicyKind(rc.req.Action) == KindTrust) {
		resKind = KindTrust
	}

	// One pass over every applicable policy. An explicit deny in any of
	// them decides; the order of the checks below decides which one is
	// reported when several deny. Without a tracer the first deny returns.

	// RCPs: RCPFullAWSAccess is attached at every level and cannot be
	// detached, so every level allows; customer RCPs can only deny.
	if rcpApply {
		for i := range set.RCPs {
			if d, _ := st.scanAll(set.RCPs[i].Policies, KindRCP, i, set.RCPs[i].ID); d && st.deny(&r, KindRCP, i) {
				return r
			}
		}
	}
	// SCPs: every level of the principal's chain must allow.
	scpGap := -1 // the first level without an Allow
	if scpApply {
		for i := range set.SCPs {
			d, a := st.scanAll(set.SCPs[i].Policies, KindSCP, i, set.SCPs[i].ID)
			if d && st.deny(&r, KindSCP, i) {
				return r
			}
			if !a && scpGap < 0 {
				scpGap = i
			}
		}
	}
	// VPC endpoint policies: each endpoint on the way must allow; they
	// never grant on their own. A missing policy is the default one, which
	// allows everything.
	vpceGap := -1 // the first endpoint without an Allow
	for i := range set.VPCEndpoints {
		e := &set.VPCEndpoints[i]
		if e.Policy == nil {
			continue
		}
		st.gateway = e.Gateway
		d, a := st.scan(e.Policy, true, KindVPCEndpoint, i, e.Name())
		st.gateway = false
		if d != grantNone && st.deny(&r, KindVPCEndpoint, i) {
			return r
		}
		if a == grantNone && vpceGap < 0 {
			vpceGap = i
		}
	}
	resDeny, resGrant := st.scan(set.Resource, true, resKind, -1, "")
	if resDeny != grantNone && st.deny(&r, resKind, -1) {
		return r
	}
	// Every KMS key has a key policy. Without one in the request, assume
	// AWS's default key policy (Explain says so).
	keyDefault := keyPolicyAssumed(rc, set)
	if keyDefault {
		keyAcct := rc.resSeg[3]
		if keyAcct == "" {
			keyAcct = rc.resAcct
		}
		resGrant = defaultKeyGrant(p, keyAcct)
	}
	var idAllow, bAllow, sAllow bool
	if iam {
		// Identity policies cannot be attached to the root user, but when
		// given their denies still count.
		var d bool
		if d, idAllow = st.scanAll(set.Identity, KindIdentity, -1, ""); d && st.deny(&r, KindIdentity, -1) {
			return r
		}
		if d, bAllow = st.scanAll(set.Boundary, KindBoundary, -1, ""); d && st.deny(&r, KindBoundary, -1) {
			return r
		}
	}
	if p.isSession() {
		var d bool
		if d, sAllow = st.scanAll(set.Session, KindSession, -1, ""); d && st.deny(&r, KindSession, -1) {
			return r
		}
	}
	if st.denied {
		return r
	}
	if scpGap >= 0 {
		return r.with(ImplicitlyDenied, KindSCP, scpGap, ReasonSCPNoAllow)
	}
	if vpceGap >= 0 {
		return r.with(ImplicitlyDenied, KindVPCEndpoint, vpceGap, ReasonVPCEndpointNoAllow)
	}

	// Resource-based policy.
	if !iam {
		if resGrant != grantNone {
			return r.with(Allowed, resKind, -1, ReasonResourceGrant)
		}
		return r.with(ImplicitlyDenied, resKind, -1, ReasonPrincipalNoIdentity)
	}
	boundaryOK := len(set.Boundary) == 0 || p.typ == ptRoot || bAllow
	sessionOK := !p.isSession() || len(set.Session) == 0 || sAllow
	same := rc.resAcct == p.account
	if same && resGrant > grantAccount {
		if resGrant == grantDirect {
			// A grant naming the IAM user or the session itself is not
			// limited by identity policies, boundary or session policy.
			return r.with(Allowed, resKind, -1, ReasonResourceDirect)
		}
		// A grant to the role ARN is limited by an implicit deny in a
		// permissions boundary or session policy; so is a grant to "*",
		// which names no user or session in particular: AWS lifts those
		// limits only for a grant to the user or session ARN itself.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
		wild := resGrant == grantWildcard
		if !boundaryOK {
			if wild {
				return r.with(ImplicitlyDenied, KindBoundary, -1, ReasonWildcardBoundary)
			}
			return r.with(ImplicitlyDenied, KindBoundary, -1, ReasonRoleGrantBoundary)
		}
		if !sessionOK {
			if wild {
				return r.with(ImplicitlyDenied, KindSession, -1, ReasonWildcardSession)
			}
			return r.with(ImplicitlyDenied, KindSession, -1, ReasonRoleGrantSession)
		}
		if wild {
			return r.with(Allowed, resKind, -1, ReasonResourceWildcard)
		}
		return r.with(Allowed, resKind, -1, ReasonResourceGrant)
	}
	// Role trust policies and KMS key policies must allow the principal
	// themselves, even within one account.
	keyPolicy := rc.service == "kms" && (set.Resource != nil || keyDefault || (rc.kmsKey && set.ResourceGrantsNothing))
	if (resKind == KindTrust || keyPolicy) && resGrant == grantNone {
		return r.with(ImplicitlyDenied, resKind, -1, ReasonResourceRequired)
	}
	// Identity-based policies (the root user has full access), the
	// permissions boundary and the session policy.
	if p.typ != ptRoot && !idAllow {
		return r.with(ImplicitlyDenied, KindIdentity, -1, ReasonNoIdentityAllow)
	}
	if !boundaryOK {
		return r.with(ImplicitlyDenied, KindBoundary, -1, ReasonBoundary)
	}
	if !sessionOK {
		return r.with(ImplicitlyDenied, KindSession, -1, ReasonSession)
	}
	if p.typ == ptFederatedUser && len(set.Session) == 0 {
		return r.with(ImplicitlyDenied, KindSession, -1, ReasonFederatedNoSession)
	}
	// Cross-account: the resource side must allow too.
	if !same && resGrant == grantNone {
		return r.with(ImplicitlyDenied, resKind, -1, ReasonCrossAccount)
	}
	if p.typ == ptRoot {
		return r.with(Allowed, 0, -1, ReasonRootUser)
	}
	return r.with(Allowed, KindIdentity, -1, ReasonIdentityAllow)
}

// ResourcePolicyKind returns the kind of the resource-side policy for an
// action: KindTrust for the sts:AssumeRole* actions, whose resource policy
// is the role's trust policy, else KindResource.
func ResourcePolicyKind(action string) Kind {
	if len(action) >= len("sts:AssumeRole") && strings.EqualFold(action[:len("sts:AssumeRole")], "sts:AssumeRole") {
		return KindTrust
	}
	return KindResource
}

func (r Result) with(d Decision, k Kind, level int, why Reason) Result {
	r.Decision, r.DecidedBy, r.Level, r.Reason = d, k, level, why
	return r
}

func rcpService(set *PolicySet, service string) bool {
	if set.RCPServices != nil {
		return set.RCPServices(service)
	}
	return fallbackRCPService(service)
}
