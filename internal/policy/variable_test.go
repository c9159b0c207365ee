package policy

import "testing"

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
func TestPolicyVariablesInResources(t *testing.T) {
	tests := []struct {
		name      string
		version   string
		resource  string // the policy's Resource
		principal string
		request   string // the requested resource
		ctx       map[string][]string
		want      bool
	}{
		{"aws:username is derived for IAM users", Version2012, "arn:aws:s3:::b/home/${aws:username}/*", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/home/alice/x", nil, true},
		{"aws:username of another user does not match", Version2012, "arn:aws:s3:::b/home/${aws:username}/*", "arn:aws:iam::111111111111:user/bob", "arn:aws:s3:::b/home/alice/x", nil, false},
		{"a tag variable", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/team}/*", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/blue/x", kv("aws:PrincipalTag/team", "blue"), true},
		{"variable names are case-insensitive", Version2012, "arn:aws:s3:::b/${AWS:PRINCIPALTAG/TEAM}/*", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/blue/x", kv("aws:PrincipalTag/team", "blue"), true},
		{"a missing variable makes the entry match nothing", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/team}/*", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b//x", nil, false},
		{"a default value stands in for a missing variable", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/shared/x", nil, true},
		{"a present variable wins over its default", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/shared/x", kv("aws:PrincipalTag/team", "blue"), false},
		{"aws:username is not present for a role session", Version2012, "arn:aws:s3:::b/${aws:username}/*", "arn:aws:sts::111111111111:assumed-role/R/s", "arn:aws:s3:::b/R/x", nil, false},
		{"${*} is a literal asterisk", Version2012, "arn:aws:s3:::b/a${*}b", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/a*b", nil, true},
		{"${*} does not act as a wildcard", Version2012, "arn:aws:s3:::b/a${*}b", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/axxb", nil, false},
		{"${?} and ${$} are literal", Version2012, "arn:aws:s3:::b/${?}${$}", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/?$", nil, true},
		{"a substituted value is literal text", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/team}", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/anything", kv("aws:PrincipalTag/team", "*"), false},
		{"a multivalued key cannot be a variable", Version2012, "arn:aws:s3:::b/${aws:PrincipalTag/team}", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/blue", kv("aws:PrincipalTag/team", "blue", "red"), false},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
		{"Version 2008-10-17 keeps variables as literal text", Version2008, "arn:aws:s3:::b/${aws:username}", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/${aws:username}", nil, true},
		{"no Version keeps variables as literal text", "", "arn:aws:s3:::b/${aws:username}", "arn:aws:iam::111111111111:user/alice", "arn:aws:s3:::b/alice", nil, false},
		{"variables before the fifth colon are literal", Version2012, "arn:aws:iam::${aws:PrincipalAccount}:user/alice", "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:user/alice", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ver := ""
			if tt.version != "" {
				ver = `"Version":"` + tt.version + `",`
			}
			p := mustLoad(t, KindIdentity, "v", `{`+ver+`"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"`+tt.resource+`"}}`)
			rc, err := NewRequestContext(Request{Principal: tt.principal, Action: "s3:GetObject", Resource: tt.request, Context: tt.ctx}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := Evaluate(rc, &PolicySet{Identity: []*Policy{p}}).Decision == Allowed
			if got != tt.want {
				t.Errorf("Resource %q for %s on %q allowed = %v, want %v", tt.resource, tt.principal, tt.request, got, tt.want)
			}
		})
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-conditionelement
func TestPolicyVariablesInConditions(t *testing.T) {
	runCondCases(t, []condCase{
		{"StringEquals with a variable", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, kv("aws:ResourceTag/owner", "alice"), true},
		{"StringEquals with a variable of another value", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, kv("aws:ResourceTag/owner", "bob"), false},
		{"StringLike with a variable and a wildcard", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, kv("s3:prefix", "home/alice/docs"), true},
		{"StringNotEquals with an unresolvable variable matches no value", `{"StringNotEquals":{"aws:ResourceTag/owner":"${aws:PrincipalTag/none}"}}`, kv("aws:ResourceTag/owner", "alice"), true},
		{"StringEqualsIgnoreCase with a variable", `{"StringEqualsIgnoreCase":{"aws:ResourceTag/owner":"${aws:username}"}}`, kv("aws:ResourceTag/owner", "ALICE"), true},
		{"ArnLike with a variable", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:${aws:username}-*"}}`, kv("aws:SourceArn", "arn:aws:sns:us-east-1:111111111111:alice-topic"), true},
		{"a default value in a condition", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:PrincipalTag/none, 'nobody'}"}}`, kv("aws:ResourceTag/owner", "nobody"), true},
	})
	if condHolds(t, Version2008, `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, kv("aws:ResourceTag/owner", "alice")) {
		t.Errorf("a 2008 policy substituted a variable in a condition, want literal text")
	}
}

func TestScanVars(t *testing.T) {
	tests := []struct {
		in        string
		keys      []string
		malformed bool
	}{
		{"a/${aws:username}/${aws:PrincipalTag/x}", []string{"aws:username", "aws:PrincipalTag/x"}, false},
		{"${aws:userid, 'anonymous'}", []string{"aws:userid"}, false},
		{"${*}${?}${$}", []string{"", "", ""}, false},
		{"${aws:username", nil, true},
		{"${aws:x, anonymous}", nil, true},
		{"${}", nil, true},
		{"no variables", nil, false},
	}
	for _, tt := range tests {
		t.Run("scans "+tt.in, func(t *testing.T) {
			refs := scanVars(tt.in)
			var keys []string
			malformed := false
			for _, r := range refs {
				if r.malformed != "" {
					malformed = true
					continue
				}
				keys = append(keys, r.key)
			}
			if malformed != tt.malformed {
				t.Errorf("scanVars(%q) malformed = %v, want %v", tt.in, malformed, tt.malformed)
			}
			if len(keys) != len(tt.keys) {
				t.Fatalf("scanVars(%q) keys = %q, want %q", tt.in, keys, tt.keys)
			}
			for i := range keys {
				if keys[i] != tt.keys[i] {
					t.Errorf("scanVars(%q) key %d = %q, want %q", tt.in, i, keys[i], tt.keys[i])
				}
			}
		})
	}
}
