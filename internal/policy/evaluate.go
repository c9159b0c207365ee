package policy

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
	ReasonNone                Reason = iota
	ReasonExplicitDeny               // a Deny statement applied
	ReasonSCPNoAllow                 // an SCP level has no Allow for the request
	ReasonResourceDirect             // same account: the resource policy names the user or session itself
	ReasonResourceGrant              // same account: the resource policy allows the principal
	ReasonResourceRequired           // role trust and KMS key policies must allow the principal
	ReasonNoIdentityAllow            // no identity-based policy allows the request
	ReasonBoundary                   // the permissions boundary does not allow the request
	ReasonSession                    // the session policy does not allow the request
	ReasonFederatedNoSession         // a federated user session without a session policy
	ReasonCrossAccount               // cross-account: the resource policy does not allow the principal
	ReasonIdentityAllow              // identity-based policies allow (with boundary, session, SCPs)
	ReasonRootUser                   // the account root user has full access unless denied
	ReasonPrincipalNoIdentity        // service principals and anonymous callers need the resource policy
)

var reasonText = [...]string{
	ReasonNone:                "no decision",
	ReasonExplicitDeny:        "an applicable statement denies the request",
	ReasonSCPNoAllow:          "no SCP at this level of the principal's account chain allows the request (every level from the root to the account must allow)",
	ReasonResourceDirect:      "the resource-based policy allows the IAM user or session named directly; within one account this is enough on its own",
	ReasonResourceGrant:       "the resource-based policy allows the principal within the same account",
	ReasonResourceRequired:    "role trust and KMS key policies must themselves allow the principal",
	ReasonNoIdentityAllow:     "no identity-based policy allows the request",
	ReasonBoundary:            "the permissions boundary does not allow the request",
	ReasonSession:             "the session policy does not allow the request",
	ReasonFederatedNoSession:  "a federated user session without a session policy has no permissions",
	ReasonCrossAccount:        "a cross-account request needs the resource-based policy of the resource's account to allow the principal as well",
	ReasonIdentityAllow:       "identity-based policies allow the request and no boundary, session policy or SCP stops it",
	ReasonRootUser:            "the account root user has full access unless a deny or an SCP stops it",
	ReasonPrincipalNoIdentity: "service principals and anonymous callers are allowed only by a resource-based policy",
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

// scan looks for statements of effect (deny or allow) in p that apply to
// rc, and returns the strongest principal grant among them (grantNone when
// none applies). With a tracer it records every applicable statement.
func scan(p *Policy, rc *RequestContext, deny bool, tr *tracer, kind Kind, level int, levelID string) grant {
	if p == nil {
		return grantNone
	}
	best := grantNone
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.deny != deny {
			continue
		}
		g := s.principalGrant(&rc.principal)
		if g == grantNone || !s.applies(rc) {
			continue
		}
		if tr != nil {
			tr.record(kind, level, levelID, p, s)
		}
		if g > best {
			best = g
			if best == grantDirect && tr == nil {
				return best
			}
		}
		if tr == nil && kind != KindResource && kind != KindTrust {
			return best
		}
	}
	return best
}

func scanAll(ps []*Policy, rc *RequestContext, deny bool, tr *tracer, kind Kind) bool {
	found := false
	for _, p := range ps {
		if scan(p, rc, deny, tr, kind, -1, "") != grantNone {
			found = true
			if tr == nil {
				return true
			}
		}
	}
	return found
}

