package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgguard/orgguard/internal/jsonpos"
)

// firstFinding parses and validates text as kind k and returns the findings.
func findingsFor(t *testing.T, k Kind, text string) []Finding {
	t.Helper()
	d, err := Parse([]byte(text), Source{File: "p.json"})
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("Parse error %T %v, want *Error", err, err)
		}
		if !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("errors.Is(err, ErrInvalidPolicy) = false")
		}
		return pe.Findings
	}
	return d.Validate(k)
}

func hasFinding(fs []Finding, code string, sev Severity) *Finding {
	for i := range fs {
		if fs[i].Code == code && fs[i].Severity == sev {
			return &fs[i]
		}
	}
	return nil
}

func TestParseReportsWhereProblemsAre(t *testing.T) {
	text := "{\n" +
		"  \"Version\": \"2012-10-17\",\n" +
		"  \"Statement\": [\n" +
		"    {\"Sid\": \"A\", \"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"},\n" +
		"    {\"Sid\": \"B\", \"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\",\n" +
		"     \"Condition\": {\"StringLike\": {\"s3:prefix\": {\"x\": 1}}}},\n" +
		"    {\"Sid\": \"A\", \"Effect\": \"allow\", \"Actions\": \"s3:*\", \"Resource\": []}\n" +
		"  ]\n" +
		"}\n"
	_, err := Parse([]byte(text), Source{File: "p.json"})
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Parse error = %v, want *Error", err)
	}
	type got struct {
		Code string
		Pos  Pos
	}
	var gs []got
	for _, f := range pe.Findings {
		gs = append(gs, got{f.Code, f.Pos})
	}
	want := []got{
		{"wrong-type", Pos{File: "p.json", Line: 6, Col: 48, Path: "Statement[1].Condition.StringLike.s3:prefix"}},
		{"unknown-element", Pos{File: "p.json", Line: 7, Col: 37, Path: "Statement[2].Actions"}},
		{"bad-effect", Pos{File: "p.json", Line: 7, Col: 28, Path: "Statement[2].Effect"}},
		{"missing-element", Pos{File: "p.json", Line: 7, Col: 5, Path: "Statement[2]"}},
		{"empty-element", Pos{File: "p.json", Line: 7, Col: 68, Path: "Statement[2].Resource"}},
		{"duplicate-sid", Pos{File: "p.json", Line: 7, Col: 13, Path: "Statement[2].Sid"}},
	}
	if diff := cmp.Diff(want, gs); diff != "" {
		t.Errorf("findings (-want +got):\n%s\nall: %v", diff, pe.Error())
	}
	if msg := pe.Error(); !strings.Contains(msg, "p.json:7:37: error: unknown element \"Actions\"") {
		t.Errorf("Error() = %q, want the file:line:col of the unknown element", msg)
	}
}

