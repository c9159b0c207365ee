package policy

import "strings"

// Rules of the services themselves, which no policy changes: actions that
// need no permission, the KMS key policy every key has, and requests a
// service refuses whatever the policies say.

// NoPermissionsRequired reports whether AWS lets every authenticated caller
// perform action whatever the policies say. Only sts:GetCallerIdentity:
// no permissions are required to call it, and an explicit deny of it does
// not stop it.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
func NoPermissionsRequired(action string) bool {
	return strings.EqualFold(strings.TrimSpace(action), "sts:GetCallerIdentity")
}

// IsKMSKey reports whether resource is the ARN of a KMS key
// (arn:PARTITION:kms:REGION:ACCOUNT:key/ID). Aliases and "*" are not keys.
// Every KMS key has exactly one key policy; when a request on a key gives
// none, the engine assumes AWS's default key policy.
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
func IsKMSKey(resource string) bool {
	seg, res, ok := arnParts(resource)
	return ok && seg[1] == "kms" && strings.HasPrefix(res, "key/") && len(res) > len("key/")
}

// DefaultKeyPolicyNote is what an explanation says when the engine assumed
// the default key policy of a KMS key.
const DefaultKeyPolicyNote = "no key policy given: assumed AWS's default key policy (it allows kms:* to the key account's root principal, so the IAM policies of that account decide)"

// defaultKeyGrant is how AWS's default key policy, whose one statement
// allows kms:* on the key to "arn:aws:iam::KEY-ACCOUNT:root", names the
// requester: the account's root user directly, its other IAM principals by
// delegation to their IAM policies, anyone else not at all.
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
func defaultKeyGrant(p *requester, keyAccount string) grant {
	if !p.isIAM() || p.account == "" || p.account != keyAccount {
		return grantNone
	}
	if p.typ == ptRoot {
		return grantDirect
	}
	return grantAccount
}

// serviceRefusal returns the reason the service refuses a request
// whatever the policies say, or ReasonNone. action is lowercased.
func serviceRefusal(action, resource string, p *requester) Reason {
	seg, res, ok := arnParts(resource)
	if !ok {
		return ReasonNone
	}
	switch seg[1] {
	case "iam":
		switch {
		case seg[3] == "aws" && strings.HasPrefix(res, "policy/") && awsManagedPolicyChange(action):
			// You cannot change the permissions defined in AWS managed
			// policies.
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies
			return ReasonAWSManagedPolicy
		case strings.HasPrefix(res, "role/aws-reserved/") && roleChange(action) && !identityCenterSLR(p):
			// Roles under aws-reserved/ are provisioned by IAM Identity
			// Center through its service-linked role, which alone may
			// change them.
			// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSSSOServiceRolePolicy.html
			return ReasonReservedRole
		case strings.HasPrefix(res, "role/aws-service-role/") && roleAccessChange(action):
			// A service-linked role's permissions and trust policy are
			// defined by its service; only the description is editable.
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-service-linked-role.html
			return ReasonServiceLinkedRole
		}
	case "kms":
		if strings.HasPrefix(res, "alias/aws/") {
			switch action {
			case "kms:createalias", "kms:updatealias", "kms:deletealias":
				// The alias/aws/ prefix is reserved for AWS managed keys.
				// https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html
				return ReasonReservedAlias
			}
		}
	}
	return ReasonNone
}

// awsManagedPolicyChange reports whether action changes a managed policy.
func awsManagedPolicyChange(action string) bool {
	switch action {
	case "iam:createpolicyversion", "iam:deletepolicy", "iam:deletepolicyversion",
		"iam:setdefaultpolicyversion", "iam:tagpolicy", "iam:untagpolicy":
		return true
	}
	return false
}

// roleAccessChange reports whether action changes what a role may do or
// who may assume it: its permissions policies, boundary or trust policy.
func roleAccessChange(action string) bool {
	switch action {
	case "iam:updateassumerolepolicy", "iam:putrolepolicy", "iam:deleterolepolicy",
		"iam:attachrolepolicy", "iam:detachrolepolicy",
		"iam:putrolepermissionsboundary", "iam:deleterolepermissionsboundary":
		return true
	}
	return false
}

// roleChange reports whether action changes or deletes a role in any way.
func roleChange(action string) bool {
	if roleAccessChange(action) {
		return true
	}
	switch action {
	case "iam:deleterole", "iam:updaterole", "iam:updateroledescription",
		"iam:tagrole", "iam:untagrole":
		return true
	}
	return false
}

// identityCenterSLR reports whether p is IAM Identity Center's
// service-linked role AWSServiceRoleForSSO or one of its sessions.
func identityCenterSLR(p *requester) bool {
	return p.slr && p.name == "AWSServiceRoleForSSO" && (p.typ == ptRole || p.typ == ptAssumedRole)
}
