package policy

import (
	"testing"
)

// condHolds compiles a one-statement identity policy with the given
// Condition block and reports whether the statement applies to a request
// with the given context.
func condHolds(t *testing.T, version, cond string, ctx map[string][]string) bool {
	t.Helper()
	ver := ""
	if version != "" {
		ver = `"Version":"` + version + `",`
	}
	text := `{` + ver + `"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":` + cond + `}}`
	p := mustLoad(t, KindIdentity, "cond", text)
	rc, err := NewRequestContext(Request{Principal: "arn:aws:iam::111111111111:user/alice", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx}, nil)
	if err != nil {
		t.Fatalf("NewRequestContext: %v", err)
	}
	st := evalState{rc: rc}
	return p.stmts[0].applies(&st)
}

type condCase struct {
	name string
	cond string
	ctx  map[string][]string
	want bool
}

func runCondCases(t *testing.T, cases []condCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if got := condHolds(t, Version2012, tt.cond, tt.ctx); got != tt.want {
				t.Errorf("condition %s with context %v = %v, want %v", tt.cond, tt.ctx, got, tt.want)
			}
		})
	}
}

func kv(k string, vs ...string) map[string][]string { return map[string][]string{k: vs} }

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
func TestStringOperators(t *testing.T) {
	runCondCases(t, []condCase{
		{"StringEquals matches the exact value", `{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`, kv("aws:PrincipalTag/team", "blue"), true},
		{"StringEquals is case-sensitive", `{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`, kv("aws:PrincipalTag/team", "Blue"), false},
		{"StringEquals with several values is an OR", `{"StringEquals":{"aws:PrincipalTag/team":["red","blue"]}}`, kv("aws:PrincipalTag/team", "blue"), true},
		{"StringEquals treats * literally", `{"StringEquals":{"aws:PrincipalTag/team":"*"}}`, kv("aws:PrincipalTag/team", "blue"), false},
		{"StringEquals on a missing key is false", `{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`, nil, false},
		{"condition key names are case-insensitive", `{"StringEquals":{"AWS:PRINCIPALTAG/TEAM":"blue"}}`, kv("aws:principaltag/team", "blue"), true},
		{"StringNotEquals holds for another value", `{"StringNotEquals":{"aws:PrincipalTag/team":"blue"}}`, kv("aws:PrincipalTag/team", "red"), true},
		{"StringNotEquals fails for the value", `{"StringNotEquals":{"aws:PrincipalTag/team":"blue"}}`, kv("aws:PrincipalTag/team", "blue"), false},
		{"StringNotEquals with several values needs the key to match none", `{"StringNotEquals":{"aws:PrincipalTag/team":["red","blue"]}}`, kv("aws:PrincipalTag/team", "blue"), false},
		{"StringNotEquals on a missing key is true", `{"StringNotEquals":{"aws:PrincipalTag/team":"blue"}}`, nil, true},
		{"StringEqualsIgnoreCase ignores case", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"BLUE"}}`, kv("aws:PrincipalTag/team", "blue"), true},
		{"StringNotEqualsIgnoreCase ignores case", `{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"BLUE"}}`, kv("aws:PrincipalTag/team", "blue"), false},
		{"StringNotEqualsIgnoreCase holds for another value", `{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"BLUE"}}`, kv("aws:PrincipalTag/team", "red"), true},
		{"StringLike with *", `{"StringLike":{"s3:prefix":"home/*"}}`, kv("s3:prefix", "home/alice/x"), true},
		{"StringLike with ?", `{"StringLike":{"s3:prefix":"v?"}}`, kv("s3:prefix", "v1"), true},
		{"StringLike ? is exactly one character", `{"StringLike":{"s3:prefix":"v?"}}`, kv("s3:prefix", "v12"), false},
		{"StringLike is case-sensitive", `{"StringLike":{"s3:prefix":"home/*"}}`, kv("s3:prefix", "Home/x"), false},
		{"StringNotLike fails when a pattern matches", `{"StringNotLike":{"s3:prefix":["tmp/*","home/*"]}}`, kv("s3:prefix", "home/x"), false},
		{"StringNotLike holds when no pattern matches", `{"StringNotLike":{"s3:prefix":["tmp/*","home/*"]}}`, kv("s3:prefix", "data/x"), true},
		{"several keys in one operator are an AND", `{"StringEquals":{"aws:PrincipalTag/team":"blue","aws:PrincipalTag/env":"prod"}}`, map[string][]string{"aws:PrincipalTag/team": {"blue"}, "aws:PrincipalTag/env": {"dev"}}, false},
		{"several operators are an AND", `{"StringEquals":{"aws:PrincipalTag/team":"blue"},"StringLike":{"aws:PrincipalTag/env":"pr*"}}`, map[string][]string{"aws:PrincipalTag/team": {"blue"}, "aws:PrincipalTag/env": {"prod"}}, true},
		{"a number value is compared as its text", `{"StringEquals":{"aws:PrincipalTag/level":5}}`, kv("aws:PrincipalTag/level", "5"), true},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_BinaryEquals
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
func TestNumericDateBoolBinaryIPOperators(t *testing.T) {
	runCondCases(t, []condCase{
		{"NumericEquals", `{"NumericEquals":{"s3:max-keys":"10"}}`, kv("s3:max-keys", "10"), true},
		{"NumericEquals compares numbers, not text", `{"NumericEquals":{"s3:max-keys":"10"}}`, kv("s3:max-keys", "10.0"), true},
		{"NumericNotEquals", `{"NumericNotEquals":{"s3:max-keys":"10"}}`, kv("s3:max-keys", "11"), true},
		{"NumericLessThan true", `{"NumericLessThan":{"s3:max-keys":"10"}}`, kv("s3:max-keys", "9"), true},
		{"NumericLessThan false at the bound", `{"NumericLessThan":{"s3:max-keys":"10"}}`, kv("s3:max-keys", "10"), false},
		{"NumericLessThanEquals at the bound", `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, kv("s3:max-keys", "10"), true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"s3:max-keys":10}}`, kv("s3:max-keys", "11"), true},
		{"NumericGreaterThanEquals below", `{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`, kv("s3:max-keys", "9.5"), false},
		{"Numeric on a non-number request value is false", `{"NumericLessThan":{"s3:max-keys":"10"}}`, kv("s3:max-keys", "abc"), false},
		{"Numeric on a missing key is false", `{"NumericLessThan":{"s3:max-keys":"10"}}`, nil, false},
		{"DateLessThan with ISO 8601", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, kv("aws:CurrentTime", "2025-12-31T23:59:59Z"), true},
		{"DateGreaterThan with ISO 8601", `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, kv("aws:CurrentTime", "2025-12-31T23:59:59Z"), false},
		{"DateEquals across time zones", `{"DateEquals":{"aws:CurrentTime":"2026-01-01T01:00:00+01:00"}}`, kv("aws:CurrentTime", "2026-01-01T00:00:00Z"), true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2026-01-01"}}`, kv("aws:CurrentTime", "2026-01-02"), true},
		{"Date with epoch seconds in the policy", `{"DateGreaterThanEquals":{"aws:EpochTime":"1767225600"}}`, kv("aws:EpochTime", "2026-01-01T00:00:00Z"), true},
		{"Date with epoch seconds in the request", `{"DateLessThanEquals":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}`, kv("aws:TokenIssueTime", "1767225599"), true},
		{"DateLessThan on a missing key is false", `{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, nil, false},
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, kv("aws:SecureTransport", "true"), true},
		{"Bool with a JSON boolean", `{"Bool":{"aws:SecureTransport":true}}`, kv("aws:SecureTransport", "true"), true},
		{"Bool false does not match true", `{"Bool":{"aws:SecureTransport":"false"}}`, kv("aws:SecureTransport", "true"), false},
		{"Bool is case-insensitive", `{"Bool":{"aws:SecureTransport":"true"}}`, kv("aws:SecureTransport", "TRUE"), true},
		{"Bool on a missing key is false", `{"Bool":{"aws:SecureTransport":"false"}}`, nil, false},
		{"BinaryEquals compares base64 values", `{"BinaryEquals":{"aws:SomeBinary":"QmluYXJ5VmFsdWU="}}`, kv("aws:SomeBinary", "QmluYXJ5VmFsdWU="), true},
		{"BinaryEquals with another value", `{"BinaryEquals":{"aws:SomeBinary":"QmluYXJ5VmFsdWU="}}`, kv("aws:SomeBinary", "b3RoZXI="), false},
		{"IpAddress in an IPv4 CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, kv("aws:SourceIp", "203.0.113.7"), true},
		{"IpAddress outside the CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, kv("aws:SourceIp", "203.0.114.7"), false},
		{"IpAddress with a single address", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, kv("aws:SourceIp", "203.0.113.7"), true},
		{"IpAddress in an IPv6 CIDR", `{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`, kv("aws:SourceIp", "2001:db8:1234:5678::1"), true},
		{"IpAddress IPv6 outside", `{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`, kv("aws:SourceIp", "2001:db8:1234:5679::1"), false},
		{"IpAddress with several CIDRs is an OR", `{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}`, kv("aws:SourceIp", "10.9.9.9"), true},
		{"NotIpAddress outside every CIDR", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}`, kv("aws:SourceIp", "198.51.100.1"), true},
		{"NotIpAddress inside one CIDR", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}`, kv("aws:SourceIp", "10.1.1.1"), false},
		{"NotIpAddress on a missing key is true", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, true},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
func TestArnAndNullOperators(t *testing.T) {
	runCondCases(t, []condCase{
		{"ArnEquals exact", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:topic"}}`, kv("aws:SourceArn", "arn:aws:sns:us-east-1:111111111111:topic"), true},
		{"ArnLike with a region wildcard", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111111111111:topic"}}`, kv("aws:SourceArn", "arn:aws:sns:eu-west-1:111111111111:topic"), true},
		{"ArnLike wildcard does not span segments", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:topic"}}`, kv("aws:SourceArn", "arn:aws:sns:eu-west-1:111111111111:topic"), false},
		{"ArnLike resource part spans slashes and colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:*:log-group:*"}}`, kv("aws:SourceArn", "arn:aws:logs:us-east-1:111111111111:log-group:/a/b:log-stream:x"), true},
		{"ArnEquals accepts wildcards too", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`, kv("aws:PrincipalArn", "arn:aws:iam::222222222222:role/AdminRole"), true},
		{"ArnLike is case-sensitive", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin"}}`, kv("aws:PrincipalArn", "arn:aws:iam::222222222222:role/Admin"), false},
		{"ArnNotLike holds when nothing matches", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}`, kv("aws:PrincipalArn", "arn:aws:iam::222222222222:role/Dev"), true},
		{"ArnNotEquals fails on a match", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}`, kv("aws:PrincipalArn", "arn:aws:iam::222222222222:role/Admin"), false},
		{"ArnLike on a value that is not an ARN", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`, kv("aws:SourceArn", "topic"), false},
		{"ArnLike on a derived aws:PrincipalArn", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/*"}}`, nil, true},
		{"Null true holds for a missing key", `{"Null":{"aws:TokenIssueTime":"true"}}`, nil, true},
		{"Null true fails for a present key", `{"Null":{"aws:TokenIssueTime":"true"}}`, kv("aws:TokenIssueTime", "2026-01-01T00:00:00Z"), false},
		{"Null false holds for a present key", `{"Null":{"aws:TokenIssueTime":"false"}}`, kv("aws:TokenIssueTime", "2026-01-01T00:00:00Z"), true},
		{"Null false fails for a missing key", `{"Null":{"aws:TokenIssueTime":false}}`, nil, false},
		{"Null treats an empty list as missing", `{"Null":{"aws:TagKeys":"true"}}`, map[string][]string{"aws:TagKeys": {}}, true},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
func TestIfExists(t *testing.T) {
	runCondCases(t, []condCase{
		{"StringEqualsIfExists holds on a missing key", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, nil, true},
		{"StringEqualsIfExists checks a present key", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, kv("ec2:InstanceType", "m5.large"), false},
		{"StringNotEqualsIfExists holds on a missing key", `{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}`, nil, true},
		{"StringNotEqualsIfExists checks a present key", `{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}`, kv("aws:PrincipalOrgID", "o-1"), false},
		{"NumericLessThanIfExists holds on a missing key", `{"NumericLessThanIfExists":{"s3:max-keys":"5"}}`, nil, true},
		{"BoolIfExists holds on a missing key", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, nil, true},
		{"BoolIfExists checks a present key", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, kv("aws:MultiFactorAuthPresent", "false"), false},
		{"ArnLikeIfExists holds on a missing key", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:x"}}`, nil, true},
		{"IpAddressIfExists holds on a missing key", `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, true},
		{"DateLessThanIfExists holds on a missing key", `{"DateLessThanIfExists":{"aws:CurrentTime":"2020-01-01"}}`, nil, true},
	})
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html
func TestSetOperators(t *testing.T) {
	runCondCases(t, []condCase{
		{"ForAnyValue holds when one value matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, kv("aws:TagKeys", "cost", "env"), true},
		{"ForAnyValue fails when no value matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, kv("aws:TagKeys", "cost"), false},
		{"ForAnyValue fails on a missing key", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`, nil, false},
		{"ForAnyValue fails on an empty set", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`, map[string][]string{"aws:TagKeys": {}}, false},
		{"ForAllValues holds when every value matches", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, kv("aws:TagKeys", "team", "env"), true},
		{"ForAllValues fails when one value does not match", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, kv("aws:TagKeys", "team", "cost"), false},
		{"ForAllValues holds on a missing key", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, nil, true},
		{"ForAllValues holds on an empty set", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, map[string][]string{"aws:TagKeys": {}}, true},
		{"ForAllValues with StringLike", `{"ForAllValues:StringLike":{"aws:TagKeys":["env*","team"]}}`, kv("aws:TagKeys", "env-x", "team"), true},
		{"ForAnyValue:StringNotEquals holds when one value matches none", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}`, kv("aws:TagKeys", "env", "cost"), true},
		{"ForAnyValue:StringNotEquals fails when every value is listed", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}`, kv("aws:TagKeys", "env", "team"), false},
		{"ForAllValues:StringNotEquals holds when no value is listed", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["env","team"]}}`, kv("aws:TagKeys", "cost", "owner"), true},
		{"ForAllValues:StringNotEquals fails when one value is listed", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["env","team"]}}`, kv("aws:TagKeys", "cost", "env"), false},
		{"ForAnyValue with IfExists holds on a missing key", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["env"]}}`, nil, true},
		{"a plain operator on a multivalued key matches any value", `{"StringEquals":{"aws:TagKeys":"env"}}`, kv("aws:TagKeys", "cost", "env"), true},
		{"a plain negated operator on a multivalued key needs none to match", `{"StringNotEquals":{"aws:TagKeys":"env"}}`, kv("aws:TagKeys", "cost", "env"), false},
		{"set qualifiers are case-insensitive", `{"forallvalues:StringEquals":{"aws:TagKeys":["env"]}}`, kv("aws:TagKeys", "env"), true},
	})
}

