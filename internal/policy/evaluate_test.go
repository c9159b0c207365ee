package policy

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	alice    = "arn:aws:iam::111111111111:user/alice"
	devRole  = "arn:aws:iam::111111111111:role/Dev"
	devSess  = "arn:aws:sts::111111111111:assumed-role/Dev/s1"
	fedBob   = "arn:aws:sts::111111111111:federated-user/bob"
	root1    = "arn:aws:iam::111111111111:root"
	extUser  = "arn:aws:iam::222222222222:user/eve"
	mgmtUser = "arn:aws:iam::999999999999:user/admin"
	object   = "arn:aws:s3:::bucket1/key.txt"

	allowAll  = `{"Version":"2012-10-17","Statement":{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}}`
	allowS3   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`
	allowEC2  = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}`
	denyAll   = `{"Version":"2012-10-17","Statement":{"Sid":"DenyAll","Effect":"Deny","Action":"*","Resource":"*"}}`
	rcpDenyS3 = `{"Version":"2012-10-17","Statement":{"Sid":"NoS3","Effect":"Deny","Principal":"*","Action":["s3:*","ec2:*"],"Resource":"*"}}`
)

// bucketPolicy returns a bucket policy allowing s3:GetObject to the
// principal given as an AWS principal.
func bucketPolicy(principal string) string {
	return `{"Version":"2012-10-17","Statement":{"Sid":"Grant","Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket1/*"}}`
}

type evalCase struct {
	name      string
	principal string
	action    string
	resource  string
	resAcct   string
	org       *Org
	set       func(t *testing.T) *PolicySet
	want      Decision
	decidedBy Kind
	level     int
}

func pols(t *testing.T, k Kind, texts ...string) []*Policy {
	var out []*Policy
	for i, s := range texts {
		out = append(out, mustLoad(t, k, k.String()+string(rune('0'+i)), s))
	}
	return out
}