func evaluate(rc *RequestContext, set *PolicySet, tr *tracer) Result {
	r := Result{Level: -1, rc: rc, set: set}
	if rc == nil || set == nil {
		return r
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
	iamPrincipal := p.typ != ptService && p.typ != ptAnonymous && p.typ != ptFederatedIdP && p.typ != ptCanonical
	// SCPs affect the IAM principals of member accounts, not the management
	// account, service-linked roles or service principals.
	// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
	scpApply := len(set.SCPs) > 0 && iamPrincipal && p.account != "" && !p.slr && (mgmt == "" || p.account != mgmt)
	// RCPs affect resources of member accounts, for the services that
	// support them, except requests by service-linked roles.
	// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
	rcpApply := len(set.RCPs) > 0 && !p.slr && (mgmt == "" || rc.resAcct != mgmt) && rcpService(set, rc.service)
	identityApply := iamPrincipal && p.typ != ptRoot
	resKind := KindResource
	if set.Resource != nil && set.Resource.kind == KindTrust {
		resKind = KindTrust
	}

	// 1. Explicit deny in any applicable policy.
	type denyHit struct {
		kind  Kind
		level int
	}
	hit := denyHit{level: -1}
	denied := false
	note := func(k Kind, level int) {
		if !denied {
			hit = denyHit{k, level}
			denied = true
		}
	}
	if rcpApply {
		for i := range set.RCPs {
			for _, pol := range set.RCPs[i].Policies {
				if scan(pol, rc, true, tr, KindRCP, i, set.RCPs[i].ID) != grantNone {
					note(KindRCP, i)
				}
			}
		}
	}
	if scpApply && (!denied || tr != nil) {
		for i := range set.SCPs {
			for _, pol := range set.SCPs[i].Policies {
				if scan(pol, rc, true, tr, KindSCP, i, set.SCPs[i].ID) != grantNone {
					note(KindSCP, i)
				}
			}
		}
	}
	if set.Resource != nil && (!denied || tr != nil) && scan(set.Resource, rc, true, tr, resKind, -1, "") != grantNone {
		note(resKind, -1)
	}
	if identityApply && (!denied || tr != nil) && scanAll(set.Identity, rc, true, tr, KindIdentity) {
		note(KindIdentity, -1)
	}
	if identityApply && (!denied || tr != nil) && scanAll(set.Boundary, rc, true, tr, KindBoundary) {
		note(KindBoundary, -1)
	}
	if p.isSession() && (!denied || tr != nil) && scanAll(set.Session, rc, true, tr, KindSession) {
		note(KindSession, -1)
	}
	if denied {
		return r.with(ExplicitlyDenied, hit.kind, hit.level, ReasonExplicitDeny)
	}

	// 2. RCPs: RCPFullAWSAccess is attached at every level and cannot be
	// detached, so every level allows; customer RCPs can only deny.

	// 3. SCPs: every level of the principal's chain must allow.
	if scpApply {
		for i := range set.SCPs {
			allowed := false
			for _, pol := range set.SCPs[i].Policies {
				if scan(pol, rc, false, tr, KindSCP, i, set.SCPs[i].ID) != grantNone {
					allowed = true
					if tr == nil {
						break
					}
				}
			}
			if !allowed {
				return r.with(ImplicitlyDenied, KindSCP, i, ReasonSCPNoAllow)
			}
		}
	}

	// 4. Resource-based policy.
	resGrant := grantNone
	if set.Resource != nil {
		resGrant = scan(set.Resource, rc, false, tr, resKind, -1, "")
	}
	if !iamPrincipal {
		if resGrant != grantNone {
			return r.with(Allowed, resKind, -1, ReasonResourceGrant)
		}
		return r.with(ImplicitlyDenied, resKind, -1, ReasonPrincipalNoIdentity)
	}
	same := rc.resAcct == p.account
	// Role trust policies and KMS key policies must allow the principal
	// themselves, even within one account.
	resourceRequired := set.Resource != nil && (resKind == KindTrust || rc.service == "kms")
	if same && resGrant > grantAccount {
		if resGrant == grantDirect {
			return r.with(Allowed, resKind, -1, ReasonResourceDirect)
		}
		// A grant to the role ARN (or to "*") is limited by an implicit
		// deny in a permissions boundary or session policy.
		if set.Boundary != nil && p.typ != ptRoot && !scanAll(set.Boundary, rc, false, tr, KindBoundary) {
			return r.with(ImplicitlyDenied, KindBoundary, -1, ReasonBoundary)
		}
		if p.isSession() && set.Session != nil && !scanAll(set.Session, rc, false, tr, KindSession) {
			return r.with(ImplicitlyDenied, KindSession, -1, ReasonSession)
		}
		return r.with(Allowed, resKind, -1, ReasonResourceGrant)
	}
	if resourceRequired && resGrant == grantNone {
		return r.with(ImplicitlyDenied, resKind, -1, ReasonResourceRequired)
	}

	// 5. Identity-based policies (the root user has full access).
	if p.typ != ptRoot && !scanAll(set.Identity, rc, false, tr, KindIdentity) {
		return r.with(ImplicitlyDenied, KindIdentity, -1, ReasonNoIdentityAllow)
	}
	// 6. Permissions boundary.
	if set.Boundary != nil && p.typ != ptRoot && !scanAll(set.Boundary, rc, false, tr, KindBoundary) {
		return r.with(ImplicitlyDenied, KindBoundary, -1, ReasonBoundary)
	}
	// 7. Session policy.
	if p.isSession() {
		if set.Session != nil {
			if !scanAll(set.Session, rc, false, tr, KindSession) {
				return r.with(ImplicitlyDenied, KindSession, -1, ReasonSession)
			}
		} else if p.typ == ptFederatedUser {
			return r.with(ImplicitlyDenied, KindSession, -1, ReasonFederatedNoSession)
		}
	}
	// 8. Cross-account: the resource side must allow too.
	if !same && resGrant == grantNone {
		return r.with(ImplicitlyDenied, resKind, -1, ReasonCrossAccount)
	}
	if p.typ == ptRoot {
		return r.with(Allowed, 0, -1, ReasonRootUser)
	}
	return r.with(Allowed, KindIdentity, -1, ReasonIdentityAllow)
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