func TestParseOperator(t *testing.T) {
	tests := []struct {
		name     string
		set      setMode
		ifExists bool
		base     string
		wantErr  bool
	}{
		{"StringEquals", setNone, false, "StringEquals", false},
		{"ForAllValues:StringLikeIfExists", setAll, true, "StringLike", false},
		{"ForAnyValue:ArnNotLike", setAny, false, "ArnNotLike", false},
		{"NullIfExists", 0, false, "", true},
		{"StringEqualz", 0, false, "", true},
		{"ForSomeValues:StringEquals", 0, false, "", true},
		{"IfExists", 0, false, "", true},
		{"", 0, false, "", true},
	}
	for _, tt := range tests {
		t.Run("parses "+tt.name, func(t *testing.T) {
			spec, err := parseOperator(tt.name)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseOperator(%q) error = %v, want error %v", tt.name, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if spec.set != tt.set || spec.ifExists != tt.ifExists || spec.info.name != tt.base {
				t.Errorf("parseOperator(%q) = %v %v %s, want %v %v %s", tt.name, spec.set, spec.ifExists, spec.info.name, tt.set, tt.ifExists, tt.base)
			}
		})
	}
}

// FuzzConditionValue checks that compiling and evaluating any value with
// any operator never panics.
func FuzzConditionValue(f *testing.F) {
	f.Add(uint8(0), "blue", "blue")
	f.Add(uint8(7), "10", "9.5")
	f.Add(uint8(13), "2026-01-01T00:00:00Z", "1767225600")
	f.Add(uint8(20), "10.0.0.0/8", "10.1.2.3")
	f.Add(uint8(22), "arn:aws:sns:*:*:t", "arn:aws:sns:us-east-1:1:t")
	f.Add(uint8(4), "${aws:username}/*", "x/y")
	f.Add(uint8(19), "QQ==", "QQ==")
	f.Fuzz(func(t *testing.T, op uint8, policyValue, requestValue string) {
		info := &operators[int(op)%len(operators)]
		cv, err := compileCondValue(info, policyValue, true)
		if err != nil {
			return
		}
		rc, err := NewRequestContext(Request{Principal: "arn:aws:iam::111111111111:user/u", Action: "s3:GetObject", Resource: "*",
			Context: map[string][]string{"k:k": {requestValue}, "aws:username": {requestValue}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		st := evalState{rc: rc}
		for _, set := range []setMode{setNone, setAny, setAll} {
			c := ccond{spec: opSpec{info: info, set: set}, key: "k:k", vals: []cval{cv}}
			c.eval(&st)
		}
	})
}

func TestBinaryEqualsDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { binaryEquals("QmluYXJ5VmFsdWU=", "BinaryValue") }); n != 0 {
		t.Errorf("binaryEquals allocates %v times, want 0", n)
	}
	if !binaryEquals("QmluYXJ5VmFsdWU", "BinaryValue") {
		t.Errorf("binaryEquals(unpadded) = false, want true")
	}
}