func runEvalCases(t *testing.T, cases []evalCase) {
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
			rc, err := NewRequestContext(Request{Principal: tt.principal, Action: action, Resource: resource, ResourceAccount: tt.resAcct}, tt.org)
			if err != nil {
				t.Fatalf("NewRequestContext: %v", err)
			}
			res := Evaluate(rc, tt.set(t))
			if res.Decision != tt.want || res.DecidedBy != tt.decidedBy || (tt.level != 0 && res.Level != tt.level) {
				t.Errorf("Evaluate = %v by %v level %d, want %v by %v level %d\n%s", res.Decision, res.DecidedBy, res.Level, tt.want, tt.decidedBy, tt.level, res.Explain())
			}
		})
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
func TestEvaluateWithinOneAccount(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "an identity policy allows", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll)}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "nothing allows", principal: alice, set: func(t *testing.T) *PolicySet { return &PolicySet{} }, want: ImplicitlyDenied, decidedBy: KindIdentity},
		{name: "an identity deny wins over an allow", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll, denyAll)}
		}, want: ExplicitlyDenied, decidedBy: KindIdentity},
		{name: "a resource policy naming the user is enough on its own", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(alice))}
		}, want: Allowed, decidedBy: KindResource},
		{name: "a grant to the user ARN is not limited by the boundary", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(alice)), Boundary: pols(t, KindBoundary, allowEC2)}
		}, want: Allowed, decidedBy: KindResource},
		{name: "a grant to the role ARN needs no identity policy", principal: devSess, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(devRole))}
		}, want: Allowed, decidedBy: KindResource},
		{name: "a grant to the role ARN is limited by the boundary", principal: devSess, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(devRole)), Boundary: pols(t, KindBoundary, allowEC2)}
		}, want: ImplicitlyDenied, decidedBy: KindBoundary},
		{name: "a grant to the role ARN is limited by the session policy", principal: devSess, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(devRole)), Session: pols(t, KindSession, allowEC2)}
		}, want: ImplicitlyDenied, decidedBy: KindSession},
		{name: "a grant to the session ARN is not limited by the session policy", principal: devSess, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(devSess)), Session: pols(t, KindSession, allowEC2), Boundary: pols(t, KindBoundary, allowEC2)}
		}, want: Allowed, decidedBy: KindResource},
		{name: "a grant to the account delegates to identity policies", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy("111111111111"))}
		}, want: ImplicitlyDenied, decidedBy: KindIdentity},
		{name: "a resource policy deny wins", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Resource: mustLoad(t, KindResource, "bucket", strings.Replace(bucketPolicy(alice), "Allow", "Deny", 1))}
		}, want: ExplicitlyDenied, decidedBy: KindResource},
		{name: "the boundary limits identity policies", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Boundary: pols(t, KindBoundary, allowEC2)}
		}, want: ImplicitlyDenied, decidedBy: KindBoundary},
		{name: "a deny in the boundary is explicit", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Boundary: pols(t, KindBoundary, allowAll, denyAll)}
		}, want: ExplicitlyDenied, decidedBy: KindBoundary},
		{name: "the session policy limits a role session", principal: devSess, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Session: pols(t, KindSession, allowEC2)}
		}, want: ImplicitlyDenied, decidedBy: KindSession},
		{name: "a role session without a session policy keeps the role's permissions", principal: devSess, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowS3)}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "a federated user session without a session policy has no permissions", principal: fedBob, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll)}
		}, want: ImplicitlyDenied, decidedBy: KindSession},
		{name: "a federated user session with a session policy", principal: fedBob, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Session: pols(t, KindSession, allowS3)}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "a resource policy naming the federated user is enough", principal: fedBob, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(fedBob))}
		}, want: Allowed, decidedBy: KindResource},
		{name: "the root user needs no identity policy", principal: root1, set: func(t *testing.T) *PolicySet { return &PolicySet{} }, want: Allowed},
		{name: "an anonymous caller is allowed by a public resource policy", principal: "anonymous", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy("*"))}
		}, want: Allowed, decidedBy: KindResource},
		{name: "an anonymous caller without a resource policy", principal: "anonymous", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll)}
		}, want: ImplicitlyDenied, decidedBy: KindResource},
		{name: "a service principal is allowed by the resource policy", principal: "cloudtrail.amazonaws.com", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}}`)}
		}, want: Allowed, decidedBy: KindResource},
	})
}

// Role trust policies and KMS key policies must allow the principal
// themselves.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
func TestEvaluateTrustAndKeyPolicies(t *testing.T) {
	trust := func(p string) string {
		return `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + p + `"},"Action":"sts:AssumeRole"}}`
	}
	keyPolicy := `{"Version":"2012-10-17","Statement":{"Sid":"EnableIAM","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}}`
	role := "arn:aws:iam::111111111111:role/Target"
	key := "arn:aws:kms:us-east-1:111111111111:key/1234"
	runEvalCases(t, []evalCase{
		{name: "an identity allow is not enough when the trust policy names someone else", principal: alice, action: "sts:AssumeRole", resource: role, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Resource: mustLoad(t, KindTrust, "trust", trust(extUser))}
		}, want: ImplicitlyDenied, decidedBy: KindTrust},
		{name: "a trust policy naming the user is enough", principal: alice, action: "sts:AssumeRole", resource: role, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindTrust, "trust", trust(alice))}
		}, want: Allowed, decidedBy: KindTrust},
		{name: "a trust policy naming the account needs an identity allow", principal: alice, action: "sts:AssumeRole", resource: role, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindTrust, "trust", trust("111111111111"))}
		}, want: ImplicitlyDenied, decidedBy: KindIdentity},
		{name: "a trust policy naming the account with an identity allow", principal: alice, action: "sts:AssumeRole", resource: role, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Resource: mustLoad(t, KindTrust, "trust", trust("111111111111"))}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "a key policy enabling IAM policies with an identity allow", principal: alice, action: "kms:Decrypt", resource: key, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Resource: mustLoad(t, KindResource, "key", keyPolicy)}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "a key policy that does not name the principal or account", principal: alice, action: "kms:Decrypt", resource: key, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Resource: mustLoad(t, KindResource, "key", strings.Replace(keyPolicy, "111111111111", "333333333333", 1))}
		}, want: ImplicitlyDenied, decidedBy: KindResource},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
