package policy

import (
	"strings"
	"testing"
)

const (
	key1       = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	allowKMS   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}`
	vpceAll    = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`
	vpceDenyS3 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"NoGet","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`
	vpcePut    = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*"}}`
	vpceAcct   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"*","Resource":"*"}}`
	bucketAny  = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket1/*"}}`
)

// reasonCase is one request with the decision and reason it must get.
type reasonCase struct {
	name      string
	principal string
	action    string
	resource  string
	set       func(t *testing.T) *PolicySet
	want      Decision
	reason    Reason
	decidedBy Kind
	note      bool // the explanation must carry the default key policy note
}

func runReasonCases(t *testing.T, cases []reasonCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			action, resource := tt.action, tt.resource
			if action == "" {
				action = "s3:GetObject"
			}
			if resource == "" {
				resource = object
			}
			rc, err := NewRequestContext(Request{Principal: tt.principal, Action: action, Resource: resource}, nil)
			if err != nil {
				t.Fatalf("NewRequestContext: %v", err)
			}
			res := Evaluate(rc, tt.set(t))
			if res.Decision != tt.want || res.Reason != tt.reason || res.DecidedBy != tt.decidedBy {
				t.Errorf("Evaluate(%q) = %v (%v) by %v, want %v (%v) by %v\n%s", action, res.Decision, res.Reason, res.DecidedBy, tt.want, tt.reason, tt.decidedBy, res.Explain())
			}
			ex := res.Explain()
			if got := len(ex.Notes) > 0 && ex.Notes[0] == DefaultKeyPolicyNote; got != tt.note {
				t.Errorf("Explain(%q).Notes = %q, want the default key policy note: %v", action, ex.Notes, tt.note)
			}
			if tt.note && !strings.Contains(ex.String(), "note: no key policy given: assumed AWS's default key policy") {
				t.Errorf("Explain(%q).String() = %q, want the note", action, ex.String())
			}
		})
	}
}

// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
func TestGetCallerIdentityIsNeverDenied(t *testing.T) {
	denyEverywhere := func(t *testing.T) *PolicySet {
		return &PolicySet{
			Identity: pols(t, KindIdentity, denyAll),
			SCPs:     []Level{{Policies: pols(t, KindSCP, denyAll)}},
			Boundary: pols(t, KindBoundary, denyAll),
		}
	}
	runReasonCases(t, []reasonCase{
		{name: "a user under a deny-all SCP, identity policy and boundary is allowed", principal: alice, action: "sts:GetCallerIdentity", resource: "*",
			set: denyEverywhere, want: Allowed, reason: ReasonNoPermissionsRequired},
		{name: "a role session without any policy is allowed", principal: devSess, action: "STS:getcalleridentity", resource: "*",
			set: func(t *testing.T) *PolicySet { return &PolicySet{} }, want: Allowed, reason: ReasonNoPermissionsRequired},
		{name: "an anonymous caller is not authenticated and is not allowed", principal: "anonymous", action: "sts:GetCallerIdentity", resource: "*",
			set: func(t *testing.T) *PolicySet { return &PolicySet{} }, want: ImplicitlyDenied, reason: ReasonPrincipalNoIdentity, decidedBy: KindResource},
		{name: "another sts action is still denied", principal: alice, action: "sts:GetSessionToken", resource: "*",
			set: denyEverywhere, want: ExplicitlyDenied, reason: ReasonExplicitDeny, decidedBy: KindSCP},
	})
}

