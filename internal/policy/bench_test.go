package policy

import (
	"fmt"
	"testing"
)

func mustLoad(tb testing.TB, k Kind, name, text string) *Policy {
	tb.Helper()
	p, fs, err := Load([]byte(text), Source{File: name + ".json"}, k, name)
	if err != nil {
		tb.Fatalf("Load(%s): %v", name, err)
	}
	for _, f := range fs {
		if f.Severity == SeverityError {
			tb.Fatalf("Load(%s): %v", name, f)
		}
	}
	return p
}

// benchmarkSet is the shape of the speed target: a 3-level SCP
// chain with 2 policies per level and a 10-statement identity policy with
// conditions and a policy variable.
func benchmarkSet(tb testing.TB) (*RequestContext, *PolicySet) {
	full := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	denyRegions := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideEU","Effect":"Deny","NotAction":["iam:*","sts:*","organizations:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}`
	denyLeave := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["organizations:LeaveOrganization","account:CloseAccount"],"Resource":"*"}]}`
	denyRoot := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}`
	allowS3 := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","ec2:Describe*","kms:Decrypt"],"Resource":"*"}]}`
	var stmts []string
	for i := 0; i < 9; i++ {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["dynamodb:Get%d*","sqs:Send%d"],"Resource":"arn:aws:dynamodb:eu-west-1:111111111111:table/t%d","Condition":{"StringEquals":{"aws:PrincipalTag/team":"team%d"}}}`, i, i, i, i, i))
	}
	stmts = append(stmts, `{"Sid":"OwnPrefix","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket1/home/${aws:PrincipalTag/team}/*","Condition":{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}}`)
	identity := `{"Version":"2012-10-17","Statement":[` + join(stmts) + `]}`
	set := &PolicySet{
		Identity: []*Policy{mustLoad(tb, KindIdentity, "identity", identity)},
		SCPs: []Level{
			{ID: "r-root", Policies: []*Policy{mustLoad(tb, KindSCP, "FullAWSAccess", full), mustLoad(tb, KindSCP, "DenyLeave", denyLeave)}},
			{ID: "ou-prod", Policies: []*Policy{mustLoad(tb, KindSCP, "DenyRegions", denyRegions), mustLoad(tb, KindSCP, "FullAWSAccess", full)}},
			{ID: "111111111111", Policies: []*Policy{mustLoad(tb, KindSCP, "AllowS3", allowS3), mustLoad(tb, KindSCP, "DenyRoot", denyRoot)}},
		},
	}
	rc, err := NewRequestContext(Request{
		Principal: "arn:aws:sts::111111111111:assumed-role/Dev/alice",
		Action:    "s3:GetObject",
		Resource:  "arn:aws:s3:::bucket1/home/blue/report.csv",
		Context: map[string][]string{
			"aws:PrincipalTag/team": {"blue"},
			"aws:SecureTransport":   {"true"},
			"aws:SourceIp":          {"10.1.2.3"},
			"aws:RequestedRegion":   {"eu-west-1"},
		},
	}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return rc, set
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func TestBenchmarkShapeIsAllowed(t *testing.T) {
	rc, set := benchmarkSet(t)
	if r := Evaluate(rc, set); r.Decision != Allowed {
		t.Fatalf("Evaluate = %v, want Allowed\n%s", r.Decision, r.Explain())
	}
	if n := testing.AllocsPerRun(100, func() { Evaluate(rc, set) }); n != 0 {
		t.Errorf("Evaluate allocates %v times per call, want 0", n)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	rc, set := benchmarkSet(b)
	b.ReportAllocs()
	for b.Loop() {
		if Evaluate(rc, set).Decision != Allowed {
			b.Fatal("not allowed")
		}
	}
}

func BenchmarkNewRequestContext(b *testing.B) {
	r := Request{
		Principal: "arn:aws:sts::111111111111:assumed-role/Dev/alice",
		Action:    "s3:GetObject",
		Resource:  "arn:aws:s3:::bucket1/home/blue/report.csv",
		Context:   map[string][]string{"aws:PrincipalTag/team": {"blue"}, "aws:SourceIp": {"10.1.2.3"}},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewRequestContext(r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEvaluateIsSafeForConcurrentUse(t *testing.T) {
	rc, set := benchmarkSet(t)
	done := make(chan Decision)
	for i := 0; i < 8; i++ {
		go func() {
			d := Allowed
			for j := 0; j < 200; j++ {
				if r := Evaluate(rc, set); r.Decision != Allowed {
					d = r.Decision
				}
				_ = Evaluate(rc, set).Explain()
			}
			done <- d
		}()
	}
	for i := 0; i < 8; i++ {
		if d := <-done; d != Allowed {
			t.Errorf("concurrent Evaluate = %v, want Allowed", d)
		}
	}
}