func TestEvaluateCrossAccount(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "both sides allow", principal: extUser, resAcct: "111111111111", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Resource: mustLoad(t, KindResource, "bucket", bucketPolicy("222222222222"))}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "no resource policy", principal: extUser, resAcct: "111111111111", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll)}
		}, want: ImplicitlyDenied, decidedBy: KindResource},
		{name: "a resource policy naming the user still needs the identity side", principal: extUser, resAcct: "111111111111", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(extUser))}
		}, want: ImplicitlyDenied, decidedBy: KindIdentity},
		{name: "the boundary limits cross-account access", principal: extUser, resAcct: "111111111111", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Boundary: pols(t, KindBoundary, allowEC2), Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(extUser))}
		}, want: ImplicitlyDenied, decidedBy: KindBoundary},
	})
}

func scpChain(t *testing.T, levels ...[]string) []Level {
	var out []Level
	for i, l := range levels {
		out = append(out, Level{ID: []string{"r-root", "ou-a", "ou-b", "acct"}[i%4], Policies: pols(t, KindSCP, l...)})
	}
	return out
}

func rcpChain(t *testing.T, levels ...[]string) []Level {
	var out []Level
	for _, l := range levels {
		out = append(out, Level{Policies: pols(t, KindRCP, l...)})
	}
	return out
}

// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
func TestEvaluateSCPs(t *testing.T) {
	org := &Org{ID: "o-abc", ManagementAccount: "999999999999"}
	runEvalCases(t, []evalCase{
		{name: "every level allows", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), SCPs: scpChain(t, []string{allowAll}, []string{allowAll}, []string{allowS3})}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "a level without an allow denies implicitly", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), SCPs: scpChain(t, []string{allowAll}, []string{allowEC2}, []string{allowAll})}
		}, want: ImplicitlyDenied, decidedBy: KindSCP, level: 1},
		{name: "a deny at the account level", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), SCPs: scpChain(t, []string{allowAll}, []string{allowAll}, []string{allowAll, denyAll})}
		}, want: ExplicitlyDenied, decidedBy: KindSCP, level: 2},
		{name: "SCPs limit the root user of a member account", principal: root1, set: func(t *testing.T) *PolicySet {
			return &PolicySet{SCPs: scpChain(t, []string{allowEC2})}
		}, want: ImplicitlyDenied, decidedBy: KindSCP},
		{name: "SCPs do not affect the management account", principal: mgmtUser, org: org, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), SCPs: scpChain(t, []string{denyAll})}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "SCPs do not affect service-linked roles", principal: "arn:aws:iam::111111111111:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), SCPs: scpChain(t, []string{denyAll})}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "SCPs do not affect sessions of service-linked roles", principal: "arn:aws:sts::111111111111:assumed-role/AWSServiceRoleForConfig/config", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), SCPs: scpChain(t, []string{denyAll})}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "SCPs do not affect service principals", principal: "cloudtrail.amazonaws.com", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}}`), SCPs: scpChain(t, []string{denyAll})}
		}, want: Allowed, decidedBy: KindResource},
		{name: "SCPs limit resource-policy grants to member-account principals", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "bucket", bucketPolicy(alice)), SCPs: scpChain(t, []string{allowEC2})}
		}, want: ImplicitlyDenied, decidedBy: KindSCP},
	})
}

// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html
func TestEvaluateRCPs(t *testing.T) {
	org := &Org{ID: "o-abc", ManagementAccount: "999999999999"}
	runEvalCases(t, []evalCase{
		{name: "an RCP deny applies to a supported service", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), RCPs: rcpChain(t, nil, []string{rcpDenyS3})}
		}, want: ExplicitlyDenied, decidedBy: KindRCP, level: 1},
		{name: "RCPs do not apply to services without RCP support", principal: alice, action: "ec2:DescribeInstances", resource: "*", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), RCPs: rcpChain(t, []string{rcpDenyS3})}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "the service list comes from the policy set when given", principal: alice, action: "ec2:DescribeInstances", resource: "*", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), RCPs: rcpChain(t, []string{rcpDenyS3}), RCPServices: func(s string) bool { return s == "ec2" }}
		}, want: ExplicitlyDenied, decidedBy: KindRCP},
		{name: "RCPFullAWSAccess is implied and customer RCPs only deny", principal: alice, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), RCPs: rcpChain(t, nil, nil)}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "RCPs apply to callers from outside the organization", principal: extUser, resAcct: "111111111111", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), Resource: mustLoad(t, KindResource, "b", bucketPolicy(extUser)), RCPs: rcpChain(t, []string{rcpDenyS3})}
		}, want: ExplicitlyDenied, decidedBy: KindRCP},
		{name: "RCPs apply to service principals", principal: "cloudtrail.amazonaws.com", resAcct: "111111111111", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Resource: mustLoad(t, KindResource, "b", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}}`), RCPs: rcpChain(t, []string{rcpDenyS3})}
		}, want: ExplicitlyDenied, decidedBy: KindRCP},
		{name: "RCPs do not affect the management account's resources", principal: mgmtUser, org: org, set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), RCPs: rcpChain(t, []string{rcpDenyS3})}
		}, want: Allowed, decidedBy: KindIdentity},
		{name: "RCPs do not affect service-linked roles", principal: "arn:aws:sts::111111111111:assumed-role/AWSServiceRoleForConfig/config", set: func(t *testing.T) *PolicySet {
			return &PolicySet{Identity: pols(t, KindIdentity, allowAll), RCPs: rcpChain(t, []string{rcpDenyS3})}
		}, want: Allowed, decidedBy: KindIdentity},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
func TestDerivedContextKeys(t *testing.T) {
	org := &Org{ID: "o-abc", ManagementAccount: "999999999999"}
	tests := []struct {
		name      string
		principal string
		resAcct   string
		given     map[string][]string
		key       string
		want      []string // nil = absent
	}{
		{"aws:PrincipalArn of a session is the role ARN", devSess, "", nil, "aws:PrincipalArn", []string{devRole}},
		{"aws:PrincipalArn of a user", alice, "", nil, "aws:principalarn", []string{alice}},
		{"aws:PrincipalArn of the root user", "111111111111", "", nil, "aws:PrincipalArn", []string{root1}},
		{"aws:PrincipalAccount", devSess, "", nil, "aws:PrincipalAccount", []string{"111111111111"}},
		{"aws:PrincipalType of a user", alice, "", nil, "aws:PrincipalType", []string{"User"}},
		{"aws:PrincipalType of a session", devSess, "", nil, "aws:PrincipalType", []string{"AssumedRole"}},
		{"aws:PrincipalType of the root user", root1, "", nil, "aws:PrincipalType", []string{"Account"}},
		{"aws:PrincipalType of a federated user", fedBob, "", nil, "aws:PrincipalType", []string{"FederatedUser"}},
		{"aws:PrincipalType of an anonymous caller", "anonymous", "", nil, "aws:PrincipalType", []string{"Anonymous"}},
		{"aws:username of a user", alice, "", nil, "aws:username", []string{"alice"}},
		{"aws:username is absent for a session", devSess, "", nil, "aws:username", nil},
		{"aws:userid of the root user", root1, "", nil, "aws:userid", []string{"111111111111"}},
		{"aws:userid of a federated user", fedBob, "", nil, "aws:userid", []string{"111111111111:bob"}},
		{"aws:PrincipalIsAWSService of a user", alice, "", nil, "aws:PrincipalIsAWSService", []string{"false"}},
		{"aws:PrincipalIsAWSService of a service", "s3.amazonaws.com", "111111111111", nil, "aws:PrincipalIsAWSService", []string{"true"}},
		{"aws:PrincipalServiceName of a service", "s3.amazonaws.com", "111111111111", nil, "aws:PrincipalServiceName", []string{"s3.amazonaws.com"}},
		{"aws:ResourceAccount defaults to the principal's", alice, "", nil, "aws:ResourceAccount", []string{"111111111111"}},
		{"aws:ResourceAccount from the request", alice, "222222222222", nil, "aws:ResourceAccount", []string{"222222222222"}},
		{"aws:PrincipalOrgID when the organization is known", alice, "", nil, "aws:PrincipalOrgID", []string{"o-abc"}},
		{"a key given in the request wins", alice, "", kv("AWS:PrincipalArn", "arn:aws:iam::111111111111:user/other"), "aws:PrincipalArn", []string{"arn:aws:iam::111111111111:user/other"}},
		{"a key given empty is absent and not derived", alice, "", map[string][]string{"aws:username": {}}, "aws:username", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := NewRequestContext(Request{Principal: tt.principal, Action: "s3:GetObject", Resource: object, ResourceAccount: tt.resAcct, Context: tt.given}, org)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := rc.Value(tt.key)
			if tt.want == nil {
				if ok {
					t.Errorf("Value(%q) = %q, want absent", tt.key, got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || !ok {
				t.Errorf("Value(%q) (-want +got):\n%s", tt.key, diff)
			}
		})
	}
}

// aws:PrincipalOrgID is derived only when the principal's account is known
// to be in the organization (its SCP chain is given, or it is the
// management account).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
func TestPrincipalOrgIDFollowsMembership(t *testing.T) {
	org := &Org{ID: "o-abc", ManagementAccount: "999999999999"}
	rcp := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}}`
	tests := []struct {
		name      string
		principal string
		scps      bool
		want      Decision
	}{
		{"a caller from outside the organization is denied", extUser, false, ExplicitlyDenied},
		{"a caller whose SCP chain is known is in the organization", extUser, true, Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := NewRequestContext(Request{Principal: tt.principal, Action: "s3:GetObject", Resource: object, ResourceAccount: "111111111111"}, org)
			if err != nil {
				t.Fatal(err)
			}
			set := &PolicySet{Identity: pols(t, KindIdentity, allowAll), Resource: mustLoad(t, KindResource, "b", bucketPolicy(tt.principal)), RCPs: rcpChain(t, []string{rcp})}
			if tt.scps {
				set.SCPs = scpChain(t, []string{allowAll})
			}
			if got := Evaluate(rc, set).Decision; got != tt.want {
				t.Errorf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExplainListsMatchedStatements(t *testing.T) {
	rc, err := NewRequestContext(Request{Principal: alice, Action: "s3:GetObject", Resource: object}, nil)
	if err != nil {
		t.Fatal(err)
	}
	set := &PolicySet{
		Identity: pols(t, KindIdentity, allowAll),
		SCPs:     scpChain(t, []string{allowAll}, []string{allowAll, denyAll}),
	}
	res := Evaluate(rc, set)
	if res.Decision != ExplicitlyDenied || res.DecidedBy != KindSCP || res.Level != 1 {
		t.Fatalf("Evaluate = %+v, want ExplicitlyDenied by scp level 1", res)
	}
	ex := res.Explain()
	if ex.DecidedBy != "scp" || ex.Level != 1 || ex.LevelID != "ou-a" {
		t.Errorf("Explain = %+v, want scp level 1 (ou-a)", ex)
	}
	var deny *MatchedStatement
	for i := range ex.Matched {
		if ex.Matched[i].Effect == Deny {
			deny = &ex.Matched[i]
		}
	}
	if deny == nil {
		t.Fatalf("Explain().Matched = %+v, want the deny statement", ex.Matched)
	}
	want := MatchedStatement{Kind: KindSCP, Level: 1, LevelID: "ou-a", Policy: "scp1", Sid: "DenyAll", Index: 0, Effect: Deny,
		Pos: Pos{File: "scp1.json", Line: 1, Col: 37, Path: "Statement"}}
	if diff := cmp.Diff(want, *deny); diff != "" {
		t.Errorf("deny statement (-want +got):\n%s", diff)
	}
	s := ex.String()
	for _, part := range []string{"ExplicitlyDenied by scp level 1 (ou-a)", `Deny scp[1 ou-a] policy "scp1" statement 0 (Sid "DenyAll") at scp1.json:1:37 (Statement)`} {
		if !strings.Contains(s, part) {
			t.Errorf("Explanation.String() = %q, want it to contain %q", s, part)
		}
	}
}

func TestNewRequestContextRejectsBadRequests(t *testing.T) {
	tests := []struct {
		name string
		r    Request
	}{
		{"an action without a service", Request{Principal: alice, Action: "GetObject", Resource: "*"}},
		{"an empty resource", Request{Principal: alice, Action: "s3:GetObject"}},
		{"an empty principal", Request{Action: "s3:GetObject", Resource: "*"}},
		{"a principal that is not an ARN", Request{Principal: "alice", Action: "s3:GetObject", Resource: "*"}},
		{"a principal ARN of another service", Request{Principal: "arn:aws:s3:::bucket", Action: "s3:GetObject", Resource: "*"}},
		{"a session ARN without a session name", Request{Principal: "arn:aws:sts::111111111111:assumed-role/Dev", Action: "s3:GetObject", Resource: "*"}},
		{"a bad resource account", Request{Principal: alice, Action: "s3:GetObject", Resource: "*", ResourceAccount: "12"}},
		{"a context key given twice", Request{Principal: alice, Action: "s3:GetObject", Resource: "*", Context: map[string][]string{"aws:x": {"a"}, "AWS:X": {"b"}}}},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			_, err := NewRequestContext(tt.r, nil)
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("NewRequestContext(%+v) error = %v, want ErrBadRequest", tt.r, err)
			}
		})
	}
}