// https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
func TestVPCEndpointPolicies(t *testing.T) {
	through := func(gateway bool, vpce ...string) func(t *testing.T) *PolicySet {
		return func(t *testing.T) *PolicySet {
			set := &PolicySet{Identity: pols(t, KindIdentity, allowAll)}
			for _, p := range pols(t, KindVPCEndpoint, vpce...) {
				set.VPCEndpoints = append(set.VPCEndpoints, VPCEndpoint{ID: "vpce-1a2b", Policy: p, Gateway: gateway})
			}
			return set
		}
	}
	runReasonCases(t, []reasonCase{
		{name: "an endpoint policy allowing everything lets the identity policy decide", principal: alice, set: through(false, vpceAll), want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
		{name: "an explicit deny in the endpoint policy denies", principal: alice, set: through(false, vpceDenyS3), want: ExplicitlyDenied, reason: ReasonExplicitDeny, decidedBy: KindVPCEndpoint},
		{name: "an endpoint policy without an Allow for the request denies implicitly", principal: alice, set: through(false, vpcePut), want: ImplicitlyDenied, reason: ReasonVPCEndpointNoAllow, decidedBy: KindVPCEndpoint},
		{name: "an endpoint policy does not grant on its own", principal: alice,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{VPCEndpoints: []VPCEndpoint{{Policy: pols(t, KindVPCEndpoint, vpceAll)[0]}}}
			}, want: ImplicitlyDenied, reason: ReasonNoIdentityAllow, decidedBy: KindIdentity},
		{name: "on an interface endpoint an account principal names the account's users", principal: alice, set: through(false, vpceAcct), want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
		{name: "on a gateway endpoint an account principal names the root user only", principal: alice, set: through(true, vpceAcct), want: ImplicitlyDenied, reason: ReasonVPCEndpointNoAllow, decidedBy: KindVPCEndpoint},
		{name: "on a gateway endpoint the account's root user is named", principal: root1, set: through(true, vpceAcct), want: Allowed, reason: ReasonRootUser},
	})
}

func TestExplanationNamesTheEndpointPolicy(t *testing.T) {
	rc, err := NewRequestContext(Request{Principal: alice, Action: "s3:GetObject", Resource: object}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := mustLoad(t, KindVPCEndpoint, "NoGetObject", vpceDenyS3)
	set := &PolicySet{Identity: pols(t, KindIdentity, allowAll), VPCEndpoints: []VPCEndpoint{{ID: "vpce-1a2b", Policy: p}}}
	ex := Evaluate(rc, set).Explain()
	if ex.Policy != "NoGetObject" || ex.LevelID != "vpce-1a2b" {
		t.Errorf("Explain() policy, endpoint = %q, %q, want NoGetObject, vpce-1a2b", ex.Policy, ex.LevelID)
	}
	if want := `ExplicitlyDenied by vpc-endpoint policy "NoGetObject" of endpoint vpce-1a2b: `; !strings.HasPrefix(ex.String(), want) {
		t.Errorf("Explain().String() = %q, want it to start with %q", ex.String(), want)
	}
}

// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
func TestKMSDefaultKeyPolicy(t *testing.T) {
	ids := func(texts ...string) func(t *testing.T) *PolicySet {
		return func(t *testing.T) *PolicySet { return &PolicySet{Identity: pols(t, KindIdentity, texts...)} }
	}
	runReasonCases(t, []reasonCase{
		{name: "without a key policy the identity policy of the key's account decides", principal: alice, action: "kms:Decrypt", resource: key1,
			set: ids(allowKMS), want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity, note: true},
		{name: "without a key policy and an identity Allow the request is denied", principal: alice, action: "kms:Decrypt", resource: key1,
			set: ids(allowS3), want: ImplicitlyDenied, reason: ReasonNoIdentityAllow, decidedBy: KindIdentity, note: true},
		{name: "the default key policy does not name another account", principal: extUser, action: "kms:Decrypt", resource: key1,
			set: ids(allowKMS), want: ImplicitlyDenied, reason: ReasonResourceRequired, decidedBy: KindResource, note: true},
		{name: "a key policy that grants nothing denies even with an identity Allow", principal: alice, action: "kms:Decrypt", resource: key1,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{Identity: pols(t, KindIdentity, allowKMS), ResourceGrantsNothing: true}
			}, want: ImplicitlyDenied, reason: ReasonResourceRequired, decidedBy: KindResource},
		{name: "an alias is not a key: no key policy is assumed", principal: alice, action: "kms:Decrypt", resource: "arn:aws:kms:eu-west-1:111111111111:alias/app",
			set: ids(allowKMS), want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
		{name: "a resource of * is not a key", principal: alice, action: "kms:ListKeys", resource: "*",
			set: ids(allowKMS), want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
func TestEmptyListsAndWildcardGrants(t *testing.T) {
	runReasonCases(t, []reasonCase{
		{name: "an empty boundary list is no boundary", principal: alice,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Boundary: []*Policy{}}
			}, want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
		{name: "an empty session policy list is no session policy for a role session", principal: devSess,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Session: []*Policy{}}
			}, want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
		{name: "a federated user with an empty session policy list has no permissions", principal: fedBob,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Session: []*Policy{}}
			}, want: ImplicitlyDenied, reason: ReasonFederatedNoSession, decidedBy: KindSession},
		{name: "a * grant without boundary or session policy allows on its own", principal: alice,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketAny)}
			}, want: Allowed, reason: ReasonResourceWildcard, decidedBy: KindResource},
		{name: "a * grant is limited by the permissions boundary", principal: alice,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketAny), Boundary: pols(t, KindBoundary, allowEC2)}
			}, want: ImplicitlyDenied, reason: ReasonWildcardBoundary, decidedBy: KindBoundary},
		{name: "a * grant is limited by the session policy", principal: devSess,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketAny), Session: pols(t, KindSession, allowEC2)}
			}, want: ImplicitlyDenied, reason: ReasonWildcardSession, decidedBy: KindSession},
		{name: "a role ARN grant is limited by the session policy", principal: devSess,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(devRole)), Session: pols(t, KindSession, allowEC2)}
			}, want: ImplicitlyDenied, reason: ReasonRoleGrantSession, decidedBy: KindSession},
		{name: "a session ARN grant is not limited by the session policy", principal: devSess,
			set: func(t *testing.T) *PolicySet {
				return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(devSess)), Session: pols(t, KindSession, allowEC2)}
			}, want: Allowed, reason: ReasonResourceDirect, decidedBy: KindResource},
	})
}

