package policy

import (
	"strings"
	"testing"
)

func TestValidatePerKind(t *testing.T) {
	const (
		allowAll   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
		withPrinc  = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`
		notPrinc   = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"s3:*","Resource":"*"}}`
		rcpDeny    = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}}}`
		rcpFull    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
		trust      = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`
		scpFullIAM = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*Object*","NotResource":"arn:aws:s3:::secret/*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}}`
	)
	tests := []struct {
		name string
		kind Kind
		text string
		code string // "" = no error findings
	}{
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
		{"an identity policy accepts Allow *", KindIdentity, allowAll, ""},
		{"an identity policy rejects Principal", KindIdentity, withPrinc, "principal-not-allowed"},
		{"a permissions boundary rejects Principal", KindBoundary, withPrinc, "principal-not-allowed"},
		{"a session policy rejects Principal", KindSession, withPrinc, "principal-not-allowed"},
		{"an identity policy needs a Resource", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}`, "missing-resource"},
		// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_syntax.html
		{"an SCP rejects Principal", KindSCP, withPrinc, "principal-not-allowed"},
		{"an SCP accepts the full IAM language (conditions, NotResource, wildcards inside actions in Allow)", KindSCP, scpFullIAM, ""},
		{"an SCP rejects more than 5,120 characters", KindSCP, `{"Version":"2012-10-17","Statement":{"Sid":"` + strings.Repeat("A", 5100) + `","Effect":"Allow","Action":"*","Resource":"*"}}`, "too-large"},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html
		{"a resource policy accepts a Principal", KindResource, withPrinc, ""},
		{"a resource policy needs a Principal", KindResource, allowAll, "missing-principal"},
		{"a resource policy accepts Deny with NotPrincipal", KindResource, notPrinc, ""},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
		{"a trust policy accepts a service principal", KindTrust, trust, ""},
		{"a trust policy rejects NotPrincipal", KindTrust, strings.Replace(notPrinc, `"Resource":"*"`, `"Condition":{"Bool":{"aws:SecureTransport":"true"}}`, 1), "notprincipal-trust"},
		{"a trust policy rejects Resource", KindTrust, strings.Replace(trust, `"sts:AssumeRole"`, `"sts:AssumeRole","Resource":"*"`, 1), "resource-in-trust"},
		// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
		{"an RCP accepts a Deny for Principal *", KindRCP, rcpDeny, ""},
		{"an RCP rejects Allow", KindRCP, strings.Replace(rcpDeny, "Deny", "Allow", 1), "rcp-allow"},
		{"RCPFullAWSAccess may Allow", KindRCP, rcpFull, ""},
		{"an RCP rejects NotAction", KindRCP, strings.Replace(rcpDeny, `"Action"`, `"NotAction"`, 1), "rcp-notaction"},
		{"an RCP rejects NotPrincipal", KindRCP, strings.Replace(rcpDeny, `"Principal":"*"`, `"NotPrincipal":{"AWS":"111111111111"}`, 1), "rcp-notprincipal"},
		{"an RCP rejects a named principal", KindRCP, strings.Replace(rcpDeny, `"Principal":"*"`, `"Principal":{"AWS":"111111111111"}`, 1), "rcp-principal"},
		{"an RCP needs a Principal", KindRCP, strings.Replace(rcpDeny, `"Principal":"*",`, ``, 1), "missing-principal"},
		{"an RCP needs Version 2012-10-17", KindRCP, strings.Replace(rcpDeny, `"Version":"2012-10-17",`, ``, 1), "rcp-version"},
		{"an RCP rejects more than 5,120 characters", KindRCP, strings.Replace(rcpDeny, `"o-1"`, `"`+strings.Repeat("o", 5200)+`"`, 1), "too-large"},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
		{"an action without a service prefix", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, "bad-action"},
		{"an action with a bad service prefix", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s 3:GetObject","Resource":"*"}}`, "bad-action"},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
		{"a resource that is not an ARN", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket/*"}}`, "bad-arn"},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
		{"an unknown condition operator", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:x":"a"}}}}`, "unknown-operator"},
		{"a Null with IfExists", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:x":"true"}}}}`, "unknown-operator"},
		{"a numeric operator with text", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}}`, "bad-condition-value"},
		{"a date operator with a bad date", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}`, "bad-condition-value"},
		{"an IP operator with a bad CIDR", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}`, "bad-condition-value"},
		{"a Bool operator with a word", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}`, "bad-condition-value"},
		{"a BinaryEquals operator with bad base64", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"aws:x":"!!"}}}}`, "bad-condition-value"},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
		{"a variable in a date operator is not substituted", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"${aws:x}"}}}}`, "bad-condition-value"},
		{"a malformed policy variable", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username"}}`, "bad-variable"},
		{"a principal ARN with a partial wildcard", KindResource, strings.Replace(withPrinc, `"111111111111"`, `"arn:aws:iam::111111111111:role/Dev*"`, 1), "principal-wildcard"},
		{"a principal ARN of another service", KindResource, strings.Replace(withPrinc, `"111111111111"`, `"arn:aws:s3:::bucket"`, 1), "bad-principal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := findingsFor(t, tt.kind, tt.text)
			if tt.code == "" {
				if HasErrors(fs) {
					t.Errorf("Validate(%v) = %v, want no errors", tt.kind, fs)
				}
				return
			}
			if hasFinding(fs, tt.code, SeverityError) == nil {
				t.Errorf("Validate(%v) = %v, want error %q", tt.kind, fs, tt.code)
			}
		})
	}
}

func TestValidateWarnings(t *testing.T) {
	tests := []struct {
		name, text, code string
	}{
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
		{"a variable in a 2008 policy is literal", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}}`, "variables-need-version"},
		{"an ARN with too few parts matches nothing", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:dynamodb:*:table/Books"}}`, "bad-arn"},
		{"a trust policy with a non-STS action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject"}}`, "trust-action"},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
		{"Allow with NotPrincipal", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"111111111111"},"Action":"s3:*","Resource":"*"}}`, "notprincipal-allow"},
		{"a variable before the fifth colon of an ARN", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:iam::${aws:PrincipalAccount}:user/x"}}`, "variable-in-arn-prefix"},
		{"a condition key without a prefix", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"team":"a"}}}}`, "condition-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind := KindIdentity
			switch {
			case strings.Contains(tt.text, "NotPrincipal"):
				kind = KindResource
			case strings.Contains(tt.text, "Principal"):
				kind = KindTrust
			}
			fs := findingsFor(t, kind, tt.text)
			if hasFinding(fs, tt.code, SeverityWarning) == nil {
				t.Errorf("Validate = %v, want warning %q", fs, tt.code)
			}
		})
	}
}

func TestLoadReturnsFindings(t *testing.T) {
	_, fs, err := Load([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`), Source{File: "x.json"}, KindSCP, "x")
	if err == nil || !HasErrors(fs) {
		t.Fatalf("Load(SCP with Principal) = %v, %v; want an error", fs, err)
	}
	p, fs, err := Load([]byte(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`), Source{File: "x.json"}, KindSCP, "x")
	if err != nil || p == nil {
		t.Fatalf("Load(SCP without Version) error = %v", err)
	}
	if hasFinding(fs, "missing-version", SeverityWarning) == nil {
		t.Errorf("Load findings = %v, want the missing-version warning", fs)
	}
	if p.Name() != "x" || p.Kind() != KindSCP || p.Document() == nil {
		t.Errorf("Load = %q %v, want name x kind scp", p.Name(), p.Kind())
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range []Kind{KindIdentity, KindResource, KindTrust, KindBoundary, KindSession, KindSCP, KindRCP} {
		got, err := ParseKind(strings.ToUpper(k.String()))
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v; want %v", k.String(), got, err, k)
		}
	}
	if _, err := ParseKind("policy"); err == nil {
		t.Errorf("ParseKind(policy) = nil error, want ErrUnknownKind")
	}
}
