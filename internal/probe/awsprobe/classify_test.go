package awsprobe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The message formats are those of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
// and, with the policy ARN, of
// https://aws.amazon.com/blogs/security/enhanced-access-denied-error-messages-with-policy-arns
func TestClassify(t *testing.T) {
	const user = "User: arn:aws:sts::222222222222:assumed-role/OrgGuardProbe/s is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::222222222222:role/*"
	tests := []struct {
		name       string
		code, msg  string
		want       Verdict
		wantReason string
		wantPolicy string
	}{
		{"an explicit deny in an SCP is the organization's", "AccessDenied", user + " with an explicit deny in a service control policy", DeniedByOrganization, "service control policy", ""},
		{"an implicit deny by the SCPs is the organization's", "AccessDenied", user + " because no service control policy allows the iam:ListRoles action", DeniedByOrganization, "service control policy", ""},
		{"an RCP deny is the organization's", "AccessDeniedException", user + " with an explicit deny in a resource control policy", DeniedByOrganization, "resource control policy", ""},
		{"the denying policy's ARN is found", "AccessDenied", user + " with an explicit deny in a service control policy: arn:aws:organizations::111111111111:policy/o-abc/service_control_policy/p-2kgn.", DeniedByOrganization, "service control policy", "arn:aws:organizations::111111111111:policy/o-abc/service_control_policy/p-2kgn"},
		{"EC2's code with the Client. prefix", "Client.UnauthorizedOperation", "You are not authorized to perform this operation.", DeniedByOrganization, "", ""},
		{"EC2's code", "UnauthorizedOperation", "You are not authorized to perform this operation. " + user + " with an explicit deny in a service control policy", DeniedByOrganization, "service control policy", ""},
		{"S3's bare Access Denied names no policy type", "AccessDenied", "Access Denied", DeniedByOrganization, "", ""},
		{"codes are case-insensitive", "accessdeniedexception", "", DeniedByOrganization, "", ""},
		{"the phrase alone makes a denial whatever the code", "Forbidden", user + " with an explicit deny in a service control policy", DeniedByOrganization, "service control policy", ""},
		{"no identity-based policy allows: the probe role lacks the permission", "AccessDenied", user + " because no identity-based policy allows the iam:ListRoles action", DeniedByProbeSetup, "identity-based policy", ""},
		{"an explicit deny in the role's own policy", "AccessDenied", user + " with an explicit deny in an identity-based policy: arn:aws:iam::222222222222:policy/DenyAll", DeniedByProbeSetup, "identity-based policy", "arn:aws:iam::222222222222:policy/DenyAll"},
		{"the permissions boundary", "AccessDenied", user + " because no permissions boundary allows the iam:ListRoles action", DeniedByProbeSetup, "permissions boundary", ""},
		{"a session policy", "AccessDenied", user + " with an explicit deny in a session policy", DeniedByProbeSetup, "session policy", ""},
		{"the trust policy refusing role chaining", "AccessDenied", user + " because no resource-based policy allows the sts:AssumeRole action", DeniedByProbeSetup, "resource-based policy", ""},
		{"a VPC endpoint policy is the probe's network path", "AccessDenied", user + " with an explicit deny in a VPC endpoint policy", DeniedByProbeSetup, "vpc endpoint policy", ""},
		{"throttling is not a denial", "Throttling", "Rate exceeded", NotDenied, "", ""},
		{"a missing entity is not a denial", "NoSuchEntity", "The role with name X cannot be found.", NotDenied, "", ""},
		{"an expired token is not a denial", "ExpiredToken", "The security token included in the request is expired", NotDenied, "", ""},
		{"no code and no phrase", "", "dial tcp: connection refused", NotDenied, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, reason := Classify(tt.code, tt.msg)
			if v != tt.want || reason != tt.wantReason {
				t.Errorf("Classify(%q, %q) = %v, %q, want %v, %q", tt.code, tt.msg, v, reason, tt.want, tt.wantReason)
			}
			if got := policyARNIn(tt.msg); got != tt.wantPolicy {
				t.Errorf("policyARNIn(%q) = %q, want %q", tt.msg, got, tt.wantPolicy)
			}
		})
	}
}

func TestVerdictString(t *testing.T) {
	for _, v := range []Verdict{NotDenied, DeniedByOrganization, DeniedByProbeSetup, Verdict(99)} {
		if v.String() == "" {
			t.Errorf("Verdict(%d).String() is empty", int(v))
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add("AccessDenied", "User: x is not authorized to perform: a:b on resource: * with an explicit deny in a service control policy: arn:aws:organizations::1:policy/o-1/service_control_policy/p-1")
	f.Add("Client.UnauthorizedOperation", "because no identity-based policy allows the a:b action")
	f.Add("Throttling", "Rate exceeded")
	f.Add("", "arn:aws arn:aws:iam::1:policy/")
	f.Fuzz(func(t *testing.T, code, msg string) {
		v, reason := Classify(code, msg)
		if v == NotDenied && reason != "" {
			t.Errorf("Classify(%q, %q) = not denied with reason %q", code, msg, reason)
		}
		if v != NotDenied && v != DeniedByOrganization && v != DeniedByProbeSetup {
			t.Errorf("Classify(%q, %q) = unknown verdict %d", code, msg, int(v))
		}
		if deniedCodes[strings.ToLower(strings.TrimPrefix(strings.TrimSpace(strings.ToLower(code)), "client."))] && v == NotDenied {
			t.Errorf("Classify(%q, %q): a denial code classified as not denied", code, msg)
		}
		if arn := policyARNIn(msg); arn != "" && (!strings.Contains(msg, arn) || !strings.Contains(arn, ":policy/")) {
			t.Errorf("policyARNIn(%q) = %q, not a policy ARN of the message", msg, arn)
		}
	})
}

func FuzzXMLFields(f *testing.F) {
	f.Add([]byte(`<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>m</Message></Error></Errors><RequestID>r</RequestID></Response>`))
	f.Add([]byte(`<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>id</RequestId></Error>`))
	f.Add([]byte(`<a><code>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := xmlFields(data, "code", "message", "requestid")
		if len(got) > 3 {
			t.Errorf("xmlFields returned %d fields for 3 names", len(got))
		}
		for k, v := range got {
			if k != "code" && k != "message" && k != "requestid" {
				t.Errorf("xmlFields returned unasked field %q", k)
			}
			if utf8.ValidString(string(data)) && !utf8.ValidString(v) {
				t.Errorf("xmlFields(%q)[%q] = %q, invalid UTF-8 from valid input", data, k, v)
			}
		}
	})
}
