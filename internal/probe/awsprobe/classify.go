package awsprobe

import (
	"strings"
)

// Verdict is what an AWS error says about a probe call.
type Verdict int

// The verdicts of Classify.
const (
	// NotDenied: the error is not an authorization denial (a network
	// error, an unknown error code, a missing resource). The check could
	// not be made.
	NotDenied Verdict = iota
	// DeniedByOrganization: denied by a service control policy or a
	// resource control policy, or by an unnamed policy type (services
	// that do not say which policy denied). This is what probes observe.
	DeniedByOrganization
	// DeniedByProbeSetup: denied by the probe's own setup — the probe
	// role's identity policies, permissions boundary, session policy or,
	// for the role-chaining probe, its trust policy; or a VPC endpoint
	// policy on orgguard's network path. The organization's policies were
	// not observed.
	DeniedByProbeSetup
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case NotDenied:
		return "not a denial"
	case DeniedByOrganization:
		return "denied by the organization"
	case DeniedByProbeSetup:
		return "denied by the probe's own setup"
	}
	return "unknown verdict"
}

// deniedCodes are the error codes AWS services use for an authorization
// denial: AccessDenied (query and REST-XML services: IAM, STS, S3),
// AccessDeniedException (JSON services: Organizations and most others),
// UnauthorizedOperation (EC2, also as Client.UnauthorizedOperation).
var deniedCodes = map[string]bool{
	"accessdenied":          true,
	"accessdeniedexception": true,
	"unauthorizedoperation": true,
	"unauthorizedaccess":    true,
	"authorizationerror":    true,
}

// probeSetupPolicyTypes are the policy types, as access denied messages
// name them, that belong to the probe's setup (the probe role, orgguard's
// network path) rather than to the organization.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
var probeSetupPolicyTypes = []string{
	"identity-based policy",
	"permissions boundary",
	"session policy",
	"resource-based policy",
	"vpc endpoint policy",
}

// organizationPolicyTypes are the policy types of AWS Organizations.
var organizationPolicyTypes = []string{
	"service control policy",
	"resource control policy",
}

// Classify says what an AWS error code and message mean for a probe. An
// authorization denial is recognised by its code (AccessDenied,
// AccessDeniedException, UnauthorizedOperation, with or without the EC2
// "Client." prefix) or, whatever the code, by the phrase AWS puts in
// access denied messages: "with an explicit deny in a TYPE policy" or
// "because no TYPE policy allows" (see
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
// The policy type in the message decides between the organization (SCP,
// RCP) and the probe's own setup; a denial that names no type
// (many services do not) counts as the organization's, since the probe
// role is meant to allow every probed action. reason is the policy type
// named in the message, "" when none is.
func Classify(code, message string) (v Verdict, reason string) {
	c := strings.ToLower(strings.TrimSpace(code))
	c = strings.TrimPrefix(c, "client.")
	m := strings.ToLower(message)
	typ, named := policyTypeIn(m)
	if !deniedCodes[c] && !named {
		return NotDenied, ""
	}
	for _, t := range probeSetupPolicyTypes {
		if typ == t {
			return DeniedByProbeSetup, typ
		}
	}
	return DeniedByOrganization, typ
}

// policyTypeIn finds "explicit deny in a(n) TYPE" or "because no TYPE
// allows" in a lower-cased message and returns TYPE when it is one AWS
// names in access denied messages.
func policyTypeIn(m string) (string, bool) {
	for _, t := range append(append([]string(nil), organizationPolicyTypes...), probeSetupPolicyTypes...) {
		if strings.Contains(m, "explicit deny in a "+t) || strings.Contains(m, "explicit deny in an "+t) ||
			strings.Contains(m, "because no "+t+" allows") {
			return t, true
		}
	}
	return "", false
}

// policyARNIn returns the ARN of the denying policy that AWS appends to
// access denied messages in the same account or organization (": arn:aws:
// organizations::...:policy/o-.../service_control_policy/p-..."), or "".
func policyARNIn(message string) string {
	i := strings.Index(message, "arn:aws")
	for i >= 0 {
		rest := message[i:]
		end := strings.IndexAny(rest, " \t\r\n,;\"'<>()")
		if end < 0 {
			end = len(rest)
		}
		arn := strings.TrimRight(rest[:end], ".")
		if strings.Contains(arn, ":policy/") {
			return arn
		}
		j := strings.Index(message[i+1:], "arn:aws")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return ""
}