func TestParseStructure(t *testing.T) {
	tests := []struct {
		name string
		text string
		code string
		sev  Severity
	}{
		{"malformed JSON", `{"Statement": [}`, "json-syntax", SeverityError},
		{"a policy that is not an object", `[]`, "wrong-type", SeverityError},
		{"an unknown top-level element", `{"Version":"2012-10-17","Statment":[]}`, "unknown-element", SeverityError},
		{"a lower-case element name", `{"version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "unknown-element", SeverityError},
		{"a bad Version", `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "bad-version", SeverityError},
		{"a Version that is not a string", `{"Version":2012,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "wrong-type", SeverityError},
		{"no Statement", `{"Version":"2012-10-17"}`, "missing-element", SeverityError},
		{"an empty Statement array", `{"Version":"2012-10-17","Statement":[]}`, "empty-element", SeverityError},
		{"a Statement that is a string", `{"Version":"2012-10-17","Statement":"x"}`, "wrong-type", SeverityError},
		{"no Effect", `{"Version":"2012-10-17","Statement":{"Action":"*","Resource":"*"}}`, "missing-element", SeverityError},
		{"Effect in lower case", `{"Version":"2012-10-17","Statement":{"Effect":"deny","Action":"*","Resource":"*"}}`, "bad-effect", SeverityError},
		{"no Action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, "missing-element", SeverityError},
		{"both Action and NotAction", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}}`, "conflicting-elements", SeverityError},
		{"both Resource and NotResource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}`, "conflicting-elements", SeverityError},
		{"both Principal and NotPrincipal", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}}`, "conflicting-elements", SeverityError},
		{"an Action that is a number", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":1,"Resource":"*"}}`, "wrong-type", SeverityError},
		{"an empty Action list", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, "empty-element", SeverityError},
		{"an empty Action string", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"","Resource":"*"}}`, "empty-element", SeverityError},
		{"a Principal string other than *", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"arn:aws:iam::111111111111:root","Action":"*","Resource":"*"}}`, "bad-principal", SeverityError},
		{"an unknown principal type", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Aws":"*"},"Action":"*","Resource":"*"}}`, "unknown-element", SeverityError},
		{"an empty Principal object", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{},"Action":"*","Resource":"*"}}`, "empty-element", SeverityError},
		{"a Condition that is a list", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}}`, "wrong-type", SeverityError},
		{"a condition value that is null", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:x":null}}}}`, "wrong-type", SeverityError},
		{"an empty condition value list", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:x":[]}}}}`, "empty-element", SeverityError},
		{"a condition key twice in different case", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:x":"a","AWS:X":"b"}}}}`, "duplicate-element", SeverityError},
		{"a duplicate element", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}`, "duplicate-element", SeverityError},
		{"duplicate Sids", `{"Version":"2012-10-17","Statement":[{"Sid":"X","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"X","Effect":"Allow","Action":"*","Resource":"*"}]}`, "duplicate-sid", SeverityError},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
		{"a missing Version", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "missing-version", SeverityWarning},
	}
	for _, tt := range tests {
		t.Run("reports "+tt.name, func(t *testing.T) {
			fs := findingsFor(t, KindIdentity, tt.text)
			if hasFinding(fs, tt.code, tt.sev) == nil {
				t.Errorf("findings for %s = %v, want a %v %q", tt.text, fs, tt.sev, tt.code)
			}
		})
	}
}

func TestParseAcceptsBothStatementForms(t *testing.T) {
	for _, text := range []string{
		`{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"One","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::b/*"]}}`,
		`{"Version":"2008-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:s3:::b"}]}`,
	} {
		d, err := Parse([]byte(text), Source{})
		if err != nil {
			t.Fatalf("Parse(%s): %v", text, err)
		}
		if fs := d.Validate(KindIdentity); HasErrors(fs) {
			t.Errorf("Validate(%s) = %v, want no errors", text, fs)
		}
	}
}

func TestParseValueUsesTheOuterFile(t *testing.T) {
	outer := []byte("{\"cases\": [\n  {\"scp\": {\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3\", \"Resource\": \"*\"}}}\n]}")
	v, err := jsonpos.Parse(outer)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseValue(v.Get("cases").Elems[0].Get("scp"), outer, Source{File: "cases.json", Path: "cases[0].scp"})
	if err != nil {
		t.Fatal(err)
	}
	fs := d.Validate(KindSCP)
	f := hasFinding(fs, "bad-action", SeverityError)
	if f == nil {
		t.Fatalf("findings = %v, want bad-action", fs)
	}
	want := Pos{File: "cases.json", Line: 2, Col: 55, Path: "cases[0].scp.Statement.Action"}
	if f.Pos != want {
		t.Errorf("bad-action at %+v, want %+v", f.Pos, want)
	}
}

func TestSourceShiftsPositions(t *testing.T) {
	_, err := Parse([]byte(`{"Statement": 1}`), Source{File: "f.yaml", Line: 10, Col: 5, Path: "policies[2]"})
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Parse error = %v", err)
	}
	want := Pos{File: "f.yaml", Line: 10, Col: 19, Path: "policies[2].Statement"}
	if f := hasFinding(pe.Findings, "wrong-type", SeverityError); f == nil || f.Pos != want {
		t.Errorf("findings = %v, want wrong-type at %+v", pe.Findings, want)
	}
}

// FuzzParsePolicy checks that parsing, validating, compiling and evaluating
// any input never panics.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","NotAction":"iam:*","NotResource":"*","Condition":{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["a*",1,true]}}}]}`,
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws:iam::1:role/x"],"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"DateLessThan":{"aws:CurrentTime":"2026-01-01"},"Null":{"x:y":"true"}}}}`,
	} {
		f.Add([]byte(s))
	}
	kinds := []Kind{KindIdentity, KindResource, KindTrust, KindBoundary, KindSession, KindSCP, KindRCP, KindVPCEndpoint}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data, Source{File: "f.json"})
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || len(pe.Findings) == 0 {
				t.Fatalf("Parse error %v without findings", err)
			}
			return
		}
		for _, k := range kinds {
			d.Validate(k)
		}
		p, err := Compile(d, "fuzz")
		if err != nil {
			return
		}
		p.Statements()
		rc, err := NewRequestContext(Request{Principal: "arn:aws:sts::111111111111:assumed-role/R/s", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/u/k",
			Context: map[string][]string{"aws:username": {"u"}, "aws:TagKeys": {"a1", "b"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		set := &PolicySet{Identity: []*Policy{p}, Resource: p, Boundary: []*Policy{p}, Session: []*Policy{p}, SCPs: []Level{{Policies: []*Policy{p}}}, RCPs: []Level{{Policies: []*Policy{p}}}}
		res := Evaluate(rc, set)
		if ex := res.Explain(); ex.Decision != res.Decision {
			t.Fatalf("Explain decided %v, Evaluate %v", ex.Decision, res.Decision)
		}
	})
}