func TestServiceRefusals(t *testing.T) {
	admin := func(t *testing.T) *PolicySet { return &PolicySet{Identity: pols(t, KindIdentity, allowAll)} }
	none := func(t *testing.T) *PolicySet { return &PolicySet{} }
	runReasonCases(t, []reasonCase{
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies
		{name: "a new version of an AWS managed policy is refused", principal: alice, action: "iam:CreatePolicyVersion", resource: "arn:aws:iam::aws:policy/ReadOnlyAccess",
			set: admin, want: RefusedByService, reason: ReasonAWSManagedPolicy},
		{name: "reading an AWS managed policy is allowed", principal: alice, action: "iam:GetPolicyVersion", resource: "arn:aws:iam::aws:policy/ReadOnlyAccess",
			set: admin, want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
		{name: "a customer managed policy can be changed", principal: alice, action: "iam:CreatePolicyVersion", resource: "arn:aws:iam::111111111111:policy/Mine",
			set: admin, want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
		{name: "a policy decision comes first: without an Allow the request is implicitly denied", principal: alice, action: "iam:DeletePolicy", resource: "arn:aws:iam::aws:policy/ReadOnlyAccess",
			set: none, want: ImplicitlyDenied, reason: ReasonNoIdentityAllow, decidedBy: KindIdentity},
		// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSSSOServiceRolePolicy.html
		{name: "changing an aws-reserved role is refused", principal: alice, action: "iam:PutRolePolicy", resource: "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef",
			set: admin, want: RefusedByService, reason: ReasonReservedRole},
		{name: "IAM Identity Center's service-linked role may change an aws-reserved role", principal: "arn:aws:sts::111111111111:assumed-role/AWSServiceRoleForSSO/sso", action: "iam:PutRolePolicy", resource: "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef",
			set: admin, want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-service-linked-role.html
		{name: "changing a service-linked role's trust policy is refused", principal: alice, action: "iam:UpdateAssumeRolePolicy", resource: "arn:aws:iam::111111111111:role/aws-service-role/organizations.amazonaws.com/AWSServiceRoleForOrganizations",
			set: admin, want: RefusedByService, reason: ReasonServiceLinkedRole},
		{name: "attaching a policy to a service-linked role is refused", principal: alice, action: "iam:AttachRolePolicy", resource: "arn:aws:iam::111111111111:role/aws-service-role/organizations.amazonaws.com/AWSServiceRoleForOrganizations",
			set: admin, want: RefusedByService, reason: ReasonServiceLinkedRole},
		{name: "a service-linked role's description stays editable", principal: alice, action: "iam:UpdateRoleDescription", resource: "arn:aws:iam::111111111111:role/aws-service-role/organizations.amazonaws.com/AWSServiceRoleForOrganizations",
			set: admin, want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
		// https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html
		{name: "creating an alias/aws/ alias is refused", principal: alice, action: "kms:CreateAlias", resource: "arn:aws:kms:eu-west-1:111111111111:alias/aws/mine",
			set: admin, want: RefusedByService, reason: ReasonReservedAlias},
		{name: "deleting an alias/aws/ alias is refused", principal: alice, action: "kms:DeleteAlias", resource: "arn:aws:kms:eu-west-1:111111111111:alias/aws/s3",
			set: admin, want: RefusedByService, reason: ReasonReservedAlias},
		{name: "a customer alias can be created", principal: alice, action: "kms:CreateAlias", resource: "arn:aws:kms:eu-west-1:111111111111:alias/app",
			set: admin, want: Allowed, reason: ReasonIdentityAllow, decidedBy: KindIdentity},
	})
	for _, r := range []Reason{ReasonAWSManagedPolicy, ReasonReservedRole, ReasonServiceLinkedRole, ReasonReservedAlias} {
		if !r.IsServiceRefusal() || !strings.HasPrefix(r.String(), "refused by the service, not by a policy") {
			t.Errorf("reason %q: IsServiceRefusal = %v, want true and a text saying it is not a policy decision", r, r.IsServiceRefusal())
		}
	}
	if ReasonExplicitDeny.IsServiceRefusal() {
		t.Error("ReasonExplicitDeny.IsServiceRefusal() = true, want false")
	}
}

func TestParseDecisionKnowsRefusedByService(t *testing.T) {
	for _, d := range []Decision{Allowed, ImplicitlyDenied, ExplicitlyDenied, RefusedByService} {
		got, err := ParseDecision(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDecision(%q) = %v, %v, want %v", d.String(), got, err, d)
		}
	}
}
