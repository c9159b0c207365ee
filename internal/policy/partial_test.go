package policy

import "testing"

// The ArnLike/ArnNotLike semantics come from
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
func TestEvalConditionsWithSomeKeysKnown(t *testing.T) {
	const doc = `{"Version":"2012-10-17","Statement":[
	 {"Sid":"RootOnly","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}},
	 {"Sid":"AllButBreakGlass","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/OrgGuardForensics"]}}},
	 {"Sid":"Region","Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}},
	 {"Sid":"Both","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"},"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}},
	 {"Sid":"FailsOnKnown","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"},"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}},
	 {"Sid":"Variable","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalArn":"${aws:PrincipalTag/x}"}}},
	 {"Sid":"None","Effect":"Allow","Action":"*","Resource":"*"}
	]}`
	p, _, err := Load([]byte(doc), Source{File: "t.json"}, KindSCP, "t")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := NewRequestContext(Request{Principal: "arn:aws:sts::000000000000:assumed-role/ordinary/s", Action: "s3:GetObject", Resource: "*"}, &Org{ID: "o-abcdefghij"})
	if err != nil {
		t.Fatal(err)
	}
	known := func(k string) bool { return k == "aws:principalarn" }
	want := []ConditionOutcome{ConditionsFail, ConditionsHold, ConditionsUnknown, ConditionsUnknown, ConditionsFail, ConditionsUnknown, ConditionsHold}
	for i, w := range want {
		if got := p.EvalConditions(i, rc, known); got != w {
			t.Errorf("EvalConditions(statement %d %s) = %v, want %v", i, p.Statements()[i].Sid, got, w)
		}
	}
	if got := p.EvalConditions(99, rc, known); got != ConditionsUnknown {
		t.Errorf("EvalConditions(out of range) = %v, want unknown", got)
	}
}
