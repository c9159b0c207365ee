package policy

import (
	"regexp"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"a*", "abc", true},
		{"*c", "abc", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"a**b", "ab", true},
		{"??", "a", false},
	}
	for _, tt := range tests {
		t.Run("matches "+tt.pattern+" against "+tt.s, func(t *testing.T) {
			if got := globMatch(encodeWild(tt.pattern), tt.s); got != tt.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
func TestActionMatching(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "s3:GetObject", true},
		{"s3:*", "s3:GetObject", true},
		{"s3:*", "s3express:CreateSession", false},
		{"s3:Get*", "s3:GetObject", true},
		{"S3:GETOBJECT", "s3:getobject", true},
		{"s3:getobject", "S3:GetObject", true},
		{"s3:Get*", "s3:PutObject", false},
		{"s3:*Object", "s3:PutObject", true},
		{"s3:*Object", "s3:PutObjectAcl", false},
		{"s3:Get?bject", "s3:GetObject", true},
		{"iam:*Report", "iam:GenerateCredentialReport", true},
		{"*:Describe*", "ec2:DescribeInstances", true},
		{"ec2:Describe*", "ec2:describeinstances", true},
	}
	for _, tt := range tests {
		t.Run("matches "+tt.pattern+" against "+tt.action, func(t *testing.T) {
			ap := compileAction(tt.pattern)
			if got := ap.match(strings.ToLower(tt.action)); got != tt.want {
				t.Errorf("action %q matches %q = %v, want %v", tt.pattern, tt.action, got, tt.want)
			}
		})
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
func TestResourceMatching(t *testing.T) {
	tests := []struct {
		pattern, resource string
		want              bool
	}{
		{"*", "arn:aws:s3:::bucket/key", true},
		{"*", "*", true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false},
		{"arn:aws:s3:::bucket*", "arn:aws:s3:::bucket-logs", true},
		{"arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/key", false},
		{"arn:aws:ec2:*:111111111111:instance/*", "arn:aws:ec2:eu-west-1:111111111111:instance/i-1", true},
		{"arn:aws:ec2:*:111111111111:instance/*", "arn:aws:ec2:eu-west-1:222222222222:instance/i-1", false},
		{"arn:aws:ec2:eu-*:*:instance/*", "arn:aws:ec2:eu-west-1:222222222222:instance/i-1", true},
		{"arn:aws:dynamodb:*:table/Books", "arn:aws:dynamodb:us-east-1:111111111111:table/Books", false},
		{"arn:aws:logs:*:*:log-group:app:*", "arn:aws:logs:us-east-1:1:log-group:app:log-stream:s", true},
		{"arn:aws:iam::*:role/*", "arn:aws:iam::111111111111:role/path/Admin", true},
		{"arn:*:iam::111111111111:*", "arn:aws-cn:iam::111111111111:user/x", true},
		{"arn:aws:s3:::b?cket/*", "arn:aws:s3:::bucket/x", true},
		{"arn:aws:s3:::bucket/*", "*", false},
		{"arn:aws:s3:::bucket/*", "not-an-arn", false},
	}
	for _, tt := range tests {
		t.Run("matches "+tt.pattern+" against "+tt.resource, func(t *testing.T) {
			rc, err := NewRequestContext(Request{Principal: "arn:aws:iam::111111111111:user/u", Action: "s3:GetObject", Resource: tt.resource}, nil)
			if err != nil {
				t.Fatal(err)
			}
			rp := compileResource(tt.pattern, true)
			st := evalState{rc: rc}
			if got := rp.match(&st); got != tt.want {
				t.Errorf("resource %q matches %q = %v, want %v", tt.pattern, tt.resource, got, tt.want)
			}
			if !strings.Contains(tt.pattern, "${") {
				if got := arnGlob(encodeWild(tt.pattern), tt.resource); got != tt.want && tt.pattern != "*" {
					t.Errorf("arnGlob(%q, %q) = %v, want %v", tt.pattern, tt.resource, got, tt.want)
				}
			}
		})
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
func TestPrincipalMatching(t *testing.T) {
	tests := []struct {
		name      string
		entry     PrincipalEntry
		principal string
		want      grant
	}{
		{"an account id names every principal of the account", PrincipalEntry{"AWS", "111111111111", Pos{}}, "arn:aws:iam::111111111111:user/alice", grantAccount},
		{"an account root ARN is the same as the account id", PrincipalEntry{"AWS", "arn:aws:iam::111111111111:root", Pos{}}, "arn:aws:sts::111111111111:assumed-role/R/s", grantAccount},
		{"an account does not name another account's principals", PrincipalEntry{"AWS", "111111111111", Pos{}}, "arn:aws:iam::222222222222:user/alice", grantNone},
		{"a user ARN names the user", PrincipalEntry{"AWS", "arn:aws:iam::111111111111:user/alice", Pos{}}, "arn:aws:iam::111111111111:user/alice", grantDirect},
		{"a user ARN with a path names the user", PrincipalEntry{"AWS", "arn:aws:iam::111111111111:user/dev/alice", Pos{}}, "arn:aws:iam::111111111111:user/dev/alice", grantDirect},
		{"a user ARN does not name another user", PrincipalEntry{"AWS", "arn:aws:iam::111111111111:user/alice", Pos{}}, "arn:aws:iam::111111111111:user/bob", grantNone},
		{"a role ARN names the sessions of the role", PrincipalEntry{"AWS", "arn:aws:iam::111111111111:role/Dev", Pos{}}, "arn:aws:sts::111111111111:assumed-role/Dev/s1", grantRole},
		{"a role ARN with a path names the sessions", PrincipalEntry{"AWS", "arn:aws:iam::111111111111:role/team/Dev", Pos{}}, "arn:aws:sts::111111111111:assumed-role/Dev/s1", grantRole},
		{"a role ARN does not name another role's sessions", PrincipalEntry{"AWS", "arn:aws:iam::111111111111:role/Dev", Pos{}}, "arn:aws:sts::111111111111:assumed-role/Ops/s1", grantNone},
		{"a session ARN names the session", PrincipalEntry{"AWS", "arn:aws:sts::111111111111:assumed-role/Dev/s1", Pos{}}, "arn:aws:sts::111111111111:assumed-role/Dev/s1", grantDirect},
		{"a session ARN does not name another session", PrincipalEntry{"AWS", "arn:aws:sts::111111111111:assumed-role/Dev/s1", Pos{}}, "arn:aws:sts::111111111111:assumed-role/Dev/s2", grantNone},
		{"a federated user ARN names the federated user", PrincipalEntry{"AWS", "arn:aws:sts::111111111111:federated-user/bob", Pos{}}, "arn:aws:sts::111111111111:federated-user/bob", grantDirect},
		{"AWS * names everyone", PrincipalEntry{"AWS", "*", Pos{}}, "anonymous", grantWildcard},
		{"a service principal names the service", PrincipalEntry{"Service", "cloudtrail.amazonaws.com", Pos{}}, "cloudtrail.amazonaws.com", grantOther},
		{"a service principal does not name another service", PrincipalEntry{"Service", "cloudtrail.amazonaws.com", Pos{}}, "config.amazonaws.com", grantNone},
		{"a service principal does not name an IAM user", PrincipalEntry{"Service", "cloudtrail.amazonaws.com", Pos{}}, "arn:aws:iam::111111111111:user/alice", grantNone},
		{"a Federated provider", PrincipalEntry{"Federated", "cognito-identity.amazonaws.com", Pos{}}, "cognito-identity.amazonaws.com", grantOther},
		{"a SAML provider ARN", PrincipalEntry{"Federated", "arn:aws:iam::111111111111:saml-provider/Okta", Pos{}}, "arn:aws:iam::111111111111:saml-provider/Okta", grantOther},
		{"a canonical user", PrincipalEntry{"CanonicalUser", strings.Repeat("ab", 32), Pos{}}, strings.Repeat("AB", 32), grantOther},
		{"the account does not name an anonymous caller", PrincipalEntry{"AWS", "111111111111", Pos{}}, "anonymous", grantNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseRequester(tt.principal)
			if err != nil {
				t.Fatalf("parseRequester(%q): %v", tt.principal, err)
			}
			e := compilePrincipalEntry(tt.entry)
			if got := e.match(&p); got != tt.want {
				t.Errorf("%s:%q matches %q = %v, want %v", tt.entry.Type, tt.entry.Value, tt.principal, got, tt.want)
			}
		})
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
func TestNotPrincipalListsExactly(t *testing.T) {
	m := compilePrincipal(&Principal{Entries: []PrincipalEntry{
		{Type: "AWS", Value: "arn:aws:iam::111111111111:role/Dev"},
		{Type: "AWS", Value: "111111111111"},
	}})
	tests := []struct {
		principal string
		want      bool
	}{
		{"arn:aws:iam::111111111111:root", true},
		{"arn:aws:iam::111111111111:role/Dev", true},
		{"arn:aws:sts::111111111111:assumed-role/Dev/s1", false}, // sessions must be listed by session ARN
		{"arn:aws:iam::111111111111:user/alice", false},          // the account stands for its root user only
	}
	for _, tt := range tests {
		t.Run("lists "+tt.principal, func(t *testing.T) {
			p, err := parseRequester(tt.principal)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.lists(&p); got != tt.want {
				t.Errorf("NotPrincipal lists %q = %v, want %v", tt.principal, got, tt.want)
			}
		})
	}
}

// globRegexp is an independent reference implementation of globMatch.
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// FuzzGlobMatch compares globMatch with a regular expression.
func FuzzGlobMatch(f *testing.F) {
	f.Add("s3:Get*", "s3:GetObject")
	f.Add("*a?b*", "xxayb")
	f.Add("a*b*c", "abcabc")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8Valid(pattern) || !utf8Valid(s) || strings.ContainsAny(pattern+s, "\x00\x01") || len(pattern) > 64 {
			return
		}
		got := globMatch(encodeWild(pattern), s)
		want := globRegexp(pattern).MatchString(s)
		if got != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

// FuzzARNMatch checks that ARN matching never panics and that a pattern
// always matches itself when it has no wildcards.
func FuzzARNMatch(f *testing.F) {
	f.Add("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/key")
	f.Add("arn:aws:ec2:*:1:instance/*", "arn:aws:ec2:us-east-1:1:instance/i")
	f.Add("arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}", "arn:aws:iam::111111111111:user/u")
	f.Fuzz(func(t *testing.T, pattern, resource string) {
		if resource == "" {
			return
		}
		rc, err := NewRequestContext(Request{Principal: "arn:aws:iam::111111111111:user/u", Action: "s3:GetObject", Resource: resource}, nil)
		if err != nil {
			return
		}
		st := evalState{rc: rc}
		rp := compileResource(pattern, true)
		rp.match(&st)
		if !strings.ContainsAny(pattern, "*?$\x00\x01") && pattern != "" {
			self, err := NewRequestContext(Request{Principal: "arn:aws:iam::111111111111:user/u", Action: "s3:GetObject", Resource: pattern}, nil)
			if err != nil {
				return
			}
			sst := evalState{rc: self}
			if _, _, isARN := arnParts(pattern); (isARN || !strings.HasPrefix(pattern, "arn:")) && !rp.match(&sst) {
				t.Fatalf("resource pattern %q does not match itself", pattern)
			}
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