func TestStatementsSummarisesThePolicy(t *testing.T) {
	p := mustLoad(t, KindResource, "b", `{"Version":"2012-10-17","Statement":[
 {"Sid":"A","Effect":"Allow","Principal":{"AWS":["111111111111","*"],"Service":"s3.amazonaws.com"},"Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
 {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:root"},"NotAction":"s3:*","NotResource":["arn:aws:s3:::b"]}]}`)
	got := p.Statements()
	want := []StatementInfo{
		{Index: 0, Sid: "A", Pos: Pos{File: "b.json", Line: 2, Col: 2, Path: "Statement[0]"}, Effect: Allow, Actions: []string{"s3:Get*", "s3:List*"}, Resources: []string{"arn:aws:s3:::b/*"}, HasCondition: true,
			Principal: PrincipalInfo{Present: true, Any: true, AWS: []string{"111111111111", "*"}, Service: []string{"s3.amazonaws.com"}}},
		{Index: 1, Pos: Pos{File: "b.json", Line: 3, Col: 2, Path: "Statement[1]"}, Effect: Deny, Actions: []string{"s3:*"}, NotAction: true, Resources: []string{"arn:aws:s3:::b"}, NotResource: true,
			Principal: PrincipalInfo{Present: true, Not: true, AWS: []string{"arn:aws:iam::111111111111:root"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Statements() (-want +got):\n%s", diff)
	}
}

func TestExplanationIsJSONFriendly(t *testing.T) {
	rc, err := NewRequestContext(Request{Principal: alice, Action: "s3:GetObject", Resource: object}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := Evaluate(rc, &PolicySet{Identity: pols(t, KindIdentity, allowAll)}).Explain()
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatalf("json.Marshal(Explanation): %v", err)
	}
	want := `{"decision":"Allowed","decidedBy":"identity","level":-1,"reason":"identity-based policies allow the request and no boundary, session policy or SCP stops it","matched":[{"kind":"identity","level":-1,"policy":"identity0","sid":"All","index":0,"effect":"Allow","pos":{"file":"identity0.json","line":1,"col":37,"path":"Statement"}}]}`
	if string(b) != want {
		t.Errorf("json.Marshal(Explanation) =\n%s\nwant\n%s", b, want)
	}
}
